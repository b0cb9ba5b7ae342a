import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { CloseCode } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, link, register, send, startRelay, type TestRelay } from './helpers.ts';

let relay: TestRelay;
let wsBase: string;
beforeAll(async () => {
  relay = await startRelay();
  const address = await relay.app.listen({ host: '127.0.0.1', port: 0 });
  wsBase = address.replace(/^http/, 'ws');
});
afterAll(async () => relay.destroy());

describe('GET /v1/accounts/me/export', () => {
  it('exports the account, devices, keys and queue metadata, and no secrets', async () => {
    const alice = await register(relay.app, { preKeys: 3, pqPreKeys: 2 });
    const alice2 = await link(relay.app, alice);
    const bob = await register(relay.app);
    await send(relay.app, bob, [alice, alice2], randomBytes(20).toString('base64'));

    const response = await relay.app.inject({
      method: 'GET',
      url: '/v1/accounts/me/export',
      headers: alice2.headers,
    });
    expect(response.statusCode).toBe(200);
    const data = response.json();
    expect(data.account.accountId).toBe(alice.accountId);
    expect(data.devices.map((d: { deviceId: number }) => d.deviceId)).toEqual([1, 2]);
    const [first] = data.devices;
    expect(first.preKeys).toHaveLength(3);
    expect(first.pqPreKeys).toHaveLength(2);
    expect(first.queue).toEqual([
      expect.objectContaining({
        sourceAccountId: bob.accountId,
        sourceDeviceId: 1,
        contentBytes: 20,
      }),
    ]);
    expect(response.body).not.toContain(alice.credential);
    expect(response.body).not.toContain('credential');
  });
});

describe('DELETE /v1/accounts/me', () => {
  it('wipes devices, keys, queues, credentials and the username at once', async () => {
    const alice = await register(relay.app, { username: 'deleted_alice' });
    const alice2 = await link(relay.app, alice);
    const bob = await register(relay.app);
    await send(relay.app, bob, [alice, alice2]);
    const socket = await connect(wsBase, alice2);

    // Only the primary may delete.
    const linkedTry = await relay.app.inject({
      method: 'DELETE',
      url: '/v1/accounts/me',
      headers: alice2.headers,
    });
    expect(linkedTry.statusCode).toBe(403);

    const deleted = await relay.app.inject({
      method: 'DELETE',
      url: '/v1/accounts/me',
      headers: alice.headers,
    });
    expect(deleted.statusCode).toBe(204);
    expect((await socket.closed).code).toBe(CloseCode.DeviceRemoved);

    for (const device of [alice, alice2]) {
      const me = await relay.app.inject({
        method: 'GET',
        url: '/v1/accounts/me',
        headers: device.headers,
      });
      expect(me.statusCode).toBe(401);
    }
    const bundle = await relay.app.inject({
      method: 'GET',
      url: `/v1/keys/${alice.accountId}/*`,
      headers: bob.headers,
    });
    // A tombstone of the id alone says the account was deleted.
    expect(bundle.statusCode).toBe(410);
    expect(bundle.json().error).toBe('account_gone');

    const db = new Database(relay.config.dbPath, { readonly: true });
    try {
      for (const table of [
        'accounts',
        'devices',
        'signed_prekeys',
        'one_time_prekeys',
        'envelopes',
        'linking_codes',
      ]) {
        const row = db
          .prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE account_id = ?`)
          .get(alice.accountId) as {
          n: number;
        };
        expect(row.n, table).toBe(0);
      }
    } finally {
      db.close();
    }
    // The username is held for a while (usernameHoldMs), then free again.
    const reuse = () =>
      relay.app.inject({
        method: 'PUT',
        url: '/v1/accounts/me/username',
        headers: bob.headers,
        payload: { username: 'deleted_alice' },
      });
    expect((await reuse()).statusCode).toBe(409);
    relay.clock.advance(relay.config.usernameHoldMs);
    expect((await reuse()).statusCode).toBe(200);
  });
});

describe('devices', () => {
  it('lists devices and lets a linked device remove only itself', async () => {
    const primary = await register(relay.app);
    const second = await link(relay.app, primary);
    const third = await link(relay.app, primary);
    const list = await relay.app.inject({
      method: 'GET',
      url: '/v1/devices',
      headers: second.headers,
    });
    expect(list.json().devices.map((d: { deviceId: number }) => d.deviceId)).toEqual([1, 2, 3]);
    const del = (by: typeof primary, id: number) =>
      relay.app.inject({ method: 'DELETE', url: `/v1/devices/${id}`, headers: by.headers });
    expect((await del(second, third.deviceId)).statusCode).toBe(403);
    expect((await del(second, 1)).statusCode).toBe(403);
    expect((await del(primary, 1)).statusCode).toBe(403);
    expect((await del(second, second.deviceId)).statusCode).toBe(204);
    expect((await del(primary, 99)).statusCode).toBe(404);
    expect((await del(primary, third.deviceId)).statusCode).toBe(204);
    const after = await relay.app.inject({
      method: 'GET',
      url: '/v1/devices',
      headers: primary.headers,
    });
    expect(after.json().devices.map((d: { deviceId: number }) => d.deviceId)).toEqual([1]);
  });
});
