/**
 * 1:1 messaging against the real relay process: both ways, receipts, offline delivery of a
 * queued backlog, and a relay restart mid-conversation with nothing lost or duplicated.
 */
import { describe, expect, it } from 'vitest';
import { ParleyClient } from '@parley/client';
import { clientOptions, inbox, newStorage, registeredClient } from './support/clients.ts';
import { useRelay } from './support/use-relay.ts';

const { relay, clients } = useRelay<ParleyClient>();

async function client(name: string, opts: Parameters<typeof registeredClient>[2] = {}) {
  const c = await registeredClient(relay.url, name, opts);
  clients.push(c);
  return c;
}

describe('1:1 messaging', () => {
  it('delivers both ways, with delivery and read receipts', async () => {
    const alice = await client('alice', { sqlite: true });
    const bob = await client('bob');
    const bobInbox = inbox(bob);
    const aliceInbox = inbox(alice);

    await alice.addContact('bob');
    const sent = await alice.sendText(bob.accountId, 'hello bob');
    expect(['sent', 'delivered']).toContain(sent.status);
    const [got] = await bobInbox.waitFor(1);
    expect(got).toMatchObject({
      text: 'hello bob',
      direction: 'in',
      senderAccountId: alice.accountId,
      conversationId: `direct:${alice.accountId}`,
    });

    await bob.sendText(alice.accountId, 'hi alice');
    const [reply] = await aliceInbox.waitFor(1);
    expect(reply!.text).toBe('hi alice');

    // Bob's client sent a delivery receipt automatically; reading sends a read receipt.
    const readSeen = alice.waitFor('status', (s) => s.id === sent.id && s.status === 'read');
    await bob.markRead(`direct:${alice.accountId}`);
    await readSeen;
    const [stored] = await alice.messages(`direct:${bob.accountId}`);
    expect(stored).toMatchObject({ id: sent.id, status: 'read', readBy: [bob.accountId] });

    // Both sides keep the conversation in order.
    expect((await bob.messages(`direct:${alice.accountId}`)).map((m) => m.text)).toEqual([
      'hello bob',
      'hi alice',
    ]);
  });

  it('delivers a backlog queued while the recipient was offline (days of messages)', async () => {
    let now = Date.UTC(2026, 0, 1);
    const carol = await client('carol', { clock: () => now });
    const dave = await client('dave');
    await dave.stop(); // offline
    const total = 30;
    for (let i = 0; i < total; i++) {
      now += 3 * 3600_000; // one message every three (simulated) hours: almost four days
      await carol.sendText(dave.accountId, `queued ${i}`);
    }
    const daveInbox = inbox(dave);
    await dave.start(); // resolves after the backlog was drained (queue_empty)
    expect(daveInbox.texts()).toEqual(Array.from({ length: total }, (_, i) => `queued ${i}`));
    const stored = await dave.messages(`direct:${carol.accountId}`);
    expect(stored).toHaveLength(total);
    expect(stored.at(-1)!.timestamp - stored[0]!.timestamp).toBe((total - 1) * 3 * 3600_000);
  });

  it('survives a relay restart mid-conversation: nothing lost, nothing duplicated', async () => {
    const erin = await client('erin', { sqlite: true });
    const frank = await client('frank', { sqlite: true });
    const frankInbox = inbox(frank);
    for (let i = 0; i < 5; i++) await erin.sendText(frank.accountId, `before ${i}`);
    await frankInbox.waitFor(5);

    await relay.stop();
    // While the relay is down a send is queued (stored, shown, retried by itself).
    const during = await erin.sendText(frank.accountId, 'during');
    expect(during.status).toBe('queued');
    const sent = erin.waitFor('status', (s) => s.id === during.id && s.status !== 'queued');
    await relay.restart();

    // Both clients reconnect by themselves; the outbox is flushed once Erin's socket drains.
    await frankInbox.waitFor(6);
    expect((await sent).status).not.toBe('failed');
    for (let i = 0; i < 5; i++) await erin.sendText(frank.accountId, `after ${i}`);
    await frankInbox.waitFor(11);
    const texts = (await frank.messages(`direct:${erin.accountId}`)).map((m) => m.text);
    expect(texts.sort()).toEqual(
      [
        ...Array.from({ length: 5 }, (_, i) => `before ${i}`),
        'during',
        ...Array.from({ length: 5 }, (_, i) => `after ${i}`),
      ].sort(),
    );
    expect(new Set(frankInbox.messages.map((m) => m.id)).size).toBe(11);
  });

  it('keeps state across restarts of the client itself (SQLite, encrypted at rest)', async () => {
    const storage = await newStorage(true);
    const gina = await ParleyClient.open(clientOptions(relay.url, storage));
    await gina.register('gina');
    const hank = await client('hank');
    await gina.sendText(hank.accountId, 'one');
    // Re-open from the same storage: same account, sessions intact.
    const again = await ParleyClient.open(clientOptions(relay.url, storage));
    expect(again.accountId).toBe(gina.accountId);
    const hankInbox = inbox(hank);
    await again.sendText(hank.accountId, 'two');
    await hankInbox.waitFor(1, (m) => m.text === 'two');
    expect((await hank.messages(`direct:${gina.accountId}`)).map((m) => m.text)).toEqual([
      'one',
      'two',
    ]);
  });
});
