/**
 * What people do to messages after sending them: react (one emoji per person per message),
 * edit their own (Signal's rules: within 24 hours, at most 10 times; earlier texts kept only
 * on the author's devices), delete for everyone (their own, within 24 hours), and delete for
 * me (this device and, through a sync message, our other devices). Each change is stored and
 * queued in one transaction, then sent through the outbox like any message; receivers apply
 * the same rules to what arrives (`applyIncoming`), so a forged or late change does nothing.
 * @module
 */
import type { DataMessage } from './content/index.ts';
import type { ClientContext, Scope } from './context.ts';
import { ClientError } from './errors.ts';
import type { MessageRecord } from './model.ts';
import { deleteStored, findInConversation, findMessage } from './records/messages.ts';
import { QUOTE_TEXT_LENGTH, type Messaging } from './messaging.ts';
import type { SelfSync } from './sync/index.ts';

export const EDIT_WINDOW_MS = 24 * 60 * 60 * 1000;
export const DELETE_WINDOW_MS = 24 * 60 * 60 * 1000;
export const MAX_EDITS = 10;
/** A reaction is one emoji (a grapheme may take several code points, e.g. 👍🏽 or 👨‍👩‍👧). */
export const MAX_REACTION_LENGTH = 32;

export class MessageActions {
  constructor(
    private readonly ctx: ClientContext,
    private readonly messaging: Messaging,
    private readonly sync: SelfSync,
  ) {}

  /** Sets (or with `null` removes) our reaction to message `id`. */
  async react(conversationId: string, id: string, emoji: string | null): Promise<MessageRecord> {
    if (emoji !== null && (emoji.trim() === '' || emoji.length > MAX_REACTION_LENGTH)) {
      throw new ClientError('invalid_argument', 'a reaction is one emoji');
    }
    const target = await this.messaging.target(conversationId);
    const self = this.ctx.requireAccount();
    const changed = await this.ctx.transaction(async (scope) => {
      const m = await this.#find(scope, conversationId, id);
      if (m.kind !== 'text' || m.deleted) {
        throw new ClientError('not_allowed', 'this message cannot be reacted to');
      }
      setReaction(m, self.accountId, emoji);
      await this.#put(scope, m);
      await this.messaging.queueAction(scope, target, '', {
        reaction: {
          targetMessageId: m.id,
          targetAuthorAccountId: m.senderAccountId,
          emoji: emoji ?? '',
          remove: emoji === null,
        },
      });
      return m;
    });
    await this.messaging.flush();
    return changed;
  }

  /** Replaces the text of our message `id` (within EDIT_WINDOW_MS of sending it). */
  async edit(conversationId: string, id: string, text: string): Promise<MessageRecord> {
    if (text.trim() === '') throw new ClientError('invalid_argument', 'an edit needs a text');
    const target = await this.messaging.target(conversationId);
    const now = this.ctx.now();
    const changed = await this.ctx.transaction(async (scope) => {
      const m = await this.#find(scope, conversationId, id);
      const refusal = editRefusal(m, this.ctx.accountId, now);
      if (refusal) throw new ClientError('not_allowed', refusal);
      applyEdit(m, text, now, true);
      await this.#put(scope, m);
      await this.messaging.queueAction(scope, target, text, { edit: { targetMessageId: m.id } });
      return m;
    });
    await this.messaging.flush();
    return changed;
  }

  /** Deletes our message `id` for everyone (within DELETE_WINDOW_MS of sending it). */
  async deleteForEveryone(conversationId: string, id: string): Promise<MessageRecord> {
    const target = await this.messaging.target(conversationId);
    const now = this.ctx.now();
    const changed = await this.ctx.transaction(async (scope) => {
      const m = await this.#find(scope, conversationId, id);
      const refusal = deleteRefusal(m, this.ctx.accountId, now);
      if (refusal) throw new ClientError('not_allowed', refusal);
      applyDelete(m);
      await this.#put(scope, m);
      await this.messaging.queueAction(scope, target, '', { delete: { targetMessageId: m.id } });
      return m;
    });
    await this.messaging.flush();
    return changed;
  }

  /** Removes messages from this device and, by a sync message, from our other devices. */
  async deleteForMe(conversationId: string, ids: string[]): Promise<void> {
    await this.ctx.transaction(async (scope) => {
      await removeMessages(scope, conversationId, ids);
      await this.sync.send(scope, {
        body: { case: 'deleteForMe', value: { conversationId, messageIds: ids } },
      });
    });
    await this.messaging.flush();
  }

  async #find(scope: Scope, conversationId: string, id: string): Promise<MessageRecord> {
    const m = await findInConversation(scope.tx, conversationId, id);
    if (!m) throw new ClientError('message_not_found', `no message ${id} in ${conversationId}`);
    return m;
  }

  async #put(scope: Scope, m: MessageRecord): Promise<void> {
    const found = await findMessage(scope.tx, m.senderAccountId, m.id);
    if (found) await scope.tx.put('messages', found.key, m);
    scope.emit('messageChanged', m);
  }
}

