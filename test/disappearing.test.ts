/**
 * Disappearing messages against the real relay, with one injected clock for every client (so
 * nothing waits real minutes): a timer set by Bob reaches both of Alice's devices as an event; a
 * message Bob read is removed from his storage once its time is up, and Alice's sent copy from
 * both of hers; one Alice read on her second device goes from her first too (read sync); a restarted client removes what fell due while it was closed; and the same in a
 * group, where any member may set the timer.
 */
import { describe, expect, it } from 'vitest';
import { ParleyClient, type MessageRecord } from '@parley/client';
import {
  clientOptions,
  inbox,
  linkDevice,
  newStorage,
  registeredClient,
  until,
} from './support/clients.ts';
import { useRelay } from './support/use-relay.ts';

const { relay, track } = useRelay<ParleyClient>();

/** One clock for every client of a test; `advance` moves it on. */
function testClock() {
  let offset = 0;
  return {
    clock: () => Date.now() + offset,
    advance: (ms: number) => void (offset += ms),
  };
}

/** Whether message `id` is in the client's `messages` store (read directly, not listed). */
async function inStorage(client: ParleyClient, id: string): Promise<boolean> {
  return (await client.storage.list<MessageRecord>('messages')).some(([, m]) => m.id === id);
}

async function timerOf(client: ParleyClient, conversationId: string) {
  return (await client.conversations()).find((c) => c.id === conversationId)?.expireTimer ?? 0;
}

/** Waits until `client` shows a timer change to `seconds` in `conversationId`. */
async function untilTimer(client: ParleyClient, conversationId: string, seconds: number) {
  await until(client, 'event', async () =>
    (await client.messages(conversationId)).some(
      (m) => m.event === 'timer_changed' && m.timer === seconds,
    ),
  );
  expect(await timerOf(client, conversationId)).toBe(seconds);
}

/** Sweeps `client` and waits until message `id` is gone from its storage. */
async function swept(client: ParleyClient, id: string) {
  const removed = client.waitFor('messagesRemoved', (r) => r.ids.includes(id));
  await client.sweepExpired();
  await removed;
  expect(await inStorage(client, id)).toBe(false);
}

describe('disappearing messages', () => {
  it('1:1: the timer reaches all devices; read and sent copies go; a restart sweeps', async () => {
    const { clock, advance } = testClock();
    const alice = track(await registeredClient(relay.url, 'dm_alice', { clock }));
    const bobStorage = await newStorage(true);
    const bob = track(await registeredClient(relay.url, 'dm_bob', { clock, storage: bobStorage }));
    const alice2 = track(await linkDevice(relay.url, alice, { clock }));
    await alice.refreshOwnDevices();
    await alice.addContact('dm_bob');
    await bob.addContact('dm_alice');
    const withBob = `direct:${bob.accountId}`;
    const withAlice = `direct:${alice.accountId}`;

    // Bob sets the timer: both of Alice's devices show it.
    const event = await bob.setExpireTimer(withAlice, 30);
    expect(event).toMatchObject({ event: 'timer_changed', timer: 30 });
    await untilTimer(alice, withBob, 30);
    await untilTimer(alice2, withBob, 30);

    // Alice's text disappears 30 s after Bob read it; her copies 30 s after sending / syncing.
    const bobInbox = inbox(bob);
    const alice2Inbox = inbox(alice2);
    const sent = await alice.sendText(bob.accountId, 'this will self-destruct');
    expect(sent.expiresIn).toBe(30);
    const [got] = await bobInbox.waitFor(1, (m) => m.id === sent.id);
    expect(got!.expiresIn).toBe(30);
    await alice2Inbox.waitFor(1, (m) => m.id === sent.id);
    // Unread, Bob's copy outlives the timer.
    advance(31_000);
    await bob.sweepExpired();
    expect(await inStorage(bob, sent.id)).toBe(true);
    await bob.markRead(withAlice);
    advance(31_000);
    await swept(bob, sent.id);
    await swept(alice, sent.id);
    await swept(alice2, sent.id);
    expect(await bob.messages(withAlice)).toEqual([
      expect.objectContaining({ event: 'timer_changed', timer: 30 }),
    ]);

    // Bob writes back; Alice reads it on her second device: her first one counts down too.
    const aliceInbox = inbox(alice);
    const answer = await bob.sendText(alice.accountId, 'noted');
    expect(answer.expiresIn).toBe(30);
    await aliceInbox.waitFor(1, (m) => m.id === answer.id);
    await alice2Inbox.waitFor(1, (m) => m.id === answer.id);
    await alice2.markRead(withBob);
    await until(alice, 'processed', async () => {
      const m = (await alice.messages(withBob)).find((x) => x.id === answer.id);
      return m?.expireAt !== undefined;
    });
    advance(31_000);
    await swept(alice2, answer.id);
    await swept(alice, answer.id);
    await swept(bob, answer.id);

    // Bob reads another one, closes the app; it falls due while he is away and is gone at start.
    const second = await alice.sendText(bob.accountId, 'gone while you were away');
    await bobInbox.waitFor(1, (m) => m.id === second.id);
    await bob.markRead(withAlice);
    await bob.stop();
    advance(31_000);
    expect(await inStorage(bob, second.id)).toBe(true);
    const reopened = track(
      await ParleyClient.open(clientOptions(relay.url, bobStorage, { clock })),
    );
    await reopened.start();
    expect(await inStorage(reopened, second.id)).toBe(false);
    expect(await timerOf(reopened, withAlice)).toBe(30); // the timer survived the restart
  });

  it('group: any member sets the timer; a read message goes from reader and sender', async () => {
    const { clock, advance } = testClock();
    const alice = track(await registeredClient(relay.url, 'dg_alice', { clock }));
    const bob = track(await registeredClient(relay.url, 'dg_bob', { clock }));
    const carol = track(await registeredClient(relay.url, 'dg_carol', { clock }));
    await alice.addContact('dg_bob');
    await alice.addContact('dg_carol');
    const group = await alice.createGroup('ephemeral', [bob.accountId, carol.accountId]);
    const conv = `group:${group.groupId}`;
    await until(bob, 'group', async () => (await bob.group(group.groupId)) !== undefined);
    await until(carol, 'group', async () => (await carol.group(group.groupId)) !== undefined);
    await bob.acceptRequest(conv);
    await carol.acceptRequest(conv);

    await carol.setExpireTimer(conv, 300); // not an admin: any member may
    await untilTimer(alice, conv, 300);
    await untilTimer(bob, conv, 300);
    const shown = (await bob.messages(conv)).find((m) => m.event === 'timer_changed');
    expect(shown!.senderAccountId).toBe(carol.accountId);

    const bobInbox = inbox(bob);
    const carolInbox = inbox(carol);
    const sent = await alice.sendGroupText(group.groupId, 'burn after reading');
    await bobInbox.waitFor(1, (m) => m.id === sent.id);
    await carolInbox.waitFor(1, (m) => m.id === sent.id);
    await bob.markRead(conv);
    advance(301_000);
    await swept(bob, sent.id);
    await swept(alice, sent.id);
    // Carol has not read it: hers stays until she does.
    await carol.sweepExpired();
    expect(await inStorage(carol, sent.id)).toBe(true);
    await carol.markRead(conv);
    advance(301_000);
    await swept(carol, sent.id);
  });
});
