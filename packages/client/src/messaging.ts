/**
 * Text messages, receipts, typing and reading local state. A text (1:1 or group) takes one
 * path: stored as `queued` with its outbox entry in one transaction, then the first attempt
 * is awaited; the record comes back `sent`, or still `queued` when the relay could not be
 * reached (the outbox keeps trying). A permanent refusal marks it `failed` and throws the
 * typed error (e.g. `IdentityChangedError`).
 * @module
 */
import {
  ContentError,
  ReceiptMessage_Type,
  TypingMessage_Action,
  encodeContent,
  makeContent,
  timestampOf,
  type Content,
  type DataMessageSchema,
} from './content/index.ts';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { ClientContext } from './context.ts';
import type { DirectDelivery } from './delivery/direct.ts';
import type { Outbox, OutboxLeg } from './delivery/outbox.ts';
import { BlockedContactError, ClientError, GroupMembershipError } from './errors.ts';
import { PROCESSED } from './keys.ts';
import {
  directConversationId,
  groupConversationId,
  type ContactRecord,
  type ConversationRecord,
  type GroupRecord,
  type MessageRecord,
  type QuoteRef,
} from './model.ts';
import { findInConversation, findMessage, listMessages, storeMessage } from './records/messages.ts';
import {
  isAccepted,
  isBlocked,
  isRequest,
  markAccepted,
  markGroupAccepted,
} from './records/trust.ts';
import type { SelfSync } from './sync/index.ts';
import { pointersOf } from './attachments/pointer.ts';
import type { Scope } from './context.ts';
import { startCountdown } from './disappearing/countdown.ts';
import { conversationTimer } from './disappearing/timer.ts';

/** Where a text goes: an account, or a group (with the group context it carries). */
export type Target = { accountId: string } | { group: GroupRecord };

/** A text's options: the message it replies to (by id, in the same conversation). */
export interface SendOptions {
  replyTo?: string;
}

/** The fields of a DataMessage besides the text and group context. */
type DataExtra = Omit<MessageInitShape<typeof DataMessageSchema>, 'text' | 'group' | '$typeName'>;

/** How much of a quoted message's text a reply carries. */
export const QUOTE_TEXT_LENGTH = 200;

export class Messaging {
  constructor(
    private readonly ctx: ClientContext,
    private readonly direct: DirectDelivery,
    private readonly outbox: Outbox,
    private readonly sync: SelfSync,
  ) {}

  /** Sends a text message to a contact; resolves with the stored outgoing message. */
  sendText(accountId: string, text: string, options: SendOptions = {}): Promise<MessageRecord> {
    return this.#sendText({ accountId }, text, options);
  }

  /** Sends a text to a group: sender key distributed as needed, one ciphertext, fan-out. */
  async sendGroupText(
    groupId: string,
    text: string,
    options: SendOptions = {},
  ): Promise<MessageRecord> {
    return this.#sendText(await this.target(groupConversationId(groupId)), text, options);
  }

  /** Where a conversation's messages go; refused for a group we are not in. */
  async target(conversationId: string): Promise<Target> {
    if (!conversationId.startsWith('group:')) {
      return { accountId: conversationId.slice('direct:'.length) };
    }
    const groupId = conversationId.slice('group:'.length);
    const group = await this.ctx.storage.get<GroupRecord>('groups', groupId);
    if (!group || group.left) throw new GroupMembershipError(groupId, group !== undefined);
    return { group };
  }

  /**
   * Queues a data message that changes an earlier one (reaction, edit, deletion) to the
   * conversation, and as a transcript to our other devices; nothing new is stored.
   */
  async queueAction(
    scope: Scope,
    target: Target,
    text: string,
    extra: DataExtra,
    at = this.ctx.now(),
  ): Promise<void> {
    const content = this.#content(target, undefined, at, text, extra);
    const legs: OutboxLeg[] = [];
    if ('group' in target) {
      legs.push(this.outbox.leg(`group:${target.group.groupId}`, content));
    } else {
      legs.push(this.outbox.leg(target.accountId, content));
      legs.push(
        this.outbox.leg(this.ctx.accountId, this.#transcript(target.accountId, content, '')),
      );
    }
    await this.outbox.enqueue(scope, { legs });
  }

  /** Sends what is queued now (the first attempt), without waiting for a retry. */
  flush(): Promise<void> {
    return this.outbox.flush();
  }

  #transcript(to: string, content: Content, destinationUsername: string): Content {
    return this.direct.content(
      {
        case: 'sync',
        value: {
          body: {
            case: 'sent',
            value: { destinationAccountId: to, content, destinationUsername },
          },
        },
      },
      timestampOf(content),
    );
  }

