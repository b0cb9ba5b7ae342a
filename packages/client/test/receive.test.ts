/** The receive path: store once, receipts back, repair of what cannot be decrypted. */
import { describe, expect, it } from 'vitest';
import { FakeRelay } from './support/fake-relay.ts';

describe('receiving', () => {
  it('stores a message once even when the envelope comes twice, and sends a delivery receipt', async () => {
    const relay = new FakeRelay();
    const alice = await relay.client('alice');
    const bob = await relay.client('bob');
    const sent = await alice.sendText(bob.accountId, 'hi');
    const [env] = relay.queued(bob.accountId);
    await bob.handleEnvelope(env!);
    await bob.handleEnvelope(env!);
    expect(await bob.messages(`direct:${alice.accountId}`)).toHaveLength(1);
    await bob.flushOutbox(); // the delivery receipt
    const delivered = alice.waitFor('status', (s) => s.id === sent.id);
    await relay.deliver(alice);
    expect((await delivered).status).toBe('delivered');
  });

  it('turns an undecryptable envelope into an event and asks the sender to retry', async () => {
    const relay = new FakeRelay();
    const alice = await relay.client('alice');
    const bob = await relay.client('bob');
    await alice.sendText(bob.accountId, 'first');
    const [env] = relay.queued(bob.accountId);
    const failed = bob.waitFor('decryptionFailed');
    await bob.handleEnvelope({ ...env!, content: btoa('garbage that is no ciphertext') });
    expect((await failed).accountId).toBe(alice.accountId);
    const [event] = await bob.messages(`direct:${alice.accountId}`);
    expect(event).toMatchObject({ kind: 'event', event: 'decryption_failed' });
    // The retry request goes out; Alice answers by sending the message again.
    await bob.flushOutbox();
    await relay.deliver(alice);
    await alice.flushOutbox();
    await relay.deliver(bob);
    expect((await bob.messages(`direct:${alice.accountId}`)).map((m) => m.text)).toContain('first');
  });
});
