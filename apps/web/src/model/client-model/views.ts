/**
 * The core's records as the screens see them: a stored message, a group and a conversation's
 * summary line in the list. Pure functions; the snapshot (`snapshot.ts`) is built with them.
 * @module
 */
import {
  adminsOf,
  type ConversationRecord,
  type GroupRecord,
  type MessageRecord,
} from '@parley/client';
import { toAttachmentView } from '../attachments.ts';
import type { Contact, ConversationSummary, Group, Message } from '../types.ts';

export function toMessage(m: MessageRecord): Message {
  return {
    id: m.id,
    conversationId: m.conversationId,
    kind: m.kind,
    direction: m.direction,
    senderAccountId: m.senderAccountId,
    timestamp: m.timestamp,
    ...(m.text !== undefined ? { text: m.text } : {}),
    ...(m.event ? { event: m.event } : {}),
    ...(m.subjects ? { subjects: m.subjects } : {}),
    ...(m.status ? { status: m.status } : {}),
    ...(m.failure ? { failure: { reason: m.failure.reason, retryable: m.failure.retryable } } : {}),
    ...(m.quote ? { quote: { ...m.quote } } : {}),
    ...(m.reactions ? { reactions: { ...m.reactions } } : {}),
    ...(m.editedAt !== undefined ? { edited: true } : {}),
    ...(m.deleted ? { deleted: true } : {}),
    ...(m.attachments ? { attachments: m.attachments.map(toAttachmentView) } : {}),
    ...(m.expiresIn ? { expiresIn: m.expiresIn } : {}),
    ...(m.timer !== undefined ? { timer: m.timer } : {}),
  };
}

export function toGroup(g: GroupRecord, self: string): Group {
  return {
    groupId: g.groupId,
    title: g.title,
    members: g.members
      .filter((m) => m.accountId !== self)
      .map((m) => ({
        accountId: m.accountId,
        username: m.username ?? `${m.accountId.slice(0, 8)}…`,
      })),
    left: g.left ?? false,
    admins: adminsOf(g),
    ...(g.request && g.invitedBy ? { invitedBy: g.invitedBy } : {}),
  };
}

export function summarize(
  c: ConversationRecord,
  messages: readonly Message[],
  contacts: Record<string, Contact>,
  groups: Record<string, Group>,
  self: string,
): ConversationSummary {
  const last = [...messages].reverse().find((m) => m.kind === 'text');
  const file = last?.attachments?.[0];
  const lastText = last?.deleted
    ? 'This message was deleted'
    : last?.text || (file ? `📎 ${file.fileName}` : '');
  const title =
    c.kind === 'group'
      ? (groups[c.peer]?.title ?? 'Group')
      : (contacts[c.peer]?.username ?? `${c.peer.slice(0, 8)}…`);
  return {
    id: c.id,
    kind: c.kind,
    peer: c.peer,
    title,
    lastMessageAt: c.lastMessageAt,
    unread: c.unread,
    ...(c.request ? { request: true } : {}),
    ...(c.expireTimer ? { expireTimer: c.expireTimer } : {}),
    ...(last
      ? {
          lastMessage: {
            text: lastText,
            direction: last.direction,
            ...(c.kind === 'group' && last.direction === 'in'
              ? {
                  senderName:
                    last.senderAccountId === self
                      ? 'You'
                      : (contacts[last.senderAccountId]?.username ?? ''),
                }
              : {}),
          },
        }
      : {}),
  };
}
