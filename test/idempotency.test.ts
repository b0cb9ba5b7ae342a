/**
 * Idempotent sends against the real relay: the relay is SIGKILLed after storing a send and
 * before answering it. The client keeps the message queued, retries with the same sendId once
 * the relay is back, and the recipient shows it exactly once.
 */
import { describe, expect, it } from 'vitest';
import type { ParleyClient } from '@parley/client';
import { inbox, registeredClient } from './support/clients.ts';
import { useRelay } from './support/use-relay.ts';

/** The sendId the relay dies after storing (the test's fetch gives our send this id). */
const CRASH_ID = 'crash_after_storing_00';

const { relay, track } = useRelay<ParleyClient>({
  PARLEY_RELAY_TEST_CRASH_AFTER_STORING_SEND_ID: CRASH_ID,
});

describe('idempotent sends', () => {
  it('a send stored by a relay that died before answering is stored once', async () => {
    // Alice's fetch renames the sendId of her next send to Bob (every attempt of it alike) to
    // the one the relay is told to die after storing.
    let armed = false;
    let original: string | undefined;
    /** The sendId of every attempt made while armed (only the one message is sent then). */
    const attempts: Array<string | undefined> = [];
    let bobId = '';
    const renaming: typeof fetch = (input, init) => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      if (armed && init?.method === 'PUT' && url.endsWith(`/v1/messages/${bobId}`)) {
        const body = JSON.parse(String(init.body)) as { sendId?: string };
        original ??= body.sendId;
        attempts.push(body.sendId);
        if (body.sendId !== undefined && body.sendId === original) {
          return fetch(input, { ...init, body: JSON.stringify({ ...body, sendId: CRASH_ID }) });
        }
      }
      return fetch(input, init);
    };
    const alice = track(await registeredClient(relay.url, 'i_alice', { fetch: renaming }));
    const bob = track(await registeredClient(relay.url, 'i_bob'));
    bobId = bob.accountId;
    const bobInbox = inbox(bob);
    await alice.sendText(bob.accountId, 'before');
    await bobInbox.waitFor(1);

    armed = true;
    const queued = await alice.sendText(bob.accountId, 'across the crash');
    expect(queued.status).toBe('queued'); // stored by the relay, but no answer came
    const sent = alice.waitFor('status', (s) => s.id === queued.id && s.status !== 'queued');
    await relay.restart();
    expect((await sent).status).not.toBe('failed');
    armed = false;

    await alice.sendText(bob.accountId, 'after');
    await bobInbox.waitFor(1, (m) => m.text === 'after');
    const texts = (await bob.messages(`direct:${alice.accountId}`)).map((m) => m.text);
    expect(texts.filter((t) => t === 'across the crash')).toHaveLength(1);
    // The retry after the crash carried the first attempt's sendId (the relay answers such a
    // retry with its first answer instead of storing the send again).
    expect(original).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    expect(new Set(attempts)).toEqual(new Set([original]));
    expect(new Set(bobInbox.messages.map((m) => m.id)).size).toBe(bobInbox.messages.length);
  });
});
