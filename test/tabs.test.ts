/**
 * Several tabs, one account: two client instances over one shared database (as two browser tabs
 * over one IndexedDB) with a shared lock (in browsers: `WebLocksKeyedLock` on navigator.locks;
 * Node has no Web Locks, so the in-process lock stands in for it). Both send at full speed at
 * once; no session is corrupted (every message decrypts) and an envelope handed to both tabs is
 * processed once.
 */
import { describe, expect, it } from 'vitest';
import { InProcessKeyedLock } from '@parley/crypto/lock.js';
import { MemoryBackend, ParleyClient, Storage } from '@parley/client';
import type { Envelope } from '@parley/protocol';
import { clientOptions, inbox, registeredClient } from './support/clients.ts';
import { useRelay } from './support/use-relay.ts';

const { relay, clients } = useRelay<ParleyClient>();

describe('two tabs of one account', () => {
  it('never corrupt a session or double-process a message', async () => {
    const shared = new MemoryBackend();
    const lock = new InProcessKeyedLock();
    const tabA = await ParleyClient.open(
      clientOptions(relay.url, new Storage(shared, { lock }), { lock }),
    );
    await tabA.register('tabs_alice');
    const tabB = await ParleyClient.open(
      clientOptions(relay.url, new Storage(shared, { lock }), { lock }),
    );
    expect(tabB.accountId).toBe(tabA.accountId);
    const bob = await registeredClient(relay.url, 'tabs_bob');
    clients.push(tabA, bob);
    const bobInbox = inbox(bob);
    const failures: unknown[] = [];
    bob.on('decryptionFailed', (f) => failures.push(f));

    // Both tabs send concurrently over the same session.
    const n = 15;
    await Promise.all([
      ...Array.from({ length: n }, (_, i) => tabA.sendText(bob.accountId, `A${i}`)),
      ...Array.from({ length: n }, (_, i) => tabB.sendText(bob.accountId, `B${i}`)),
    ]);
    await bobInbox.waitFor(2 * n);
    expect(failures).toEqual([]);
    expect(new Set(bobInbox.texts()).size).toBe(2 * n);

    // Only one tab holds the socket; if the same envelope reaches both, it counts once.
    const envelopes: Envelope[] = [];
    tabA.on('envelope', (e) => envelopes.push(e));
    await tabA.start();
    const got = inbox(tabA);
    const gotB = inbox(tabB);
    await bob.sendText(tabA.accountId, 'to the tabs');
    await got.waitFor(1);
    await tabB.handleEnvelope(envelopes.at(-1)!);
    expect(gotB.messages).toEqual([]);
    expect(
      (await tabB.messages(`direct:${bob.accountId}`)).filter((m) => m.direction === 'in'),
    ).toHaveLength(1);
  });
});
