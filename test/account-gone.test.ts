/**
 * Deleted accounts and reused usernames against the real relay (issue 12, problems 1–3): a
 * message to a deleted account fails for good with "account deleted" (and so does everything
 * queued for it); a group send skips a deleted member, reaches everyone else, and every member
 * drops them; a newcomer who takes a deleted account's username gets a conversation of their
 * own and is flagged as not the person we talked to before.
 */
import { describe, expect, it } from 'vitest';
import { AccountGoneError, ParleyClient } from '@parley/client';
import { inbox, linkDevice, registeredClient, until } from './support/clients.ts';
import { useRelay } from './support/use-relay.ts';

const { relay, track } = useRelay<ParleyClient>();

/** A fetch that fails (relay unreachable) while `down.value` is set. */
function switchableFetch() {
  const down = { value: false };
  const fetchFn: typeof fetch = async (input, init) => {
    if (down.value) throw new TypeError('fetch failed (test: offline)');
    return fetch(input, init);
  };
  return { down, fetchFn };
}

describe('deleted accounts', () => {
  it('messages to a deleted account fail with "account deleted", queued ones too, never retried', async () => {
    const net = switchableFetch();
    const alice = track(await registeredClient(relay.url, 'dg_alice', { fetch: net.fetchFn }));
    const carolClient = await registeredClient(relay.url, 'dg_carol');
    const carol = { accountId: carolClient.accountId };
    const carolIn = inbox(carolClient);
    await alice.addContact('dg_carol');
    await alice.sendText(carol.accountId, 'before');
    await carolIn.waitFor(1);

    // Offline, Alice writes twice: both wait in the outbox.
    net.down.value = true;
    const q1 = await alice.sendText(carol.accountId, 'queued one');
    const q2 = await alice.sendText(carol.accountId, 'queued two');
    expect([q1.status, q2.status]).toEqual(['queued', 'queued']);

    await carolClient.deleteAccount();
    net.down.value = false;
    await alice.flushOutbox();

    const conv = `direct:${carol.accountId}`;
    const byId = async (id: string) => (await alice.messages(conv)).find((m) => m.id === id);
    for (const id of [q1.id, q2.id]) {
      expect(await byId(id)).toMatchObject({
        status: 'failed',
        failure: { reason: 'account_deleted', retryable: false },
      });
    }
    expect(await alice.storage.list('outbox')).toEqual([]);
    const contact = await alice.contact(carol.accountId);
    expect(contact?.goneAt).toEqual(expect.any(Number));
    expect(contact?.formerUsername).toBe('dg_carol');
    expect(
      (await alice.messages(conv)).filter((m) => m.kind === 'event').map((m) => m.event),
    ).toEqual(['account_deleted']);

    // A new message is refused at once, typed, and marked failed: nothing goes to the relay.
    await expect(alice.sendText(carol.accountId, 'after')).rejects.toBeInstanceOf(AccountGoneError);
    const after = (await alice.messages(conv)).find((m) => m.text === 'after');
    expect(after).toMatchObject({ status: 'failed', failure: { reason: 'account_deleted' } });
    await expect(alice.retrySend(conv, after!.id)).rejects.toBeInstanceOf(AccountGoneError);
  });

  it('a group send skips a deleted member, reaches the others, and every member drops them', async () => {
    const alice = track(await registeredClient(relay.url, 'gg_alice'));
    const bob = track(await registeredClient(relay.url, 'gg_bob'));
    const carolClient = await registeredClient(relay.url, 'gg_carol');
    const carol = { accountId: carolClient.accountId };
    const group = await alice.createGroup('trio', [bob.accountId, carol.accountId]);
    await until(bob, 'group', async () => (await bob.group(group.groupId)) !== undefined);
    await until(
      carolClient,
      'group',
      async () => (await carolClient.group(group.groupId)) !== undefined,
    );
    const bobIn = inbox(bob);
    await alice.sendGroupText(group.groupId, 'all three');
    await bobIn.waitFor(1);

    const alice2 = track(await linkDevice(relay.url, alice));
    await until(alice2, 'group', async () => (await alice2.group(group.groupId)) !== undefined);

    await carolClient.deleteAccount();
    const sent = await alice.sendGroupText(group.groupId, 'after carol left');
    expect(sent.status).toBe('sent');
    const [got] = await bobIn.waitFor(1, (m) => m.text === 'after carol left');
    expect(got!.conversationId).toBe(`group:${group.groupId}`);

    const memberIds = async (c: ParleyClient) =>
      ((await c.group(group.groupId))?.members ?? []).map((m) => m.accountId).sort();
    const twoOfUs = [alice.accountId, bob.accountId].sort();
    expect(await memberIds(alice)).toEqual(twoOfUs);
    const events = async (c: ParleyClient) =>
      (await c.messages(`group:${group.groupId}`))
        .filter((m) => m.event === 'member_account_deleted')
        .map((m) => m.subjects);
    expect(await events(alice)).toEqual([[carol.accountId]]);

    // Bob is told, checks with the relay, and drops Carol too; he sees why.
    await until(
      bob,
      'contacts',
      async () => (await bob.contact(carol.accountId))?.goneAt !== undefined,
    );
    expect(await memberIds(bob)).toEqual(twoOfUs);
    expect(await events(bob)).toEqual([[carol.accountId]]);
    // So does Alice's other device.
    await until(
      alice2,
      'contacts',
      async () => (await alice2.contact(carol.accountId))?.goneAt !== undefined,
    );
    expect(await memberIds(alice2)).toEqual(twoOfUs);

    // Bob's next group message needs no detour and reaches Alice.
    const aliceIn = inbox(alice);
    expect((await bob.sendGroupText(group.groupId, 'just us')).status).toBe('sent');
    await aliceIn.waitFor(1, (m) => m.text === 'just us');
  });
});

