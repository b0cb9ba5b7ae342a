/**
 * History archives (history/archive.ts, import.ts, transfer.ts) without a relay: the snapshot
 * round-trips every stored field (also ones this code does not know), the import skips what is
 * already here and marks the rest processed, and a damaged archive imports nothing and leaves
 * an explanation.
 */
import { describe, expect, it } from 'vitest';
import { ClientContext, type ClientEvents } from '../src/context.ts';
import { Emitter } from '../src/events.ts';
import { decodeArchive, encodeArchive, snapshotHistory } from '../src/history/archive.ts';
import {
  HistoryTransfer,
  recordHistoryOffer,
  type HistoryTransport,
} from '../src/history/transfer.ts';
import { PROCESSED, META, messageKey } from '../src/keys.ts';
import {
  create,
  HistoryArchivePointerSchema,
  ProvisionMessageSchema,
} from '../src/content/index.ts';
import type { AccountRecord, ConversationRecord, MessageRecord } from '../src/model.ts';
import { MemoryBackend, Storage } from '../src/storage/index.ts';

const ME = 'a'.repeat(32);
const BOB = 'b'.repeat(32);

const account: AccountRecord = {
  accountId: ME,
  deviceId: 1,
  username: 'me',
  credential: 'c',
  registrationId: 1,
  identityKeyPair: new Uint8Array(1),
  relayUrl: 'http://127.0.0.1:1',
  createdAt: 0,
};

function message(i: number, extra: Partial<MessageRecord> = {}): MessageRecord {
  return {
    id: i.toString(16).padStart(32, '0'),
    conversationId: `direct:${BOB}`,
    kind: 'text',
    direction: i % 2 ? 'in' : 'out',
    senderAccountId: i % 2 ? BOB : ME,
    senderDeviceId: 1,
    timestamp: 1000 + i,
    storedAt: 1000 + i,
    text: `message ${i}`,
    ...extra,
  };
}

async function seed(storage: Storage, count: number): Promise<MessageRecord[]> {
  const messages = Array.from({ length: count }, (_, i) =>
    message(i, i === 3 ? { reactions: { [BOB]: '👍' }, status: 'read', readBy: [BOB] } : {}),
  );
  // A field from a later feature (attachments, timers) must survive untouched.
  (messages[4] as MessageRecord & { future?: unknown }).future = { bytes: new Uint8Array([1, 2]) };
  await storage.transaction(async (tx) => {
    for (const m of messages) {
      await tx.put('messages', messageKey(m.conversationId, m.timestamp, m.id), m);
    }
    await tx.put('conversations', `direct:${BOB}`, {
      id: `direct:${BOB}`,
      kind: 'direct',
      peer: BOB,
      lastMessageAt: 1000 + count,
      unread: 2,
    } satisfies ConversationRecord);
  });
  return messages;
}

/** A transport that keeps uploads in memory; `tamper` changes what downloads return. */
function memoryTransport(tamper: (b: Uint8Array) => Uint8Array = (b) => b): HistoryTransport {
  const blobs = new Map<string, Uint8Array>();
  return {
    async upload(ciphertext, options) {
      const id = `att${blobs.size}`;
      blobs.set(id, ciphertext.slice());
      options?.onProgress?.(ciphertext.length, ciphertext.length);
      return id;
    },
    async download(id) {
      return tamper(blobs.get(id)!.slice());
    },
  };
}

function context(storage: Storage) {
  const events = new Emitter<ClientEvents>();
  return { ctx: new ClientContext({ storage }, account, events), events };
}

/** The primary prepares, the new device records the offer and imports. */
async function transfer(
  from: Storage,
  to: Storage,
  transport: HistoryTransport,
): Promise<{
  events: Emitter<ClientEvents>;
  failed: Array<ClientEvents['historyTransferFailed']>;
}> {
  const primary = new HistoryTransfer(context(from).ctx, () => transport);
  const offer = await primary.prepare();
  expect(offer.history?.attachmentId).toBeTruthy();
  const { ctx, events } = context(to);
  const failed: Array<ClientEvents['historyTransferFailed']> = [];
  events.on('historyTransferFailed', (e) => failed.push(e));
  await to.transaction((tx) =>
    recordHistoryOffer(tx, create(ProvisionMessageSchema, { ...offer }), 0),
  );
  await new HistoryTransfer(ctx, () => transport).importPending();
  return { events, failed };
}