  #content(
    target: Target,
    id: string | undefined,
    timestamp: number,
    text: string,
    extra: DataExtra = {},
  ): Content {
    const body = {
      case: 'data' as const,
      value: {
        text,
        ...extra,
        ...('group' in target
          ? { group: { groupId: target.group.groupId, revision: target.group.revision } }
          : {}),
      },
    };
    const content = id
      ? this.direct.withSenderUsername(makeContent(id, timestamp, body))
      : this.direct.content(body, timestamp);
    try {
      encodeContent(content);
    } catch (err) {
      if (err instanceof ContentError)
        throw new ClientError('too_large', 'the message is too large');
      throw err;
    }
    return content;
  }

  async #sendText(target: Target, text: string, options: SendOptions): Promise<MessageRecord> {
    const self = this.ctx.requireAccount();
    if ('accountId' in target && (await isBlocked(this.ctx.storage, target.accountId))) {
      throw new BlockedContactError(target.accountId);
    }
    const conversationId =
      'group' in target
        ? groupConversationId(target.group.groupId)
        : directConversationId(target.accountId);
    const quote = options.replyTo ? await this.#quote(conversationId, options.replyTo) : undefined;
    // Every text carries the conversation's timer: it disappears, and members converge on it.
    const expireTimer = await conversationTimer(this.ctx.storage, conversationId);
    const content = this.#content(target, undefined, this.ctx.now(), text, {
      expireTimer,
      ...(quote
        ? {
            quote: {
              messageId: quote.id,
              authorAccountId: quote.authorAccountId,
              text: quote.text,
            },
          }
        : {}),
    });
    const record: MessageRecord = {
      id: content.messageId,
      conversationId,
      kind: 'text',
      direction: 'out',
      senderAccountId: self.accountId,
      senderDeviceId: self.deviceId,
      timestamp: timestampOf(content),
      storedAt: this.ctx.now(),
      text,
      status: 'queued',
      ...(quote ? { quote } : {}),
      ...(expireTimer > 0 ? { expiresIn: expireTimer } : {}),
    };
    await this.ctx.transaction(async (scope) => {
      await startCountdown(this.ctx, scope, record); // ours count down from sending
      await storeMessage(scope.tx, record);
      await this.#enqueue(scope, target, content, record);
    });
    return this.#firstAttempt(record);
  }

  /** The outbox entry of our text: to the recipient (or group), then the sent transcript. */
  async #enqueue(scope: Scope, target: Target, content: Content, record: MessageRecord) {
    const { tx } = scope;
    const legs: OutboxLeg[] = [];
    // Writing to someone (or to a group) accepts their message request.
    if ('group' in target) {
      const g = await tx.get<GroupRecord>('groups', target.group.groupId);
      if (g && (await markGroupAccepted(tx, g))) scope.emit('group', g);
    } else {
      await markAccepted(tx, target.accountId);
    }
    if ('group' in target) {
      // The group fan-out reaches our other devices too.
      await tx.put('processed', PROCESSED.sentGroup(record.timestamp), {
        groupId: target.group.groupId,
        id: record.id,
      });
      legs.push(this.outbox.leg(`group:${target.group.groupId}`, content));
    } else {
      const to = target.accountId;
      await tx.put('processed', PROCESSED.sentDirect(to, record.timestamp), record.id);
      legs.push(this.outbox.leg(to, content));
      const destinationUsername = (await tx.get<ContactRecord>('contacts', to))?.username ?? '';
      legs.push(
        this.outbox.leg(this.ctx.accountId, this.#transcript(to, content, destinationUsername)),
      );
    }
    await this.outbox.enqueue(scope, { messageId: record.id, legs });
  }

  /** What a reply to message `id` of the conversation quotes; refused if it is not there. */
  async #quote(conversationId: string, id: string): Promise<QuoteRef> {
    const m = await findInConversation(this.ctx.storage, conversationId, id);
    if (!m || m.kind !== 'text' || m.deleted) {
      throw new ClientError(
        'message_not_found',
        `no message ${id} to reply to in ${conversationId}`,
      );
    }
    return {
      id: m.id,
      authorAccountId: m.senderAccountId,
      text: (m.text ?? '').slice(0, QUOTE_TEXT_LENGTH),
    };
  }

  /** Awaits the outbox's first attempt at `record`; throws what failed it for good. */
  async #firstAttempt(record: MessageRecord): Promise<MessageRecord> {
    await this.outbox.flush();
    const err = this.outbox.takeError(record.id);
    if (err) throw err;
    const self = this.ctx.requireAccount();
    return (await findMessage(this.ctx.storage, self.accountId, record.id))?.message ?? record;
  }

  /**
   * Sends a failed message again (e.g. after acknowledging a changed safety number): same
   * message id and timestamp, so the recipient can never show it twice.
   */
  async retry(conversationId: string, id: string): Promise<MessageRecord> {
    return this.#resend(conversationId, id, (m) => m.status === 'failed' && !m.held);
  }

  /**
   * Sends a stored outgoing message that was held back while its attachments uploaded
   * (attachments/send.ts): queued now, in the one outbox, like any text.
   */
  async sendHeld(conversationId: string, id: string): Promise<MessageRecord> {
    return this.#resend(
      conversationId,
      id,
      (m) => m.held === true && (m.attachments ?? []).every((a) => a.upload === 'uploaded'),
    );
  }

  async #resend(
    conversationId: string,
    id: string,
    allowed: (m: MessageRecord) => boolean,
  ): Promise<MessageRecord> {
    const self = this.ctx.requireAccount();
    const found = await findMessage(this.ctx.storage, self.accountId, id);
    const m = found?.message;
    if (!m || m.conversationId !== conversationId || !allowed(m) || m.text === undefined) {
      throw new ClientError('not_retryable', `message ${id} cannot be sent again`);
    }
    const target = await this.target(conversationId);
    const content = this.#content(target, m.id, m.timestamp, m.text, {
      expireTimer: m.expiresIn ?? 0,
      ...(m.quote
        ? {
            quote: {
              messageId: m.quote.id,
              authorAccountId: m.quote.authorAccountId,
              text: m.quote.text,
            },
          }
        : {}),
      ...(m.attachments ? { attachments: pointersOf(m) } : {}),
    });
    await this.ctx.transaction(async (scope) => {
      // Checked again inside the transaction: two callers cannot both queue it.
      const now = await scope.tx.get<MessageRecord>('messages', found!.key);
      if (!now || !allowed(now)) {
        throw new ClientError('not_retryable', `message ${id} cannot be sent again`);
      }
      const { failure: _f, held: _h, ...rest } = now;
      const queued: MessageRecord = { ...rest, status: 'queued' };
      await scope.tx.put('messages', found!.key, queued);
      await this.#enqueue(scope, target, content, queued);
      scope.emit('status', { conversationId, id, status: 'queued' });
    });
    return this.#firstAttempt(m);
  }

  /** Sends a delivery or read receipt for messages from `accountId`. */
  async sendReceipt(accountId: string, ids: string[], type: 'delivery' | 'read'): Promise<void> {
    await this.ctx.transaction((scope) => this.queueReceipt(scope, accountId, ids, type));
    await this.outbox.flush();
  }

  /** Queues a receipt in `scope`'s transaction. */
  async queueReceipt(
    scope: Scope,
    accountId: string,
    ids: string[],
    type: 'delivery' | 'read',
  ): Promise<void> {
    if (scope.deferredReceipts) {
      scope.deferredReceipts.push({ accountId, ids, type });
      return;
    }
    const content = this.direct.content({
      case: 'receipt',
      value: {
        type: type === 'read' ? ReceiptMessage_Type.READ : ReceiptMessage_Type.DELIVERY,
        messageIds: ids,
      },
    });
    await this.outbox.enqueue(scope, { legs: [this.outbox.leg(accountId, content)] });
  }

  /** Marks a conversation read and tells the senders (and our other devices). */
  async markRead(conversationId: string): Promise<void> {
    await this.ctx.transaction(async (scope) => {
      const { tx } = scope;
      const unreadBySender = new Map<string, string[]>();
      for (const [key, m] of await tx.list<MessageRecord>('messages', `${conversationId}/`)) {
        if (m.direction === 'in' && m.kind === 'text' && m.status !== 'read') {
          m.status = 'read';
          await startCountdown(this.ctx, scope, m); // a disappearing message counts down now
          await tx.put('messages', key, m);
          const list = unreadBySender.get(m.senderAccountId) ?? [];
          list.push(m.id);
          unreadBySender.set(m.senderAccountId, list);
        }
      }
      const conv = await tx.get<ConversationRecord>('conversations', conversationId);
      if (conv) await tx.put('conversations', conversationId, { ...conv, unread: 0 });
      // A message request gets no read receipts until it is accepted.
      if (!(await isRequest(tx, conversationId))) {
        for (const [sender, ids] of unreadBySender) {
          if (await isBlocked(tx, sender)) continue;
          await this.queueReceipt(scope, sender, ids, 'read');
        }
      }
      // Our other devices mark the same messages read.
      const all = [...unreadBySender.values()].flat();
      if (all.length > 0) {
        await this.sync.send(scope, {
          body: { case: 'read', value: { conversationId, messageIds: all } },
        });
      }
    });
    await this.outbox.flush();
  }

  /** Typing indicators are not queued: one that cannot go now means nothing later. */
  async sendTyping(accountId: string, started: boolean): Promise<void> {
    // Nor to a message request we have not accepted, or someone we blocked.
    const { storage } = this.ctx;
    if (!(await isAccepted(storage, accountId)) || (await isBlocked(storage, accountId))) return;
    const content = this.direct.content({
      case: 'typing',
      value: { action: started ? TypingMessage_Action.STARTED : TypingMessage_Action.STOPPED },
    });
    await this.direct.send(accountId, content);
  }

  messages(conversationId: string): Promise<MessageRecord[]> {
    return listMessages(this.ctx.storage, conversationId);
  }

  /** Every conversation, each saying whether it is a message request. */
  async conversations(): Promise<ConversationRecord[]> {
    // A transaction: isRequest may record an old conversation's peer as accepted.
    return this.ctx.transaction(async ({ tx }) => {
      const out: ConversationRecord[] = [];
      for (const [, c] of await tx.list<ConversationRecord>('conversations')) {
        const { request: _r, ...rest } = c;
        out.push((await isRequest(tx, c.id)) ? { ...rest, request: true } : rest);
      }
      return out;
    });
  }
}
