/**
 * The history archive: a snapshot of this device's conversations and messages, as the records
 * are stored (so fields added by later features — attachments, disappearing timers — travel
 * without this file knowing them), plus group records for groups the provisioning message does
 * not carry (left ones).
 *
 *   archive = gzip(storage-codec JSON of { format: "parley-history", version: 1, createdAt,
 *                                          accountId, conversations, messages, groups })
 *
 * Messages are listed in storage-key order (by conversation, then chronologically). Parsing is
 * bounded: the decompressed size, the number of records and each record's shape are checked,
 * and anything off is a `malformed` error.
 * @module
 */
import type { ConversationRecord, GroupRecord, MessageRecord } from '../model.ts';
import { decodeValue, encodeValue } from '../storage/codec.ts';
import type { StorageTx, StorageValue } from '../storage/types.ts';
import { HistoryTransferError } from './errors.ts';

export const ARCHIVE_FORMAT = 'parley-history';
export const ARCHIVE_VERSION = 1;
/** Largest decompressed archive accepted (bounds memory on the new device). */
export const MAX_ARCHIVE_BYTES = 256 * 1024 * 1024;
/** Most messages one archive may hold. */
export const MAX_ARCHIVE_MESSAGES = 500_000;

export interface HistoryArchive {
  format: typeof ARCHIVE_FORMAT;
  version: number;
  createdAt: number;
  accountId: string;
  conversations: ConversationRecord[];
  messages: MessageRecord[];
  groups: GroupRecord[];
}

/** Reads the snapshot inside one transaction, so it is consistent. */
export async function snapshotHistory(
  tx: Pick<StorageTx, 'list'>,
  accountId: string,
  now: number,
): Promise<HistoryArchive> {
  const conversations = (await tx.list<ConversationRecord>('conversations')).map(([, c]) => {
    const copy = { ...c };
    delete copy.request; // worked out when listed, never stored
    return copy;
  });
  const messages = (await tx.list<MessageRecord>('messages')).map(([, m]) => m);
  const groups = (await tx.list<GroupRecord>('groups')).map(([, g]) => g);
  return {
    format: ARCHIVE_FORMAT,
    version: ARCHIVE_VERSION,
    createdAt: now,
    accountId,
    conversations,
    messages,
    groups,
  };
}

/** Gzip where the platform has CompressionStream (Node 20, Chromium); else as it is. */
async function pipe(bytes: Uint8Array, stream: GenericTransformStream, limit: number) {
  const reader = new Blob([bytes as Uint8Array<ArrayBuffer>])
    .stream()
    .pipeThrough(stream as unknown as TransformStream<Uint8Array, Uint8Array>)
    .getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > limit) {
      await reader.cancel();
      throw new HistoryTransferError('too_large', 'the history archive is larger than allowed');
    }
    parts.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const GZIP = 1;
const PLAIN = 0;

/** `archive` as bytes: one flag byte (gzip or not), then the encoded archive. */
export async function encodeArchive(archive: HistoryArchive): Promise<Uint8Array> {
  const json = encodeValue(archive as unknown as StorageValue);
  if (typeof CompressionStream === 'undefined') return withFlag(PLAIN, json);
  return withFlag(GZIP, await pipe(json, new CompressionStream('gzip'), Number.MAX_SAFE_INTEGER));
}

function withFlag(flag: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.length + 1);
  out[0] = flag;
  out.set(body, 1);
  return out;
}

/** Parses archive bytes, checking bounds and shapes; throws `HistoryTransferError`. */
export async function decodeArchive(bytes: Uint8Array): Promise<HistoryArchive> {
  let json: Uint8Array;
  let value: unknown;
  try {
    if (bytes[0] === GZIP) {
      json = await pipe(bytes.subarray(1), new DecompressionStream('gzip'), MAX_ARCHIVE_BYTES);
    } else if (bytes[0] === PLAIN) {
      json = bytes.subarray(1);
    } else {
      throw new HistoryTransferError('malformed', 'the history archive has an unknown compression');
    }
    if (json.length > MAX_ARCHIVE_BYTES) {
      throw new HistoryTransferError('too_large', 'the history archive is larger than allowed');
    }
    value = decodeValue(json);
  } catch (cause) {
    if (cause instanceof HistoryTransferError) throw cause;
    throw new HistoryTransferError('malformed', 'the history archive could not be read', { cause });
  }
  return checkArchive(value);
}

const malformed = (what: string) =>
  new HistoryTransferError('malformed', `the history archive is malformed (${what})`);

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array);
const CONVERSATION_ID = /^(direct|group):[^/]+$/;

function checkArchive(v: unknown): HistoryArchive {
  if (!isObject(v) || v.format !== ARCHIVE_FORMAT) throw malformed('not a history archive');
  if (typeof v.version !== 'number' || v.version > ARCHIVE_VERSION) {
    throw new HistoryTransferError(
      'unsupported_version',
      `history archive version ${String(v.version)} is newer than this version understands`,
    );
  }
  const { conversations, messages, groups } = v;
  if (!Array.isArray(conversations) || !Array.isArray(messages) || !Array.isArray(groups)) {
    throw malformed('lists missing');
  }
  if (messages.length > MAX_ARCHIVE_MESSAGES) {
    throw new HistoryTransferError('too_large', 'the history archive holds too many messages');
  }
  for (const c of conversations) {
    if (!isObject(c) || typeof c.id !== 'string' || !CONVERSATION_ID.test(c.id)) {
      throw malformed('conversation');
    }
    if (typeof c.lastMessageAt !== 'number' || typeof c.unread !== 'number') {
      throw malformed('conversation');
    }
  }
  for (const m of messages) {
    if (
      !isObject(m) ||
      typeof m.id !== 'string' ||
      m.id.length === 0 ||
      m.id.includes('/') ||
      typeof m.conversationId !== 'string' ||
      !CONVERSATION_ID.test(m.conversationId) ||
      typeof m.senderAccountId !== 'string' ||
      typeof m.senderDeviceId !== 'number' ||
      !Number.isSafeInteger(m.timestamp) ||
      (m.timestamp as number) < 0 ||
      (m.kind !== 'text' && m.kind !== 'event') ||
      (m.direction !== 'in' && m.direction !== 'out')
    ) {
      throw malformed('message');
    }
  }
  for (const g of groups) {
    if (!isObject(g) || typeof g.groupId !== 'string' || !Array.isArray(g.members)) {
      throw malformed('group');
    }
  }
  return v as unknown as HistoryArchive;
}
