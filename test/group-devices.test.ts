/**
 * Groups and devices: a member's newly linked device gets the sender keys it needs (the 409 on
 * the multi-recipient send tells senders about it), and an unlinked device cannot read what the
 * group sends afterwards (senders rotate their sender keys when a device disappears).
 */
import { describe, expect, it } from 'vitest';
import type { Envelope } from '@parley/protocol';
import type { ParleyClient } from '@parley/client';
import { inbox, linkDevice, registeredClient, until } from './support/clients.ts';
import { useRelay } from './support/use-relay.ts';

const { relay, clients } = useRelay<ParleyClient>();

describe('groups across devices', () => {
  it('a new device of a member can read; an unlinked one cannot', async () => {
    const alice = await registeredClient(relay.url, 'gd_alice');
    const bob1 = await registeredClient(relay.url, 'gd_bob');
    const carol = await registeredClient(relay.url, 'gd_carol');
    clients.push(alice, bob1, carol);
    const group = await alice.createGroup('devices', [bob1.accountId, carol.accountId]);
    for (const m of [bob1, carol]) {
      await until(m, 'group', async () => (await m.group(group.groupId)) !== undefined);
    }
    const carolInbox = inbox(carol);
    await alice.sendGroupText(group.groupId, 'before');
    await carolInbox.waitFor(1);

    // Bob links a second device; the provisioning message carries the group.
    const bob2 = await linkDevice(relay.url, bob1);
    clients.push(bob2);
    expect((await bob2.group(group.groupId))?.title).toBe('devices');
    const bob2Inbox = inbox(bob2);
    await alice.sendGroupText(group.groupId, 'hello new device');
    expect((await bob2Inbox.waitFor(1))[0]!.text).toBe('hello new device');
    await carol.sendGroupText(group.groupId, 'carol too');
    await bob2Inbox.waitFor(1, (m) => m.text === 'carol too');
    // What Bob sends from his new device reaches everyone, and his first device as his own.
    const bob1Inbox = inbox(bob1);
    await bob2.sendGroupText(group.groupId, 'from bob2');
    await carolInbox.waitFor(1, (m) => m.text === 'from bob2');
    const [own] = await bob1Inbox.waitFor(1, (m) => m.text === 'from bob2');
    expect(own!.direction).toBe('out');

    // Bob unlinks the second device. Later group messages are useless to it.
    const captured: Envelope[] = [];
    bob1.on('envelope', (e) => captured.push(e));
    await bob1.unlinkDevice(bob2.deviceId);
    const failures: unknown[] = [];
    bob2.on('decryptionFailed', (f) => failures.push(f));
    await alice.sendGroupText(group.groupId, 'after unlinking');
    await bob1Inbox.waitFor(1, (m) => m.text === 'after unlinking');
    const skm = captured.filter((e) => e.type === 'sender_key_message').at(-1)!;
    await bob2.handleEnvelope({
      ...skm,
      id: crypto.randomUUID(),
      destinationDeviceId: bob2.deviceId,
    });
    expect(failures).toHaveLength(1);
    expect(bob2Inbox.texts()).not.toContain('after unlinking');
  });
});
