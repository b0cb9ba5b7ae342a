/**
 * Receiving in batches (`receive/batch.ts`): one transaction and one commit for a batch, one
 * delivery receipt per sender, and one bad envelope never spoils the others.
 */
import { ProtocolError } from '@parley/crypto/errors.js';
import type { Envelope } from '@parley/protocol';
import { describe, expect, it } from 'vitest';
import { MemoryBackend, Storage, type StoreName, type WriteOp } from '../src/storage/index.ts';
import { PROCESSED } from '../src/keys.ts';
import { FakeRelay } from './support/fake-relay.ts';

/** Memory storage that counts commits and can fail reads (`failReads` times, default once). */
class ProbeBackend extends MemoryBackend {
  commits = 0;
  failRead: ((store: StoreName, key: string) => boolean) | undefined;
  failReads = 1;
  override async get(store: StoreName, key: string): Promise<Uint8Array | undefined> {
    if (this.failRead?.(store, key)) {
      if (--this.failReads <= 0) this.failRead = undefined;
      throw new TypeError('disk read failed');
    }
    return super.get(store, key);
  }
  override async commit(ops: WriteOp[]): Promise<void> {
    this.commits++;
    return super.commit(ops);
  }
}

function tamper(env: Envelope): Envelope {
  const body = Uint8Array.from(atob(env.content), (c) => c.charCodeAt(0));
  body[body.length - 1]! ^= 0x01; // the MAC of a whisper message
  return { ...env, content: btoa(String.fromCharCode(...body)) };
}

async function setup() {
  const relay = new FakeRelay();
  const backend = new ProbeBackend();
  const bob = await relay.client('bob', { storage: new Storage(backend) });
  const alice = await relay.client('alice');
  const carol = await relay.client('carol');
  return { relay, backend, bob, alice, carol };
}

const texts = async (c: Awaited<ReturnType<typeof setup>>['bob'], from: string) =>
  (await c.messages(`direct:${from}`))
    .filter((m) => m.kind === 'text' && m.direction === 'in')
    .map((m) => m.text);

describe('batched receive', () => {
  it('stores a batch in one commit, acks all of it and sends one receipt per sender', async () => {
    const { relay, backend, bob, alice, carol } = await setup();
    const sent = [];
    for (const t of ['a1', 'a2', 'a3']) sent.push(await alice.sendText(bob.accountId, t));
    for (const t of ['c1', 'c2']) await carol.sendText(bob.accountId, t);
    const batch = relay.queued(bob.accountId).splice(0);
    expect(batch).toHaveLength(5);

    const commits = backend.commits;
    const acked = await bob.handleEnvelopes(batch);
    expect(backend.commits - commits).toBe(1);
    expect(acked).toEqual(batch.map((e) => e.id));
    expect(await texts(bob, alice.accountId)).toEqual(['a1', 'a2', 'a3']);
    expect(await texts(bob, carol.accountId)).toEqual(['c1', 'c2']);

    // The same batch again (a crash before the ack): acked, nothing stored twice.
    expect(await bob.handleEnvelopes(batch)).toEqual(batch.map((e) => e.id));
    expect(await texts(bob, alice.accountId)).toEqual(['a1', 'a2', 'a3']);

    // One delivery receipt to Alice names all three of her messages.
    await bob.flushOutbox();
    expect(relay.queued(alice.accountId)).toHaveLength(1);
    const delivered = new Set<string>();
    alice.on('status', (s) => s.status === 'delivered' && delivered.add(s.id));
    await relay.deliver(alice);
    expect([...delivered].sort()).toEqual(sent.map((m) => m.id).sort());
  });

  it('gives a tampered envelope a typed error and commits the rest of the batch', async () => {
    const { relay, bob, alice, carol } = await setup();
    // Carol and Bob talked before: her messages are whisper messages of an established session.
    await carol.sendText(bob.accountId, 'c0');
    await relay.deliver(bob);
    await bob.sendText(carol.accountId, 'hi');
    await relay.deliver(carol);
    for (const t of ['a1', 'a2']) await alice.sendText(bob.accountId, t);
    for (const t of ['c1', 'c2']) await carol.sendText(bob.accountId, t);
    const batch = relay.queued(bob.accountId).splice(0);
    const last = batch.length - 1; // Carol's second message
    batch[last] = tamper(batch[last]!);
    const failures: Array<{ envelopeId: string; error?: Error }> = [];
    bob.on('decryptionFailed', (f) => failures.push(f));

    const acked = await bob.handleEnvelopes(batch);
    expect(acked).toEqual(batch.map((e) => e.id));
    expect(batch[last]!.type).toBe('message');
    expect(failures).toHaveLength(1);
    expect(failures[0]!.envelopeId).toBe(batch[last]!.id);
    expect(failures[0]!.error).toBeInstanceOf(ProtocolError);
    expect(await texts(bob, alice.accountId)).toEqual(['a1', 'a2']);
    expect(await texts(bob, carol.accountId)).toEqual(['c0', 'c1']);
  });

  it('rolls back an envelope whose processing fails, leaves it unacked, keeps the others', async () => {
    const { relay, backend, bob, alice } = await setup();
    const sent = [];
    for (const t of ['a1', 'a2', 'a3']) sent.push(await alice.sendText(bob.accountId, t));
    const batch = relay.queued(bob.accountId).splice(0);
    // Fails after a2 was decrypted (its ratchet step is in the transaction by then), in the
    // batch's second stage and again when the batch goes envelope by envelope.
    const dedupe = PROCESSED.message(alice.accountId, sent[1]!.id);
    backend.failRead = (store, key) => store === 'processed' && key === dedupe;
    backend.failReads = 2;

    const acked = await bob.handleEnvelopes(batch);
    expect(acked).toEqual([batch[0]!.id, batch[2]!.id]);
    expect(await texts(bob, alice.accountId)).toEqual(['a1', 'a3']);

    // Redelivered later, it decrypts: its ratchet step was undone with the rest of its writes.
    expect(await bob.handleEnvelopes([batch[1]!])).toEqual([batch[1]!.id]);
    expect((await texts(bob, alice.accountId)).sort()).toEqual(['a1', 'a2', 'a3']);
  });

  it('a failure while applying, gone on the envelope-by-envelope retry, loses nothing', async () => {
    const { relay, backend, bob, alice } = await setup();
    const sent = [];
    for (const t of ['b1', 'b2', 'b3']) sent.push(await alice.sendText(bob.accountId, t));
    const batch = relay.queued(bob.accountId).splice(0);
    const dedupe = PROCESSED.message(alice.accountId, sent[1]!.id);
    backend.failRead = (store, key) => store === 'processed' && key === dedupe;
    const commits = backend.commits;

    expect(await bob.handleEnvelopes(batch)).toEqual(batch.map((e) => e.id));
    expect(await texts(bob, alice.accountId)).toEqual(['b1', 'b2', 'b3']);
    // The failed attempt wrote nothing: one commit, the retry's.
    expect(backend.commits - commits).toBe(1);
  });
});
