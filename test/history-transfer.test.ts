/**
 * Message history on a newly linked device (issue 17, part 3), against the real relay: 1,000
 * messages across 1:1 and group conversations, with reactions and read statuses, arrive on a
 * new device in order, with senders, statuses and reactions; new messages continue in the same
 * conversations. A declined transfer gives a working device without history; a tampered archive
 * imports nothing, says why, and leaves the device working.
 */
import { describe, expect, it } from 'vitest';
import { ParleyClient, type MessageRecord } from '@parley/client';
import { clientOptions, newStorage, registeredClient, until } from './support/clients.ts';
import { useRelay } from './support/use-relay.ts';
import type { FetchLike } from '@parley/client/relay.js';

const { relay, track } = useRelay<ParleyClient>();

/** What the new device must show of each message, as the primary has it. */
const shown = (m: MessageRecord) => ({
  id: m.id,
  kind: m.kind,
  direction: m.direction,
  senderAccountId: m.senderAccountId,
  timestamp: m.timestamp,
  text: m.text,
  status: m.status,
  reactions: m.reactions,
  readBy: m.readBy,
});

/** Sends `count` texts through `send`, `parallel` at a time (the outbox batches its commits). */
async function sendMany(count: number, send: (i: number) => Promise<unknown>, parallel = 100) {
  for (let i = 0; i < count; i += parallel) {
    await Promise.all(Array.from({ length: Math.min(parallel, count - i) }, (_, j) => send(i + j)));
  }
}

async function countIn(client: ParleyClient, conversationId: string): Promise<number> {
  return (await client.messages(conversationId)).filter((m) => m.kind === 'text').length;
}

/** Links a new device of `primary`'s account, approving with or without history. */
async function link(
  primary: ParleyClient,
  transferHistory: boolean,
  fetch?: FetchLike,
): Promise<ParleyClient> {
  let approval: Promise<void> | undefined;
  const device = await ParleyClient.link(
    {
      ...clientOptions(relay.url, await newStorage(), fetch ? { fetch } : {}),
      relayUrl: relay.url,
    },
    (uri) => {
      approval = primary.approveLink(uri, { transferHistory });
    },
  );
  await approval;
  return track(device);
}

