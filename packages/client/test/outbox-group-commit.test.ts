/**
 * Group commit for sends: what the relay accepted in one outbox pass is recorded in one
 * transaction at its end; a crash before that commit resends with the same send ids, and the
 * relay stores nothing twice.
 */
import { describe, expect, it } from 'vitest';
import { MemoryBackend, Storage, type WriteOp } from '../src/storage/index.ts';
import { FakeRelay } from './support/fake-relay.ts';

/** Counts commits; can fail the next commit that empties the outbox (the pass's settle). */
class ProbeBackend extends MemoryBackend {
  commits = 0;
  failSettle = false;
  override async commit(ops: WriteOp[]): Promise<void> {
    if (this.failSettle && ops.some((op) => op.store === 'outbox' && op.value === undefined)) {
      this.failSettle = false;
      throw new TypeError('simulated crash before the settle committed');
    }
    this.commits++;
    return super.commit(ops);
  }
}

async function setup() {
  const relay = new FakeRelay();
  const backend = new ProbeBackend();
  const alice = await relay.client('alice', { storage: new Storage(backend) });
  const bob = await relay.client('bob');
  // A first message sets up the session; from now on each send is one encryption commit.
  await alice.sendText(bob.accountId, 'hello');
  await relay.deliver(bob);
  relay.queued(alice.accountId).splice(0); // the delivery receipt
  return { relay, backend, alice, bob };
}

describe('outbox group commit', () => {
  it('records every leg a pass sent in one transaction', async () => {
    const { relay, backend, alice, bob } = await setup();
    relay.down = true;
    for (const t of ['one', 'two', 'three']) await alice.sendText(bob.accountId, t);
    relay.down = false;
    const before = backend.commits;
    await alice.flushOutbox();
    // One encryption commit per message, then one commit for all three outcomes.
    expect(backend.commits - before).toBe(3 + 1);
    expect(await alice.flushOutbox()).toBeUndefined();
    const states = (await alice.messages(`direct:${bob.accountId}`)).map((m) => m.status);
    expect(states).toEqual(['sent', 'sent', 'sent', 'sent']);
  });

  it('resends with the same send ids after a crash before that commit; stored once', async () => {
    const { relay, backend, alice, bob } = await setup();
    relay.down = true;
    for (const t of ['one', 'two']) await alice.sendText(bob.accountId, t);
    relay.down = false;
    const stored = relay.stored;
    backend.failSettle = true;
    await expect(alice.flushOutbox()).rejects.toThrow('simulated crash');
    expect(relay.stored - stored).toBe(2);
    await alice.flushOutbox(); // sent again: the relay answers from its record, stores nothing
    expect(relay.stored - stored).toBe(2);
    await relay.deliver(bob);
    const texts = (await bob.messages(`direct:${alice.accountId}`)).map((m) => m.text);
    expect(texts).toEqual(['hello', 'one', 'two']);
    const states = (await alice.messages(`direct:${bob.accountId}`)).map((m) => m.status);
    expect(states.slice(1)).toEqual(['sent', 'sent']);
  });
});
