/**
 * Planning on a hint (`EnqueueOptions.hint`) and batched queue reads and deletes, run inside
 * `registerStoreContract`. A store may plan on the caller's (possibly stale) device lists; it
 * must then store nothing unless, atomically with the insert, the lists still hold and every
 * queue is within the plan's bounds, and otherwise answer exactly as without a hint.
 */
import { expect, it } from 'vitest';
import type {
  DeviceSnapshot,
  EnqueuePlanner,
  KnownDevice,
  NewEnvelope,
  QueueBound,
} from '../src/store/types.ts';
import { account, envelope, everything, linked, type WithStore } from './store-fixtures.ts';

type Verdict = 'unknown_account' | 'mismatched' | 'full';

/** Like the send route: the addressed devices must be exactly the account's, and fit. */
function planner(
  accountId: string,
  addressed: readonly KnownDevice[],
  envelopes: NewEnvelope[],
  maxQueued = 1000,
): EnqueuePlanner<Verdict> {
  return (snapshot) => {
    const devices = snapshot.get(accountId);
    if (!devices) return { reject: 'unknown_account' };
    const key = (d: KnownDevice) => `${d.deviceId}:${d.registrationId}`;
    const have = devices.map(key).sort().join();
    if (have !== addressed.map(key).sort().join()) return { reject: 'mismatched' };
    if (devices.some((d: DeviceSnapshot) => d.queued + 1 > maxQueued)) return { reject: 'full' };
    const bounds: QueueBound[] = addressed.map((d) => ({
      accountId,
      deviceId: d.deviceId,
      queued: maxQueued - 1,
      queuedBytes: Number.MAX_SAFE_INTEGER,
      senderQueued: Number.MAX_SAFE_INTEGER,
      senderQueuedBytes: Number.MAX_SAFE_INTEGER,
    }));
    return { envelopes, bounds };
  };
}

export function registerHintContract(withStore: WithStore): void {
  it(
    'stores a send planned on a current hint, in order',
    withStore(async (store) => {
      const a = await account(store);
      const devices = [{ deviceId: 1, registrationId: a.registrationId }];
      const hint = new Map([[a.accountId, devices]]);
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const e = envelope(a.accountId, 1);
        ids.push(e.id);
        const result = await store.enqueue([a.accountId], planner(a.accountId, devices, [e]), {
          hint,
        });
        expect(result).toMatchObject({ stored: [{ id: e.id }] });
      }
      const queue = await store.fetchEnvelopes(a.accountId, 1, everything);
      expect(queue.map((e) => e.id)).toEqual(ids);
    }),
  );

  it(
    'a stale hint (device linked since, registration changed, account gone) stores nothing',
    withStore(async (store) => {
      const a = await account(store);
      const second = await linked(store, a.accountId);
      const stale = [{ deviceId: 1, registrationId: a.registrationId }];
      const onStale = await store.enqueue(
        [a.accountId],
        planner(a.accountId, stale, [envelope(a.accountId, 1)]),
        { hint: new Map([[a.accountId, stale]]) },
      );
      expect(onStale).toEqual({ rejected: 'mismatched' });

      const wrongRegistration = [
        { deviceId: 1, registrationId: a.registrationId + 1 },
        { deviceId: second, registrationId: 0 },
      ];
      const onWrong = await store.enqueue(
        [a.accountId],
        planner(a.accountId, wrongRegistration, [envelope(a.accountId, 1)]),
        { hint: new Map([[a.accountId, wrongRegistration]]) },
      );
      expect(onWrong).toEqual({ rejected: 'mismatched' });
      expect(await store.fetchEnvelopes(a.accountId, 1, everything)).toEqual([]);

      const b = await account(store);
      const bDevices = [{ deviceId: 1, registrationId: b.registrationId }];
      expect(await store.deleteAccount(b.accountId)).toBe(true);
      const onGone = await store.enqueue(
        [b.accountId],
        planner(b.accountId, bDevices, [envelope(b.accountId, 1)]),
        { hint: new Map([[b.accountId, bDevices]]) },
      );
      expect(onGone).toEqual({ rejected: 'unknown_account' });
    }),
  );

  it(
    'a plan whose queue bounds no longer hold stores nothing and is planned again',
    withStore(async (store) => {
      const a = await account(store);
      const devices = [{ deviceId: 1, registrationId: a.registrationId }];
      const hint = new Map([[a.accountId, devices]]);
      for (let i = 0; i < 2; i++) {
        const e = envelope(a.accountId, 1);
        expect(
          await store.enqueue([a.accountId], planner(a.accountId, devices, [e], 2), { hint }),
        ).toMatchObject({ stored: [{ id: e.id }] });
      }
      const third = await store.enqueue(
        [a.accountId],
        planner(a.accountId, devices, [envelope(a.accountId, 1)], 2),
        { hint },
      );
      expect(third).toEqual({ rejected: 'full' });
      expect(await store.fetchEnvelopes(a.accountId, 1, everything)).toHaveLength(2);
    }),
  );

  it(
    'concurrent page reads and deletes for many devices each get their own answer',
    withStore(async (store) => {
      const accounts = await Promise.all(Array.from({ length: 6 }, () => account(store)));
      const queued = new Map<string, string[]>();
      for (const [i, a] of accounts.entries()) {
        const envelopes = Array.from({ length: i + 1 }, () => envelope(a.accountId, 1));
        await store.enqueue([a.accountId], () => ({ envelopes }));
        queued.set(
          a.accountId,
          envelopes.map((e) => e.id),
        );
      }
      const pages = await Promise.all(
        accounts.map((a) => store.fetchEnvelopes(a.accountId, 1, { ...everything, limit: 3 })),
      );
      for (const [i, a] of accounts.entries()) {
        expect(pages[i]?.map((e) => e.id)).toEqual(queued.get(a.accountId)?.slice(0, 3));
      }
      // Each device acks its first envelope, plus someone else's id (which matches nothing).
      const deleted = await Promise.all(
        accounts.map((a, i) =>
          store.deleteEnvelopes(a.accountId, 1, [
            queued.get(a.accountId)?.[0] as string,
            queued.get(accounts[(i + 1) % accounts.length]?.accountId as string)?.[0] as string,
          ]),
        ),
      );
      for (const [i, a] of accounts.entries()) {
        expect(deleted[i]).toEqual([queued.get(a.accountId)?.[0]]);
        const rest = await store.fetchEnvelopes(a.accountId, 1, everything);
        expect(rest.map((e) => e.id)).toEqual(queued.get(a.accountId)?.slice(1));
      }
    }),
  );
}
