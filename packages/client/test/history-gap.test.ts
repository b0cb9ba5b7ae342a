/**
 * The history gap (history/gap.ts) without a relay: what the archive device puts in an answer,
 * and what the new device accepts — only the answer to its own request, from the device it
 * asked, once; a damaged answer leaves an explanation and nothing half-imported.
 */
import { describe, expect, it } from 'vitest';
import type { Envelope } from '@parley/protocol';
import { ClientContext, type ClientEvents } from '../src/context.ts';
import { Emitter } from '../src/events.ts';
import { encodeArchive } from '../src/history/archive.ts';
import {
  gapSince,
  HistoryGaps,
  GAP_ANSWER_TIMEOUT_MS,
  GAP_MARGIN_MS,
  MAX_GAP_MESSAGES,
} from '../src/history/gap.ts';
import type { HistoryTransport, StoredHistoryState } from '../src/history/transfer.ts';
import { create, HistoryGapSchema, HistoryGapRequestSchema } from '../src/content/index.ts';
import { META, messageKey } from '../src/keys.ts';
import type { AccountRecord, GroupRecord, MessageRecord } from '../src/model.ts';
import { MemoryBackend, Storage } from '../src/storage/index.ts';
import type { SelfSync } from '../src/sync/index.ts';

const ME = 'a'.repeat(32);
const BOB = 'b'.repeat(32);
const CAROL = 'c'.repeat(32);
const REQUEST = '0'.repeat(31) + '1';

const account = (deviceId: number): AccountRecord => ({
  accountId: ME,
  deviceId,
  username: 'me',
  credential: 'c',
  registrationId: 1,
  identityKeyPair: new Uint8Array(1),
  relayUrl: 'http://127.0.0.1:1',
  createdAt: 0,
});

const message = (i: number, peer = BOB, storedAt = 1000 + i): MessageRecord => ({
  id: i.toString(16).padStart(32, '0'),
  conversationId: `direct:${peer}`,
  kind: 'text',
  direction: 'in',
  senderAccountId: peer,
  senderDeviceId: 1,
  timestamp: 1000 + i,
  storedAt,
  text: `message ${i}`,
});

async function store(storage: Storage, messages: MessageRecord[]) {
  await storage.transaction(async (tx) => {
    for (const m of messages) {
      await tx.put('messages', messageKey(m.conversationId, m.timestamp, m.id), m);
      await tx.put('conversations', m.conversationId, {
        id: m.conversationId,
        kind: 'direct',
        peer: m.senderAccountId,
        lastMessageAt: m.timestamp,
        unread: 0,
      });
    }
  });
}

/** A device with `deviceId`, its sync sends captured instead of sent. */
function device(
  deviceId: number,
  transport: HistoryTransport = memoryTransport(),
  clock?: () => number,
) {
  const storage = new Storage(new MemoryBackend());
  const events = new Emitter<ClientEvents>();
  const ctx = new ClientContext(
    { storage, ...(clock ? { clock } : {}) },
    account(deviceId),
    events,
  );
  const sent: unknown[] = [];
  const selfSync = {
    send: async (_scope: unknown, value: unknown) => void sent.push(value),
  } as unknown as SelfSync;
  return { storage, events, ctx, sent, gaps: new HistoryGaps(ctx, selfSync, () => transport) };
}

function memoryTransport(): HistoryTransport & { blobs: Map<string, Uint8Array> } {
  const blobs = new Map<string, Uint8Array>();
  return {
    blobs,
    async upload(bytes) {
      const id = `att${blobs.size}`;
      blobs.set(id, bytes.slice());
      return id;
    },
    async download(id) {
      return blobs.get(id)!.slice();
    },
  };
}

const from = (deviceId: number) =>
  ({ sourceAccountId: ME, sourceDeviceId: deviceId }) as unknown as Envelope;

/** The new device (2) after importing an archive from device 1, waiting for the gap. */
async function waiting(clock?: () => number) {
  const d = device(2, undefined, clock);
  await d.storage.put('meta', META.history, {
    state: 'imported',
    messages: 0,
    conversations: 0,
    at: 0,
    gap: { state: 'requested', requestId: REQUEST, deviceId: 1 },
  } satisfies StoredHistoryState);
  return d;
}

async function answer(messages: MessageRecord[], accountId = ME) {
  const archive = await gapSince({ list: async () => [] }, accountId, 0, 0);
  archive.messages = messages;
  return create(HistoryGapSchema, { requestId: REQUEST, archive: await encodeArchive(archive) });
}

