/**
 * The `RelayStore` contract for deleted accounts and held usernames: a deletion leaves the id
 * alone as a tombstone; a freed name is held until its hold ends (for everyone but the account
 * that renamed away from it), and the sweep deletes ended holds.
 */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { ecPublicKey } from './helpers.ts';
import { account, newDevice, T0, type WithStore } from './store-fixtures.ts';

export function registerLifecycleContract(withStore: WithStore): void {
  it(
    'deleteAccount keeps a tombstone of the id only; goneAccounts names deleted ids alone',
    withStore(async (store) => {
      const a = await account(store);
      const b = await account(store);
      expect(await store.goneAccounts([a.accountId, b.accountId])).toEqual([]);
      expect(await store.deleteAccount(a.accountId)).toBe(true);
      const never = randomUUID();
      expect(await store.goneAccounts([a.accountId, b.accountId, never, a.accountId])).toEqual([
        a.accountId,
      ]);
      expect(await store.goneAccounts([])).toEqual([]);
      // Deleting again changes nothing.
      expect(await store.deleteAccount(a.accountId)).toBe(false);
      expect(await store.goneAccounts([a.accountId])).toEqual([a.accountId]);
    }),
  );

  it(
    'a freed username is held until the hold ends, then the sweep deletes the hold',
    withStore(async (store) => {
      const a = await account(store);
      const b = await account(store);
      const hold = { now: T0, until: T0 + 1000 };
      expect(await store.deleteAccount(a.accountId, hold)).toBe(true);
      const claim = (createdAt: number) =>
        store.createAccount(
          { accountId: randomUUID(), username: a.username, identityKey: ecPublicKey(), createdAt },
          newDevice(),
        );
      expect(await claim(T0 + 999)).toBe('username_taken');
      expect(
        await store.setUsername(b.accountId, a.username, { now: T0 + 999, until: T0 + 999 }),
      ).toBe('username_taken');
      expect((await store.expire(T0 + 999, 10_000)).usernameHolds).toBe(0);
      expect((await store.expire(T0 + 1000, 10_000)).usernameHolds).toBe(1);
      expect(await claim(T0 + 1000)).toBe('created');
    }),
  );

  it(
    'a renamed-away name is held for others, and its old owner may take it back',
    withStore(async (store) => {
      const a = await account(store);
      const b = await account(store);
      const at = (now: number) => ({ now, until: now + 1000 });
      expect(await store.setUsername(a.accountId, 'moved_on', at(T0))).toBe('updated');
      expect(await store.setUsername(b.accountId, a.username, at(T0 + 1))).toBe('username_taken');
      expect(await store.getAccountByUsername(a.username)).toBeUndefined();
      expect(await store.setUsername(a.accountId, a.username, at(T0 + 2))).toBe('updated');
      expect((await store.getAccountByUsername(a.username))?.accountId).toBe(a.accountId);
    }),
  );
}
