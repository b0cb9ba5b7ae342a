/**
 * Sender usernames against the real relay: a message carries the sender's username inside the
 * encrypted content, and the receiver shows it only once the relay's username lookup confirms
 * that the name belongs to the sender's account. A forged claim is ignored; a rename is picked
 * up; group states and our own devices' transcripts carry names the same way.
 */
import { describe, expect, it } from 'vitest';
import { ParleyClient, type AccountRecord } from '@parley/client';
import { clientOptions, inbox, linkDevice, registeredClient, until } from './support/clients.ts';
import { useRelay } from './support/use-relay.ts';

const { relay, track } = useRelay<ParleyClient>();
const nameOf = async (client: ParleyClient, accountId: string) =>
  (await client.contact(accountId))?.username;

/** Resolves once `client` shows `username` for `accountId`. */
const shows = (client: ParleyClient, accountId: string, username: string) =>
  until(client, 'contacts', async () => (await nameOf(client, accountId)) === username);

/** Waits for everything `client` does after the envelopes it received (lookups included). */
async function settle(client: ParleyClient): Promise<void> {
  await client.stop();
  await client.start();
}

/**
 * A client registered as `username` that claims `claimed` instead: its stored account says so,
 * and it hears the same from `GET /v1/accounts/me` (so it does not correct itself).
 */
async function forger(username: string, claimed: string): Promise<ParleyClient> {
  const honest = await registeredClient(relay.url, username);
  await honest.stop();
  const account = (await honest.storage.get<AccountRecord>('meta', 'account'))!;
  await honest.storage.put('meta', 'account', { ...account, username: claimed });
  const lying: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (!url.endsWith('/v1/accounts/me') || (init?.method ?? 'GET') !== 'GET') return res;
    const me = (await res.json()) as Record<string, unknown>;
    return Response.json({ ...me, username: claimed }, { status: res.status });
  };
  const options = clientOptions(relay.url, honest.storage, { fetch: lying });
  const forged = track(await ParleyClient.open(options));
  await forged.start();
  return forged;
}

