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
import { account, envelope, everything, linked, T0, type WithStore } from './store-fixtures.ts';

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
    'concurrent hinted sends each get their own answer: stored, full, stale, gone or failed',
    withStore(async (store) => {
      const [a, b, c, d, gone] = await Promise.all(Array.from({ length: 5 }, () => account(store)));
      if (!a || !b || !c || !d || !gone) throw new Error('accounts missing');
      const devicesOf = (x: { registrationId: number }) => [
        { deviceId: 1, registrationId: x.registrationId },
      ];
      const send = (
        to: { accountId: string; registrationId: number },
        options: { maxQueued?: number; stale?: boolean; id?: string } = {},
      ) => {
        const e = { ...envelope(to.accountId, 1), ...(options.id ? { id: options.id } : {}) };
        const known = options.stale
          ? [{ deviceId: 1, registrationId: to.registrationId + 1 }]
          : devicesOf(to);
        const result = store.enqueue(
          [to.accountId],
          planner(to.accountId, known, [e], options.maxQueued),
          { hint: new Map([[to.accountId, known]]) },
        );
        return { id: e.id, result };
      };
      // c already holds one envelope and has room for two more (cap 3).
      const first = envelope(c.accountId, 1);
      await store.enqueue([c.accountId], () => ({ envelopes: [first] }));
      expect(await store.deleteAccount(gone.accountId)).toBe(true);
      // d's queue holds an envelope whose id a send below reuses: that send fails alone.
      const taken = envelope(d.accountId, 1);
      await store.enqueue([d.accountId], () => ({ envelopes: [taken] }));

      const toA = [send(a), send(a), send(a)];
      const toB = send(b);
      const toC = [1, 2, 3, 4].map(() => send(c, { maxQueued: 3 }));
      const stale = send(b, { stale: true });
      const toGone = send(gone);
      const settled = await Promise.all([...toA, toB, ...toC, stale, toGone].map((s) => s.result));
      const [ra1, ra2, ra3, rb, rc1, rc2, rc3, rc4, rStale, rGone] = settled;
      for (const [i, r] of [ra1, ra2, ra3].entries()) {
        expect(r).toMatchObject({ stored: [{ id: toA[i]?.id }] });
      }
      expect(rb).toMatchObject({ stored: [{ id: toB.id }] });
      // Room for two of the four: exactly two stored, the others refused as full.
      const cResults = [rc1, rc2, rc3, rc4];
      expect(cResults.filter((r) => r && 'stored' in r)).toHaveLength(2);
      expect(cResults.filter((r) => r && 'rejected' in r)).toEqual([
        { rejected: 'full' },
        { rejected: 'full' },
      ]);
      expect(rStale).toEqual({ rejected: 'mismatched' });
      expect(rGone).toEqual({ rejected: 'unknown_account' });

      // A send that cannot be stored at all (an envelope id already taken) fails alone.
      const duplicate = send(d, { id: taken.id });
      const toD = send(d);
      const alsoToB = send(b);
      const [rDuplicate, rd, rb2] = await Promise.allSettled([
        duplicate.result,
        toD.result,
        alsoToB.result,
      ]);
      expect(rDuplicate?.status).toBe('rejected');
      expect(rd).toMatchObject({ value: { stored: [{ id: toD.id }] } });
      expect(rb2).toMatchObject({ value: { stored: [{ id: alsoToB.id }] } });

      // Each queue holds exactly what was reported stored, each envelope once, in seq order.
      const queueOf = async (x: { accountId: string }) =>
        (await store.fetchEnvelopes(x.accountId, 1, everything)).map((e) => e.id);
      expect((await queueOf(a)).sort()).toEqual(toA.map((s) => s.id).sort());
      expect(await queueOf(b)).toEqual([toB.id, alsoToB.id]);
      const storedToC = toC.filter((_, i) => cResults[i] && 'stored' in (cResults[i] ?? {}));
      expect((await queueOf(c)).sort()).toEqual([first.id, ...storedToC.map((s) => s.id)].sort());
      expect(await queueOf(d)).toEqual([taken.id, toD.id]);
      const seqs = (await store.fetchEnvelopes(a.accountId, 1, everything)).map((e) => e.seq);
      expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
      expect(new Set(seqs).size).toBe(seqs.length);
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

  it(
    'concurrent sends to one device never queue past its cap, also after acks and expiry',
    withStore(async (store) => {
      const cap = 12;
      const a = await account(store);
      const devices = [{ deviceId: 1, registrationId: a.registrationId }];
      const hint = new Map([[a.accountId, devices]]);
      const queue = async () =>
        (await store.fetchEnvelopes(a.accountId, 1, everything)).map((e) => e.id);
      // Old enough for the expiry below to prune them.
      const old = Array.from({ length: cap - 3 }, () => envelope(a.accountId, 1, T0 - 10_000));
      await store.enqueue([a.accountId], () => ({ envelopes: old }));
      /** Many sends at once, half planned on a hint, half on a locked snapshot. */
      const burst = async () => {
        const free = cap - (await queue()).length;
        const results = await Promise.all(
          Array.from({ length: 24 }, (_, i) =>
            store.enqueue(
              [a.accountId],
              planner(a.accountId, devices, [envelope(a.accountId, 1)], cap),
              i % 2 === 0 ? { hint } : {},
            ),
          ),
        );
        expect(results.filter((r) => 'stored' in r)).toHaveLength(free);
        expect(results.filter((r) => !('stored' in r))).toEqual(
          Array.from({ length: 24 - free }, () => ({ rejected: 'full' })),
        );
        expect(await queue()).toHaveLength(cap);
      };
      await burst();
      // Acks (batched and single) free slots: exactly those are taken again.
      const [first, second, third] = await queue();
      expect(await store.deleteEnvelopes(a.accountId, 1, [first, second] as string[])).toHaveLength(
        2,
      );
      expect(await store.deleteEnvelope(a.accountId, 1, third as string)).toBe(true);
      await burst();
      // So do envelopes pruned by expiry.
      const { envelopes: pruned } = await store.expire(T0, 5_000);
      expect(pruned).toBe(old.length - 3);
      await burst();
    }),
  );
}
