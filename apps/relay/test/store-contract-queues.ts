/**
 * The queue half of the `RelayStore` contract, run inside `registerStoreContract`: batched
 * deletes, queue sizes and sender shares seen by the planner, and idempotent sends.
 */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import type { DeviceSnapshot, NewEnvelope } from '../src/store/types.ts';
import {
  accept,
  account,
  envelope,
  everything,
  linked,
  sendKey,
  T0,
  type WithStore,
} from './store-fixtures.ts';

export function registerQueueContract(withStore: WithStore): void {
  it(
    'deleteEnvelopes deletes a batch in one call, only from that device, returning what was there',
    withStore(async (store) => {
      const { accountId } = await account(store);
      const other = await account(store);
      const mine = [envelope(accountId, 1), envelope(accountId, 1), envelope(accountId, 1)];
      const theirs = envelope(other.accountId, 1);
      await store.enqueue([accountId], accept(mine));
      await store.enqueue([other.accountId], accept([theirs]));
      const ids = mine.map((e) => e.id);
      expect(await store.deleteEnvelopes(accountId, 1, [])).toEqual([]);
      const deleted = await store.deleteEnvelopes(accountId, 1, [
        ids[0] as string,
        ids[2] as string,
        theirs.id,
        randomUUID(),
      ]);
      expect(deleted.sort()).toEqual([ids[0], ids[2]].sort());
      expect((await store.fetchEnvelopes(accountId, 1, everything)).map((e) => e.id)).toEqual([
        ids[1],
      ]);
      expect(await store.fetchEnvelopes(other.accountId, 1, everything)).toHaveLength(1);
      expect(await store.deleteEnvelopes(accountId, 1, [ids[0] as string])).toEqual([]);
    }),
  );

  it(
    "the planner sees each queue's size in envelopes and bytes, and the sender's share of it",
    withStore(async (store) => {
      const a = await account(store);
      const b = await account(store);
      const fromB = (bytes: number): NewEnvelope => ({
        ...envelope(a.accountId, 1),
        sourceAccountId: b.accountId,
        content: Buffer.alloc(bytes, 7).toString('base64'),
      });
      await store.enqueue(
        [a.accountId],
        accept([fromB(100), fromB(1000), envelope(a.accountId, 1)]),
      );
      let seen: DeviceSnapshot | undefined;
      await store.enqueue(
        [a.accountId],
        (devices) => {
          seen = devices.get(a.accountId)?.[0];
          return { reject: 'look only' };
        },
        { sender: b.accountId },
      );
      expect(seen).toEqual({
        deviceId: 1,
        registrationId: a.registrationId,
        queued: 3,
        queuedBytes: 1136,
        senderQueued: 2,
        senderQueuedBytes: 1100,
      });
    }),
  );

  it(
    'a send id stores once: retries replay the first answer and store nothing new',
    withStore(async (store) => {
      const a = await account(store);
      const b = await account(store);
      const key = sendKey(a.accountId, 'send-1');
      const first = await store.enqueue(
        [b.accountId],
        accept([envelope(b.accountId, 1), envelope(b.accountId, 1)]),
        { send: key },
      );
      expect('stored' in first && first.stored).toHaveLength(2);
      let planned = false;
      const retry = await store.enqueue(
        [b.accountId],
        () => {
          planned = true;
          return { envelopes: [envelope(b.accountId, 1)] };
        },
        { send: { ...key, serverTimestamp: T0 + 5 } },
      );
      expect(retry).toEqual({ replayed: { serverTimestamp: T0, stored: 2 } });
      expect(planned).toBe(false);
      expect(await store.fetchEnvelopes(b.accountId, 1, everything)).toHaveLength(2);

      // The key is per sender device and send id: other ids and other senders store.
      const other = await store.enqueue([b.accountId], accept([envelope(b.accountId, 1)]), {
        send: sendKey(a.accountId, 'send-2'),
      });
      expect('stored' in other).toBe(true);
      const otherSender = await store.enqueue([b.accountId], accept([envelope(b.accountId, 1)]), {
        send: sendKey(b.accountId, 'send-1'),
      });
      expect('stored' in otherSender).toBe(true);
      expect(await store.fetchEnvelopes(b.accountId, 1, everything)).toHaveLength(4);
    }),
  );

  it(
    'a rejected send records nothing, so its retry is planned afresh',
    withStore(async (store) => {
      const a = await account(store);
      const key = sendKey(a.accountId, 'send-r');
      expect(
        await store.enqueue([a.accountId], () => ({ reject: 'stale' }), { send: key }),
      ).toEqual({
        rejected: 'stale',
      });
      const retry = await store.enqueue([a.accountId], accept([envelope(a.accountId, 1)]), {
        send: key,
      });
      expect('stored' in retry && retry.stored).toHaveLength(1);
    }),
  );

  it(
    'concurrent sends with one send id store once; every caller gets the same answer',
    withStore(async (store) => {
      const a = await account(store);
      const b = await account(store);
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          store.enqueue([b.accountId], accept([envelope(b.accountId, 1, T0 + i)]), {
            send: sendKey(a.accountId, 'send-c', T0 + i),
          }),
        ),
      );
      const stored = results.filter((r) => 'stored' in r);
      expect(stored).toHaveLength(1);
      const queue = await store.fetchEnvelopes(b.accountId, 1, everything);
      expect(queue).toHaveLength(1);
      for (const r of results) {
        if ('replayed' in r) {
          expect(r.replayed).toEqual({ serverTimestamp: queue[0]?.serverTimestamp, stored: 1 });
        }
      }
    }),
  );

  it(
    'send records expire with the envelopes and go with the sending device',
    withStore(async (store) => {
      const a = await account(store);
      const b = await account(store);
      await store.enqueue([b.accountId], accept([envelope(b.accountId, 1, T0)]), {
        send: sendKey(a.accountId, 'old', T0),
      });
      await store.enqueue([b.accountId], accept([envelope(b.accountId, 1, T0 + 500)]), {
        send: sendKey(a.accountId, 'new', T0 + 500),
      });
      // Past retention (not yet swept) a record no longer counts: the send is stored again.
      const late = await store.enqueue(
        [b.accountId],
        accept([envelope(b.accountId, 1, T0 + 1100)]),
        { send: sendKey(a.accountId, 'old', T0 + 1100, T0 + 100) },
      );
      expect('stored' in late).toBe(true);
      const result = await store.expire(T0 + 1200, 1000);
      expect(result).toMatchObject({ envelopes: 1, sendRecords: 0 });
      expect((await store.expire(T0 + 1550, 1000)).sendRecords).toBe(1);
      const replay = await store.enqueue([b.accountId], accept([envelope(b.accountId, 1)]), {
        send: sendKey(a.accountId, 'old'),
      });
      expect(replay).toEqual({ replayed: { serverTimestamp: T0 + 1100, stored: 1 } });
      expect((await store.expire(T0 + 2200, 1000)).sendRecords).toBe(1);

      const linkedId = await linked(store, a.accountId);
      const fromLinked = { ...sendKey(a.accountId, 'dev'), sourceDeviceId: linkedId };
      await store.enqueue([b.accountId], accept([envelope(b.accountId, 1)]), {
        send: fromLinked,
      });
      expect(await store.removeDevice(a.accountId, linkedId)).toBe(true);
      // A send in flight from the device just removed is still stored (and recorded).
      const inFlight = await store.enqueue([b.accountId], accept([envelope(b.accountId, 1)]), {
        send: { ...fromLinked, sendId: 'dev-late' },
      });
      expect('stored' in inFlight).toBe(true);
      expect(await store.removeDevice(a.accountId, linkedId)).toBe(false);
      expect(await store.deleteAccount(a.accountId)).toBe(true);
      expect((await store.expire(T0 + 10_000, 1000)).sendRecords).toBe(0);
    }),
  );
}
