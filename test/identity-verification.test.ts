/**
 * Identity changes against the real relay: "verified" is bound to the key that was verified
 * and cleared by any change, and a group send is refused (and marked failed, not left
 * "sending") while a member's changed identity is unacknowledged.
 */
import { describe, expect, it } from 'vitest';
import type { Envelope } from '@parley/protocol';
import { IdentityChangedError, type MessageRecord, type ParleyClient } from '@parley/client';
import { inbox, linkDevice, registeredClient, until } from './support/clients.ts';
import { reinstall } from './support/reinstall.ts';
import { useRelay } from './support/use-relay.ts';

const { relay, track } = useRelay<ParleyClient>();
const groupMessage = async (client: ParleyClient, groupId: string, text: string) =>
  (await client.messages(`group:${groupId}`)).find((m) => m.text === text);

const outbox = async (client: ParleyClient) => client.storage.list('outbox');

describe('verified', () => {
  it('is bound to the verified key: refused while a change is pending, cleared by a change', async () => {
    const alice = track(await registeredClient(relay.url, 'v_alice'));
    const bob = track(await registeredClient(relay.url, 'v_bob'));
    const carol = track(await registeredClient(relay.url, 'v_carol'));
    await alice.addContact('v_bob');
    await alice.addContact('v_carol');

    // Verifying checks the safety number the user compared.
    const { digits } = await alice.safetyNumber(bob.accountId);
    await expect(
      alice.setVerified(bob.accountId, true, { safetyNumber: '1'.repeat(60) }),
    ).rejects.toThrow(/safety number/);
    expect((await alice.contact(bob.accountId))?.verified).toBeFalsy();
    expect(await alice.setVerified(bob.accountId, true, { safetyNumber: digits })).toMatchObject({
      verified: true,
    });
    await alice.setVerified(carol.accountId, true);
    expect((await alice.contact(bob.accountId))?.verified).toBe(true);
    expect((await alice.contacts()).filter((c) => c.verified).length).toBe(2);
    // ... and can be undone.
    await alice.setVerified(carol.accountId, false);
    expect((await alice.contact(carol.accountId))?.verified).toBe(false);
    await alice.setVerified(carol.accountId, true);

    // Bob reinstalls; Alice finds out when sending (a new key in the relay's bundle).
    await alice.sendText(bob.accountId, 'hi bob');
    const bobNew = await reinstall(relay, bob, 'v_bob', track);
    await expect(alice.sendText(bob.accountId, 'still you?')).rejects.toBeInstanceOf(
      IdentityChangedError,
    );
    expect((await alice.contact(bob.accountId))?.verified).toBe(false);
    // The new key cannot be verified before the change is acknowledged ...
    await expect(alice.setVerified(bob.accountId, true)).rejects.toBeInstanceOf(
      IdentityChangedError,
    );
    // ... and acknowledging does not bring the old verification back.
    await alice.acknowledgeIdentity(bob.accountId);
    expect((await alice.contact(bob.accountId))?.verified).toBe(false);
    await alice.setVerified(bob.accountId, true, {
      safetyNumber: (await bobNew.safetyNumber(alice.accountId)).digits,
    });
    expect((await alice.contact(bob.accountId))?.verified).toBe(true);

    // Carol reinstalls; Alice finds out when receiving (a prekey message under a new key).
    await alice.sendText(carol.accountId, 'hi carol');
    const carolNew = await reinstall(relay, carol, 'v_carol', track);
    const changed = alice.waitFor('identityChanged');
    await carolNew.sendText(alice.accountId, 'new phone');
    expect((await changed).accountId).toBe(carol.accountId);
    expect((await alice.contact(carol.accountId))?.verified).toBe(false);
    expect((await alice.contacts()).find((c) => c.accountId === carol.accountId)?.verified).toBe(
      false,
    );
    await alice.acknowledgeIdentity(carol.accountId);
    expect((await alice.contact(carol.accountId))?.verified).toBe(false);
    // Bob's verification, of his current key, is untouched.
    expect((await alice.contact(bob.accountId))?.verified).toBe(true);
  });
});