describe('history gap', () => {
  it('an answer holds the newest messages stored since, their conversations and left groups', async () => {
    const storage = new Storage(new MemoryBackend());
    const old = [message(1, BOB, 10), message(2, CAROL, 20)];
    const recent = Array.from({ length: MAX_GAP_MESSAGES + 10 }, (_, i) =>
      message(100 + i, BOB, 5000 + i),
    );
    await store(storage, [...old, ...recent]);
    await storage.transaction(async (tx) => {
      for (const [id, left] of [
        ['g1', true],
        ['g2', false],
      ] as const) {
        await tx.put('groups', id, { groupId: id, members: [], left } as unknown as GroupRecord);
      }
    });
    const delta = await storage.transaction((tx) => gapSince(tx, ME, 1000, 9999));
    expect(delta.messages).toHaveLength(MAX_GAP_MESSAGES);
    // The newest, in storage order; nothing from before `since`.
    expect(delta.messages[0]!.storedAt).toBe(5010);
    expect(delta.messages.at(-1)!.storedAt).toBe(5000 + MAX_GAP_MESSAGES + 9);
    expect(delta.conversations.map((c) => c.id)).toEqual([`direct:${BOB}`]);
    expect(delta.groups.map((g) => g.groupId)).toEqual(['g1']);
  });

  it('the archive device answers only requests naming it, from the margin before the archive', async () => {
    const d = device(1);
    await store(d.storage, [message(1, BOB, 100_000), message(2, BOB, 200_000)]);
    const request = (archiveDeviceId: number) =>
      create(HistoryGapRequestSchema, {
        requestId: REQUEST,
        archiveDeviceId,
        archiveCreatedAt: BigInt(200_000 + GAP_MARGIN_MS - 1),
      });
    await d.ctx.transaction((scope) => d.gaps.onRequest(scope, from(2), request(3)));
    await d.gaps.answerPending();
    expect(d.sent).toEqual([]);
    const answered = d.events.waitFor('historyGapAnswered');
    await d.ctx.transaction((scope) => d.gaps.onRequest(scope, from(2), request(1)));
    expect(await answered).toEqual({ deviceId: 2, messages: 1 });
    await d.gaps.answerPending();
    expect(d.sent).toHaveLength(1);
    expect(await d.storage.get('meta', META.historyGapAnswers)).toEqual([]);
  });

  it('a failed upload is tried again, then given up', async () => {
    const broken: HistoryTransport = {
      upload: () => Promise.reject(new Error('relay down')),
      download: () => Promise.reject(new Error('relay down')),
    };
    const d = device(1, broken);
    // Random text: too large to go inline.
    const noisy = Array.from({ length: 200 }, (_, i) => ({
      ...message(i, BOB, 100_000),
      text: Array.from(crypto.getRandomValues(new Uint8Array(300)), (b) => b.toString(36)).join(''),
    }));
    await store(d.storage, noisy);
    const failures: Array<ClientEvents['historyGapFailed']> = [];
    d.events.on('historyGapFailed', (f) => failures.push(f));
    await d.ctx.transaction((scope) =>
      d.gaps.onRequest(
        scope,
        from(2),
        create(HistoryGapRequestSchema, {
          requestId: REQUEST,
          archiveDeviceId: 1,
          archiveCreatedAt: 100_000n,
        }),
      ),
    );
    for (let i = 0; i < 4; i++) await d.gaps.answerPending();
    expect(failures.length).toBe(3);
    // The new device is told, in the transaction that drops the request.
    expect(d.sent).toEqual([
      {
        body: {
          case: 'historyGap',
          value: { requestId: REQUEST, archive: new Uint8Array(0), gaveUp: true },
        },
      },
    ]);
    expect(await d.storage.get('meta', META.historyGapAnswers)).toEqual([]);
  });

  it('the new device takes only the answer to its request, from the device it asked, once', async () => {
    const d = await waiting();
    const gap = await answer([message(1), message(2)]);
    // From another of our devices, or for another request: ignored.
    await d.ctx.transaction((scope) => d.gaps.onAnswer(scope, from(3), gap));
    const other = create(HistoryGapSchema, { ...gap, requestId: 'f'.repeat(32) });
    await d.ctx.transaction((scope) => d.gaps.onAnswer(scope, from(1), other));
    expect(await d.storage.list('messages')).toEqual([]);

    const filled = d.events.waitFor('historyGapFilled');
    await d.ctx.transaction((scope) => d.gaps.onAnswer(scope, from(1), gap));
    expect(await filled).toEqual({ messages: 2 });
    expect(await d.storage.list('messages')).toHaveLength(2);
    // A second answer (a retry crossing the first) changes nothing.
    await d.ctx.transaction((scope) =>
      d.gaps.onAnswer(scope, from(1), create(HistoryGapSchema, { ...gap })),
    );
    expect(await d.storage.list('messages')).toHaveLength(2);
    expect(await d.storage.get('meta', META.history)).toMatchObject({
      gap: { state: 'filled', messages: 2 },
    });
  });

  it('an archive device that gave up fails the wait with why; later answers change nothing', async () => {
    const d = await waiting();
    const failed = d.events.waitFor('historyGapFailed');
    const gaveUp = create(HistoryGapSchema, { requestId: REQUEST, gaveUp: true });
    await d.ctx.transaction((scope) => d.gaps.onAnswer(scope, from(1), gaveUp));
    expect(await failed).toMatchObject({ retry: false, reason: /could not send them/ });
    await d.ctx.transaction(async (scope) =>
      d.gaps.onAnswer(scope, from(1), await answer([message(1)])),
    );
    expect(await d.storage.list('messages')).toEqual([]);
    expect(await d.storage.get('meta', META.history)).toMatchObject({ gap: { state: 'failed' } });
  });

  it('an unanswered request fails after the timeout, and a late answer still fills it', async () => {
    let now = GAP_ANSWER_TIMEOUT_MS - 1; // the import was at 0
    const d = await waiting(() => now);
    await d.gaps.watch(); // not yet: still waiting
    d.gaps.stop();
    expect(await d.storage.get('meta', META.history)).toMatchObject({
      gap: { state: 'requested' },
    });
    now = GAP_ANSWER_TIMEOUT_MS;
    const failed = d.events.waitFor('historyGapFailed');
    await d.gaps.watch();
    expect(await failed).toMatchObject({ retry: false, reason: /has not sent them/ });
    expect(await d.storage.get('meta', META.history)).toMatchObject({
      gap: { state: 'failed', requestId: REQUEST, deviceId: 1 },
    });
    // The archive device comes back days later: its answer is still taken, from it only.
    const gap = await answer([message(1), message(2)]);
    await d.ctx.transaction((scope) => d.gaps.onAnswer(scope, from(3), gap));
    expect(await d.storage.list('messages')).toEqual([]);
    const filled = d.events.waitFor('historyGapFilled');
    await d.ctx.transaction((scope) => d.gaps.onAnswer(scope, from(1), gap));
    expect(await filled).toEqual({ messages: 2 });
    expect(await d.storage.get('meta', META.history)).toMatchObject({
      gap: { state: 'filled', messages: 2 },
    });
  });

  it('a damaged or foreign answer imports nothing and says why', async () => {
    for (const gap of [
      create(HistoryGapSchema, { requestId: REQUEST, archive: new Uint8Array([1, 2, 3]) }),
      await answer([message(1)], BOB),
    ]) {
      const d = await waiting();
      const failed = d.events.waitFor('historyGapFailed');
      await d.ctx.transaction((scope) => d.gaps.onAnswer(scope, from(1), gap));
      expect((await failed).reason).toMatch(/^History could not be transferred: /);
      expect(await d.storage.list('messages')).toEqual([]);
      expect(await d.storage.get('meta', META.history)).toMatchObject({
        state: 'imported',
        gap: { state: 'failed' },
      });
    }
  });

  it('a large answer comes by pointer and is fetched after the commit', async () => {
    const transport = memoryTransport();
    const primary = device(1, transport);
    const noisy = Array.from({ length: 200 }, (_, i) => ({
      ...message(i, BOB, 100_000),
      text: Array.from(crypto.getRandomValues(new Uint8Array(300)), (b) => b.toString(36)).join(''),
    }));
    await store(primary.storage, noisy);
    await primary.ctx.transaction((scope) =>
      primary.gaps.onRequest(
        scope,
        from(2),
        create(HistoryGapRequestSchema, {
          requestId: REQUEST,
          archiveDeviceId: 1,
          archiveCreatedAt: 100_000n,
        }),
      ),
    );
    await primary.gaps.answerPending();
    expect(transport.blobs.size).toBe(1);
    const sent = primary.sent[0] as { body: { value: Parameters<HistoryGaps['onAnswer']>[2] } };
    const gap = create(HistoryGapSchema, sent.body.value);
    expect(gap.archive).toHaveLength(0);

    const d = await waiting();
    const fresh = new HistoryGaps(d.ctx, {} as SelfSync, () => transport);
    const filled = d.events.waitFor('historyGapFilled');
    await d.ctx.transaction((scope) => fresh.onAnswer(scope, from(1), gap));
    expect(await filled).toEqual({ messages: 200 });
    expect(await d.storage.get('meta', META.history)).toMatchObject({
      gap: { state: 'filled' },
    });
    expect(await d.storage.list('messages')).toHaveLength(200);
  });
});