/**
 * Applies a received reaction, edit or deletion (from `sender`, sent at `sentAt` by their
 * clock) to the message it names in `conversationId`. Returns false for an ordinary message.
 * What breaks the rules, or names a message we do not have, is dropped.
 */
export async function applyIncoming(
  scope: Scope,
  sender: string,
  fromSelf: boolean,
  conversationId: string,
  data: DataMessage,
  sentAt: number,
): Promise<boolean> {
  const { tx } = scope;
  if (data.reaction) {
    const r = data.reaction;
    const found = await findMessage(tx, r.targetAuthorAccountId, r.targetMessageId);
    const m = found?.message;
    const emoji = r.remove ? null : r.emoji;
    if (
      m &&
      m.conversationId === conversationId &&
      m.kind === 'text' &&
      !m.deleted &&
      (emoji === null || (emoji !== '' && emoji.length <= MAX_REACTION_LENGTH))
    ) {
      setReaction(m, sender, emoji);
      await tx.put('messages', found.key, m);
      scope.emit('messageChanged', m);
    }
    return true;
  }
  if (data.edit) {
    // Indexed by (sender, id): only the author's own message can be found.
    const found = await findMessage(tx, sender, data.edit.targetMessageId);
    const m = found?.message;
    if (
      m &&
      m.conversationId === conversationId &&
      data.text.trim() !== '' &&
      editRefusal(m, sender, sentAt) === undefined
    ) {
      applyEdit(m, data.text, sentAt, fromSelf);
      await tx.put('messages', found.key, m);
      scope.emit('messageChanged', m);
    }
    return true;
  }
  if (data.delete) {
    const found = await findMessage(tx, sender, data.delete.targetMessageId);
    const m = found?.message;
    if (m && m.conversationId === conversationId && !deleteRefusal(m, sender, sentAt)) {
      applyDelete(m);
      await tx.put('messages', found.key, m);
      scope.emit('messageChanged', m);
    }
    return true;
  }
  return false;
}

/** The quote a received message carries, for its record. */
export function quoteOf(data: DataMessage): { quote?: MessageRecord['quote'] } {
  const q = data.quote;
  if (!q || q.messageId === '') return {};
  return {
    quote: {
      id: q.messageId,
      authorAccountId: q.authorAccountId,
      text: q.text.slice(0, QUOTE_TEXT_LENGTH),
    },
  };
}

/** Removes messages of a conversation from this device (the dedupe index stays). */
export async function removeMessages(
  scope: Scope,
  conversationId: string,
  ids: string[],
): Promise<void> {
  const wanted = new Set(ids);
  const removed: string[] = [];
  for (const [key, m] of await scope.tx.list<MessageRecord>('messages', `${conversationId}/`)) {
    if (!wanted.has(m.id)) continue;
    await deleteStored(scope.tx, key, m);
    removed.push(m.id);
  }
  if (removed.length > 0) scope.emit('messagesRemoved', { conversationId, ids: removed });
}

function setReaction(m: MessageRecord, accountId: string, emoji: string | null): void {
  const reactions = { ...(m.reactions ?? {}) };
  if (emoji === null) delete reactions[accountId];
  else reactions[accountId] = emoji;
  if (Object.keys(reactions).length === 0) delete m.reactions;
  else m.reactions = reactions;
}

function editRefusal(m: MessageRecord, author: string, at: number): string | undefined {
  if (m.senderAccountId !== author || m.kind !== 'text')
    return 'only your own messages can be edited';
  if (m.deleted) return 'a deleted message cannot be edited';
  if (at - m.timestamp > EDIT_WINDOW_MS) return 'a message can be edited for 24 hours';
  if ((m.editHistory?.length ?? 0) >= MAX_EDITS)
    return `a message can be edited ${MAX_EDITS} times`;
  return undefined;
}

function deleteRefusal(m: MessageRecord, author: string, at: number): string | undefined {
  if (m.senderAccountId !== author || m.kind !== 'text')
    return 'only your own messages can be deleted for everyone';
  if (at - m.timestamp > DELETE_WINDOW_MS)
    return 'a message can be deleted for everyone for 24 hours';
  return undefined;
}

/** `keepHistory`: on the author's own devices the earlier text is kept (for them alone). */
function applyEdit(m: MessageRecord, text: string, at: number, keepHistory: boolean): void {
  if (keepHistory) {
    m.editHistory = [
      ...(m.editHistory ?? []),
      { text: m.text ?? '', timestamp: m.editedAt ?? m.timestamp },
    ];
  } else {
    // Others count edits without keeping the texts, so MAX_EDITS holds on their side too.
    m.editHistory = [...(m.editHistory ?? []), { text: '', timestamp: m.editedAt ?? m.timestamp }];
  }
  m.text = text;
  m.editedAt = at;
}

function applyDelete(m: MessageRecord): void {
  m.deleted = true;
  delete m.text;
  delete m.quote;
  delete m.reactions;
  delete m.editHistory;
  delete m.attachments; // the key goes: the blob can no longer be opened here
}
