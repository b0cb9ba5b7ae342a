/**
 * Keeping one person's devices in step, and the smaller message kinds: contacts added on one
 * device appear on the others, reading on one marks read everywhere, typing indicators, and
 * group rename / leave.
 */
import { describe, expect, it } from 'vitest';
import type { ParleyClient } from '@parley/client';
import { inbox, linkDevice, registeredClient, until } from './support/clients.ts';
import { useRelay } from './support/use-relay.ts';

const { relay, clients } = useRelay<ParleyClient>();

describe('device sync and small message kinds', () => {
  it('syncs contacts and read state between own devices; typing indicators arrive', async () => {
    const ann1 = await registeredClient(relay.url, 'sync_ann');
    const ben = await registeredClient(relay.url, 'sync_ben');
    clients.push(ann1, ben);
    const ann2 = await linkDevice(relay.url, ann1);
    clients.push(ann2);

    await ann1.addContact('sync_ben');
    await until(ann2, 'processed', async () =>
      (await ann2.contacts()).some((c) => c.username === 'sync_ben'),
    );

    const in2 = inbox(ann2);
    await ben.sendText(ann1.accountId, 'read me');
    await in2.waitFor(1);
    const conv = `direct:${ben.accountId}`;
    await until(ann1, 'message', async () => (await ann1.messages(conv)).length === 1);
    await ann1.markRead(conv);
    await until(ann2, 'processed', async () => (await ann2.messages(conv))[0]?.status === 'read');
    expect((await ann2.conversations()).find((c) => c.id === conv)?.unread).toBe(0);

    const typing = ben.waitFor('typing');
    await ann2.sendTyping(ben.accountId, true);
    expect(await typing).toEqual({ accountId: ann1.accountId, started: true });
  });

  it('renames a group and lets a member leave; the leaver stops receiving', async () => {
    const a = await registeredClient(relay.url, 'grp_a');
    const b = await registeredClient(relay.url, 'grp_b');
    const c = await registeredClient(relay.url, 'grp_c');
    clients.push(a, b, c);
    const g = await a.createGroup('old name', [b.accountId, c.accountId]);
    for (const m of [b, c])
      await until(m, 'group', async () => (await m.group(g.groupId)) !== undefined);

    // Only an admin (here the creator) may rename (group-admins.test.ts has the rules).
    await a.renameGroup(g.groupId, 'new name');
    for (const m of [b, c]) {
      await until(m, 'group', async () => (await m.group(g.groupId))?.title === 'new name');
    }
    await c.leaveGroup(g.groupId);
    for (const m of [a, b]) {
      await until(m, 'group', async () => (await m.group(g.groupId))?.members.length === 2);
    }
    expect((await c.group(g.groupId))?.left).toBe(true);
    await expect(c.sendGroupText(g.groupId, 'still here?')).rejects.toThrow(/not a member/);

    const bIn = inbox(b);
    const cIn = inbox(c);
    await a.sendGroupText(g.groupId, 'after c left');
    await bIn.waitFor(1);
    expect(cIn.messages).toEqual([]);
    const events = (await a.messages(`group:${g.groupId}`)).filter((m) => m.kind === 'event');
    expect(events.map((e) => e.event)).toEqual(['group_created', 'group_renamed', 'group_left']);
  });
});
