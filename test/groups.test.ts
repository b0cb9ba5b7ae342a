/**
 * Groups of ten with sender keys: one ciphertext fanned out by the relay, members added and
 * removed, and proof that a removed member cannot decrypt what follows.
 */
import { describe, expect, it } from 'vitest';
import type { Envelope } from '@parley/protocol';
import type { ParleyClient } from '@parley/client';
import { inbox, registeredClient, until } from './support/clients.ts';
import { useRelay } from './support/use-relay.ts';

const { relay, clients } = useRelay<ParleyClient>();

describe('groups', () => {
  it('ten members: send, add, remove; a removed member cannot read later messages', async () => {
    const members: ParleyClient[] = [];
    for (let i = 0; i < 10; i++) {
      members.push(await registeredClient(relay.url, `member${i}`));
    }
    clients.push(...members);
    const [owner, ...rest] = members as [ParleyClient, ...ParleyClient[]];
    const inboxes = members.map(inbox);

    const group = await owner.createGroup(
      'ten',
      rest.map((m) => m.accountId),
    );
    // Everyone learns the group (control message over 1:1 sessions).
    for (const m of rest) {
      await until(m, 'group', async () => (await m.group(group.groupId)) !== undefined);
    }

    // One group message: sender key distributed, one multi-recipient send.
    const envelopes: Envelope[] = [];
    rest[0]!.on('envelope', (e) => envelopes.push(e));
    await owner.sendGroupText(group.groupId, 'hello ten');
    for (const i of inboxes.slice(1)) {
      const [m] = await i.waitFor(1, (x) => x.text === 'hello ten');
      expect(m!.conversationId).toBe(`group:${group.groupId}`);
    }

    // A member replies; everyone including the owner receives it.
    await rest[4]!.sendGroupText(group.groupId, 'reply from 5');
    for (const [n, i] of inboxes.entries()) {
      if (n === 5) continue;
      await i.waitFor(1, (x) => x.text === 'reply from 5');
    }

    // Remove member 9. Everyone rotates sender keys.
    const removed = rest[8]!;
    await owner.removeGroupMembers(group.groupId, [removed.accountId]);
    await until(removed, 'group', async () => (await removed.group(group.groupId))?.left === true);
    for (const m of rest.slice(0, 8)) {
      await until(m, 'group', async () => (await m.group(group.groupId))?.members.length === 9);
    }

    const mark = envelopes.length;
    const removedFailures: unknown[] = [];
    removed.on('decryptionFailed', (f) => removedFailures.push(f));
    await owner.sendGroupText(group.groupId, 'secret after removal');
    await rest[1]!.sendGroupText(group.groupId, 'another secret');
    for (const [n, i] of inboxes.entries()) {
      if (n === 9) continue; // removed
      if (n !== 0) await i.waitFor(1, (x) => x.text === 'secret after removal');
      if (n !== 2) await i.waitFor(1, (x) => x.text === 'another secret');
    }
    // The relay does not even deliver to the removed member ...
    expect(inboxes[9]!.texts()).not.toContain('secret after removal');
    // ... and if it did (a misbehaving relay), the ciphertext is useless to them.
    const later = envelopes.slice(mark).filter((e) => e.type === 'sender_key_message');
    expect(later).toHaveLength(2); // one from the owner, one from another member
    for (const e of later) {
      await removed.handleEnvelope({
        ...e,
        id: crypto.randomUUID(),
        destinationDeviceId: removed.deviceId,
      });
    }
    expect(removedFailures).toHaveLength(2);
    expect(inboxes[9]!.texts()).not.toContain('secret after removal');

    // Add a new member: they receive what follows.
    const newcomer = await registeredClient(relay.url, 'newcomer');
    clients.push(newcomer);
    const newInbox = inbox(newcomer);
    await owner.addGroupMembers(group.groupId, [newcomer.accountId]);
    await until(newcomer, 'group', async () => (await newcomer.group(group.groupId)) !== undefined);
    await rest[2]!.sendGroupText(group.groupId, 'welcome');
    await newInbox.waitFor(1, (x) => x.text === 'welcome');
    expect(newInbox.texts()).not.toContain('secret after removal');
  });
});
