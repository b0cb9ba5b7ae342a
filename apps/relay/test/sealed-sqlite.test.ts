/**
 * The sealed sender routes on SQLite (see `sealed-routes.ts`), plus what only a file and a
 * process show: the stored rows of sealed envelopes have NULL sources, the trust root survives
 * a restart, an older database keeps its queue through the migration, nothing about a sealed
 * send is logged, and the abuse limits stop the abuser without locking the recipient out.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../src/store/migrations.ts';
import { SqliteRelayStore } from '../src/store/sqlite.ts';
import { register, send, startRelay, type TestDevice, type TestRelay } from './helpers.ts';
import { accessKey, registerSealedRouteTests, sentMessage } from './sealed-routes.ts';
import { accept, everything, sealedEnvelope, T0 } from './store-fixtures.ts';

registerSealedRouteTests(() => startRelay(), 'SQLite');

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
const setKey = (relay: TestRelay, device: TestDevice, key: string) =>
  relay.app.inject({
    method: 'PUT',
    url: '/v1/accounts/me/unidentified-access',
    headers: device.headers,
    payload: { unidentifiedAccessKey: key },
  });
const sealed = (relay: TestRelay, to: TestDevice, key: string, ip = '127.0.0.1') =>
  relay.app.inject({
    method: 'PUT',
    url: `/v1/messages/sealed/${to.accountId}`,
    headers: { 'unidentified-access-key': key },
    remoteAddress: ip,
    payload: {
      timestamp: 7,
      messages: [
        {
          destinationDeviceId: 1,
          destinationRegistrationId: to.registrationId,
          content: b64(randomBytes(30)),
        },
      ],
    },
  });

describe('sealed sender on SQLite', () => {
  it('stores sealed rows with NULL sources and logs nothing that names the recipient', async () => {
    const relay = await startRelay();
    try {
      const alice = await register(relay.app);
      const bob = await register(relay.app);
      const carol = await register(relay.app);
      const [kb, kc] = [accessKey(), accessKey()];
      await setKey(relay, bob, kb);
      await setKey(relay, carol, kc);
      const before = relay.logs.text().length;
      expect((await sealed(relay, bob, kb)).statusCode).toBe(200);
      const multi = await relay.app.inject({
        method: 'PUT',
        url: '/v1/messages/sealed_multi_recipient',
        payload: {
          timestamp: 8,
          content: sentMessage([[bob], [carol]]),
          accessKeys: [
            { accountId: bob.accountId, unidentifiedAccessKey: kb },
            { accountId: carol.accountId, unidentifiedAccessKey: kc },
          ],
        },
      });
      expect(multi.statusCode).toBe(200);
      const logged = relay.logs.text().slice(before);
      expect(logged).not.toContain(bob.accountId);
      expect(logged).not.toContain(carol.accountId);
      expect(logged).not.toContain(kb);
      await send(relay.app, alice, [bob]);

      const db = new Database(join(relay.dir, 'relay.db'), { readonly: true });
      try {
        const rows = db
          .prepare('SELECT type, source_account_id, source_device_id FROM envelopes ORDER BY seq')
          .all();
        expect(rows).toEqual([
          { type: 'unidentified_sender', source_account_id: null, source_device_id: null },
          { type: 'unidentified_sender', source_account_id: null, source_device_id: null },
          { type: 'unidentified_sender', source_account_id: null, source_device_id: null },
          { type: 'message', source_account_id: alice.accountId, source_device_id: 1 },
        ]);
        // Only hashes of access keys are stored.
        const hashes = db.prepare('SELECT key_hash FROM unidentified_access').all() as {
          key_hash: Buffer;
        }[];
        expect(hashes).toHaveLength(2);
        for (const { key_hash } of hashes) {
          expect(key_hash.length).toBe(32);
          expect(key_hash.equals(Buffer.from(kb, 'base64'))).toBe(false);
        }
      } finally {
        db.close();
      }
    } finally {
      await relay.destroy();
    }
  });

  it('lets a browser on an allowed origin send the access key header (CORS preflight)', async () => {
    const relay = await startRelay({ overrides: { corsOrigins: ['https://app.parley.example'] } });
    try {
      const preflight = await relay.app.inject({
        method: 'OPTIONS',
        url: '/v1/messages/sealed/00000000-0000-4000-8000-000000000000',
        headers: {
          origin: 'https://app.parley.example',
          'access-control-request-method': 'PUT',
          'access-control-request-headers': 'content-type,unidentified-access-key',
        },
      });
      expect(preflight.headers['access-control-allow-origin']).toBe('https://app.parley.example');
      expect(String(preflight.headers['access-control-allow-headers'])).toContain(
        'unidentified-access-key',
      );
    } finally {
      await relay.destroy();
    }
  });

  it('keeps the trust root and server certificate across a restart', async () => {
    const first = await startRelay();
    const root = (
      await first.app.inject({ method: 'GET', url: '/v1/certificate/trust-root' })
    ).json();
    await first.close();
    const second = await startRelay({ dir: first.dir });
    try {
      const again = (
        await second.app.inject({ method: 'GET', url: '/v1/certificate/trust-root' })
      ).json();
      expect(again).toEqual(root);
    } finally {
      await second.destroy();
    }
  });

  it('migrates a version-2 database without losing queued envelopes or their order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-sealed-migration-'));
    const path = join(dir, 'relay.db');
    try {
      // A database as the previous release left it, with a queue whose newest row was acked.
      const old = new Database(path);
      old.pragma('foreign_keys = ON');
      for (const [i, sql] of MIGRATIONS.slice(0, 2).entries()) {
        old.exec(sql);
        old.pragma(`user_version = ${i + 1}`);
      }
      const a = '11111111-1111-4111-8111-111111111111';
      const b = '22222222-2222-4222-8222-222222222222';
      for (const id of [a, b]) {
        old
          .prepare(`INSERT INTO accounts VALUES (?, ?, 'key', 1, 2)`)
          .run(id, `u${id.slice(0, 4)}`);
        old.prepare(`INSERT INTO devices VALUES (?, 1, 7, NULL, x'00', 1, 1)`).run(id);
      }
      const insert = old.prepare(
        `INSERT INTO envelopes (id, account_id, device_id, type, source_account_id,
           source_device_id, timestamp, server_timestamp, content)
         VALUES (?, ?, 1, 'message', ?, 1, 5, ?, x'0102')`,
      );
      insert.run('00000000-0000-4000-8000-000000000001', a, b, T0);
      insert.run('00000000-0000-4000-8000-000000000002', a, b, T0);
      old.prepare(`DELETE FROM envelopes WHERE id = '00000000-0000-4000-8000-000000000002'`).run();
      old.close();

      const store = SqliteRelayStore.open({ path });
      const [kept, ...rest] = await store.fetchEnvelopes(a, 1, everything);
      expect(rest).toEqual([]);
      expect(kept).toEqual({
        seq: 1,
        id: '00000000-0000-4000-8000-000000000001',
        type: 'message',
        sourceAccountId: b,
        sourceDeviceId: 1,
        destinationDeviceId: 1,
        timestamp: 5,
        serverTimestamp: T0,
        content: 'AQI=',
      });
      // AUTOINCREMENT's high-water mark survived: a new envelope never reuses seq 2.
      const fresh = await store.enqueue([a], accept([sealedEnvelope(a, 1)]));
      expect('stored' in fresh && fresh.stored[0]?.seq).toBe(3);
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('per-IP and per-recipient limits stop the abuser; the recipient still gets messages', async () => {
    const relay = await startRelay({
      overrides: {
        rateLimits: {
          sealedPerIp: { max: 3, windowMs: 60_000 },
          sealedPerRecipient: { max: 5, windowMs: 60_000 },
        },
      },
    });
    try {
      const alice = await register(relay.app);
      const bob = await register(relay.app);
      const key = accessKey();
      await setKey(relay, bob, key);
      // One address: its own limit binds first.
      const fromOne = [];
      for (let i = 0; i < 4; i++)
        fromOne.push((await sealed(relay, bob, key, '10.0.0.1')).statusCode);
      expect(fromOne).toEqual([200, 200, 200, 429]);
      // Wrong keys from other addresses do not use up Bob's budget.
      for (let i = 0; i < 3; i++) {
        expect((await sealed(relay, bob, accessKey(), `10.0.1.${i}`)).statusCode).toBe(401);
      }
      expect((await sealed(relay, bob, key, '10.0.2.1')).statusCode).toBe(200);
      expect((await sealed(relay, bob, key, '10.0.2.2')).statusCode).toBe(200);
      // Many addresses reach Bob's sealed ceiling…
      const capped = await sealed(relay, bob, key, '10.0.2.3');
      expect(capped.statusCode).toBe(429);
      expect(capped.headers['retry-after']).toBeDefined();
      // …and his contacts still reach him with their login.
      expect(await send(relay.app, alice, [bob])).toMatchObject({ stored: 1 });
    } finally {
      await relay.destroy();
    }
  });
});
