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

  it('applies an update by a new admin that arrives before the promotion', async () => {
    const relay = new FakeRelay();
    const ann = await relay.client('ann');
    const bo = await relay.client('bo');
    const cy = await relay.client('cy');
    const di = await relay.client('di');
    const g = await ann.createGroup('g', [bo.accountId, cy.accountId, di.accountId]);
    for (const c of [bo, cy, di]) await relay.deliver(c);
    await ann.makeGroupAdmins(g.groupId, [bo.accountId]);
    await relay.deliver(bo);
    await bo.removeGroupMembers(g.groupId, [cy.accountId]);
    // Di gets Bo's removal before Ann's promotion of Bo.
    const queue = relay.queued(di.accountId);
    const fromBo = queue.filter((e) => e.sourceAccountId === bo.accountId);
    const others = queue.filter((e) => e.sourceAccountId !== bo.accountId);
    expect(fromBo.length).toBeGreaterThan(0);
    queue.splice(0, queue.length, ...fromBo, ...others);
    await relay.deliver(di);
    const seen = await di.group(g.groupId);
    expect(seen?.revision).toBe(3);
    expect(seen?.members.map((m) => m.accountId).sort()).toEqual(
      [ann.accountId, bo.accountId, di.accountId].sort(),
    );
    const events = (await di.messages(`group:${g.groupId}`)).map((m) => m.event);
    expect(events).not.toContain('group_update_refused');
    expect(events).toContain('group_members_removed');
  });

  it('refuses a parked update whose sender is still no admin once the gap is filled', async () => {
    const relay = new FakeRelay();
    const ann = await relay.client('ann');
    const bo = await relay.client('bo');
    const cy = await relay.client('cy');
    const g = await ann.createGroup('g', [bo.accountId, cy.accountId]);
    for (const c of [bo, cy]) await relay.deliver(c);
    // Bo, no admin, forges a change two revisions ahead; then Ann renames (revision 2).
    const mine = (await bo.group(g.groupId))!;
    await bo.storage.put('groups', g.groupId, {
      ...mine,
      revision: 2,
      admins: [ann.accountId, bo.accountId],
    });
    await bo.renameGroup(g.groupId, 'forged');
    await ann.renameGroup(g.groupId, 'real');
    const queue = relay.queued(cy.accountId);
    const fromBo = queue.filter((e) => e.sourceAccountId === bo.accountId);
    const others = queue.filter((e) => e.sourceAccountId !== bo.accountId);
    queue.splice(0, queue.length, ...fromBo, ...others);
    await relay.deliver(cy);
    expect((await cy.group(g.groupId))?.title).toBe('real');
    const events = (await cy.messages(`group:${g.groupId}`)).map((m) => m.event);
    expect(events).toContain('group_update_refused');
  });
});
