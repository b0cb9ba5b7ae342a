/**
 * Group admins (issue 12, problem 4): the creator is an admin; admins add, remove, rename and
 * make admins; everyone else may post and leave. A non-admin's update (here: removing the
 * creator, from a modified client that skips its own check) is ignored on every device and
 * shown there as an event; the state stays the same everywhere.
 */
import { describe, expect, it } from 'vitest';
import { GroupAdminError, type GroupRecord, type ParleyClient } from '@parley/client';
import { inbox, linkDevice, registeredClient, until } from './support/clients.ts';
import { useRelay } from './support/use-relay.ts';

const { relay, track } = useRelay<ParleyClient>();

const memberIds = (g: GroupRecord | undefined) => g?.members.map((m) => m.accountId).sort();

describe('group admins', () => {
  it('ignores a non-admin removing the creator on every device; admins change the group', async () => {
    const ali1 = track(await registeredClient(relay.url, 'adm_ali'));
    const ali2 = track(await linkDevice(relay.url, ali1));
    const bo = track(await registeredClient(relay.url, 'adm_bo'));
    const cy = track(await registeredClient(relay.url, 'adm_cy'));
    const di = track(await registeredClient(relay.url, 'adm_di'));
    const created = await ali1.createGroup('admins', [bo.accountId, cy.accountId, di.accountId]);
    const id = created.groupId;
    const everyone = [ali1, ali2, bo, cy, di];
    for (const c of everyone) {
      await until(c, 'group', async () => (await c.group(id))?.admins?.[0] === ali1.accountId);
    }

    // The creator makes Cy an admin; every device agrees.
    await ali1.makeGroupAdmins(id, [cy.accountId]);
    for (const c of everyone) {
      await until(c, 'group', async () => (await c.group(id))?.revision === 2);
      expect((await c.group(id))?.admins?.sort()).toEqual([ali1.accountId, cy.accountId].sort());
    }

    // Bo is no admin: his own client refuses to remove the creator ...
    await expect(bo.removeGroupMembers(id, [ali1.accountId])).rejects.toBeInstanceOf(
      GroupAdminError,
    );
    await expect(bo.renameGroup(id, 'mine now')).rejects.toBeInstanceOf(GroupAdminError);

    // ... and a modified client that claims to be admin is ignored everywhere, with an event.
    const forged = (await bo.group(id))!;
    await bo.storage.put('groups', id, { ...forged, admins: [...forged.admins!, bo.accountId] });
    await bo.removeGroupMembers(id, [ali1.accountId]);
    const honest = [ali1, ali2, cy, di];
    const before = memberIds(created);
    for (const c of honest) {
      await until(c, 'event', async () =>
        (await c.messages(`group:${id}`)).some(
          (m) => m.event === 'group_update_refused' && m.subjects?.[0] === bo.accountId,
        ),
      );
      const g = await c.group(id);
      expect(memberIds(g)).toEqual(before);
      expect(g?.revision).toBe(2);
      expect(g?.admins).not.toContain(bo.accountId);
    }

    // The new admin renames the group and removes Bo; a non-admin leaves. All converge.
    await cy.renameGroup(id, 'admins only');
    await cy.removeGroupMembers(id, [bo.accountId]);
    for (const c of honest) {
      await until(c, 'group', async () => (await c.group(id))?.revision === 4);
    }
    // A non-admin posts, and leaves.
    const aliInbox = inbox(ali2);
    await di.sendGroupText(id, 'bye all');
    await aliInbox.waitFor(1, (m) => m.text === 'bye all');
    await di.leaveGroup(id);
    const final = [ali1.accountId, cy.accountId].sort();
    for (const c of [ali1, ali2, cy]) {
      await until(c, 'group', async () => (await c.group(id))?.revision === 5);
      const g = await c.group(id);
      expect(g?.title).toBe('admins only');
      expect(memberIds(g)).toEqual(final);
      expect(g?.admins?.sort()).toEqual(final);
    }
    expect((await di.group(id))?.left).toBe(true);
  });
});