describe('verified on our other devices', () => {
  it('a new device starts with our verifications; later decisions follow on every device', async () => {
    const alice1 = track(await registeredClient(relay.url, 's_alice'));
    const bob = track(await registeredClient(relay.url, 's_bob'));
    const carol = track(await registeredClient(relay.url, 's_carol'));
    await alice1.addContact('s_bob');
    await alice1.addContact('s_carol');
    await alice1.setVerified(bob.accountId, true);
    await alice1.safetyNumber(carol.accountId); // known key, not verified

    const alice2 = track(await linkDevice(relay.url, alice1));
    await alice1.refreshOwnDevices();
    expect((await alice2.contact(bob.accountId))?.verified).toBe(true);
    expect((await alice2.contact(carol.accountId))?.verified).toBeFalsy();

    const verifiedOn = (c: ParleyClient, accountId: string, want: boolean) =>
      until(c, 'contacts', async () => (await c.contact(accountId))?.verified === want);
    await alice1.setVerified(bob.accountId, false);
    await verifiedOn(alice2, bob.accountId, false);
    await alice2.setVerified(carol.accountId, true);
    await verifiedOn(alice1, carol.accountId, true);
    expect((await alice1.contact(bob.accountId))?.verified).toBe(false);
  });
});

describe('groups and identity changes', () => {
  it('refuses a group send up front while a member’s change is unacknowledged', async () => {
    const alice = track(await registeredClient(relay.url, 'g_alice'));
    const bob = track(await registeredClient(relay.url, 'g_bob'));
    const carol = track(await registeredClient(relay.url, 'g_carol'));
    const group = await alice.createGroup('three', [bob.accountId, carol.accountId]);
    for (const m of [bob, carol]) {
      await until(m, 'group', async () => (await m.group(group.groupId)) !== undefined);
    }
    const carolInbox = inbox(carol);
    await alice.sendGroupText(group.groupId, 'before');
    await carolInbox.waitFor(1, (m) => m.text === 'before');

    // Bob reinstalls and writes to Alice: she accepts the message and records the change.
    const bobNew = await reinstall(relay, bob, 'g_bob', track);
    const changed = alice.waitFor('identityChanged');
    await bobNew.sendText(alice.accountId, 'new phone');
    await changed;

    const carolEnvelopes: Envelope[] = [];
    carol.on('envelope', (e) => carolEnvelopes.push(e));
    const statuses: string[] = [];
    alice.on('status', (s) => statuses.push(s.status));
    const err: unknown = await alice.sendGroupText(group.groupId, 'blocked').catch((e) => e);
    expect(err).toBeInstanceOf(IdentityChangedError);
    expect((err as IdentityChangedError).accountIds).toEqual([bob.accountId]);
    expect((err as Error).message).toContain(bob.accountId);
    // Failed, not stuck "sending"; nothing left to retry.
    expect((await groupMessage(alice, group.groupId, 'blocked'))?.status).toBe('failed');
    expect(statuses).toEqual(['failed']);
    expect(await outbox(alice)).toEqual([]);

    // Acknowledged: sending works again, and Bob's new installation gets our sender key.
    await alice.acknowledgeIdentity(bob.accountId);
    await alice.addGroupMembers(group.groupId, [bob.accountId]); // tells the new install the group
    await until(bobNew, 'group', async () => (await bobNew.group(group.groupId)) !== undefined);
    const bobInbox = inbox(bobNew);
    const bobFailures: unknown[] = [];
    bobNew.on('decryptionFailed', (f) => bobFailures.push(f));
    await alice.sendGroupText(group.groupId, 'after');
    expect((await bobInbox.waitFor(1, (m) => m.text === 'after'))[0]!.conversationId).toBe(
      `group:${group.groupId}`,
    );
    // Straight away, not through the repair of a message he could not decrypt.
    expect(bobFailures).toEqual([]);
    await carolInbox.waitFor(1, (m) => m.text === 'after');
    // Nothing of the refused message reached anyone.
    expect(carolInbox.texts()).not.toContain('blocked');
    expect(bobInbox.texts()).not.toContain('blocked');
    expect(carolEnvelopes.filter((e) => e.type === 'sender_key_message')).toHaveLength(1);
  });

  it('fails a group send cleanly when the change is discovered while sending', async () => {
    const alice = track(await registeredClient(relay.url, 'd_alice'));
    const bob = track(await registeredClient(relay.url, 'd_bob'));
    const carol = track(await registeredClient(relay.url, 'd_carol'));
    const group = await alice.createGroup('three', [bob.accountId, carol.accountId]);
    for (const m of [bob, carol]) {
      await until(m, 'group', async () => (await m.group(group.groupId)) !== undefined);
    }
    await alice.sendGroupText(group.groupId, 'before');

    // Bob reinstalls silently: Alice learns of it from the relay while sending.
    const bobNew = await reinstall(relay, bob, 'd_bob', track);
    const err: unknown = await alice.sendGroupText(group.groupId, 'during').catch((e) => e);
    expect(err).toBeInstanceOf(IdentityChangedError);
    expect((err as IdentityChangedError).accountIds).toEqual([bob.accountId]);
    const during = (await groupMessage(alice, group.groupId, 'during')) as MessageRecord;
    expect(during.status).toBe('failed');
    expect(await outbox(alice)).toEqual([]);
    // Now it is known: refused up front.
    await expect(alice.sendGroupText(group.groupId, 'again')).rejects.toBeInstanceOf(
      IdentityChangedError,
    );

    await alice.acknowledgeIdentity(bob.accountId);
    await alice.addGroupMembers(group.groupId, [bob.accountId]);
    await until(bobNew, 'group', async () => (await bobNew.group(group.groupId)) !== undefined);
    const bobInbox = inbox(bobNew);
    const carolInbox = inbox(carol);
    await alice.sendGroupText(group.groupId, 'after');
    await bobInbox.waitFor(1, (m) => m.text === 'after');
    await carolInbox.waitFor(1, (m) => m.text === 'after');
  });
});