describe('history transfer', () => {
  it(
    'moves 1,000 messages with senders, statuses and reactions to a new device',
    { timeout: 300_000 },
    async () => {
      const alice = track(await registeredClient(relay.url, 'ht_alice'));
      const bob = track(await registeredClient(relay.url, 'ht_bob'));
      const carol = track(await registeredClient(relay.url, 'ht_carol'));
      await alice.addContact('ht_bob');
      await alice.addContact('ht_carol');
      await bob.addContact('ht_alice');
      await carol.addContact('ht_alice');
      const group = await alice.createGroup('history', [bob.accountId, carol.accountId]);
      const withBob = `direct:${bob.accountId}`;
      const withCarol = `direct:${carol.accountId}`;
      const inGroup = `group:${group.groupId}`;
      await until(bob, 'group', async () => (await bob.group(group.groupId)) !== undefined);
      await until(carol, 'group', async () => (await carol.group(group.groupId)) !== undefined);

      // 1,000 texts: 400 with Bob (both ways), 200 with Carol, 400 in the group (all three).
      // Receivers are offline while others send: the backlog then arrives in batches.
      await Promise.all([bob.stop(), carol.stop()]);
      await sendMany(200, (i) => alice.sendText(bob.accountId, `a→b ${i}`));
      await sendMany(100, (i) => alice.sendText(carol.accountId, `a→c ${i}`));
      await sendMany(200, (i) => alice.sendGroupText(group.groupId, `a→g ${i}`));
      await alice.stop();
      await Promise.all([bob.start(), carol.start()]);
      await sendMany(200, (i) => bob.sendText(alice.accountId, `b→a ${i}`));
      await sendMany(100, (i) => bob.sendGroupText(group.groupId, `b→g ${i}`));
      await sendMany(100, (i) => carol.sendText(alice.accountId, `c→a ${i}`));
      await sendMany(100, (i) => carol.sendGroupText(group.groupId, `c→g ${i}`));
      await alice.start();
      const expected: Record<string, number> = { [withBob]: 400, [withCarol]: 200, [inGroup]: 400 };
      for (const [id, n] of Object.entries(expected)) {
        await until(alice, 'message', async () => (await countIn(alice, id)) === n);
      }

      // Bob read Alice's texts and reacted to some; Alice reacted to one of Carol's and read all.
      const toBob = (await alice.messages(withBob)).filter((m) => m.direction === 'out');
      await until(
        bob,
        'message',
        async () => (await countIn(bob, `direct:${alice.accountId}`)) === 400,
      );
      await bob.markRead(`direct:${alice.accountId}`);
      for (const m of toBob.slice(0, 5)) await bob.react(`direct:${alice.accountId}`, m.id, '👍');
      const fromCarol = (await alice.messages(withCarol)).find((m) => m.direction === 'in')!;
      await alice.react(withCarol, fromCarol.id, '❤️');
      for (const id of Object.keys(expected)) await alice.markRead(id);
      // Every receipt is in before the snapshot (Carol's delivery receipts too).
      await until(alice, 'status', async () =>
        (await alice.messages(withCarol)).every(
          (m) => m.direction === 'in' || m.status === 'delivered',
        ),
      );
      await until(alice, 'status', async () =>
        (await alice.messages(withBob)).every((m) => m.direction === 'in' || m.status === 'read'),
      );
      await until(alice, 'messageChanged', async () => {
        const ms = await alice.messages(withBob);
        return toBob.slice(0, 5).every((t) => ms.find((m) => m.id === t.id)?.reactions);
      });

      // Alice links a new device with history: progress on both sides, then everything is there.
      const primaryPhases = new Set<string>();
      alice.on('historyTransferProgress', (p) => primaryPhases.add(p.phase));
      const alice2 = await link(alice, true);
      expect([...primaryPhases]).toEqual(['building', 'uploading']);
      const newPhases = new Set<string>();
      alice2.on('historyTransferProgress', (p) => newPhases.add(p.phase));
      const finished = alice2.waitFor('historyTransferFinished');
      await alice2.start();
      expect((await finished).messages).toBeGreaterThanOrEqual(1000);
      expect([...newPhases]).toEqual(['downloading', 'importing']);
      expect(await alice2.historyTransferState()).toMatchObject({ state: 'imported' });

      for (const id of Object.keys(expected)) {
        const theirs = (await alice.messages(id)).map(shown);
        const ours = (await alice2.messages(id)).map(shown);
        expect(ours).toEqual(theirs);
      }
      const texts = (await alice2.messages(withBob)).filter((m) => m.kind === 'text');
      expect(texts).toHaveLength(400);
      expect(texts.filter((m) => m.direction === 'out').every((m) => m.status === 'read')).toBe(
        true,
      );
      expect(texts.filter((m) => m.reactions?.[bob.accountId] === '👍')).toHaveLength(5);
      const carolsText = (await alice2.messages(withCarol)).find((m) => m.id === fromCarol.id);
      expect(carolsText?.reactions).toEqual({ [alice.accountId]: '❤️' });
      expect(carolsText?.senderAccountId).toBe(carol.accountId);
      const groupSenders = new Set((await alice2.messages(inGroup)).map((m) => m.senderAccountId));
      expect(groupSenders).toEqual(new Set([alice.accountId, bob.accountId, carol.accountId]));

      // New messages continue in the same conversations, once each.
      await alice2.announceToOwnDevices();
      await bob.sendText(alice.accountId, 'after the transfer');
      await bob.sendGroupText(group.groupId, 'group after the transfer');
      await until(alice2, 'message', async () => (await countIn(alice2, withBob)) === 401);
      await until(alice2, 'message', async () => (await countIn(alice2, inGroup)) === 401);
      const last = (await alice2.messages(withBob)).at(-1)!;
      expect(last.text).toBe('after the transfer');
      expect((await alice2.conversations()).map((c) => c.id).sort()).toEqual(
        Object.keys(expected).sort(),
      );
      // And the new device writes in them.
      await alice2.sendText(bob.accountId, 'from the new device');
      await until(
        bob,
        'message',
        async () =>
          (await bob.messages(`direct:${alice.accountId}`)).at(-1)?.text === 'from the new device',
      );
    },
  );

  it('a declined transfer gives a working device without history', async () => {
    const alice = track(await registeredClient(relay.url, 'hd_alice'));
    const bob = track(await registeredClient(relay.url, 'hd_bob'));
    await alice.addContact('hd_bob');
    await alice.sendText(bob.accountId, 'before linking');
    const alice2 = await link(alice, false);
    await alice2.start();
    expect(await alice2.historyTransferState()).toEqual({ state: 'declined' });
    expect(await alice2.messages(`direct:${bob.accountId}`)).toEqual([]);
    await alice2.announceToOwnDevices();
    await bob.sendText(alice.accountId, 'hello new device');
    await until(
      alice2,
      'message',
      async () => (await countIn(alice2, `direct:${bob.accountId}`)) === 1,
    );
  });

  it('a tampered archive imports nothing, says why, and the device still works', async () => {
    const alice = track(await registeredClient(relay.url, 'hf_alice'));
    const bob = track(await registeredClient(relay.url, 'hf_bob'));
    await alice.addContact('hf_bob');
    await alice.sendText(bob.accountId, 'before linking');
    // The new device downloads through a fetch that flips one byte of every attachment.
    const tampering: FetchLike = async (input, init) => {
      const res = await fetch(input, init);
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      if (!/\/v1\/attachments\//.test(url) || (init?.method ?? 'GET') !== 'GET' || !res.ok) {
        return res;
      }
      const body = new Uint8Array(await res.arrayBuffer());
      if (body.length > 0) body[body.length >> 1]! ^= 1;
      return new Response(body, { status: res.status, headers: res.headers });
    };
    const alice2 = await link(alice, true, tampering);
    const failed = alice2.waitFor('historyTransferFailed');
    await alice2.start();
    const why = await failed;
    expect(why.code).toBe('digest_mismatch');
    expect(why.reason).toMatch(/^History could not be transferred: /);
    expect(await alice2.historyTransferState()).toMatchObject({
      state: 'failed',
      reason: why.reason,
    });
    expect(await alice2.messages(`direct:${bob.accountId}`)).toEqual([]);
    await alice2.announceToOwnDevices();
    await bob.sendText(alice.accountId, 'still works');
    await until(
      alice2,
      'message',
      async () => (await countIn(alice2, `direct:${bob.accountId}`)) === 1,
    );
  });
  it('a dropped download is resumed by the transport and the history still arrives', async () => {
    const alice = track(await registeredClient(relay.url, 'hr_alice'));
    const bob = track(await registeredClient(relay.url, 'hr_bob'));
    await alice.addContact('hr_bob');
    const sent = await alice.sendText(bob.accountId, 'before linking');
    // The connection drops on the first attachment download request.
    let dropped = 0;
    const flaky: FetchLike = async (input, init) => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      if (/\/v1\/attachments\//.test(url) && (init?.method ?? 'GET') === 'GET' && dropped === 0) {
        dropped++;
        throw new TypeError('fetch failed: connection reset');
      }
      return fetch(input, init);
    };
    const alice2 = await link(alice, true, flaky);
    await alice2.start();
    expect(dropped).toBe(1);
    expect(await alice2.historyTransferState()).toMatchObject({ state: 'imported', messages: 1 });
    expect((await alice2.messages(`direct:${bob.accountId}`)).map((m) => m.id)).toEqual([sent.id]);
  });
});
