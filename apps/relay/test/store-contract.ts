/**
 * The `RelayStore` contract as a reusable suite: every backend runs `registerStoreContract` with
 * its own factory (`sqlite-store.test.ts`, `postgres-store.test.ts`), so they all promise the
 * same behaviour.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hashSecret } from '../src/credentials.ts';
import type { DeviceSnapshot, RelayStore } from '../src/store/types.ts';
import { deviceKeys, ecPublicKey, kyberPreKeys, preKeys, signedPreKey } from './helpers.ts';
import { registerAttachmentContract } from './store-contract-attachments.ts';
import { registerHintContract } from './store-contract-hints.ts';
import { registerLifecycleContract } from './store-contract-lifecycle.ts';
import { registerQueueContract } from './store-contract-queues.ts';
import { registerSealedContract } from './store-contract-sealed.ts';
import { accept, account, envelope, everything, linked, newDevice, T0 } from './store-fixtures.ts';

export interface StoreFixture {
  store: RelayStore;
  cleanup(): Promise<void>;
}

export function registerStoreContract(name: string, open: () => Promise<StoreFixture>): void {
  const withStore = (test: (store: RelayStore) => Promise<void>) => async () => {
    const { store, cleanup } = await open();
    try {
      await test(store);
    } finally {
      await cleanup();
    }
  };

  describe(`RelayStore contract: ${name}`, () => {
    registerQueueContract(withStore);
    registerHintContract(withStore);
    registerSealedContract(withStore);
    registerLifecycleContract(withStore);
    registerAttachmentContract(withStore);
    it(
      'createAccount is atomic: a taken username writes nothing',
      withStore(async (store) => {
        const { accountId } = await account(store);
        const taken = (await store.getAccount(accountId))?.username as string;
        const loserId = randomUUID();
        const result = await store.createAccount(
          { accountId: loserId, username: taken, identityKey: ecPublicKey(), createdAt: T0 },
          newDevice(),
        );
        expect(result).toBe('username_taken');
        expect(await store.getAccount(loserId)).toBeUndefined();
        expect(await store.listDevices(loserId)).toEqual([]);
      }),
    );

    it(
      'concurrent writes are independent: one failing does not undo the others',
      withStore(async (store) => {
        const { accountId } = await account(store);
        const taken = (await store.getAccount(accountId))?.username as string;
        const ids = [randomUUID(), randomUUID(), randomUUID()];
        const results = await Promise.all([
          store.createAccount(
            {
              accountId: ids[0] as string,
              username: 'fresh_one',
              identityKey: ecPublicKey(),
              createdAt: T0,
            },
            newDevice(),
          ),
          store.createAccount(
            {
              accountId: ids[1] as string,
              username: taken,
              identityKey: ecPublicKey(),
              createdAt: T0,
            },
            newDevice(),
          ),
          store.createAccount(
            {
              accountId: ids[2] as string,
              username: 'fresh_two',
              identityKey: ecPublicKey(),
              createdAt: T0,
            },
            newDevice(),
          ),
        ]);
        expect(results).toEqual(['created', 'username_taken', 'created']);
        expect(await store.getAccount(ids[0] as string)).toBeDefined();
        expect(await store.getAccount(ids[1] as string)).toBeUndefined();
        expect(await store.getAccount(ids[2] as string)).toBeDefined();
      }),
    );

    it(
      'takeBundles hands out each one-time key at most once under concurrency',
      withStore(async (store) => {
        const { accountId } = await account(store, { preKeys: 10, pqPreKeys: 10 });
        const bundles = await Promise.all(
          Array.from({ length: 25 }, () => store.takeBundles(accountId, 1)),
        );
        const ec = bundles.flatMap((b) =>
          b?.devices[0]?.preKey ? [b.devices[0].preKey.keyId] : [],
        );
        const pq = bundles.flatMap((b) =>
          b?.devices[0] && !b.devices[0].pqPreKeyIsLastResort ? [b.devices[0].pqPreKey.keyId] : [],
        );
        expect(new Set(ec).size).toBe(10);
        expect(ec).toHaveLength(10);
        expect(new Set(pq).size).toBe(10);
        expect(pq).toHaveLength(10);
        expect(await store.takeBundles(randomUUID(), 'all')).toBeUndefined();
        expect(await store.takeBundles(accountId, 2)).toBeUndefined();
      }),
    );

    it(
      'enqueue shows the planner current devices and queue sizes, and stores nothing on reject',
      withStore(async (store) => {
        const { accountId, registrationId } = await account(store);
        const seen: DeviceSnapshot[][] = [];
        const first = await store.enqueue([accountId, randomUUID()], (devices) => {
          seen.push([...(devices.get(accountId) ?? [])]);
          expect(devices.size).toBe(1);
          return { envelopes: [envelope(accountId, 1), envelope(accountId, 1)] };
        });
        expect('stored' in first && first.stored.map((e) => e.seq)).toEqual([
          expect.any(Number),
          expect.any(Number),
        ]);
        const rejected = await store.enqueue([accountId], (devices) => {
          seen.push([...(devices.get(accountId) ?? [])]);
          return { reject: 'no' };
        });
        expect(rejected).toEqual({ rejected: 'no' });
        expect(seen).toEqual([
          [
            {
              deviceId: 1,
              registrationId,
              queued: 0,
              queuedBytes: 0,
              senderQueued: 0,
              senderQueuedBytes: 0,
            },
          ],
          [
            {
              deviceId: 1,
              registrationId,
              queued: 2,
              queuedBytes: 72,
              senderQueued: 0,
              senderQueuedBytes: 0,
            },
          ],
        ]);
        const queue = await store.fetchEnvelopes(accountId, 1, {
          afterSeq: 0,
          limit: 10,
          notBefore: 0,
        });
        expect(queue).toHaveLength(2);
      }),
    );

    it(
      'pages the queue in order by seq, skips expired envelopes, deletes only within the device',
      withStore(async (store) => {
        const { accountId } = await account(store);
        const other = await account(store);
        const batch = [
          envelope(accountId, 1, T0 - 10),
          envelope(accountId, 1),
          envelope(accountId, 1),
          envelope(accountId, 1),
        ];
        await store.enqueue([accountId], accept(batch));
        const page1 = await store.fetchEnvelopes(accountId, 1, {
          afterSeq: 0,
          limit: 2,
          notBefore: T0,
        });
        expect(page1.map((e) => e.id)).toEqual([batch[1]?.id, batch[2]?.id]);
        const page2 = await store.fetchEnvelopes(accountId, 1, {
          afterSeq: page1[1]?.seq ?? 0,
          limit: 2,
          notBefore: T0,
        });
        expect(page2.map((e) => e.id)).toEqual([batch[3]?.id]);
        expect(page2[0]?.content).toBe(batch[3]?.content);
        expect(await store.deleteEnvelope(other.accountId, 1, batch[1]?.id as string)).toBe(false);
        expect(await store.deleteEnvelope(accountId, 2, batch[1]?.id as string)).toBe(false);
        expect(await store.deleteEnvelope(accountId, 1, batch[1]?.id as string)).toBe(true);
        expect(await store.deleteEnvelope(accountId, 1, batch[1]?.id as string)).toBe(false);
      }),
    );

    it(
      'linkDevice consumes valid codes only, keeps the code when the account is full, never reuses ids',
      withStore(async (store) => {
        const { accountId } = await account(store);
        const code = hashSecret('code-1');
        await store.addLinkingCode(accountId, code, T0 + 1000);
        expect(await store.linkDevice(hashSecret('nope'), T0, 3, newDevice())).toEqual({
          ok: false,
          reason: 'invalid_code',
        });
        expect(await store.linkDevice(code, T0, 1, newDevice())).toEqual({
          ok: false,
          reason: 'too_many_devices',
        });
        expect(await store.linkDevice(code, T0, 3, newDevice())).toEqual({
          ok: true,
          accountId,
          deviceId: 2,
        });
        expect(await store.linkDevice(code, T0, 3, newDevice())).toEqual({
          ok: false,
          reason: 'invalid_code',
        });
        await store.removeDevice(accountId, 2);
        await store.addLinkingCode(accountId, hashSecret('code-2'), T0 + 1000);
        expect(await store.linkDevice(hashSecret('code-2'), T0, 3, newDevice())).toMatchObject({
          deviceId: 3,
        });
        await store.addLinkingCode(accountId, hashSecret('code-3'), T0 + 1000);
        expect(await store.linkDevice(hashSecret('code-3'), T0 + 1000, 3, newDevice())).toEqual({
          ok: false,
          reason: 'invalid_code',
        });
      }),
    );

    it(
      'removeDevice and deleteAccount take keys and queues with them',
      withStore(async (store) => {
        const { accountId } = await account(store);
        await store.addLinkingCode(accountId, hashSecret('c'), T0 + 1000);
        await store.linkDevice(hashSecret('c'), T0, 5, newDevice());
        await store.enqueue([accountId], accept([envelope(accountId, 1), envelope(accountId, 2)]));
        expect(await store.removeDevice(accountId, 2)).toBe(true);
        expect(
          await store.fetchEnvelopes(accountId, 2, { afterSeq: 0, limit: 10, notBefore: 0 }),
        ).toEqual([]);
        expect(await store.keyStatus(accountId, 2, 0)).toBeUndefined();
        expect(await store.deleteAccount(accountId)).toBe(true);
        expect(await store.getAccount(accountId)).toBeUndefined();
        expect(await store.listDevices(accountId)).toEqual([]);
        expect(
          await store.fetchEnvelopes(accountId, 1, { afterSeq: 0, limit: 10, notBefore: 0 }),
        ).toEqual([]);
        expect(await store.deleteAccount(accountId)).toBe(false);
      }),
    );

    it(
      'expire deletes old envelopes, expired codes and retired keys past retention',
      withStore(async (store) => {
        const { accountId } = await account(store);
        await store.enqueue(
          [accountId],
          accept([envelope(accountId, 1, T0), envelope(accountId, 1, T0 + 500)]),
        );
        await store.addLinkingCode(accountId, hashSecret('old'), T0 + 100);
        await store.storeKeys(accountId, 1, { signedPreKey: deviceKeys().signedPreKey }, T0);
        // signedPreKey id 1 replaced by id 1 again: no retirement; rotate to id 2 to retire one.
        await store.storeKeys(
          accountId,
          1,
          { signedPreKey: { ...deviceKeys().signedPreKey, keyId: 2 } },
          T0,
        );
        expect((await store.keyStatus(accountId, 1, 1000))?.retiredSignedPreKeys).toHaveLength(1);
        const result = await store.expire(T0 + 1200, 1000);
        expect(result).toEqual({
          envelopes: 1,
          linkingCodes: 1,
          retiredSignedPreKeys: 1,
          sendRecords: 0,
          usernameHolds: 0,
        });
        expect(
          await store.fetchEnvelopes(accountId, 1, { afterSeq: 0, limit: 10, notBefore: 0 }),
        ).toHaveLength(1);
      }),
    );

    it(
      'setUsername and getAccountByUsername: unique, frees the old name, a taken one changes nothing',
      withStore(async (store) => {
        // Usernames reach the store canonical (lowercase); the routes lowercase what users type,
        // so case-insensitivity is uniqueness and lookup of the canonical form.
        const a = await account(store);
        const b = await account(store);
        expect(await store.getAccountByUsername(a.username)).toEqual({
          accountId: a.accountId,
          username: a.username,
          identityKey: a.identityKey,
          createdAt: T0,
        });
        expect(await store.getAccountByUsername('nobody_here')).toBeUndefined();
        expect(await store.setUsername(a.accountId, b.username)).toBe('username_taken');
        expect((await store.getAccount(a.accountId))?.username).toBe(a.username);
        expect((await store.getAccountByUsername(b.username))?.accountId).toBe(b.accountId);

        expect(await store.setUsername(a.accountId, 'renamed.a')).toBe('updated');
        expect(await store.getAccountByUsername(a.username)).toBeUndefined();
        expect((await store.getAccountByUsername('renamed.a'))?.accountId).toBe(a.accountId);
        // Keeping one's own name is not a conflict; the freed name can be taken by another.
        expect(await store.setUsername(a.accountId, 'renamed.a')).toBe('updated');
        expect(await store.setUsername(b.accountId, a.username)).toBe('updated');
        expect((await store.getAccountByUsername(a.username))?.accountId).toBe(b.accountId);
        // A new account cannot take a name freed and re-taken in the meantime.
        const loser = await store.createAccount(
          {
            accountId: randomUUID(),
            username: a.username,
            identityKey: ecPublicKey(),
            createdAt: T0,
          },
          newDevice(),
        );
        expect(loser).toBe('username_taken');
        // Concurrent renames to one free name: exactly one wins.
        const racers = await Promise.all([account(store), account(store), account(store)]);
        const results = await Promise.all(
          racers.map((r) => store.setUsername(r.accountId, 'contested')),
        );
        expect(results.filter((r) => r === 'updated')).toHaveLength(1);
        expect(results.filter((r) => r === 'username_taken')).toHaveLength(2);
        const winner = racers[results.indexOf('updated')];
        expect((await store.getAccountByUsername('contested'))?.accountId).toBe(winner?.accountId);
        for (const [i, racer] of racers.entries()) {
          if (results[i] === 'username_taken')
            expect((await store.getAccount(racer.accountId))?.username).toBe(racer.username);
        }
      }),
    );

    it(
      'exportAccount returns everything stored about the account and no credential hash',
      withStore(async (store) => {
        const a = await account(store, { preKeys: 3, pqPreKeys: 2 });
        const sealedName = Buffer.from('sealed device name').toString('base64');
        const second = { ...newDevice({ preKeys: 1, pqPreKeys: 0 }), createdAt: T0 + 5 };
        second.keys.name = sealedName;
        const deviceId = await linked(store, a.accountId, second);
        const other = await account(store);
        await store.storeKeys(a.accountId, 1, { signedPreKey: signedPreKey(7) }, T0 + 100);
        const queued = { ...envelope(a.accountId, 1, T0 + 200), sourceAccountId: other.accountId };
        await store.enqueue([a.accountId], accept([queued]));

        const exported = await store.exportAccount(a.accountId, T0 + 300, 1000);
        const first = a.device.keys;
        expect(exported).toEqual({
          exportedAt: T0 + 300,
          account: {
            accountId: a.accountId,
            username: a.username,
            identityKey: a.identityKey,
            createdAt: T0,
          },
          devices: [
            {
              deviceId: 1,
              registrationId: first.registrationId,
              createdAt: T0,
              lastSeenAt: T0,
              signedPreKey: expect.objectContaining({ keyId: 7 }),
              pqLastResortPreKey: first.pqLastResortPreKey,
              preKeys: first.preKeys,
              pqPreKeys: first.pqPreKeys,
              retiredSignedPreKeys: [
                { kind: 'ec', keyId: 1, retiredAt: T0 + 100, keepUntil: T0 + 1100 },
              ],
              queue: [
                {
                  id: queued.id,
                  sourceAccountId: other.accountId,
                  sourceDeviceId: 1,
                  serverTimestamp: T0 + 200,
                  contentBytes: Buffer.from(queued.content, 'base64').length,
                },
              ],
            },
            {
              deviceId,
              name: sealedName,
              registrationId: second.keys.registrationId,
              createdAt: T0 + 5,
              lastSeenAt: T0,
              signedPreKey: second.keys.signedPreKey,
              pqLastResortPreKey: second.keys.pqLastResortPreKey,
              preKeys: second.keys.preKeys,
              pqPreKeys: [],
              retiredSignedPreKeys: [],
              queue: [],
            },
          ],
        });
        const text = JSON.stringify(exported);
        for (const hash of [a.device.credentialHash, second.credentialHash]) {
          expect(text).not.toContain(Buffer.from(hash).toString('base64'));
          expect(text).not.toContain(Buffer.from(hash).toString('hex'));
        }
        expect(text).not.toContain(queued.content);
        expect(await store.exportAccount(randomUUID(), T0, 1000)).toBeUndefined();
      }),
    );

    it(
      'storeKeys replaces only the kinds uploaded; one-time batches replace the unused keys',
      withStore(async (store) => {
        const a = await account(store, { preKeys: 5, pqPreKeys: 2 });
        const status = () => store.keyStatus(a.accountId, 1, 1000);
        await store.storeKeys(a.accountId, 1, { preKeys: preKeys(3, 100) }, T0 + 1);
        expect(await status()).toEqual({
          preKeyCount: 3,
          pqPreKeyCount: 2,
          signedPreKeyId: 1,
          pqLastResortPreKeyId: 1000,
          retiredSignedPreKeys: [],
        });
        // The old batch is gone: bundles hand out the new ids only, lowest first.
        const ids = [];
        for (let i = 0; i < 4; i++) {
          const bundle = await store.takeBundles(a.accountId, 1);
          ids.push(bundle?.devices[0]?.preKey?.keyId);
        }
        expect(ids).toEqual([100, 101, 102, undefined]);
        await store.storeKeys(a.accountId, 1, { pqPreKeys: kyberPreKeys(4, 50) }, T0 + 2);
        expect(await status()).toMatchObject({ preKeyCount: 0, pqPreKeyCount: 4 });
        await store.storeKeys(a.accountId, 1, { pqPreKeys: [] }, T0 + 3);
        expect(await status()).toMatchObject({ preKeyCount: 0, pqPreKeyCount: 0 });
        const lastResort = (await store.takeBundles(a.accountId, 1))?.devices[0];
        expect(lastResort?.pqPreKeyIsLastResort).toBe(true);
        expect(lastResort?.pqPreKey).toEqual(a.device.keys.pqLastResortPreKey);
        // Another device's keys are untouched.
        const deviceId = await linked(store, a.accountId, newDevice({ preKeys: 4, pqPreKeys: 1 }));
        await store.storeKeys(a.accountId, 1, { preKeys: preKeys(2, 300) }, T0 + 4);
        expect(await store.keyStatus(a.accountId, deviceId, 1000)).toMatchObject({
          preKeyCount: 4,
          pqPreKeyCount: 1,
        });
      }),
    );

    it(
      'storeKeys for a device that is gone (removed meanwhile) stores nothing and says so',
      withStore(async (store) => {
        const a = await account(store);
        const deviceId = await linked(store, a.accountId);
        expect(await store.storeKeys(a.accountId, deviceId, { preKeys: preKeys(2) }, T0)).toBe(
          true,
        );
        expect(await store.removeDevice(a.accountId, deviceId)).toBe(true);
        for (const upload of [
          { preKeys: preKeys(2) },
          { pqPreKeys: kyberPreKeys(1) },
          { signedPreKey: signedPreKey(9) },
          { pqPreKeys: [] },
        ]) {
          expect(await store.storeKeys(a.accountId, deviceId, upload, T0)).toBe(false);
          expect(await store.storeKeys(randomUUID(), 1, upload, T0)).toBe(false);
        }
        expect(await store.keyStatus(a.accountId, deviceId, 0)).toBeUndefined();
        // Concurrent removal and upload: either order is fine, neither throws.
        const next = await linked(store, a.accountId);
        const [removed, stored] = await Promise.all([
          store.removeDevice(a.accountId, next),
          store.storeKeys(a.accountId, next, { signedPreKey: signedPreKey(5) }, T0),
        ]);
        expect(removed).toBe(true);
        expect(typeof stored).toBe('boolean');
        expect(await store.keyStatus(a.accountId, next, 0)).toBeUndefined();
      }),
    );

    it(
      'rotating a signed key retires the old one (kept, reported) and bundles carry the new one',
      withStore(async (store) => {
        const a = await account(store, { preKeys: 0, pqPreKeys: 0 });
        const status = () => store.keyStatus(a.accountId, 1, 1000);
        const ec2 = signedPreKey(2);
        await store.storeKeys(a.accountId, 1, { signedPreKey: ec2 }, T0 + 10);
        const pq2 = kyberPreKeys(1, 2000)[0] as NonNullable<ReturnType<typeof kyberPreKeys>[0]>;
        await store.storeKeys(a.accountId, 1, { pqLastResortPreKey: pq2 }, T0 + 20);
        await store.storeKeys(a.accountId, 1, { signedPreKey: signedPreKey(3) }, T0 + 30);
        expect(await status()).toEqual({
          preKeyCount: 0,
          pqPreKeyCount: 0,
          signedPreKeyId: 3,
          pqLastResortPreKeyId: 2000,
          retiredSignedPreKeys: [
            { kind: 'ec', keyId: 1, retiredAt: T0 + 10, keepUntil: T0 + 1010 },
            { kind: 'kyber', keyId: 1000, retiredAt: T0 + 20, keepUntil: T0 + 1020 },
            { kind: 'ec', keyId: 2, retiredAt: T0 + 30, keepUntil: T0 + 1030 },
          ],
        });
        const bundle = (await store.takeBundles(a.accountId, 1))?.devices[0];
        expect(bundle?.signedPreKey.keyId).toBe(3);
        expect(bundle?.pqPreKey).toEqual(pq2);
        // Uploading the current id again replaces it in place: nothing more is retired.
        const ec3 = signedPreKey(3);
        await store.storeKeys(a.accountId, 1, { signedPreKey: ec3 }, T0 + 40);
        expect((await status())?.retiredSignedPreKeys).toHaveLength(3);
        expect((await store.takeBundles(a.accountId, 1))?.devices[0]?.signedPreKey).toEqual(ec3);
        // Expiry forgets retired keys past retention, never the current ones.
        expect((await store.expire(T0 + 1025, 1000)).retiredSignedPreKeys).toBe(2);
        expect(await status()).toMatchObject({
          signedPreKeyId: 3,
          pqLastResortPreKeyId: 2000,
          retiredSignedPreKeys: [
            { kind: 'ec', keyId: 2, retiredAt: T0 + 30, keepUntil: T0 + 1030 },
          ],
        });
      }),
    );

    it(
      'touchDevice only moves lastSeenAt forward, for that device only',
      withStore(async (store) => {
        const a = await account(store);
        const deviceId = await linked(store, a.accountId);
        const DAY = 86_400_000;
        await store.touchDevice(a.accountId, 1, T0 + 2 * DAY);
        expect((await store.getDevice(a.accountId, 1))?.lastSeenAt).toBe(T0 + 2 * DAY);
        await store.touchDevice(a.accountId, 1, T0 + DAY);
        expect((await store.getDevice(a.accountId, 1))?.lastSeenAt).toBe(T0 + 2 * DAY);
        expect((await store.getDevice(a.accountId, deviceId))?.lastSeenAt).toBe(T0);
        expect((await store.listDevices(a.accountId)).map((d) => d.lastSeenAt)).toEqual([
          T0 + 2 * DAY,
          T0,
        ]);
        // An unknown device is a no-op, not an error.
        await store.touchDevice(a.accountId, 99, T0 + 3 * DAY);
        expect(await store.getDevice(a.accountId, 99)).toBeUndefined();
      }),
    );

    it(
      'concurrent enqueues keep one order per device, and a paging reader never skips one',
      withStore(async (store) => {
        const a = await account(store);
        const deviceId = await linked(store, a.accountId);
        const writes = 40;
        let done = false;
        const seen: string[] = [];
        // A reader pages with a seq cursor while the writers commit, like a socket does.
        const reader = (async () => {
          let cursor = 0;
          for (;;) {
            const finished = done;
            const page = await store.fetchEnvelopes(a.accountId, 1, {
              afterSeq: cursor,
              limit: 7,
              notBefore: 0,
            });
            for (const e of page) seen.push(e.id);
            cursor = page.at(-1)?.seq ?? cursor;
            if (finished && page.length === 0) return;
            if (page.length === 0) await new Promise((r) => setTimeout(r, 1));
          }
        })();
        const results = await Promise.all(
          Array.from({ length: writes }, () =>
            store.enqueue(
              [a.accountId],
              accept([
                envelope(a.accountId, 1),
                envelope(a.accountId, deviceId),
                envelope(a.accountId, 1),
              ]),
            ),
          ),
        );
        done = true;
        await reader;
        const queue1 = await store.fetchEnvelopes(a.accountId, 1, everything);
        const queue2 = await store.fetchEnvelopes(a.accountId, deviceId, everything);
        expect(queue1).toHaveLength(2 * writes);
        expect(queue2).toHaveLength(writes);
        for (const queue of [queue1, queue2]) {
          const seqs = queue.map((e) => e.seq);
          expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
          expect(new Set(seqs).size).toBe(seqs.length);
        }
        // The reader saw every envelope exactly once, in queue order.
        expect(seen).toEqual(queue1.map((e) => e.id));
        // Each enqueue is one unit: its envelopes are adjacent per device, in the given order,
        // and the enqueues are in the same order on both devices.
        const stored = results.map((r) => ('stored' in r ? r.stored : []));
        const order = (ids: string[]) =>
          stored
            .map((batch, i) => ({
              i,
              at: ids.indexOf(batch.find((e) => ids.includes(e.id))?.id ?? ''),
            }))
            .sort((x, y) => x.at - y.at)
            .map((x) => x.i);
        const ids1 = queue1.map((e) => e.id);
        const ids2 = queue2.map((e) => e.id);
        for (const batch of stored) {
          const mine = batch.filter((e) => e.destinationDeviceId === 1).map((e) => e.id);
          const at = ids1.indexOf(mine[0] as string);
          expect(ids1.slice(at, at + 2)).toEqual(mine);
          expect(batch.map((e) => e.seq)).toEqual(
            batch.map((e) => [...queue1, ...queue2].find((q) => q.id === e.id)?.seq),
          );
        }
        expect(order(ids1)).toEqual(order(ids2));
      }),
    );

    it(
      'concurrent linkDevice: one code links one device; the device limit holds under races',
      withStore(async (store) => {
        const a = await account(store);
        const code = hashSecret('one-code');
        await store.addLinkingCode(a.accountId, code, T0 + 1000);
        const results = await Promise.all(
          Array.from({ length: 6 }, () => store.linkDevice(code, T0, 10, newDevice())),
        );
        expect(results.filter((r) => r.ok)).toEqual([
          { ok: true, accountId: a.accountId, deviceId: 2 },
        ]);
        expect(results.filter((r) => !r.ok)).toHaveLength(5);
        for (const r of results) if (!r.ok) expect(r.reason).toBe('invalid_code');
        expect((await store.listDevices(a.accountId)).map((d) => d.deviceId)).toEqual([1, 2]);

        // Four codes racing for two free slots (max 4 devices): two link, with distinct ids.
        const codes = ['c1', 'c2', 'c3', 'c4'].map((c) => hashSecret(c));
        for (const c of codes) await store.addLinkingCode(a.accountId, c, T0 + 1000);
        const raced = await Promise.all(codes.map((c) => store.linkDevice(c, T0, 4, newDevice())));
        const linkedIds = raced.flatMap((r) => (r.ok ? [r.deviceId] : []));
        expect(linkedIds.sort()).toEqual([3, 4]);
        expect(raced.filter((r) => !r.ok)).toEqual([
          { ok: false, reason: 'too_many_devices' },
          { ok: false, reason: 'too_many_devices' },
        ]);
        expect((await store.listDevices(a.accountId)).map((d) => d.deviceId)).toEqual([1, 2, 3, 4]);
      }),
    );
  });
}
