/**
 * The attachment half of the `RelayStore` contract (`store.attachments`), run inside
 * `registerStoreContract` on every backend: the quota is checked and reserved atomically (also
 * under concurrent uploads), per account, and `due` finds exactly what expiry and account
 * deletion must remove.
 */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import type { AttachmentRecord } from '../src/store/attachments.ts';
import { account, T0, type WithStore } from './store-fixtures.ts';

const DAY = 86_400_000;
const record = (accountId: string, size: number, createdAt = T0): AttachmentRecord => ({
  id: randomUUID(),
  accountId,
  size,
  createdAt,
});

export function registerAttachmentContract(withStore: WithStore): void {
  it(
    'attachments: the quota is per account, and a refused upload stores nothing',
    withStore(async (store) => {
      const { accountId: alice } = await account(store);
      const { accountId: bob } = await account(store);
      const first = record(alice, 600);
      expect(await store.attachments.create(first, 1000)).toBe('created');
      const refused = record(alice, 401);
      expect(await store.attachments.create(refused, 1000)).toBe('over_quota');
      expect(await store.attachments.get(refused.id)).toBeUndefined();
      expect(await store.attachments.create(record(alice, 400), 1000)).toBe('created');
      // Bob's quota is his own.
      expect(await store.attachments.create(record(bob, 1000), 1000)).toBe('created');
      expect(await store.attachments.usage(alice)).toEqual({ bytes: 1000, oldestIncomplete: T0 });
      await store.attachments.complete(first.id, T0 + 1);
      expect(await store.attachments.usage(alice)).toEqual({
        bytes: 1000,
        oldestComplete: T0,
        oldestIncomplete: T0,
      });
      expect(await store.attachments.create(record(randomUUID(), 1), 1000)).toBe('unknown_account');
    }),
  );

  it(
    'attachments: concurrent uploads of one account cannot overshoot its quota together',
    withStore(async (store) => {
      const { accountId } = await account(store);
      const results = await Promise.all(
        Array.from({ length: 6 }, () => store.attachments.create(record(accountId, 300), 1000)),
      );
      expect(results.filter((r) => r === 'created')).toHaveLength(3);
      expect((await store.attachments.usage(accountId)).bytes).toBe(900);
    }),
  );

  it(
    'attachments: records are completed once, and listed and removed by account',
    withStore(async (store) => {
      const { accountId } = await account(store);
      const one = record(accountId, 10);
      const two = record(accountId, 20, T0 + 5);
      await store.attachments.create(one, 1000);
      await store.attachments.create(two, 1000);
      expect(await store.attachments.get(one.id)).toEqual(one);
      expect(await store.attachments.complete(one.id, T0 + 1)).toBe(true);
      expect(await store.attachments.complete(one.id, T0 + 2)).toBe(true);
      expect(await store.attachments.get(one.id)).toEqual({ ...one, completedAt: T0 + 1 });
      expect(await store.attachments.complete(randomUUID(), T0)).toBe(false);
      expect((await store.attachments.ofAccount(accountId)).sort()).toEqual(
        [one.id, two.id].sort(),
      );
      expect(await store.attachments.remove([one.id, two.id, randomUUID()])).toBe(2);
      expect(await store.attachments.ofAccount(accountId)).toEqual([]);
      expect(await store.attachments.usage(accountId)).toEqual({ bytes: 0 });
    }),
  );

  it(
    "attachments: due finds expired, stale unfinished, and deleted accounts' ones",
    withStore(async (store) => {
      const { accountId: alice } = await account(store);
      const { accountId: bob } = await account(store);
      const oldComplete = record(alice, 1, T0);
      const freshComplete = record(alice, 1, T0 + 20 * DAY);
      const staleUnfinished = record(alice, 1, T0 + 28 * DAY);
      const freshUnfinished = record(alice, 1, T0 + 30 * DAY);
      const bobs = record(bob, 1, T0 + 30 * DAY);
      for (const r of [oldComplete, freshComplete, staleUnfinished, freshUnfinished, bobs])
        await store.attachments.create(r, 1000);
      await store.attachments.complete(oldComplete.id, T0);
      await store.attachments.complete(freshComplete.id, T0 + 20 * DAY);
      await store.attachments.complete(bobs.id, T0 + 30 * DAY);
      const sweep = { now: T0 + 30 * DAY + 1, retentionMs: 30 * DAY, incompleteTtlMs: DAY };
      const due = await store.attachments.due({ ...sweep, limit: 100 });
      expect(due.sort()).toEqual([oldComplete.id, staleUnfinished.id].sort());
      expect(await store.attachments.due({ ...sweep, limit: 1 })).toHaveLength(1);

      expect(await store.deleteAccount(bob)).toBe(true);
      expect((await store.attachments.due({ ...sweep, limit: 100 })).sort()).toEqual(
        [oldComplete.id, staleUnfinished.id, bobs.id].sort(),
      );
    }),
  );
}
