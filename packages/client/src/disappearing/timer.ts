/**
 * The disappearing-message timer of a conversation: which values exist, and how a change (ours,
 * a member's, or one of our other devices') is applied and shown. Every change is a
 * `timer_changed` event in the conversation; the latest change by its sender's clock wins, so
 * changes that cross on the wire settle the same way on every device.
 * @module
 */
import { newMessageId, type DataMessage } from '../content/index.ts';
import type { ClientContext, Scope } from '../context.ts';
import type { ConversationRecord, MessageRecord } from '../model.ts';
import { ensureConversation, storeMessage } from '../records/messages.ts';
import type { StorageTx } from '../storage/index.ts';

/** The timers a user can choose, seconds: off, 30 s, 5 min, 1 h, 1 day, 1 week. */
export const EXPIRE_TIMERS = [0, 30, 300, 3600, 86_400, 604_800] as const;
export type ExpireTimer = (typeof EXPIRE_TIMERS)[number];

export function isExpireTimer(seconds: number): seconds is ExpireTimer {
  return (EXPIRE_TIMERS as readonly number[]).includes(seconds);
}

/** A conversation's timer, seconds (0: off). */
export async function conversationTimer(
  tx: Pick<StorageTx, 'get'>,
  conversationId: string,
): Promise<number> {
  return (await tx.get<ConversationRecord>('conversations', conversationId))?.expireTimer ?? 0;
}

/**
 * Sets a conversation's timer to `seconds` as changed by `sender` at `at` (their clock) and
 * stores the event; a change older than the one in force is ignored. Returns the event, if any.
 */
export async function applyTimer(
  ctx: ClientContext,
  scope: Scope,
  conversationId: string,
  seconds: number,
  sender: { accountId: string; deviceId: number },
  at: number,
  shownAt = at,
): Promise<MessageRecord | undefined> {
  const { tx } = scope;
  await ensureConversation(tx, conversationId, at);
  const conv = (await tx.get<ConversationRecord>('conversations', conversationId))!;
  if (conv.expireTimerAt !== undefined && at < conv.expireTimerAt) return undefined;
  const before = conv.expireTimer ?? 0;
  const { expireTimer: _t, ...rest } = conv;
  await tx.put('conversations', conversationId, {
    ...rest,
    ...(seconds > 0 ? { expireTimer: seconds } : {}),
    expireTimerAt: at,
  } satisfies ConversationRecord);
  if (before === seconds) return undefined; // the same value twice says nothing new
  const event: MessageRecord = {
    id: newMessageId(ctx.rng),
    conversationId,
    kind: 'event',
    direction: 'in',
    senderAccountId: sender.accountId,
    senderDeviceId: sender.deviceId,
    timestamp: shownAt,
    storedAt: ctx.now(),
    event: 'timer_changed',
    subjects: [],
    timer: seconds,
  };
  await storeMessage(tx, event);
  scope.emit('event', event);
  return event;
}

/**
 * What a received data message (from a member, or a transcript from our own device) says about
 * the timer. An explicit change (`expireTimerUpdate`) is applied and returns true: it is not a
 * text. A plain text carries its sender's timer: if that differs from ours and the text is newer
 * than our last change, the sender's is taken (they saw a change we missed).
 */
export async function applyReceivedTimer(
  ctx: ClientContext,
  scope: Scope,
  sender: { accountId: string; deviceId: number },
  conversationId: string,
  data: DataMessage,
  sentAt: number,
): Promise<boolean> {
  if (data.expireTimerUpdate) {
    if (isExpireTimer(data.expireTimer)) {
      await applyTimer(ctx, scope, conversationId, data.expireTimer, sender, sentAt);
    }
    return true;
  }
  if (data.reaction || data.edit || data.delete || !isExpireTimer(data.expireTimer)) return false;
  const conv = await scope.tx.get<ConversationRecord>('conversations', conversationId);
  if ((conv?.expireTimer ?? 0) === data.expireTimer) return false;
  if (conv?.expireTimerAt !== undefined && sentAt <= conv.expireTimerAt) return false;
  // Shown just before the text that brought it: the change came first.
  await applyTimer(ctx, scope, conversationId, data.expireTimer, sender, sentAt, sentAt - 1);
  return false;
}

/** How a timer reads: "30 seconds", "5 minutes", "1 hour", "1 day", "1 week", "off". */
export function describeTimer(seconds: number): string {
  if (seconds <= 0) return 'off';
  const units: Array<[number, string]> = [
    [604_800, 'week'],
    [86_400, 'day'],
    [3600, 'hour'],
    [60, 'minute'],
    [1, 'second'],
  ];
  for (const [size, name] of units) {
    if (seconds % size === 0) {
      const n = seconds / size;
      return `${n} ${name}${n === 1 ? '' : 's'}`;
    }
  }
  return `${seconds} seconds`;
}