describe('sender usernames', () => {
  it('a first message from a stranger shows their username, confirmed with the relay', async () => {
    const alice = track(await registeredClient(relay.url, 'u_alice'));
    const bob = track(await registeredClient(relay.url, 'u_bob'));
    await alice.addContact('u_bob'); // Bob never looked Alice up
    const bobInbox = inbox(bob);
    await alice.sendText(bob.accountId, 'hello from alice');
    await bobInbox.waitFor(1);
    await shows(bob, alice.accountId, 'u_alice');
    expect((await bob.conversations()).map((c) => c.peer)).toEqual([alice.accountId]);

    // A later rename is picked up from the next message.
    const alice2 = track(await linkDevice(relay.url, alice));
    await alice.setUsername('u_alice_renamed');
    expect(alice.account?.username).toBe('u_alice_renamed');
    await alice.sendText(bob.accountId, 'new name');
    await shows(bob, alice.accountId, 'u_alice_renamed');

    // Alice's other device takes the new name when it next connects, and claims it too.
    await alice2.stop();
    await alice2.start();
    await settle(alice2);
    expect(alice2.account?.username).toBe('u_alice_renamed');
    await alice2.sendText(bob.accountId, 'from my second device');
    await bobInbox.waitFor(3);
    await settle(bob);
    expect(await nameOf(bob, alice.accountId)).toBe('u_alice_renamed');
  });

  it('a forged claim is not shown, and does not take the name from its owner', async () => {
    const alice = track(await registeredClient(relay.url, 'f_alice'));
    const bob = track(await registeredClient(relay.url, 'f_bob'));
    await bob.addContact('f_alice');
    // Mallory's client claims to be f_alice.
    const mallory = await forger('f_mallory', 'f_alice');
    await mallory.addContact('f_bob');
    const bobInbox = inbox(bob);
    await mallory.sendText(bob.accountId, 'this is alice, honest');
    await bobInbox.waitFor(1);
    await settle(bob); // the lookup has run and been refuted
    expect(await nameOf(bob, mallory.accountId)).toBeUndefined();
    expect(await nameOf(bob, alice.accountId)).toBe('f_alice');

    // A group state naming Mallory f_alice does not either.
    await mallory.createGroup('trust me', [bob.accountId]);
    await until(bob, 'group', async () => (await bob.groups()).length === 1);
    await settle(bob);
    const [group] = await bob.groups();
    const member = group!.members.find((m) => m.accountId === mallory.accountId);
    expect(member).toEqual({ accountId: mallory.accountId });
    expect(await nameOf(bob, mallory.accountId)).toBeUndefined();
    expect(await nameOf(bob, alice.accountId)).toBe('f_alice');
  });

  it('a name given up and taken by someone else moves to its new owner', async () => {
    const alice = track(await registeredClient(relay.url, 'm_alice'));
    const bob = track(await registeredClient(relay.url, 'm_bob'));
    await bob.addContact('m_alice');
    await alice.setUsername('m_alice_new');
    // Alice told nobody yet; someone else takes her old name and writes to Bob honestly.
    const other = track(await registeredClient(relay.url, 'm_alice'));
    await other.addContact('m_bob');
    const bobInbox = inbox(bob);
    await other.sendText(bob.accountId, 'i am the new m_alice');
    await bobInbox.waitFor(1);
    await shows(bob, other.accountId, 'm_alice');
    expect(await nameOf(bob, alice.accountId)).toBeUndefined(); // not two people called m_alice
    // Alice keeps the name as a former one (renamed, not deleted); the newcomer is flagged.
    expect((await bob.contact(alice.accountId))?.formerUsername).toBe('m_alice');
    expect((await bob.contact(other.accountId))?.usernameReusedFrom).toBe(alice.accountId);
    await settle(bob); // the relay was asked whether Alice's account is gone: it is not
    expect((await bob.contact(alice.accountId))?.goneAt).toBeUndefined();
    await alice.sendText(bob.accountId, 'i am the old one');
    await shows(bob, alice.accountId, 'm_alice_new');
    expect((await bob.contact(alice.accountId))?.formerUsername).toBeUndefined();
  });

  it('group control and group members carry confirmed names; our own devices learn them', async () => {
    const carol = track(await registeredClient(relay.url, 'g_carol'));
    const dave = track(await registeredClient(relay.url, 'g_dave'));
    const erin = track(await registeredClient(relay.url, 'g_erin'));
    await carol.addContact('g_dave');
    await carol.addContact('g_erin');
    // Erin knows nobody: the creator's claim and the member list's claims are checked.
    const group = await carol.createGroup('names', [dave.accountId, erin.accountId]);
    await shows(erin, carol.accountId, 'g_carol');
    await shows(erin, dave.accountId, 'g_dave');
    await until(erin, 'group', async () => {
      const g = await erin.group(group.groupId);
      return (
        g?.members.find((m) => m.accountId === carol.accountId)?.username === 'g_carol' &&
        g.members.find((m) => m.accountId === dave.accountId)?.username === 'g_dave'
      );
    });

    // A group message from a member Dave has never seen names its sender too.
    const erinInbox = inbox(dave);
    await erin.sendGroupText(group.groupId, 'hi all');
    await erinInbox.waitFor(1);
    await shows(dave, erin.accountId, 'g_erin');

    // Dave's second device learns whom his first device wrote to.
    const dave2 = track(await linkDevice(relay.url, dave));
    await dave.refreshOwnDevices();
    const stranger = track(await registeredClient(relay.url, 'g_frank'));
    const dave2Inbox = inbox(dave2);
    await dave.addContact('g_frank');
    await dave.sendText(stranger.accountId, 'hello frank');
    await dave2Inbox.waitFor(1, (m) => m.direction === 'out' && m.text === 'hello frank');
    await shows(dave2, stranger.accountId, 'g_frank');
  });
});