describe('usernames are not identities', () => {
  it('a newcomer with a deleted account’s username opens a new conversation, flagged', async () => {
    const alice = track(await registeredClient(relay.url, 'ui_alice'));
    const carolClient = await registeredClient(relay.url, 'ui_carol');
    const carol = { accountId: carolClient.accountId };
    const aliceIn = inbox(alice);
    await carolClient.addContact('ui_alice');
    await carolClient.sendText(alice.accountId, 'hi, it is carol');
    await aliceIn.waitFor(1);
    await until(
      alice,
      'contacts',
      async () => (await alice.contact(carol.accountId))?.username === 'ui_carol',
    );

    await carolClient.deleteAccount();
    const impostor = track(await registeredClient(relay.url, 'ui_carol'));
    await impostor.addContact('ui_alice');
    await impostor.sendText(alice.accountId, 'hi, it is carol (really)');
    const [fake] = await aliceIn.waitFor(1, (m) => m.text === 'hi, it is carol (really)');
    expect(fake!.conversationId).toBe(`direct:${impostor.accountId}`);

    // Once the newcomer's claim is confirmed, the name is theirs, flagged as reused from Carol;
    // the real Carol keeps her name as a former one and is found deleted.
    await until(
      alice,
      'contacts',
      async () => (await alice.contact(impostor.accountId))?.username === 'ui_carol',
    );
    expect((await alice.contact(impostor.accountId))?.usernameReusedFrom).toBe(carol.accountId);
    await until(
      alice,
      'contacts',
      async () => (await alice.contact(carol.accountId))?.goneAt !== undefined,
    );
    const old = await alice.contact(carol.accountId);
    expect(old?.username).toBeUndefined();
    expect(old?.formerUsername).toBe('ui_carol');
    expect(
      (await alice.messages(`direct:${carol.accountId}`)).map((m) => m.text ?? m.event),
    ).toEqual(['hi, it is carol', 'account_deleted']);

    // Starting a chat with the name resolves to its current owner, keyed by account id.
    expect((await alice.addContact('ui_carol')).accountId).toBe(impostor.accountId);
  });
});
