/**
 * Sent transcripts against the real relay: a message the recipient got is sent even when its
 * transcript to our other devices cannot go out; the transcript waits in the outbox and goes
 * on the next connection.
 */
import { describe, expect, it } from 'vitest';
import type { ParleyClient } from '@parley/client';
import { inbox, linkDevice, registeredClient } from './support/clients.ts';
import { useRelay } from './support/use-relay.ts';

const { relay, track } = useRelay<ParleyClient>();
describe('sent transcripts', () => {
  it('a failed transcript does not fail the send, and is retried from the outbox', async () => {
    // Alice's first device talks to the relay through a fetch that can refuse sends to her
    // own account (her other devices), as a network failure would.
    let ownAccount = '';
    let refuseOwn = false;
    const refused: string[] = [];
    const flaky: typeof fetch = (input, init) => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      if (refuseOwn && init?.method === 'PUT' && url.endsWith(`/v1/messages/${ownAccount}`)) {
        refused.push(url);
        return Promise.reject(new TypeError('fetch failed'));
      }
      return fetch(input, init);
    };
    const alice1 = track(await registeredClient(relay.url, 't_alice', { fetch: flaky }));
    ownAccount = alice1.accountId;
    const bob = track(await registeredClient(relay.url, 't_bob'));
    await alice1.addContact('t_bob');
    const alice2 = track(await linkDevice(relay.url, alice1));
    await alice1.refreshOwnDevices();

    const bobInbox = inbox(bob);
    const alice2Inbox = inbox(alice2);
    refuseOwn = true;
    const sent = await alice1.sendText(bob.accountId, 'transcript later');
    expect(refused.length).toBeGreaterThan(0);
    expect(['sent', 'delivered']).toContain(sent.status);
    expect((await bobInbox.waitFor(1))[0]!.text).toBe('transcript later');
    // The transcript is kept for later; the message itself is not resent.
    expect((await alice1.storage.list('outbox')).map(([id]) => id)).toEqual([sent.id]);

    // Next connection: the outbox is flushed and the transcript reaches the other device.
    refuseOwn = false;
    await alice1.stop();
    await alice1.start();
    const [copy] = await alice2Inbox.waitFor(1, (m) => m.direction === 'out');
    expect(copy).toMatchObject({ id: sent.id, text: 'transcript later', status: 'sent' });
    await alice1.stop(); // waits for the flush
    expect(await alice1.storage.list('outbox')).toEqual([]);
    expect(bobInbox.texts()).toEqual(['transcript later']); // sent once
  });
});
