/** The group admin rules (groups/admins.ts): who may turn which state into which. */
import { describe, expect, it } from 'vitest';
import { GroupAdminError, type GroupRecord } from '@parley/client';
import { GroupStateSchema, create } from '@parley/client/content.js';
import { adminsOf, mayApply } from '../src/groups/admins.ts';
import { FakeRelay } from './support/fake-relay.ts';

const group = (over: Partial<GroupRecord> = {}): GroupRecord => ({
  groupId: 'g',
  title: 'title',
  revision: 3,
  members: ['ann', 'ben', 'cat'].map((accountId) => ({ accountId })),
  creator: 'ann',
  admins: ['ann'],
  distributionId: 'd',
  senderKeySentTo: [],
  ...over,
});

const state = (g: GroupRecord, over: { members?: string[]; title?: string; admins?: string[] }) =>
  create(GroupStateSchema, {
    groupId: g.groupId,
    revision: g.revision + 1,
    title: over.title ?? g.title,
    members: (over.members ?? g.members.map((m) => m.accountId)).map((accountId) => ({
      accountId,
      username: '',
    })),
    creator: g.creator,
    admins: over.admins ?? adminsOf(g),
  });

describe('group admin rules', () => {
  it('lets an admin add, remove, rename and make admins', () => {
    const g = group();
    expect(mayApply(g, state(g, { members: ['ann', 'ben'] }), 'ann')).toBe(true);
    expect(mayApply(g, state(g, { members: ['ann', 'ben', 'cat', 'dan'] }), 'ann')).toBe(true);
    expect(mayApply(g, state(g, { title: 'new' }), 'ann')).toBe(true);
    expect(mayApply(g, state(g, { admins: ['ann', 'ben'] }), 'ann')).toBe(true);
  });

  it('lets a non-admin only leave', () => {
    const g = group();
    expect(mayApply(g, state(g, { members: ['ann', 'ben'] }), 'cat')).toBe(true);
    expect(mayApply(g, state(g, { members: ['ben', 'cat'] }), 'cat')).toBe(false); // removes the creator
    expect(mayApply(g, state(g, { title: 'mine' }), 'cat')).toBe(false);
    expect(mayApply(g, state(g, { admins: ['ann', 'cat'] }), 'cat')).toBe(false);
    // Leaving while smuggling in another change.
    expect(mayApply(g, state(g, { members: ['ann', 'ben'], title: 'x' }), 'cat')).toBe(false);
    expect(mayApply(g, state(g, { members: ['ann'] }), 'cat')).toBe(false);
  });

  it('takes the creator as the admin of a group from before admins, and never a new creator', () => {
    const old = group({ admins: undefined });
    expect(adminsOf(old)).toEqual(['ann']);
    expect(mayApply(old, state(old, { title: 'ok' }), 'ann')).toBe(true);
    expect(mayApply(old, state(old, { title: 'no' }), 'ben')).toBe(false);
    const hijack = { ...state(old, {}), creator: 'ben' };
    expect(mayApply(old, hijack, 'ann')).toBe(false);
  });

  it('takes a group we do not know yet as given (we are being added)', () => {
    expect(mayApply(undefined, state(group(), {}), 'ben')).toBe(true);
  });

  it('refuses changes by a non-admin in our own API; the last admin to leave hands over', async () => {
    const relay = new FakeRelay();
    const ann = await relay.client('ann');
    const ben = await relay.client('ben');
    const g = await ann.createGroup('g', [ben.accountId]);
    await relay.deliver(ben);
    await expect(ben.renameGroup(g.groupId, 'x')).rejects.toBeInstanceOf(GroupAdminError);
    await expect(ben.removeGroupMembers(g.groupId, [ann.accountId])).rejects.toBeInstanceOf(
      GroupAdminError,
    );
    await ann.leaveGroup(g.groupId);
    await relay.deliver(ben);
    expect((await ben.group(g.groupId))?.admins).toEqual([ben.accountId]);
    await ben.renameGroup(g.groupId, 'mine now');
  });
});
