/**
 * The `RelayStore` contract as a reusable suite: every backend (SQLite now, PostgreSQL later)
 * runs `registerStoreContract` with its own factory, so they all promise the same behaviour.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hashSecret } from '../src/credentials.ts';
import type { DeviceSnapshot, NewDevice, NewEnvelope, RelayStore } from '../src/store/types.ts';
import { deviceKeys, ecPublicKey } from './helpers.ts';

export interface StoreFixture {
  store: RelayStore;
  cleanup(): Promise<void>;
}

const T0 = Date.UTC(2026, 0, 1);

function newDevice(options: { preKeys?: number; pqPreKeys?: number } = {}): NewDevice {
  return { credentialHash: hashSecret(randomUUID()), createdAt: T0, keys: deviceKeys(options) };
}

async function account(store: RelayStore, options: { preKeys?: number; pqPreKeys?: number } = {}) {
  const accountId = randomUUID();
  const device = newDevice(options);
  const result = await store.createAccount(
    { accountId, username: `u${accountId.slice(0, 8)}`, identityKey: ecPublicKey(), createdAt: T0 },
    device,
  );
  expect(result).toBe('created');
  return { accountId, registrationId: device.keys.registrationId };
}

function envelope(to: string, deviceId: number, serverTimestamp = T0): NewEnvelope {
  return {
    id: randomUUID(),
    destinationAccountId: to,
    destinationDeviceId: deviceId,
    type: 'message',
    sourceAccountId: to,
    sourceDeviceId: 1,
    timestamp: 1,
    serverTimestamp,
    content: Buffer.from(randomUUID()).toString('base64'),
  };
}

const accept = (envelopes: NewEnvelope[]) => () => ({ envelopes });

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
          [{ deviceId: 1, registrationId, queued: 0 }],
          [{ deviceId: 1, registrationId, queued: 2 }],
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
        expect(result).toEqual({ envelopes: 1, linkingCodes: 1, retiredSignedPreKeys: 1 });
        expect(
          await store.fetchEnvelopes(accountId, 1, { afterSeq: 0, limit: 10, notBefore: 0 }),
        ).toHaveLength(1);
      }),
    );
  });
}