describe('history archive', () => {
  it('round-trips stored records, including fields it does not know', async () => {
    const storage = new Storage(new MemoryBackend());
    const messages = await seed(storage, 10);
    const archive = await storage.transaction((tx) => snapshotHistory(tx, ME, 5));
    const decoded = await decodeArchive(await encodeArchive(archive));
    expect(decoded.messages).toEqual(messages);
    expect(decoded.conversations.map((c) => c.unread)).toEqual([2]);
  });

  it('rejects archive bytes that are not an archive', async () => {
    const bad = [new Uint8Array([9, 1, 2]), new Uint8Array([0, ...new TextEncoder().encode('{}')])];
    for (const b of bad)
      await expect(decodeArchive(b)).rejects.toMatchObject({ code: 'malformed' });
  });

  it('imports in order, dedupes against what is here, and marks messages processed', async () => {
    const from = new Storage(new MemoryBackend());
    const messages = await seed(from, 50);
    const to = new Storage(new MemoryBackend());
    // One message already arrived live on the new device: it is not doubled.
    const live = messages[49]!;
    await to.transaction(async (tx) => {
      const key = messageKey(live.conversationId, live.timestamp, live.id);
      await tx.put('messages', key, live);
      await tx.put('processed', PROCESSED.messageIndex(live.senderAccountId, live.id), key);
    });
    const { failed } = await transfer(from, to, memoryTransport());
    expect(failed).toEqual([]);
    const stored = (await to.list<MessageRecord>('messages')).map(([, m]) => m);
    expect(stored).toEqual(messages);
    expect(stored[3]!.reactions).toEqual({ [BOB]: '👍' });
    expect(await to.get('processed', PROCESSED.message(BOB, messages[1]!.id))).toBeDefined();
    expect(await to.get('meta', META.history)).toMatchObject({ state: 'imported', messages: 49 });
  });

  it('a tampered download imports nothing and records why', async () => {
    const from = new Storage(new MemoryBackend());
    await seed(from, 20);
    const to = new Storage(new MemoryBackend());
    const tampered = memoryTransport((b) => {
      b[b.length - 3]! ^= 1;
      return b;
    });
    const { failed } = await transfer(from, to, tampered);
    expect(failed).toHaveLength(1);
    expect(failed[0]!.code).toBe('digest_mismatch');
    expect(failed[0]!.reason).toMatch(/^History could not be transferred: /);
    expect(await to.list('messages')).toEqual([]);
    expect(await to.get('meta', META.history)).toMatchObject({ state: 'failed' });
  });

  it('a wrong key imports nothing', async () => {
    const from = new Storage(new MemoryBackend());
    await seed(from, 5);
    const transport = memoryTransport();
    const offer = await new HistoryTransfer(context(from).ctx, () => transport).prepare();
    const to = new Storage(new MemoryBackend());
    const history = create(HistoryArchivePointerSchema, {
      ...offer.history!,
      key: new Uint8Array(32),
    });
    await to.transaction((tx) =>
      recordHistoryOffer(tx, create(ProvisionMessageSchema, { history }), 0),
    );
    const { ctx } = context(to);
    await new HistoryTransfer(ctx, () => transport).importPending();
    expect(await to.list('messages')).toEqual([]);
    expect(await to.get('meta', META.history)).toMatchObject({
      state: 'failed',
      code: 'decrypt_failed',
    });
  });

  it('a failed upload still links, telling the new device why', async () => {
    const from = new Storage(new MemoryBackend());
    await seed(from, 5);
    const broken: HistoryTransport = {
      upload: () => Promise.reject(new Error('quota exceeded')),
      download: () => Promise.reject(new Error('unreachable')),
    };
    const offer = await new HistoryTransfer(context(from).ctx, () => broken).prepare();
    expect(offer.history).toBeUndefined();
    expect(offer.historyFailure).toMatch(/quota exceeded/);
    const to = new Storage(new MemoryBackend());
    await to.transaction((tx) =>
      recordHistoryOffer(tx, create(ProvisionMessageSchema, { ...offer }), 0),
    );
    expect(await to.get('meta', META.history)).toMatchObject({
      state: 'failed',
      code: 'not_prepared',
    });
  });
});
