/**
 * What received content does, inside the envelope's transaction: store a message, apply a
 * receipt, pass on typing, take a sender key, merge a group change, apply a sync from our own
 * devices, answer a retry request. Replies (receipts, answers) are queued in the outbox in
 * the same transaction.
 * @module
 */
import { ProtocolAddress } from '@parley/crypto/address.js';
import { GroupCipher, SenderKeyDistributionMessage } from '@parley/crypto/group.js';
import type { Envelope } from '@parley/protocol';
import {
  ReceiptMessage_Type,
  TypingMessage_Action,
  timestampOf,
  type Content,
} from '../content/index.ts';
import type { ClientContext, Scope } from '../context.ts';
import { TxSenderKeyStore } from '../crypto-stores.ts';
import {
  directConversationId,
  groupConversationId,
  type GroupRecord,
  type MessageRecord,
} from '../model.ts';
import { isMember } from '../records/groups.ts';
import { storeMessage, updateMessage } from '../records/messages.ts';
import { applyIncoming, quoteOf } from '../message-actions.ts';
import { attachmentsOf } from '../attachments/pointer.ts';
import type { Messaging } from '../messaging.ts';
import type { Usernames } from '../usernames.ts';
import type { GroupControlHandler } from './group-control.ts';
import type { RetryAnswers } from './retry.ts';
import type { SyncHandler } from './sync.ts';
import { dropBlocked } from './trust.ts';
import { markGroupAccepted } from '../records/trust.ts';
import { startCountdown } from '../disappearing/countdown.ts';
import { applyReceivedTimer } from '../disappearing/timer.ts';

export class ContentHandler {
  constructor(
    private readonly ctx: ClientContext,
    private readonly usernames: Usernames,
    private readonly messaging: Messaging,
    private readonly groupControl: GroupControlHandler,
    private readonly sync: SyncHandler,
    private readonly retries: RetryAnswers,
  ) {}

  async apply(scope: Scope, env: Envelope, content: Content): Promise<void> {
    const { ctx } = this;
    const self = ctx.requireAccount();
    const fromSelf = env.sourceAccountId === self.accountId;
    const body = content.body;
    if (await dropBlocked(ctx, scope, env, content)) return;
    if (!fromSelf && (body.case === 'data' || body.case === 'groupControl')) {
      await this.usernames.claim(scope, env.sourceAccountId, content.senderUsername);
    }
    switch (body.case) {
      case 'data':
        return this.#data(scope, env, content);
      case 'receipt': {
        const read = body.value.type === ReceiptMessage_Type.READ;
        for (const id of body.value.messageIds) {
          const m = await updateMessage(scope.tx, self.accountId, id, (m) => {
            const list = read ? (m.readBy ??= []) : (m.deliveredTo ??= []);
            if (!list.includes(env.sourceAccountId)) list.push(env.sourceAccountId);
            if (m.status !== 'read') m.status = read ? 'read' : 'delivered';
            delete m.failure;
          });
          if (m) {
            scope.emit('status', {
              conversationId: m.conversationId,
              id,
              status: m.status!,
              by: env.sourceAccountId,
            });
          }
        }
        return;
      }
      case 'typing': {
        const v = body.value;
        scope.emit('typing', {
          accountId: env.sourceAccountId,
          ...(v.groupId ? { groupId: v.groupId } : {}),
          started: v.action === TypingMessage_Action.STARTED,
        });
        return;
      }
      case 'senderKeyDistribution': {
        const sender = new ProtocolAddress(env.sourceAccountId, env.sourceDeviceId);
        const skdm = SenderKeyDistributionMessage.deserialize(body.value.distributionMessage);
        await new GroupCipher(new TxSenderKeyStore(scope.tx), {
          rng: ctx.rng,
        }).processDistributionMessage(sender, skdm);
        return;
      }
      case 'groupControl':
        return this.groupControl.apply(scope, env, content);
      case 'sync':
        if (!fromSelf) return; // only our own devices may send sync messages
        return this.sync.apply(scope, env, content);
      case 'retryRequest': {
        const v = body.value;
        if (v.deviceId !== self.deviceId) return;
        return this.retries.answer(scope, env.sourceAccountId, Number(v.timestamp), v.groupId);
      }
      case 'nullMessage':
      case undefined:
        return;
    }
  }

  async #data(scope: Scope, env: Envelope, content: Content): Promise<void> {
    if (content.body.case !== 'data') return;
    const { ctx } = this;
    const { tx } = scope;
    const fromSelf = ctx.isSelf(env.sourceAccountId);
    const group = content.body.value.group;
    if (env.type === 'sender_key_message' && !group) return; // SKM must be a group message
    let conversationId = directConversationId(env.sourceAccountId);
    if (group) {
      const g = await tx.get<GroupRecord>('groups', group.groupId);
      if (!g || (!fromSelf && !isMember(g, env.sourceAccountId))) {
        console.warn('parley: dropping a group message from a non-member or unknown group');
        return;
      }
      conversationId = groupConversationId(group.groupId);
      if (fromSelf && (await markGroupAccepted(tx, g))) scope.emit('group', g);
    } else if (fromSelf) {
      return; // 1:1 messages from our own devices come as sent transcripts
    }
    const data = content.body.value;
    const sender = { accountId: env.sourceAccountId, deviceId: env.sourceDeviceId };
    if (await applyReceivedTimer(ctx, scope, sender, conversationId, data, timestampOf(content))) {
      return; // a timer change, shown as an event
    }
    if (
      await applyIncoming(
        scope,
        env.sourceAccountId,
        fromSelf,
        conversationId,
        data,
        timestampOf(content),
      )
    ) {
      return; // a reaction, edit or deletion of an earlier message
    }
    const record: MessageRecord = {
      id: content.messageId,
      conversationId,
      kind: 'text',
      direction: fromSelf ? 'out' : 'in',
      senderAccountId: env.sourceAccountId,
      senderDeviceId: env.sourceDeviceId,
      timestamp: timestampOf(content),
      storedAt: ctx.now(),
      text: data.text,
      ...quoteOf(data),
      ...attachmentsOf(data),
      ...(fromSelf ? { status: 'sent' as const } : {}),
      ...(data.expireTimer > 0 ? { expiresIn: data.expireTimer } : {}),
    };
    // Ours (sent to a group from another of our devices) count down from when we have them.
    if (fromSelf) await startCountdown(ctx, scope, record);
    await storeMessage(tx, record);
    scope.emit('message', record);
    if (!fromSelf && !group && ctx.options.deliveryReceipts !== false) {
      await this.messaging.queueReceipt(
        scope,
        env.sourceAccountId,
        [content.messageId],
        'delivery',
      );
    }
  }
}
