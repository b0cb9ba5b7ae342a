/**
 * Identity: safety numbers agree on both sides; a changed identity key (Bob reinstalled) is
 * detected, blocks sending until acknowledged, and shows as an event in the conversation.
 *
 * Our relay has no "re-register the same account" flow, so the reinstall is made the way a
 * reinstall looks from the outside: while the relay is stopped, Bob's account in the relay's
 * database gets the identity key and device keys of a fresh installation.
 */
import { describe, expect, it } from 'vitest';
import { IdentityChangedError, type ParleyClient } from '@parley/client';
import { inbox, registeredClient } from './support/clients.ts';
import { reinstall } from './support/reinstall.ts';
import { useRelay } from './support/use-relay.ts';

const { relay, clients } = useRelay<ParleyClient>();

describe('identity', () => {
  it('computes the same 60-digit safety number on both sides', async () => {
    const a = await registeredClient(relay.url, 'sn_a');
    const b = await registeredClient(relay.url, 'sn_b');
    clients.push(a, b);
    const ab = await a.safetyNumber(b.accountId);
    const ba = await b.safetyNumber(a.accountId);
    expect(ab.digits).toMatch(/^[0-9]{60}$/);
    expect(ab.digits).toBe(ba.digits);
  });

  it('detects a changed identity key, blocks sending until acknowledged, and records it', async () => {
    const alice = await registeredClient(relay.url, 'alice');
    const bob = await registeredClient(relay.url, 'bob');
    clients.push(alice, bob);
    const bobInbox = inbox(bob);
    await alice.sendText(bob.accountId, 'before');
    await bobInbox.waitFor(1);
    const before = await alice.safetyNumber(bob.accountId);

    // Bob reinstalls: a fresh installation with a new identity takes over his account.
    const bobNew = await reinstall(relay, bob, 'bob', (c) => clients.push(c));
    const newInbox = inbox(bobNew);

    const changed = alice.waitFor('identityChanged');
    await expect(alice.sendText(bob.accountId, 'after reinstall')).rejects.toBeInstanceOf(
      IdentityChangedError,
    );
    expect((await changed).accountId).toBe(bob.accountId);
    // Blocked until acknowledged, even on retry.
    await expect(alice.sendText(bob.accountId, 'again')).rejects.toBeInstanceOf(
      IdentityChangedError,
    );
    const events = (await alice.messages(`direct:${bob.accountId}`)).filter(
      (m) => m.kind === 'event',
    );
    expect(events.map((e) => e.event)).toContain('identity_changed');
    const pending = await alice.safetyNumber(bob.accountId);
    expect(pending.digits).not.toBe(before.digits);
    expect(pending.digits).toBe((await bobNew.safetyNumber(alice.accountId)).digits);

    await alice.acknowledgeIdentity(bob.accountId);
    await alice.sendText(bob.accountId, 'after acknowledging');
    expect((await newInbox.waitFor(1))[0]!.text).toBe('after acknowledging');
    // Messages refused while blocked were never sent.
    expect(newInbox.texts()).not.toContain('after reinstall');
  });

  it('accepts a message from a changed identity, records the change and blocks replies', async () => {
    const carol = await registeredClient(relay.url, 'carol');
    const dave = await registeredClient(relay.url, 'dave');
    clients.push(carol, dave);
    const daveInbox = inbox(dave);
    await carol.sendText(dave.accountId, 'hello dave');
    await daveInbox.waitFor(1);

    const daveNew = await reinstall(relay, dave, 'dave', (c) => clients.push(c));
    const carolInbox = inbox(carol);
    const changed = carol.waitFor('identityChanged');
    await daveNew.sendText(carol.accountId, 'new phone, who dis');
    // The message is not lost ...
    expect((await carolInbox.waitFor(1))[0]!.text).toBe('new phone, who dis');
    // ... the change is reported and recorded in the conversation ...
    expect((await changed).accountId).toBe(dave.accountId);
    const events = (await carol.messages(`direct:${dave.accountId}`)).filter(
      (m) => m.kind === 'event',
    );
    expect(events.map((e) => e.event)).toEqual(['identity_changed']);
    // ... and replying waits for the user to accept the new safety number.
    await expect(carol.sendText(dave.accountId, 'is that you?')).rejects.toBeInstanceOf(
      IdentityChangedError,
    );
    await carol.acknowledgeIdentity(dave.accountId);
    const daveNewInbox = inbox(daveNew);
    await carol.sendText(dave.accountId, 'welcome back');
    expect((await daveNewInbox.waitFor(1))[0]!.text).toBe('welcome back');
  });
});
