/**
 * Replies, reactions, edits and deletions against the real relay, in a 1:1 chat (with a second
 * device of Alice's, which follows every change through sent transcripts and sync) and in a
 * group; and the rules every receiver enforces (only the author edits or deletes, a removed
 * reaction goes, a deleted message keeps no text).
 */
import { describe, expect, it } from 'vitest';
import { ClientError, type MessageRecord, type ParleyClient } from '@parley/client';
import { inbox, linkDevice, registeredClient, until } from './support/clients.ts';
import { useRelay } from './support/use-relay.ts';

const { relay, track } = useRelay<ParleyClient>();

/** The stored copy of message `id` in `conversationId` on `client`. */
async function stored(client: ParleyClient, conversationId: string, id: string) {
  return (await client.messages(conversationId)).find((m) => m.id === id);
}

/** Waits until `client`'s copy of the message satisfies `check`. */
async function eventually(
  client: ParleyClient,
  conversationId: string,
  id: string,
  check: (m: MessageRecord | undefined) => boolean,
): Promise<MessageRecord | undefined> {
  const events = ['messageChanged', 'messagesRemoved', 'message'] as const;
  for (;;) {
    const next = Promise.race(events.map((e) => client.waitFor(e)));
    const m = await stored(client, conversationId, id);
    if (check(m)) return m;
    await next;
  }
}

describe('message actions', () => {
  it('replies, reacts, edits and deletes in a 1:1 chat, on both of our devices', async () => {
    const alice = track(await registeredClient(relay.url, 'ma_alice'));
    const bob = track(await registeredClient(relay.url, 'ma_bob'));
    const alice2 = track(await linkDevice(relay.url, alice));
    await alice.refreshOwnDevices();
    await alice.addContact('ma_bob');
    const withBob = `direct:${bob.accountId}`;
    const withAlice = `direct:${alice.accountId}`;

    const bobInbox = inbox(bob);
    const first = await alice.sendText(bob.accountId, 'lunch at noon?');
    await bobInbox.waitFor(1);

    // Bob replies quoting Alice's message.
    const aliceInbox = inbox(alice);
    const reply = await bob.sendText(alice.accountId, 'yes!', { replyTo: first.id });
    expect(reply.quote).toEqual({
      id: first.id,
      authorAccountId: alice.accountId,
      text: 'lunch at noon?',
    });
    const [got] = await aliceInbox.waitFor(1, (m) => m.id === reply.id);
    expect(got!.quote).toEqual(reply.quote);

    // Bob reacts, changes his reaction; Alice and her second device see one reaction.
    await bob.react(withAlice, first.id, '👍');
    await bob.react(withAlice, first.id, '❤️');
    for (const device of [alice, alice2]) {
      const m = await eventually(
        device,
        withBob,
        first.id,
        (m) => m?.reactions?.[bob.accountId] === '❤️',
      );
      expect(m!.reactions).toEqual({ [bob.accountId]: '❤️' });
    }
    await bob.react(withAlice, first.id, null);
    await eventually(alice, withBob, first.id, (m) => m?.reactions === undefined);

    // Alice edits her message: Bob sees the new text marked edited, without the old one; her
    // devices keep the history.
    const edited = await alice.editMessage(withBob, first.id, 'lunch at one?');
    expect(edited.editHistory?.map((e) => e.text)).toEqual(['lunch at noon?']);
    const bobCopy = await eventually(bob, withAlice, first.id, (m) => m?.text === 'lunch at one?');
    expect(bobCopy!.editedAt).toBeGreaterThan(0);
    expect(JSON.stringify(bobCopy)).not.toContain('lunch at noon?');
    const alice2Copy = await eventually(
      alice2,
      withBob,
      first.id,
      (m) => m?.editedAt !== undefined,
    );
    expect(alice2Copy!.text).toBe('lunch at one?');
    expect(alice2Copy!.editHistory?.map((e) => e.text)).toEqual(['lunch at noon?']);

    // Only the author may edit or delete for everyone.
    await expect(bob.editMessage(withAlice, first.id, 'hijacked')).rejects.toMatchObject({
      code: 'not_allowed',
    });
    await expect(bob.deleteForEveryone(withAlice, first.id)).rejects.toBeInstanceOf(ClientError);

    // Alice deletes it for everyone: no text left anywhere.
    await alice.deleteForEveryone(withBob, first.id);
    for (const [device, conv] of [
      [bob, withAlice],
      [alice2, withBob],
    ] as const) {
      const m = await eventually(device, conv, first.id, (m) => m?.deleted === true);
      expect(m!.text).toBeUndefined();
      expect(m!.editHistory).toBeUndefined();
    }

    // Alice deletes Bob's reply for herself: gone on both of her devices, still at Bob's.
    await alice.deleteForMe(withBob, [reply.id]);
    expect(await stored(alice, withBob, reply.id)).toBeUndefined();
    await eventually(alice2, withBob, reply.id, (m) => m === undefined);
    expect((await stored(bob, withAlice, reply.id))?.text).toBe('yes!');
  });

  it('works in a group, and a member cannot edit another member’s message', async () => {
    const alice = track(await registeredClient(relay.url, 'mg_alice'));
    const bob = track(await registeredClient(relay.url, 'mg_bob'));
    const carol = track(await registeredClient(relay.url, 'mg_carol'));
    await alice.addContact('mg_bob');
    await alice.addContact('mg_carol');
    const group = await alice.createGroup('lunch', [bob.accountId, carol.accountId]);
    const conv = `group:${group.groupId}`;
    await until(bob, 'group', async () => (await bob.group(group.groupId)) !== undefined);
    await until(carol, 'group', async () => (await carol.group(group.groupId)) !== undefined);

    const carolInbox = inbox(carol);
    const m = await alice.sendGroupText(group.groupId, 'pizza or sushi?');
    await carolInbox.waitFor(1, (x) => x.id === m.id);
    const bobInbox = inbox(bob);
    const reply = await carol.sendGroupText(group.groupId, 'sushi', { replyTo: m.id });
    const [bobGot] = await bobInbox.waitFor(1, (x) => x.id === reply.id);
    expect(bobGot!.quote).toMatchObject({ id: m.id, authorAccountId: alice.accountId });

    await bob.react(conv, m.id, '🍣');
    await carol.react(conv, m.id, '🍕');
    const seen = await eventually(
      alice,
      conv,
      m.id,
      (x) => Object.keys(x?.reactions ?? {}).length === 2,
    );
    expect(seen!.reactions).toEqual({ [bob.accountId]: '🍣', [carol.accountId]: '🍕' });

    await alice.editMessage(conv, m.id, 'pizza, sushi or tacos?');
    await eventually(carol, conv, m.id, (x) => x?.text === 'pizza, sushi or tacos?');
    await expect(carol.editMessage(conv, m.id, 'nope')).rejects.toMatchObject({
      code: 'not_allowed',
    });
    expect((await stored(alice, conv, m.id))?.text).toBe('pizza, sushi or tacos?');
  });
});
