import { describe, expect, it } from 'vitest';
import {
  accountStatus,
  DeletedAccountChecks,
  reusedUsernameWarning,
  toContact,
} from './lifecycle.ts';

const id = (n: number) => `0000000${n}-0000-4000-8000-000000000000`;

describe('account lifecycle in the view model', () => {
  it('a deleted contact keeps its name and says so; a renamed one too', () => {
    const deleted = toContact({
      accountId: id(1),
      devices: {},
      goneAt: 5,
      formerUsername: 'carol',
    });
    expect(deleted).toMatchObject({ username: 'carol', deleted: true, formerUsername: 'carol' });
    expect(accountStatus(deleted)).toBe('Account deleted');
    const renamed = toContact({ accountId: id(2), devices: {}, formerUsername: 'dave' });
    expect(accountStatus(renamed)).toBe('No longer uses this username');
    const plain = toContact({ accountId: id(3), devices: {}, username: 'erin' });
    expect(accountStatus(plain)).toBeUndefined();
    expect(reusedUsernameWarning(plain)).toBeUndefined();
  });

  it('a newcomer with a known name is "not the … you talked to before"', () => {
    const newcomer = toContact({
      accountId: id(4),
      devices: {},
      username: 'carol',
      usernameReusedFrom: id(1),
    });
    expect(reusedUsernameWarning(newcomer)).toMatch(/^Not the carol you talked to before/);
  });

  it('checks each account once a session, and again after a failure', async () => {
    const asked: string[][] = [];
    let fail = true;
    const client = {
      accountId: id(9),
      async checkDeletedAccounts(ids: string[]) {
        asked.push(ids);
        if (fail) throw new Error('offline');
        return [];
      },
      async group() {
        return { members: [{ accountId: id(9) }, { accountId: id(1) }, { accountId: id(2) }] };
      },
    };
    const checks = new DeletedAccountChecks();
    await checks.check(client, `direct:${id(1)}`);
    fail = false;
    await checks.check(client, 'group:g1');
    await checks.check(client, `direct:${id(1)}`);
    await checks.check(client, 'group:g1');
    expect(asked).toEqual([[id(1)], [id(1), id(2)]]);
  });
});
