/**
 * When disappearing messages go: a message's countdown starts once it is read on this device or
 * another of ours (for our own messages: once sent, or once the transcript of it arrives), and
 * it is then indexed by the time it is due (`PROCESSED.expiry`), so a sweep reads only what is
 * due instead of every message. Removal deletes the record (with its reactions and edit history)
 * and drops the quoted text from replies to it.
 * @module
 */
import type { ClientContext, Scope } from '../context.ts';
import { PROCESSED, messageKey } from '../keys.ts';
import type { MessageRecord } from '../model.ts';
import { deleteStored } from '../records/messages.ts';
import type { StorageTx } from '../storage/index.ts';

/** Called with a new due time once its transaction committed (the sweeper's scheduler). */
const schedulers = new WeakMap<ClientContext, (expireAt: number) => void>();

export function onCountdown(ctx: ClientContext, schedule: (expireAt: number) => void): void {
  schedulers.set(ctx, schedule);
}

/**
 * Starts `m`'s countdown (if it disappears and its countdown has not started): sets `expireAt`
 * and indexes it. The caller stores `m` in the same transaction.
 */
export async function startCountdown(
  ctx: ClientContext,
  scope: Scope,
  m: MessageRecord,
): Promise<void> {
  if (!m.expiresIn || m.expireAt !== undefined) return;
  const expireAt = ctx.now() + m.expiresIn * 1000;
  m.expireAt = expireAt;
  const key = messageKey(m.conversationId, m.timestamp, m.id);
  await scope.tx.put('processed', PROCESSED.expiry(expireAt, m.senderAccountId, m.id), key);
  scope.emit(() => schedulers.get(ctx)?.(expireAt));
}

/**
 * Starts the countdown of every read incoming message of a conversation that has not started
 * (read by a path that does not know about timers: an accepted message request).
 */
export async function startReadCountdowns(
  ctx: ClientContext,
  scope: Scope,
  conversationId: string,
): Promise<void> {
  for (const [key, m] of await scope.tx.list<MessageRecord>('messages', `${conversationId}/`)) {
    if (m.direction !== 'in' || m.status !== 'read' || !m.expiresIn || m.expireAt !== undefined)
      continue;
    await startCountdown(ctx, scope, m);
    await scope.tx.put('messages', key, m);
  }
}

/** The due time of an expiry index key. */
function dueOf(indexKey: string): number {
  return Number(indexKey.slice(PROCESSED.expiryPrefix.length).split(':', 1)[0]);
}

/** When the next message is due, if any. */
export async function nextDue(tx: Pick<StorageTx, 'list'>): Promise<number | undefined> {
  const [first] = await tx.list<string>('processed', PROCESSED.expiryPrefix);
  return first ? dueOf(first[0]) : undefined;
}

/** Removes every message due by `now`; announces them per conversation. Returns how many. */
export async function removeDue(scope: Scope, now: number): Promise<number> {
  const { tx } = scope;
  const removed = new Map<string, string[]>();
  // Ascending by due time: stop at the first one not due yet.
  for (const [indexKey, key] of await tx.list<string>('processed', PROCESSED.expiryPrefix)) {
    if (dueOf(indexKey) > now) break;
    await tx.delete('processed', indexKey);
    const m = await tx.get<MessageRecord>('messages', key);
    if (!m || m.expireAt === undefined || m.expireAt > now) continue; // deleted already
    await deleteStored(tx, key, m);
    removed.set(m.conversationId, [...(removed.get(m.conversationId) ?? []), m.id]);
  }
  let count = 0;
  for (const [conversationId, ids] of removed) {
    await forgetQuotes(scope, conversationId, new Set(ids));
    scope.emit('messagesRemoved', { conversationId, ids });
    count += ids.length;
  }
  return count;
}

/** Replies to a removed message keep only that it is gone, not its text. */
async function forgetQuotes(scope: Scope, conversationId: string, ids: Set<string>) {
  for (const [key, m] of await scope.tx.list<MessageRecord>('messages', `${conversationId}/`)) {
    if (!m.quote || !ids.has(m.quote.id)) continue;
    m.quote = { ...m.quote, text: '', gone: true };
    await scope.tx.put('messages', key, m);
    scope.emit('messageChanged', m);
  }
}
