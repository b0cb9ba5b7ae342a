/**
 * Devices against the real relay (issue 12, problems 5 and 6): device names are sealed to the
 * account (the relay holds ciphertext) and every device of the account reads them; a newly
 * linked device is announced to our other devices at once, and starts with our contacts and
 * groups listed, before anyone posts.
 */
import { describe, expect, it } from 'vitest';
import { ParleyClient } from '@parley/client';
import {
  clientOptions,
  inbox,
  linkDevice,
  newStorage,
  registeredClient,
} from './support/clients.ts';
import { useRelay } from './support/use-relay.ts';

const { relay, track } = useRelay<ParleyClient>();

describe('linked devices', () => {
  it('names are sealed and read on every device; a new device starts with contacts and groups', async () => {
    const alice = track(await ParleyClient.open(clientOptions(relay.url, await newStorage())));
    await alice.register('ld_alice', relay.url, 'Alice laptop');
    await alice.start();
    const bob = track(await registeredClient(relay.url, 'ld_bob'));
    await alice.addContact('ld_bob');
    const group = await alice.createGroup('before linking', [bob.accountId]);

    const announced = alice.waitFor('ownDevices');
    const alice2 = track(await linkDevice(relay.url, alice, { deviceName: 'Alice phone' }));
    expect((await announced).deviceId).toBe(alice2.deviceId);

    // The relay only ever saw ciphertext; both devices read both names.
    for (const device of [alice, alice2]) {
      const list = await device.devices();
      expect(list.map((d) => [d.deviceId, d.displayName])).toEqual([
        [1, 'Alice laptop'],
        [2, 'Alice phone'],
      ]);
      for (const d of list) expect(d.name).not.toContain('Alice');
    }
    const exported = JSON.stringify(await alice.http.exportAccount());
    expect(exported).not.toContain('Alice laptop');
    expect(exported).not.toContain('Alice phone');

    // Before anyone posts: the group is listed as a conversation, the contact is known.
    expect((await alice2.group(group.groupId))?.title).toBe('before linking');
    expect((await alice2.conversations()).map((c) => c.id)).toContain(`group:${group.groupId}`);
    expect((await alice2.contact(bob.accountId))?.username).toBe('ld_bob');

    // And the group works from the new device.
    const bobIn = inbox(bob);
    await alice2.sendGroupText(group.groupId, 'from the new device');
    await bobIn.waitFor(1, (m) => m.text === 'from the new device');
  });
});