describe('group updates and identity changes', () => {
  it('refuses group updates up front while a member’s change is unacknowledged; removing them still works', async () => {
    const alice = track(await registeredClient(relay.url, 'c_alice'));
    const bob = track(await registeredClient(relay.url, 'c_bob'));
    const carol = track(await registeredClient(relay.url, 'c_carol'));
    const dave = track(await registeredClient(relay.url, 'c_dave'));
    const group = await alice.createGroup('three', [bob.accountId, carol.accountId]);
    for (const m of [bob, carol]) {
      await until(m, 'group', async () => (await m.group(group.groupId)) !== undefined);
    }

    const bobNew = await reinstall(relay, bob, 'c_bob', track);
    const changed = alice.waitFor('identityChanged');
    await bobNew.sendText(alice.accountId, 'new phone');
    await changed;
    // The change shows in the group too.
    const groupEvents = (await alice.messages(`group:${group.groupId}`)).filter(
      (m) => m.event === 'identity_changed',
    );
    expect(groupEvents.map((m) => m.subjects)).toEqual([[bob.accountId]]);

    const got = new Map<ParleyClient, Envelope[]>();
    for (const c of [bobNew, carol, dave]) {
      const list: Envelope[] = [];
      got.set(c, list);
      c.on('envelope', (e) => {
        if (e.sourceAccountId === alice.accountId) list.push(e);
      });
    }
    const groupsBefore = await alice.groups();
    const eventsBefore = await alice.messages(`group:${group.groupId}`);
    const refused = async (p: Promise<unknown>) => {
      const err: unknown = await p.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(IdentityChangedError);
      expect((err as IdentityChangedError).accountIds).toEqual([bob.accountId]);
    };
    await refused(alice.createGroup('new', [carol.accountId, bob.accountId]));
    await refused(alice.addGroupMembers(group.groupId, [dave.accountId]));
    await refused(alice.renameGroup(group.groupId, 'renamed'));
    await refused(alice.leaveGroup(group.groupId));
    // Adding the changed member (again) is refused too.
    await refused(alice.addGroupMembers(group.groupId, [bob.accountId]));
    // Nothing changed locally ...
    expect(await alice.groups()).toEqual(groupsBefore);
    expect(await alice.messages(`group:${group.groupId}`)).toEqual(eventsBefore);
    // ... and nothing was sent: the next thing each of them gets from Alice is this.
    await alice.sendText(carol.accountId, 'barrier');
    await alice.sendText(dave.accountId, 'barrier');
    for (const m of [carol, dave]) {
      await until(m, 'message', async () =>
        (await m.messages(`direct:${alice.accountId}`)).some((x) => x.text === 'barrier'),
      );
    }
    expect(got.get(carol)).toHaveLength(1);
    expect(got.get(dave)).toHaveLength(1);
    expect(await dave.groups()).toEqual([]);

    // Removing Bob works without acknowledging: Carol is told, Bob (changed key) is not.
    for (const list of got.values()) list.length = 0;
    const removed = await alice.removeGroupMembers(group.groupId, [bob.accountId]);
    expect(removed.members.map((m) => m.accountId)).toEqual([alice.accountId, carol.accountId]);
    await until(
      carol,
      'group',
      async () =>
        (await carol.group(group.groupId))?.members.every((m) => m.accountId !== bob.accountId) ??
        false,
    );
    // Whatever Alice sent Bob's new installation would be there before Carol's message.
    await carol.sendText(bob.accountId, 'barrier');
    await until(bobNew, 'message', async () =>
      (await bobNew.messages(`direct:${carol.accountId}`)).some((x) => x.text === 'barrier'),
    );
    expect(got.get(carol)!.length).toBeGreaterThan(0);
    expect(got.get(bobNew)).toEqual([]);
    expect(await bobNew.group(group.groupId)).toBeUndefined();

    // Acknowledged: updates go to Bob's new installation again.
    await alice.acknowledgeIdentity(bob.accountId);
    await alice.addGroupMembers(group.groupId, [bob.accountId]);
    await until(bobNew, 'group', async () => (await bobNew.group(group.groupId)) !== undefined);
    await alice.renameGroup(group.groupId, 'renamed');
    for (const m of [bobNew, carol]) {
      await until(m, 'group', async () => (await m.group(group.groupId))?.title === 'renamed');
    }
  });
});

