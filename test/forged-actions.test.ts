/**
 * Receivers enforce who may change a message: an edit or a delete-for-everyone that another
 * member sends for Alice's message does nothing. Mallory's client is made to believe Alice's
 * message is hers (her stored copy rewritten), so the real send path builds and encrypts the
 * forged change exactly as a modified client would.
 */
import { describe, expect, it } from 'vitest';
import type { MessageRecord, ParleyClient } from '@parley/client';
import { inbox, registeredClient, until } from './support/clients.ts';
import { useRelay } from './support/use-relay.ts';

const { relay, track } = useRelay<ParleyClient>();

/** Rewrites `client`'s stored copy of message `id` so that it claims `author` wrote it. */
async function claimAuthorship(client: ParleyClient, id: string, author: string) {
  await client.storage.transaction(async (tx) => {
    for (const [key, m] of await tx.list<MessageRecord>('messages')) {
      if (m.id === id) await tx.put('messages', key, { ...m, senderAccountId: author });
    }
  });
}

describe('forged message actions', () => {
  it('an edit or deletion of Alice’s message sent by Mallory is ignored by receivers', async () => {
    const alice = track(await registeredClient(relay.url, 'fa_alice'));
    const bob = track(await registeredClient(relay.url, 'fa_bob'));
    const mallory = track(await registeredClient(relay.url, 'fa_mallory'));
    await alice.addContact('fa_bob');
    await alice.addContact('fa_mallory');
    const group = await alice.createGroup('trust', [bob.accountId, mallory.accountId]);
    const conv = `group:${group.groupId}`;
    await until(bob, 'group', async () => (await bob.group(group.groupId)) !== undefined);
    await until(mallory, 'group', async () => (await mallory.group(group.groupId)) !== undefined);

    const bobInbox = inbox(bob);
    const aliceInbox = inbox(alice);
    const malloryInbox = inbox(mallory);
    const original = await alice.sendGroupText(group.groupId, 'meet at 6');
    await bobInbox.waitFor(1, (m) => m.id === original.id);
    await malloryInbox.waitFor(1, (m) => m.id === original.id);
    const before = (await bob.messages(conv)).find((m) => m.id === original.id)!;

    await claimAuthorship(mallory, original.id, mallory.accountId);
    await mallory.editMessage(conv, original.id, 'meet at 9'); // goes out: her client allows it
    await mallory.deleteForEveryone(conv, original.id);
    // A marker after the forgeries: once Bob has it, he has handled them (one sender, in order).
    const marker = await mallory.sendGroupText(group.groupId, 'marker');
    await bobInbox.waitFor(1, (m) => m.id === marker.id);
    await aliceInbox.waitFor(1, (m) => m.id === marker.id);

    const after = (await bob.messages(conv)).find((m) => m.id === original.id)!;
    expect(after).toEqual(before);
    expect(after.text).toBe('meet at 6');
    expect(after.deleted).toBeUndefined();
    const alicesOwn = (await alice.messages(conv)).find((m) => m.id === original.id)!;
    expect(alicesOwn.text).toBe('meet at 6');
    expect(alicesOwn.editedAt).toBeUndefined();
  });
});
