/**
 * Disappearing messages against the in-memory relay, with an injected clock: the timer and its
 * event on both sides, the countdown rules (from reading for theirs, from sending for ours), the
 * sweep removing records from storage (not just the list), and converging on a missed change.
 */
import { describe, expect, it } from 'vitest';
import { ClientError, type MessageRecord, type ParleyClient } from '@parley/client';
import { FakeRelay } from './support/fake-relay.ts';

const MIN = 60_000;

async function pair() {
  const relay = new FakeRelay();
  let now = 1_000_000;
  const clock = () => now;
  const alice = await relay.client('alice', { clock });
  const bob = await relay.client('bob', { clock });
  await alice.addContact('bob');
  await bob.addContact('alice');
  return {
    relay,
    alice,
    bob,
    advance: (ms: number) => void (now += ms),
    toBob: `direct:${bob.accountId}`,
    toAlice: `direct:${alice.accountId}`,
  };
}

/** Every stored message record of a client, read from storage itself. */
async function stored(c: ParleyClient): Promise<MessageRecord[]> {
  return (await c.storage.list<MessageRecord>('messages')).map(([, m]) => m);
}

const expiryIndex = async (c: ParleyClient) =>
  (await c.storage.list('processed', 'exp:')).map(([k]) => k);

describe('disappearing messages', () => {
  it('refuses a timer that is not one of the six choices, with a typed error', async () => {
    const { alice, toBob } = await pair();
    for (const bad of [1, 60, -30, 0.5]) {
      await expect(alice.setExpireTimer(toBob, bad)).rejects.toMatchObject({
        name: 'ClientError',
        code: 'invalid_argument',
      });
    }
    await expect(alice.setExpireTimer(toBob, 7)).rejects.toBeInstanceOf(ClientError);
    expect((await alice.conversations()).find((c) => c.id === toBob)?.expireTimer).toBeUndefined();
  });

  it('sets the timer on both sides and shows who set it as an event', async () => {
    const { relay, alice, bob, advance, toBob, toAlice } = await pair();
    const mine = await alice.setExpireTimer(toBob, 300);
    expect(mine).toMatchObject({ event: 'timer_changed', timer: 300 });
    expect(mine!.senderAccountId).toBe(alice.accountId);
    const seen = bob.waitFor('event', (e) => e.event === 'timer_changed');
    await relay.deliver(bob);
    expect(await seen).toMatchObject({ timer: 300, senderAccountId: alice.accountId });
    expect((await bob.conversations()).find((c) => c.id === toAlice)?.expireTimer).toBe(300);
    // Turning it off is an event too; setting the same value twice is not.
    advance(1000);
    await bob.setExpireTimer(toAlice, 0);
    await relay.deliver(alice);
    expect(await alice.setExpireTimer(toBob, 0)).toBeUndefined();
    const events = (await alice.messages(toBob)).filter((m) => m.event === 'timer_changed');
    expect(events.map((e) => [e.senderAccountId, e.timer])).toEqual([
      [alice.accountId, 300],
      [bob.accountId, 0],
    ]);
    expect((await alice.conversations()).find((c) => c.id === toBob)?.expireTimer).toBeUndefined();
  });

  it('counts a received message down from when it is read, then removes it from storage', async () => {
    const { relay, alice, bob, advance, toBob, toAlice } = await pair();
    await alice.setExpireTimer(toBob, 300);
    const sent = await alice.sendText(bob.accountId, 'gone soon');
    expect(sent).toMatchObject({ expiresIn: 300 });
    expect(sent.expireAt).toBeDefined(); // ours count down from sending
    await relay.deliver(bob);
    const received = (await bob.messages(toAlice)).find((m) => m.id === sent.id)!;
    expect(received).toMatchObject({ expiresIn: 300 });
    expect(received.expireAt).toBeUndefined();
    // Unread, it stays however long it waits.
    advance(60 * MIN);
    expect(await bob.sweepExpired()).toBe(0);
    expect((await stored(bob)).some((m) => m.id === sent.id)).toBe(true);

    await bob.markRead(toAlice);
    advance(5 * MIN - 1);
    expect(await bob.sweepExpired()).toBe(0);
    advance(1);
    const removed = bob.waitFor('messagesRemoved', (r) => r.ids.includes(sent.id));
    expect(await bob.sweepExpired()).toBe(1);
    expect(await removed).toEqual({ conversationId: toAlice, ids: [sent.id] });
    expect((await stored(bob)).some((m) => m.id === sent.id)).toBe(false);
    expect(await expiryIndex(bob)).toEqual([]);
    // The timer event stays.
    expect((await bob.messages(toAlice)).map((m) => m.event)).toEqual(['timer_changed']);

    // Alice's copy went an hour ago (counted from sending).
    expect(await alice.sweepExpired()).toBe(1);
    expect((await stored(alice)).some((m) => m.id === sent.id)).toBe(false);
  });

  it('a late copy of a removed message is not stored again', async () => {
    const { relay, alice, bob, advance, toBob, toAlice } = await pair();
    await alice.setExpireTimer(toBob, 30);
    const sent = await alice.sendText(bob.accountId, 'once');
    const copy = [...relay.queued(bob.accountId)];
    await relay.deliver(bob);
    await bob.markRead(toAlice);
    advance(30_000);
    expect(await bob.sweepExpired()).toBe(1);
    relay.queued(bob.accountId).push(...copy.slice(-1));
    await relay.deliver(bob);
    expect((await stored(bob)).some((m) => m.id === sent.id)).toBe(false);
  });

  it('a reply to a removed message keeps only that the original is gone', async () => {
    const { alice, bob, advance, toBob } = await pair();
    await alice.setExpireTimer(toBob, 30);
    const original = await alice.sendText(bob.accountId, 'secret plan');
    await alice.setExpireTimer(toBob, 0); // the reply itself stays
    const reply = await alice.sendText(bob.accountId, 'about that', { replyTo: original.id });
    expect(reply.quote?.text).toBe('secret plan');
    advance(30_000);
    expect(await alice.sweepExpired()).toBe(1);
    const kept = (await alice.messages(toBob)).find((m) => m.id === reply.id)!;
    expect(kept.quote).toEqual({
      id: original.id,
      authorAccountId: alice.accountId,
      text: '',
      gone: true,
    });
  });

  it('a member who missed the change takes the timer from the next message', async () => {
    const { relay, alice, bob, toBob, toAlice } = await pair();
    await alice.setExpireTimer(toBob, 3600);
    relay.queued(bob.accountId).length = 0; // the change never reaches Bob
    const sent = await alice.sendText(bob.accountId, 'with a timer');
    await relay.deliver(bob);
    expect((await bob.conversations()).find((c) => c.id === toAlice)?.expireTimer).toBe(3600);
    const msgs = await bob.messages(toAlice);
    expect(msgs.map((m) => m.event ?? m.text)).toEqual(['timer_changed', 'with a timer']);
    expect(msgs.find((m) => m.id === sent.id)?.expiresIn).toBe(3600);
  });

  it('changes that cross settle on the later one on both sides', async () => {
    const { relay, alice, bob, advance, toBob, toAlice } = await pair();
    await alice.setExpireTimer(toBob, 30);
    advance(1000);
    await bob.setExpireTimer(toAlice, 86_400); // before Alice's change reached him
    await relay.deliver(bob); // Alice's, older: ignored
    await relay.deliver(alice); // Bob's, newer: taken
    expect((await alice.conversations()).find((c) => c.id === toBob)?.expireTimer).toBe(86_400);
    expect((await bob.conversations()).find((c) => c.id === toAlice)?.expireTimer).toBe(86_400);
  });

  it('accepting a message request starts the countdown of what it marks read', async () => {
    const relay = new FakeRelay();
    let now = 5_000_000;
    const clock = () => now;
    const alice = await relay.client('alice', { clock });
    const bob = await relay.client('bob', { clock });
    await alice.addContact('bob');
    const toBob = `direct:${bob.accountId}`;
    const toAlice = `direct:${alice.accountId}`;
    await alice.setExpireTimer(toBob, 30);
    const sent = await alice.sendText(bob.accountId, 'from a stranger');
    await relay.deliver(bob);
    expect((await bob.conversations()).find((c) => c.id === toAlice)?.request).toBe(true);
    now += 60_000;
    expect(await bob.sweepExpired()).toBe(0); // a request nobody read yet
    await bob.acceptRequest(toAlice);
    const read = (await bob.messages(toAlice)).find((m) => m.id === sent.id)!;
    expect(read.expireAt).toBe(now + 30_000);
    now += 30_000;
    expect(await bob.sweepExpired()).toBe(1);
    expect((await stored(bob)).some((m) => m.id === sent.id)).toBe(false);
  });

  it('setting a timer for a blocked contact is refused, with nothing sent', async () => {
    const { relay, alice, bob, toBob } = await pair();
    await alice.block(bob.accountId);
    await relay.deliver(bob);
    await expect(alice.setExpireTimer(toBob, 30)).rejects.toMatchObject({
      name: 'BlockedContactError',
    });
    expect(await relay.deliver(bob)).toBe(0);
  });
});
