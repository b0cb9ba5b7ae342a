/**
 * One person, several devices: linking end to end, receiving on every device, sent
 * transcripts, and invisible 409/410 recovery when devices come and go mid-conversation.
 */
import { describe, expect, it } from 'vitest';
import type { ContactRecord, ParleyClient } from '@parley/client';
import { inbox, linkDevice, registeredClient } from './support/clients.ts';
import { useRelay } from './support/use-relay.ts';

const { relay, track } = useRelay<ParleyClient>();

describe('multi-device', () => {
  it('links devices end to end; all three receive, and see what the others sent', async () => {
    const alice1 = track(await registeredClient(relay.url, 'alice', { sqlite: true }));
    const bob = track(await registeredClient(relay.url, 'bob'));
    await alice1.addContact('bob');
    await bob.addContact('alice');

    const alice2 = track(
      await linkDevice(relay.url, alice1, { sqlite: true, deviceName: 'laptop ✓' }),
    );
    const alice3 = track(await linkDevice(relay.url, alice1));
    expect(alice2.accountId).toBe(alice1.accountId);
    expect(alice3.accountId).toBe(alice1.accountId);
    expect(new Set([alice1.deviceId, alice2.deviceId, alice3.deviceId]).size).toBe(3);
    // The provisioning message carried the contact list.
    expect((await alice2.contacts()).map((c) => c.username)).toContain('bob');
    const devices = await alice1.devices();
    expect(devices.map((d) => d.deviceId).sort()).toEqual([1, 2, 3]);
    // The name is sealed for the account's devices; the relay only holds ciphertext.
    expect(devices.find((d) => d.deviceId === alice2.deviceId)?.displayName).toBe('laptop ✓');

    const inboxes = [alice1, alice2, alice3].map(inbox);
    await bob.sendText(alice1.accountId, 'to all of alice');
    for (const i of inboxes) expect((await i.waitFor(1))[0]!.text).toBe('to all of alice');

    // Alice sends from device 2: Bob gets it, devices 1 and 3 get a sent transcript.
    const bobInbox = inbox(bob);
    const sent = await alice2.sendText(bob.accountId, 'from my laptop');
    expect((await bobInbox.waitFor(1))[0]!.text).toBe('from my laptop');
    for (const i of [inboxes[0]!, inboxes[2]!]) {
      const [t] = await i.waitFor(1, (m) => m.direction === 'out');
      expect(t).toMatchObject({
        id: sent.id,
        text: 'from my laptop',
        conversationId: `direct:${bob.accountId}`,
      });
    }
  });

  it('recovers from 409 (device added, device removed) and 410 (stale registration) invisibly', async () => {
    const carol = track(await registeredClient(relay.url, 'carol'));
    const dan1 = track(await registeredClient(relay.url, 'dan'));
    await carol.sendText(dan1.accountId, 'first'); // Carol now knows one device of Dan's

    // Dan adds a device; Carol's next send gets a 409 (missing device), fetches its bundle, retries.
    const dan2 = track(await linkDevice(relay.url, dan1));
    const dan2Inbox = inbox(dan2);
    await carol.sendText(dan1.accountId, 'second');
    expect((await dan2Inbox.waitFor(1))[0]!.text).toBe('second');
    expect(Object.keys((await carol.contact(dan1.accountId))!.devices).sort()).toEqual(['1', '2']);

    // Dan removes it again; Carol's next send gets a 409 (extra device) and drops it.
    await dan1.unlinkDevice(dan2.deviceId);
    const dan1Inbox = inbox(dan1);
    await carol.sendText(dan1.accountId, 'third');
    await dan1Inbox.waitFor(1, (m) => m.text === 'third');
    expect(Object.keys((await carol.contact(dan1.accountId))!.devices)).toEqual(['1']);

    // Carol's record of Dan's registration id goes stale (as after a reinstall): a 410, a new
    // session from a fresh bundle, and the message still arrives.
    await carol.storage.transaction(async (tx) => {
      const c = (await tx.get<ContactRecord>('contacts', dan1.accountId))!;
      c.devices['1'] = ((c.devices['1']! + 1) % 0x3fff) + 1;
      await tx.put('contacts', dan1.accountId, c);
    });
    await carol.sendText(dan1.accountId, 'fourth');
    await dan1Inbox.waitFor(1, (m) => m.text === 'fourth');
    const texts = (await dan1.messages(`direct:${carol.accountId}`)).map((m) => m.text);
    expect(texts).toEqual(['first', 'second', 'third', 'fourth']);
  });
});
