/**
 * Message requests (issue 12): a stranger's first message, or a group a stranger adds us to,
 * is a request; until it is accepted no read receipt or typing notice goes back (delivery
 * receipts do). Accepting and deleting follow us to our other devices.
 */
import { describe, expect, it } from 'vitest';
import type { ParleyClient } from '@parley/client';
import { inbox, linkDevice, registeredClient, until } from './support/clients.ts';
import { useRelay } from './support/use-relay.ts';

const { relay, track } = useRelay<ParleyClient>();

async function isRequest(client: ParleyClient, conversationId: string) {
  return (await client.conversations()).find((c) => c.id === conversationId)?.request === true;
}

describe('message requests', () => {
  it('a stranger gets delivery receipts only until the request is accepted, on both devices', async () => {
    const alice1 = track(await registeredClient(relay.url, 'req_alice'));
    const alice2 = track(await linkDevice(relay.url, alice1));
    const bob = track(await registeredClient(relay.url, 'req_bob'));
    const conv = `direct:${bob.accountId}`;

    await bob.addContact('req_alice');
    const first = await bob.sendText(alice1.accountId, 'hi, we have not met');
    for (const a of [alice1, alice2]) {
      await until(a, 'message', async () => (await a.messages(conv)).length === 1);
      expect(await isRequest(a, conv)).toBe(true);
    }
    // Delivery receipts are fine: Bob learns it arrived.
    await until(bob, 'status', async () => {
      const [m] = await bob.messages(`direct:${alice1.accountId}`);
      return m?.status === 'delivered';
    });

    // Reading and typing before accepting send nothing back.
    const typing: boolean[] = [];
    bob.on('typing', (t) => typing.push(t.started));
    await alice1.markRead(conv);
    await alice1.sendTyping(bob.accountId, true);

    const accepted = until(alice2, 'trust', async () => !(await isRequest(alice2, conv)));
    await alice1.acceptRequest(conv);
    expect(await isRequest(alice1, conv)).toBe(false);
    await accepted; // the other device follows

    // After accepting, typing and read receipts flow (and arrive after anything sent before).
    await alice1.sendTyping(bob.accountId, false);
    await until(bob, 'typing', async () => typing.length > 0);
    expect(typing).toEqual([false]);
    const second = await bob.sendText(alice1.accountId, 'thanks for accepting');
    await until(alice1, 'message', async () => (await alice1.messages(conv)).length === 2);
    await alice1.markRead(conv);
    await until(bob, 'status', async () => {
      const sent = await bob.messages(`direct:${alice1.accountId}`);
      return sent.find((m) => m.id === second.id)?.status === 'read';
    });
    const firstNow = (await bob.messages(`direct:${alice1.accountId}`)).find(
      (m) => m.id === first.id,
    );
    expect(firstNow?.status).toBe('delivered');
    expect(firstNow?.readBy).toBeUndefined();
  });

  it('deleting a request removes it on every device; a conversation we start is no request', async () => {
    const ann1 = track(await registeredClient(relay.url, 'req_ann'));
    const ann2 = track(await linkDevice(relay.url, ann1));
    const spam = track(await registeredClient(relay.url, 'req_spam'));
    const friend = track(await registeredClient(relay.url, 'req_friend'));

    // Ann writes first: her conversation with the friend is accepted, and the reply is no request.
    await ann1.addContact('req_friend');
    await ann1.sendText(friend.accountId, 'hello friend');
    await until(friend, 'message', async () => (await friend.conversations()).length === 1);
    expect(await isRequest(friend, `direct:${ann1.accountId}`)).toBe(true); // ann is a stranger to them
    await friend.sendText(ann1.accountId, 'hello ann');
    expect(await isRequest(friend, `direct:${ann1.accountId}`)).toBe(false); // replying accepts
    await until(
      ann1,
      'message',
      async () => (await ann1.messages(`direct:${friend.accountId}`)).length === 2,
    );
    expect(await isRequest(ann1, `direct:${friend.accountId}`)).toBe(false);

    const conv = `direct:${spam.accountId}`;
    await spam.addContact('req_ann');
    await spam.sendText(ann1.accountId, 'buy now');
    for (const a of [ann1, ann2]) {
      await until(a, 'message', async () => (await a.messages(conv)).length === 1);
      expect(await isRequest(a, conv)).toBe(true);
    }
    const gone = until(ann2, 'trust', async () =>
      (await ann2.conversations()).every((c) => c.id !== conv),
    );
    await ann1.deleteRequest(conv);
    expect((await ann1.conversations()).map((c) => c.id)).not.toContain(conv);
    expect(await ann1.messages(conv)).toEqual([]);
    await gone;
    expect(await ann2.messages(conv)).toEqual([]);

    // Writing again makes a new request.
    await spam.sendText(ann1.accountId, 'buy now, really');
    await until(ann1, 'message', async () => (await ann1.messages(conv)).length === 1);
    expect(await isRequest(ann1, conv)).toBe(true);
  });

  it('a group created by a stranger is a request; one from a contact we accepted is not', async () => {
    const amy1 = track(await registeredClient(relay.url, 'req_amy'));
    const amy2 = track(await linkDevice(relay.url, amy1));
    const stranger = track(await registeredClient(relay.url, 'req_stranger'));
    const pal = track(await registeredClient(relay.url, 'req_pal'));
    await amy1.addContact('req_pal'); // amy chose to write to pal: accepted

    await stranger.addContact('req_amy');
    const group = await stranger.createGroup('come join', [amy1.accountId]);
    const conv = `group:${group.groupId}`;
    for (const a of [amy1, amy2]) {
      await until(a, 'group', async () => (await a.group(group.groupId))?.request === true);
    }
    const amyInbox = inbox(amy1);
    const posted = await stranger.sendGroupText(group.groupId, 'welcome');
    await amyInbox.waitFor(1, (m) => m.text === 'welcome');
    expect(await isRequest(amy1, conv)).toBe(true);
    await amy1.markRead(conv); // no read receipt from a request

    const followed = until(
      amy2,
      'group',
      async () => (await amy2.group(group.groupId))?.request !== true,
    );
    await amy1.acceptRequest(conv);
    await followed;
    expect(await isRequest(amy1, conv)).toBe(false);
    const after = await stranger.sendGroupText(group.groupId, 'glad you are here');
    await amyInbox.waitFor(1, (m) => m.text === 'glad you are here');
    await amy1.markRead(conv);
    await until(stranger, 'status', async () => {
      const sent = await stranger.messages(conv);
      return sent.find((m) => m.id === after.id)?.status === 'read';
    });
    expect((await stranger.messages(conv)).find((m) => m.id === posted.id)?.readBy).toBeUndefined();

    await pal.addContact('req_amy');
    const palGroup = await pal.createGroup('from a friend', [amy1.accountId]);
    await until(amy1, 'group', async () => (await amy1.group(palGroup.groupId)) !== undefined);
    // Pal is accepted by amy (she added pal), so the group is no request.
    expect((await amy1.group(palGroup.groupId))?.request).toBeUndefined();
  });
});
