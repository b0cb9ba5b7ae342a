/**
 * Message requests and blocking, as modules: what goes back to a stranger (only delivery
 * receipts), what a blocked account gets (nothing), and who counts as accepted.
 */
import { describe, expect, it } from 'vitest';
import { BlockedContactError, type ParleyClient } from '@parley/client';
import { FakeRelay } from './support/fake-relay.ts';

const conversation = async (c: ParleyClient, id: string) =>
  (await c.conversations()).find((x) => x.id === id);

describe('message requests', () => {
  it('answers a stranger with a delivery receipt only, until accepted', async () => {
    const relay = new FakeRelay();
    const alice = await relay.client('alice');
    const bob = await relay.client('bob');
    const conv = `direct:${bob.accountId}`;
    await bob.sendText(alice.accountId, 'hello');
    await relay.deliver(alice);
    await alice.flushOutbox();
    expect((await conversation(alice, conv))?.request).toBe(true);
    expect(relay.queued(bob.accountId)).toHaveLength(1); // the delivery receipt

    await alice.markRead(conv);
    await alice.sendTyping(bob.accountId, true);
    expect(relay.queued(bob.accountId)).toHaveLength(1); // nothing more

    await alice.acceptRequest(conv);
    expect((await conversation(alice, conv))?.request).toBeUndefined();
    expect(relay.queued(bob.accountId)).toHaveLength(2); // the read receipt held back
    await alice.sendTyping(bob.accountId, true);
    expect(relay.queued(bob.accountId)).toHaveLength(3);
  });

  it('counts a conversation we start, and members we choose for a group, as accepted', async () => {
    const relay = new FakeRelay();
    const alice = await relay.client('alice');
    const bob = await relay.client('bob');
    const carol = await relay.client('carol');
    await alice.sendText(bob.accountId, 'hi bob');
    await alice.createGroup('g', [carol.accountId]);
    await bob.sendText(alice.accountId, 'hi alice');
    await carol.sendText(alice.accountId, 'hi alice');
    await relay.deliver(alice);
    for (const peer of [bob, carol]) {
      const c = await conversation(alice, `direct:${peer.accountId}`);
      expect(c).toBeDefined();
      expect(c?.request).toBeUndefined();
    }
  });

  it('counts someone we wrote to before requests existed as accepted', async () => {
    const relay = new FakeRelay();
    const alice = await relay.client('alice');
    const bob = await relay.client('bob');
    await alice.sendText(bob.accountId, 'from the old days');
    // As stored before requests existed: the contact has no `accepted`.
    const { accepted: _a, ...old } = (await alice.contact(bob.accountId))!;
    await alice.storage.put('contacts', bob.accountId, old);
    await bob.sendText(alice.accountId, 'still here');
    await relay.deliver(alice);
    expect((await conversation(alice, `direct:${bob.accountId}`))?.request).toBeUndefined();
    expect((await alice.contact(bob.accountId))?.accepted).toBe(true); // recorded on the way
  });

  it('deletes a request with its messages', async () => {
    const relay = new FakeRelay();
    const alice = await relay.client('alice');
    const bob = await relay.client('bob');
    await bob.sendText(alice.accountId, 'spam');
    await relay.deliver(alice);
    await alice.deleteRequest(`direct:${bob.accountId}`);
    expect(await conversation(alice, `direct:${bob.accountId}`)).toBeUndefined();
    expect(await alice.messages(`direct:${bob.accountId}`)).toEqual([]);
  });

  it('makes a group a stranger adds us to a request, and remembers who added us', async () => {
    const relay = new FakeRelay();
    const alice = await relay.client('alice');
    const bob = await relay.client('bob');
    const g = await bob.createGroup('hi', [alice.accountId]);
    await relay.deliver(alice);
    expect(await alice.group(g.groupId)).toMatchObject({ request: true, invitedBy: bob.accountId });
    expect((await conversation(alice, `group:${g.groupId}`))?.request).toBe(true);
    await alice.sendGroupText(g.groupId, 'writing accepts it');
    expect((await alice.group(g.groupId))?.request).toBeUndefined();
  });
});

describe('blocking', () => {
  it('drops what a blocked account sends, with no receipt, and refuses to write to it', async () => {
    const relay = new FakeRelay();
    const alice = await relay.client('alice');
    const bob = await relay.client('bob');
    await alice.block(bob.accountId);
    expect((await alice.contact(bob.accountId))?.blocked).toBe(true);
    await expect(alice.sendText(bob.accountId, 'x')).rejects.toBeInstanceOf(BlockedContactError);

    await bob.sendText(alice.accountId, 'let me in');
    await relay.deliver(alice);
    await alice.flushOutbox();
    const texts = (await alice.messages(`direct:${bob.accountId}`)).map((m) => m.text);
    expect(texts).not.toContain('let me in');
    expect(relay.queued(bob.accountId)).toHaveLength(0);

    await alice.unblock(bob.accountId);
    await bob.sendText(alice.accountId, 'now?');
    await relay.deliver(alice);
    await alice.flushOutbox();
    expect((await alice.messages(`direct:${bob.accountId}`)).map((m) => m.text)).toContain('now?');
    expect(relay.queued(bob.accountId)).toHaveLength(1);
  });

  it('ignores a group invitation from a blocked account', async () => {
    const relay = new FakeRelay();
    const alice = await relay.client('alice');
    const bob = await relay.client('bob');
    await alice.block(bob.accountId);
    const g = await bob.createGroup('trap', [alice.accountId]);
    await relay.deliver(alice);
    expect(await alice.group(g.groupId)).toBeUndefined();
  });
});
