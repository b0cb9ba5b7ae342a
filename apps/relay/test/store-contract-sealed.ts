/**
 * The sealed sender half of the `RelayStore` contract, run inside `registerStoreContract` on
 * every backend: sealed envelopes have no source (and come back without one), the relay's
 * signing keys are created once, and access-key hashes are set, replaced, cleared and deleted
 * with their account.
 */
import { expect, it } from 'vitest';
import type { SealedSenderKeyRecord } from '../src/store/types.ts';
import {
  accept,
  account,
  envelope,
  everything,
  sealedEnvelope,
  sendKey,
  T0,
  type WithStore,
} from './store-fixtures.ts';

const keys = (fill: number): SealedSenderKeyRecord => ({
  trustRootPrivateKey: new Uint8Array(32).fill(fill),
  serverKeyId: fill,
  serverPrivateKey: new Uint8Array(32).fill(fill + 1),
  serverCertificate: new Uint8Array(100).fill(fill + 2),
  createdAt: T0 + fill,
});

export function registerSealedContract(withStore: WithStore): void {
  it(
    'a sealed envelope is stored and delivered without any source, next to identified ones',
    withStore(async (store) => {
      const a = await account(store);
      const b = await account(store);
      const sealed = sealedEnvelope(a.accountId, 1);
      const plain = { ...envelope(a.accountId, 1), sourceAccountId: b.accountId };
      const result = await store.enqueue([a.accountId], accept([sealed, plain]));
      expect('stored' in result && result.stored.map((e) => e.type)).toEqual([
        'unidentified_sender',
        'message',
      ]);
      const page = await store.fetchEnvelopes(a.accountId, 1, everything);
      const [first, second] = page;
      expect(first).toEqual({
        seq: first?.seq,
        id: sealed.id,
        type: 'unidentified_sender',
        destinationDeviceId: 1,
        timestamp: sealed.timestamp,
        serverTimestamp: sealed.serverTimestamp,
        content: sealed.content,
      });
      expect(first).not.toHaveProperty('sourceAccountId');
      expect(second).toMatchObject({ id: plain.id, sourceAccountId: b.accountId });
      const exported = await store.exportAccount(a.accountId, T0, 1000);
      const queue = exported?.devices[0]?.queue ?? [];
      expect(queue.map((q) => q.sourceAccountId)).toEqual([undefined, b.accountId]);
      expect(await store.deleteEnvelope(a.accountId, 1, sealed.id)).toBe(true);
    }),
  );

  it(
    'a sealed send with a send id is answered again on retry, and the record names no sender',
    withStore(async (store) => {
      const a = await account(store);
      const key = { ...sendKey('', 'sealed-send-id-0001'), sourceDeviceId: 0 };
      const first = await store.enqueue([a.accountId], accept([sealedEnvelope(a.accountId, 1)]), {
        send: key,
      });
      expect('stored' in first).toBe(true);
      const again = await store.enqueue([a.accountId], accept([sealedEnvelope(a.accountId, 1)]), {
        send: key,
      });
      expect(again).toEqual({ replayed: { serverTimestamp: key.serverTimestamp, stored: 1 } });
      expect(await store.fetchEnvelopes(a.accountId, 1, everything)).toHaveLength(1);
    }),
  );

  it(
    'sealed sender keys are stored once: later calls get the first set back',
    withStore(async (store) => {
      const first = await store.sealedSenderKeys(keys(1));
      expect(first).toEqual(keys(1));
      const racing = await Promise.all([
        store.sealedSenderKeys(keys(5)),
        store.sealedSenderKeys(keys(9)),
      ]);
      expect(racing).toEqual([keys(1), keys(1)]);
    }),
  );

  it(
    'access-key hashes are set, replaced, cleared, and deleted with the account',
    withStore(async (store) => {
      const a = await account(store);
      const b = await account(store);
      const h1 = new Uint8Array(32).fill(1);
      const h2 = new Uint8Array(32).fill(2);
      expect(await store.accessKeyHashes([a.accountId])).toEqual(new Map());
      expect(await store.setAccessKeyHash(a.accountId, h1)).toBe(true);
      expect(await store.setAccessKeyHash(b.accountId, h2)).toBe(true);
      expect(await store.setAccessKeyHash(a.accountId, h2)).toBe(true);
      expect(await store.accessKeyHashes([a.accountId, b.accountId, a.accountId])).toEqual(
        new Map([
          [a.accountId, h2],
          [b.accountId, h2],
        ]),
      );
      expect(await store.setAccessKeyHash(b.accountId, null)).toBe(true);
      expect(await store.accessKeyHashes([b.accountId])).toEqual(new Map());
      expect(await store.deleteAccount(a.accountId)).toBe(true);
      expect(await store.accessKeyHashes([a.accountId])).toEqual(new Map());
      expect(await store.setAccessKeyHash(a.accountId, h1)).toBe(false);
    }),
  );
}
