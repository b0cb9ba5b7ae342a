/**
 * Account lifecycle against the real relay: prekey top-up when the relay runs low, signed
 * prekey rotation on schedule (simulated clock), session repair after an undecryptable
 * message, export, and account deletion.
 */
import { describe, expect, it } from 'vitest';
import type { ParleyClient } from '@parley/client';
import { inbox, registeredClient, until } from './support/clients.ts';
import { useRelay } from './support/use-relay.ts';

const { relay, track } = useRelay<ParleyClient>();

describe('account lifecycle', () => {
  it('tops up one-time prekeys when the relay runs low and rotates the signed prekey on schedule', async () => {
    let now = Date.UTC(2026, 5, 1);
    const owner = track(await registeredClient(relay.url, 'keys_owner', { clock: () => now }));
    expect(await owner.maintainKeys()).toEqual({
      uploadedPreKeys: false,
      rotatedSignedPreKey: false,
    });

    // Four people start sessions: four of five one-time prekeys are used up.
    for (let i = 0; i < 4; i++) {
      const peer = track(await registeredClient(relay.url, `keys_peer${i}`));
      const got = inbox(owner);
      await peer.sendText(owner.accountId, `hi ${i}`);
      await got.waitFor(1);
    }
    expect((await owner.http.keyStatus()).preKeyCount).toBe(1);
    expect(await owner.maintainKeys()).toEqual({
      uploadedPreKeys: true,
      rotatedSignedPreKey: false,
    });
    expect((await owner.http.keyStatus()).preKeyCount).toBe(5);

    // A week later the signed prekey and the Kyber last-resort key are rotated...
    const before = await owner.http.keyStatus();
    now += 8 * 86_400_000;
    expect((await owner.maintainKeys()).rotatedSignedPreKey).toBe(true);
    const after = await owner.http.keyStatus();
    expect(after.signedPreKeyId).not.toBe(before.signedPreKeyId);
    // ... and a newcomer's session, built on the new keys, works.
    // Dedupe markers older than the relay could still redeliver are pruned.
    expect(await owner.pruneProcessed()).toBe(0);
    now += 61 * 86_400_000;
    expect(await owner.pruneProcessed()).toBeGreaterThanOrEqual(8); // 4 envelopes + 4 message ids
    const late = track(await registeredClient(relay.url, 'keys_late'));
    const got = inbox(owner);
    await late.sendText(owner.accountId, 'on the rotated keys');
    expect((await got.waitFor(1))[0]!.text).toBe('on the rotated keys');
  });

  it('reports an undecryptable message and repairs the session; the sender resends', async () => {
    const alice = track(await registeredClient(relay.url, 'repair_alice'));
    const bob = track(await registeredClient(relay.url, 'repair_bob'));
    const bobInbox = inbox(bob);
    await alice.sendText(bob.accountId, 'one');
    await bobInbox.waitFor(1);
    const ack = await bob.sendText(alice.accountId, 'ack'); // Alice's session is now fully established
    // Wait for Alice's delivery receipt, so nothing else is in flight to Bob.
    const delivered = async () =>
      (await bob.messages(`direct:${alice.accountId}`)).find((m) => m.id === ack.id)?.status ===
      'delivered';
    await until(bob, 'status', delivered);

    // Bob loses his session state (e.g. restored from an old backup).
    await bob.storage.transaction(async (tx) => {
      for (const [k] of await tx.list('sessions', `${alice.accountId}.`))
        await tx.delete('sessions', k);
    });
    const failed = bob.waitFor('decryptionFailed');
    await alice.sendText(bob.accountId, 'two');
    expect((await failed).accountId).toBe(alice.accountId);
    // Bob asked Alice to resend over a fresh session; the message arrives after all.
    const [two] = await bobInbox.waitFor(1, (m) => m.text === 'two');
    expect(two!.senderAccountId).toBe(alice.accountId);
    const convo = await bob.messages(`direct:${alice.accountId}`);
    expect(convo.filter((m) => m.kind === 'event').map((m) => m.event)).toEqual([
      'decryption_failed',
    ]);
    // And the conversation carries on normally both ways.
    await alice.sendText(bob.accountId, 'three');
    await bobInbox.waitFor(1, (m) => m.text === 'three');
  });

  it('exports local and relay data, then deletes the account everywhere', async () => {
    const carol = track(await registeredClient(relay.url, 'export_carol'));
    const dave = track(await registeredClient(relay.url, 'export_dave'));
    const daveInbox = inbox(dave);
    await carol.addContact('export_dave');
    await carol.sendText(dave.accountId, 'for the record');
    await daveInbox.waitFor(1);
    const data = await carol.exportData();
    expect(data.account.username).toBe('export_carol');
    expect(data.messages).toEqual([expect.objectContaining({ text: 'for the record' })]);
    expect(data.relay.account.accountId).toBe(carol.accountId);
    expect(JSON.stringify(data)).not.toMatch(/identityKeyPair|credential/);

    await carol.deleteAccount();
    expect(carol.account).toBeUndefined();
    expect(await carol.storage.list('messages')).toEqual([]);
    await expect(dave.http.lookupUsername('export_carol')).rejects.toMatchObject({ status: 404 });
  });
});

describe('group repair', () => {
  it('a member who lost a sender key gets the message resent and the key again', async () => {
    const a = track(await registeredClient(relay.url, 'gr_alice'));
    const b = track(await registeredClient(relay.url, 'gr_bob'));
    const g = await a.createGroup('repair', [b.accountId]);
    await until(b, 'group', async () => (await b.group(g.groupId)) !== undefined);
    const bIn = inbox(b);
    await a.sendGroupText(g.groupId, 'first');
    await bIn.waitFor(1);
    // Bob loses Alice's sender key (e.g. restored from an old backup).
    await b.storage.transaction(async (tx) => {
      for (const [k] of await tx.list('senderKeys', `${a.accountId}.`))
        await tx.delete('senderKeys', k);
    });
    const failed = b.waitFor('decryptionFailed');
    await a.sendGroupText(g.groupId, 'second');
    await failed;
    // Bob asks; Alice resends 'second' over the 1:1 session, in its group.
    const [second] = await bIn.waitFor(1, (m) => m.text === 'second');
    expect(second!.conversationId).toBe(`group:${g.groupId}`);
    // The next group message carries Alice's sender key again.
    await a.sendGroupText(g.groupId, 'third');
    await bIn.waitFor(1, (m) => m.text === 'third');
  });
});
