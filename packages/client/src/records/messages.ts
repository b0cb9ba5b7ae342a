/**
 * Messages, conversation events and conversations: storage only. Events are announced through
 * the scope, so listeners hear of them only once they are committed.
 * @module
 */
import type { ClientContext, Scope } from '../context.ts';
import { newMessageId } from '../content/index.ts';
import { PROCESSED, messageKey } from '../keys.ts';
import type { ConversationEventKind, ConversationRecord, MessageRecord } from '../model.ts';
import type { StorageTx } from '../storage/index.ts';

/** Stores a message, indexes it by (sender, id) and updates its conversation. */
export async function storeMessage(tx: StorageTx, message: MessageRecord): Promise<void> {
  const key = messageKey(message.conversationId, message.timestamp, message.id);
  await tx.put('messages', key, message);
  await tx.put('processed', PROCESSED.messageIndex(message.senderAccountId, message.id), key);
  const conv = (await tx.get<ConversationRecord>('conversations', message.conversationId)) ?? {
    id: message.conversationId,
    kind: message.conversationId.startsWith('group:') ? 'group' : 'direct',
    peer: message.conversationId.slice(message.conversationId.indexOf(':') + 1),
    lastMessageAt: 0,
    unread: 0,
  };
  conv.lastMessageAt = Math.max(conv.lastMessageAt, message.timestamp);
  if (message.direction === 'in' && message.kind === 'text') conv.unread++;
  await tx.put('conversations', conv.id, conv);
}

/** Stores a conversation event ("safety number changed", "X joined") and announces it. */
export async function storeEvent(
  ctx: ClientContext,
  scope: Scope,
  conversationId: string,
  event: ConversationEventKind,
  subjects: string[],
  sender: { accountId: string; deviceId: number } | undefined = ctx.account,
  timestamp?: number,
): Promise<MessageRecord> {
  const now = ctx.now();
  const record: MessageRecord = {
    id: newMessageId(ctx.rng),
    conversationId,
    kind: 'event',
    direction: 'in',
    senderAccountId: sender?.accountId ?? '',
    senderDeviceId: sender?.deviceId ?? 0,
    timestamp: timestamp ?? now,
    storedAt: now,
    event,
    subjects,
  };
  await storeMessage(scope.tx, record);
  scope.emit('event', record);
  return record;
}

/** The (sender, id) index value of a removed message: no message key behind it. */
const REMOVED = 'removed';

/**
 * Deletes one stored message (`key`); reactions and edit history go with its record. Its
 * (sender, id) index keeps answering "already seen" (REMOVED), so a late copy is not stored again.
 */
export async function deleteStored(tx: StorageTx, key: string, m: MessageRecord): Promise<void> {
  await tx.delete('messages', key);
  await tx.put('processed', PROCESSED.messageIndex(m.senderAccountId, m.id), REMOVED);
  if (m.expireAt !== undefined) {
    await tx.delete('processed', PROCESSED.expiry(m.expireAt, m.senderAccountId, m.id));
  }
}

/** A message by its sender and id. */
export async function findMessage(
  tx: Pick<StorageTx, 'get'>,
  senderAccountId: string,
  id: string,
): Promise<{ key: string; message: MessageRecord } | undefined> {
  const key = await tx.get<string>('processed', PROCESSED.messageIndex(senderAccountId, id));
  if (!key) return undefined;
  const message = await tx.get<MessageRecord>('messages', key);
  return message ? { key, message } : undefined;
}

/** Changes a stored message in place; returns it, or undefined when it is not stored. */
export async function updateMessage(
  tx: StorageTx,
  senderAccountId: string,
  id: string,
  update: (m: MessageRecord) => void,
): Promise<MessageRecord | undefined> {
  const found = await findMessage(tx, senderAccountId, id);
  if (!found) return undefined;
  update(found.message);
  await tx.put('messages', found.key, found.message);
  return found.message;
}

/**
 * A message of a conversation by id alone (reactions, replies and edits name a message by id;
 * the conversation's messages are scanned, newest first).
 */
export async function findInConversation(
  tx: Pick<StorageTx, 'list'>,
  conversationId: string,
  id: string,
): Promise<MessageRecord | undefined> {
  const all = await tx.list<MessageRecord>('messages', `${conversationId}/`);
  for (let i = all.length - 1; i >= 0; i--) if (all[i]![1].id === id) return all[i]![1];
  return undefined;
}

export async function listMessages(
  tx: Pick<StorageTx, 'list'>,
  conversationId: string,
): Promise<MessageRecord[]> {
  return (await tx.list<MessageRecord>('messages', `${conversationId}/`)).map(([, v]) => v);
}

/**
 * Makes sure a (possibly empty) conversation exists, so it is listed before its first message:
 * a group a newly linked device learns of from our other device.
 */
export async function ensureConversation(
  tx: StorageTx,
  conversationId: string,
  at: number,
): Promise<void> {
  if (await tx.get<ConversationRecord>('conversations', conversationId)) return;
  await tx.put('conversations', conversationId, {
    id: conversationId,
    kind: conversationId.startsWith('group:') ? 'group' : 'direct',
    peer: conversationId.slice(conversationId.indexOf(':') + 1),
    lastMessageAt: at,
    unread: 0,
  } satisfies ConversationRecord);
}