describe('verification in the conversation', () => {
  it('“You marked … verified / not verified” on every device; an identity change is shown too', async () => {
    const alice1 = track(await registeredClient(relay.url, 'e_alice'));
    const bob = track(await registeredClient(relay.url, 'e_bob'));
    await alice1.addContact('e_bob');
    const alice2 = track(await linkDevice(relay.url, alice1));
    await alice1.refreshOwnDevices();
    const conv = `direct:${bob.accountId}`;
    const events = async (c: ParleyClient) =>
      (await c.messages(conv))
        .filter((m) => m.kind === 'event')
        .map((m) => [m.event, m.subjects, m.senderAccountId, m.senderDeviceId]);
    const d1 = alice1.deviceId;
    const d2 = alice2.deviceId;
    const eventsOn = (c: ParleyClient, n: number) =>
      until(c, 'event', async () => (await events(c)).length >= n);

    const emitted = alice1.waitFor('event');
    await alice1.setVerified(bob.accountId, true);
    expect((await emitted).event).toBe('marked_verified');
    await eventsOn(alice2, 1);
    await alice2.setVerified(bob.accountId, false);
    await eventsOn(alice1, 2);
    await alice2.setVerified(bob.accountId, false); // never shown twice
    const both = [
      ['marked_verified', [bob.accountId], alice1.accountId, d1],
      ['marked_unverified', [bob.accountId], alice1.accountId, d2],
    ];
    // Shown at the time each was decided (a tie within a millisecond may go either way).
    const sorted = async (c: ParleyClient) =>
      (await events(c)).sort((a, b) => Number(a[3]) - Number(b[3]));
    expect(await sorted(alice1)).toEqual(both);
    expect(await sorted(alice2)).toEqual(both);
    // Not verifying an unverified contact is no event.
    await alice1.setVerified(bob.accountId, false);
    expect(await sorted(alice1)).toEqual(both);

    // Verified again, then Bob reinstalls: the change (which clears it) is the next event.
    await alice1.setVerified(bob.accountId, true);
    await eventsOn(alice2, 3);
    await alice1.sendText(bob.accountId, 'hi');
    const bobNew = await reinstall(relay, bob, 'e_bob', track);
    const changed = alice1.waitFor('identityChanged');
    await bobNew.sendText(alice1.accountId, 'new phone');
    await changed;
    expect((await events(alice1)).map((e) => e[0]).slice(2)).toEqual([
      'marked_verified',
      'identity_changed',
    ]);
    expect((await alice1.contact(bob.accountId))?.verified).toBe(false);
  });
});

describe('group state after acknowledging', () => {
  it('a member whose change was found while sending an update gets the current state once acknowledged', async () => {
    const alice = track(await registeredClient(relay.url, 'a_alice'));
    const bob = track(await registeredClient(relay.url, 'a_bob'));
    const carol = track(await registeredClient(relay.url, 'a_carol'));
    const group = await alice.createGroup('three', [bob.accountId, carol.accountId]);
    for (const m of [bob, carol]) {
      await until(m, 'group', async () => (await m.group(group.groupId)) !== undefined);
    }
    // Bob reinstalls silently: the rename finds it on the way, so only Carol hears of it.
    const bobNew = await reinstall(relay, bob, 'a_bob', track);
    await alice.renameGroup(group.groupId, 'renamed');
    expect((await alice.contact(bob.accountId))?.identityChanged).toBe(true);
    await until(
      carol,
      'group',
      async () => (await carol.group(group.groupId))?.title === 'renamed',
    );
    expect(await bobNew.group(group.groupId)).toBeUndefined();

    // Acknowledged: Bob's new installation is told the group as it is now, without asking.
    await alice.acknowledgeIdentity(bob.accountId);
    await until(
      bobNew,
      'group',
      async () => (await bobNew.group(group.groupId))?.title === 'renamed',
    );
    expect((await bobNew.group(group.groupId))?.members.map((m) => m.accountId).sort()).toEqual(
      [alice.accountId, bob.accountId, carol.accountId].sort(),
    );
    const bobInbox = inbox(bobNew);
    await alice.sendGroupText(group.groupId, 'welcome back');
    await bobInbox.waitFor(1, (m) => m.text === 'welcome back');
  });
});
