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
    // Alice's second device sends no delivery receipts: every receipt Bob gets is device 1's,
    // so one arriving proves that nothing device 1 queued before it is still on the way.
    const alice2 = track(await linkDevice(relay.url, alice1, { deliveryReceipts: false }));
    const bob = track(await registeredClient(relay.url, 'req_bob'));
    const conv = `direct:${bob.accountId}`;
    const bobConv = `direct:${alice1.accountId}`;
    const statusOf = async (id: string) =>
      (await bob.messages(bobConv)).find((m) => m.id === id)?.status;

    await bob.addContact('req_alice');
    const first = await bob.sendText(alice1.accountId, 'hi, we have not met');
    for (const a of [alice1, alice2]) {
      await until(a, 'message', async () => (await a.messages(conv)).length === 1);
      expect(await isRequest(a, conv)).toBe(true);
    }
    // Delivery receipts are fine: Bob learns it arrived.
    await until(bob, 'status', async () => (await statusOf(first.id)) === 'delivered');

    // Reading and typing before accepting send nothing back ...
    const typing: boolean[] = [];
    bob.on('typing', (t) => typing.push(t.started));
    await alice1.markRead(conv);
    await alice1.sendTyping(bob.accountId, true);
    // ... as a later delivery receipt from the same device shows.
    const second = await bob.sendText(alice1.accountId, 'are you there?');
    await until(bob, 'status', async () => (await statusOf(second.id)) === 'delivered');
    expect(await statusOf(first.id)).toBe('delivered');
    expect(typing).toEqual([]);

    const accepted = until(alice2, 'trust', async () => !(await isRequest(alice2, conv)));
    await alice1.acceptRequest(conv);
    expect(await isRequest(alice1, conv)).toBe(false);
    await accepted; // the other device follows
    // Accepting sends the read receipts held back (as Signal does), then typing flows.
    for (const m of [first, second]) {
      await until(bob, 'status', async () => (await statusOf(m.id)) === 'read');
    }
    await alice1.sendTyping(bob.accountId, false);
    await until(bob, 'typing', async () => typing.length > 0);
    expect(typing).toEqual([false]);
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

    // Accepting on one device accepts on the other (and marks it read there too).
    const pen = track(await registeredClient(relay.url, 'req_pen'));
    const penConv = `direct:${pen.accountId}`;
    await pen.sendText(ann1.accountId, 'hello from pen');
    for (const a of [ann1, ann2]) {
      await until(a, 'message', async () => (await a.messages(penConv)).length === 1);
    }
    const followed = until(ann2, 'trust', async () => !(await isRequest(ann2, penConv)));
    await ann1.acceptRequest(penConv);
    await followed;
    expect((await ann2.messages(penConv))[0]?.status).toBe('read');

    // Writing again makes a new request.
    await spam.sendText(ann1.accountId, 'buy now, really');
    await until(ann1, 'message', async () => (await ann1.messages(conv)).length === 1);
    expect(await isRequest(ann1, conv)).toBe(true);
  });

  it('a group created by a stranger is a request; one from a contact we accepted is not', async () => {
    const amy1 = track(await registeredClient(relay.url, 'req_amy'));
    const amy2 = track(await linkDevice(relay.url, amy1, { deliveryReceipts: false }));
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
    await amy1.markRead(conv); // no read receipt from a request ...
    // ... as a later delivery receipt from the same device (amy2 sends none) shows.
    const marker = await stranger.sendText(amy1.accountId, 'did you get my invitation?');
    await until(stranger, 'status', async () => {
      const sent = await stranger.messages(`direct:${amy1.accountId}`);
      return sent.find((m) => m.id === marker.id)?.status === 'delivered';
    });
    expect((await stranger.messages(conv)).find((m) => m.id === posted.id)?.readBy).toBeUndefined();

    const followed = until(
      amy2,
      'group',
      async () => (await amy2.group(group.groupId))?.request !== true,
    );
    // A device linked now starts with the group as a request too.
    const amy3 = track(await linkDevice(relay.url, amy1, { deliveryReceipts: false }));
    expect(await amy3.group(group.groupId)).toMatchObject({
      request: true,
      invitedBy: stranger.accountId,
    });
    await amy1.acceptRequest(conv);
    await followed;
    expect(await isRequest(amy1, conv)).toBe(false);
    // The read receipt held back goes now; later messages are read as usual.
    await until(stranger, 'status', async () => {
      const sent = await stranger.messages(conv);
      return sent.find((m) => m.id === posted.id)?.status === 'read';
    });
    const after = await stranger.sendGroupText(group.groupId, 'glad you are here');
    await amyInbox.waitFor(1, (m) => m.text === 'glad you are here');
    await amy1.markRead(conv);
    await until(stranger, 'status', async () => {
      const sent = await stranger.messages(conv);
      return sent.find((m) => m.id === after.id)?.status === 'read';
    });

    await pal.addContact('req_amy');
    const palGroup = await pal.createGroup('from a friend', [amy1.accountId]);
    await until(amy1, 'group', async () => (await amy1.group(palGroup.groupId)) !== undefined);
    // Pal is accepted by amy (she added pal), so the group is no request.
    expect((await amy1.group(palGroup.groupId))?.request).toBeUndefined();
  });
});
