/**
 * The send path against an in-memory relay (injected fetch): one durable outbox, queued → sent,
 * never twice (sendId), typed permanent failures.
 */
import { describe, expect, it } from 'vitest';
import { IdentityChangedError, RelayHttpError, classifySendError } from '@parley/client';
import { FakeRelay } from './support/fake-relay.ts';

async function pair() {
  const relay = new FakeRelay();
  const alice = await relay.client('alice');
  const bob = await relay.client('bob');
  await alice.addContact('bob');
  return { relay, alice, bob };
}

describe('sending', () => {
  it('stores, sends and marks a text sent; the recipient gets it once', async () => {
    const { relay, alice, bob } = await pair();
    const sent = await alice.sendText(bob.accountId, 'hello');
    expect(sent.status).toBe('sent');
    expect(await alice.storage.list('outbox')).toEqual([]);
    expect(await relay.deliver(bob)).toBe(1);
    expect((await bob.messages(`direct:${alice.accountId}`)).map((m) => m.text)).toEqual(['hello']);
  });

  it('queues a text while the relay is down and sends it once when it is back', async () => {
    const { relay, alice, bob } = await pair();
    relay.down = true;
    const queued = await alice.sendText(bob.accountId, 'during');
    expect(queued.status).toBe('queued');
    expect((await alice.messages(`direct:${bob.accountId}`))[0]!.status).toBe('queued');
    relay.down = false;
    const sent = alice.waitFor('status', (s) => s.id === queued.id);
    await alice.flushOutbox();
    expect((await sent).status).toBe('sent');
    await alice.flushOutbox(); // nothing left: no second copy
    expect(await relay.deliver(bob)).toBe(1);
  });

  it('never sends twice when the answer to a stored send was lost (same sendId)', async () => {
    const { relay, alice, bob } = await pair();
    relay.loseNextAnswer = true;
    const first = await alice.sendText(bob.accountId, 'once');
    expect(first.status).toBe('queued');
    await alice.flushOutbox();
    const [stored] = await alice.messages(`direct:${bob.accountId}`);
    expect(stored!.status).toBe('sent');
    expect(await relay.deliver(bob)).toBe(1);
    expect((await bob.messages(`direct:${alice.accountId}`)).map((m) => m.text)).toEqual(['once']);
  });

  it('fails a text to a changed safety number with IdentityChangedError, retryable', async () => {
    const { alice, bob } = await pair();
    const contact = (await alice.storage.get<Record<string, unknown>>('contacts', bob.accountId))!;
    await alice.storage.transaction((tx) =>
      tx.put('contacts', bob.accountId, { ...contact, identityChanged: true }),
    );
    await expect(alice.sendText(bob.accountId, 'blocked')).rejects.toBeInstanceOf(
      IdentityChangedError,
    );
    const [failed] = await alice.messages(`direct:${bob.accountId}`);
    expect(failed).toMatchObject({
      status: 'failed',
      failure: { reason: 'identity_changed', retryable: true, detail: [bob.accountId] },
    });
    expect(await alice.storage.list('outbox')).toEqual([]);
    await alice.acknowledgeIdentity(bob.accountId);
    expect((await alice.retrySend(failed!.conversationId, failed!.id)).status).toBe('sent');
  });

  it('sorts send errors into transient and permanent', () => {
    const http = (status: number, code: RelayHttpError['code']) =>
      new RelayHttpError(status, code, '', undefined);
    expect(classifySendError(http(503, 'not_ready'))).toEqual({ transient: true, offline: true });
    expect(classifySendError(http(429, 'rate_limited'))).toEqual({
      transient: true,
      offline: false,
    });
    expect(classifySendError(http(413, 'payload_too_large'))).toMatchObject({
      failure: { reason: 'too_large', retryable: false },
    });
    expect(classifySendError(http(404, 'not_found'))).toMatchObject({
      failure: { reason: 'recipient_gone' },
    });
  });
});

describe('outbox entries from before the delivery model', () => {
  it('sends a message an older client left in its outbox, and marks it sent', async () => {
    const relay = new FakeRelay();
    const alice = await relay.client('alice');
    const bob = await relay.client('bob');
    relay.down = true;
    const queued = await alice.sendText(bob.accountId, 'left over');
    // Rewrite the entry the way an older client stored it: keyed by message id, no legs.
    const [[key, entry]] = (await alice.storage.list<{ legs: Array<{ content: Uint8Array }> }>(
      'outbox',
    )) as [[string, { legs: Array<{ content: Uint8Array }> }]];
    await alice.storage.transaction(async (tx) => {
      await tx.delete('outbox', key);
      await tx.put('outbox', queued.id, { to: bob.accountId, content: entry.legs[0]!.content });
    });
    relay.down = false;
    await alice.flushOutbox();
    expect((await alice.messages(`direct:${bob.accountId}`))[0]!.status).toBe('sent');
    expect(await alice.storage.list('outbox')).toEqual([]);
    expect(await relay.deliver(bob)).toBe(1);
  });
});
