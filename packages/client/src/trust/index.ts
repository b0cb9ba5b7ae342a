/**
 * Message requests and blocking, as the user decides them. A request (a stranger wrote first,
 * or added us to a group; records/trust.ts) is accepted, deleted or blocked; any account can
 * be blocked and unblocked. Each decision is stored, shown as an event where it helps, and
 * sent to our other devices (sync) in one transaction.
 *
 * Blocking (Signal's behaviour): everything a blocked account sends, from any of its devices,
 * is dropped without a receipt (receive/trust.ts); we cannot write to it 1:1
 * (`BlockedContactError`). A group it is in keeps working for us: we still encrypt our group
 * messages to all members, the blocked one included (a group has one member list, and leaving
 * someone out would tell them they are blocked), and drop what the blocked member posts.
 * @module
 */
import { MessageRequestResponse_Type } from '../content/index.ts';
import type { ClientContext, Scope } from '../context.ts';
import type { Outbox } from '../delivery/outbox.ts';
import { ClientError } from '../errors.ts';
import type { Groups } from '../groups/index.ts';
import type { Messaging } from '../messaging.ts';
import type { GroupRecord } from '../model.ts';
import {
  deleteConversation,
  isBlocked,
  markAccepted,
  markGroupAccepted,
  readAll,
} from '../records/trust.ts';
import type { SelfSync } from '../sync/index.ts';
import { recordBlockDecision } from './block.ts';
import { startReadCountdowns } from '../disappearing/countdown.ts';

type Target = { accountId: string; groupId?: undefined } | { groupId: string; accountId?: never };

function target(conversationId: string): Target {
  if (conversationId.startsWith('direct:')) {
    return { accountId: conversationId.slice('direct:'.length) };
  }
  if (conversationId.startsWith('group:'))
    return { groupId: conversationId.slice('group:'.length) };
  throw new ClientError('invalid_argument', `not a conversation id: ${conversationId}`);
}

export class Trust {
  constructor(
    private readonly ctx: ClientContext,
    private readonly outbox: Outbox,
    private readonly sync: SelfSync,
    private readonly groups: Groups,
    private readonly messaging: Messaging,
  ) {}

  /**
   * Accepts a message request: receipts and typing flow from now on, on every device. As in
   * Signal, the conversation is marked read and its senders get the read receipts held back.
   */
  async acceptRequest(conversationId: string): Promise<void> {
    const t = target(conversationId);
    await this.ctx.transaction(async (scope) => {
      if (t.groupId !== undefined) {
        const group = await scope.tx.get<GroupRecord>('groups', t.groupId);
        if (group && (await markGroupAccepted(scope.tx, group))) scope.emit('group', group);
      } else {
        await markAccepted(scope.tx, t.accountId);
      }
      await this.#respond(scope, t, MessageRequestResponse_Type.ACCEPT);
      await this.#readHeldBack(scope, conversationId);
      scope.emit('trust', { conversationId, change: 'accepted' });
    });
    await this.outbox.flush();
  }

  /**
   * Deletes a message request (its messages too) on every device. A group request is left:
   * its members see that we left, as in Signal.
   */
  async deleteRequest(conversationId: string): Promise<void> {
    const t = target(conversationId);
    if (t.groupId !== undefined) {
      const group = await this.groups.get(t.groupId);
      if (group && !group.left) await this.groups.leave(t.groupId);
    }
    await this.ctx.transaction(async (scope) => {
      await deleteConversation(scope.tx, conversationId);
      await this.#respond(scope, t, MessageRequestResponse_Type.DELETE);
      scope.emit('trust', { conversationId, change: 'deleted' });
    });
    await this.outbox.flush();
  }

  /**
   * Blocks the stranger behind a request and deletes it: for a group request, whoever added
   * us is blocked and the group left.
   */
  async blockRequest(conversationId: string): Promise<void> {
    const t = target(conversationId);
    const accountId =
      t.groupId !== undefined ? (await this.groups.get(t.groupId))?.invitedBy : t.accountId;
    if (accountId) await this.setBlocked(accountId, true);
    if (t.groupId !== undefined) await this.deleteRequest(conversationId);
  }

  /** Blocks or unblocks an account, here and on our other devices. */
  async setBlocked(accountId: string, blocked: boolean): Promise<void> {
    const { ctx } = this;
    if (ctx.isSelf(accountId)) {
      throw new ClientError('invalid_argument', 'cannot block our own account');
    }
    const at = ctx.now();
    await ctx.transaction(async (scope) => {
      if (!(await recordBlockDecision(ctx, scope, accountId, blocked, at))) return;
      await this.sync.send(
        scope,
        { body: { case: 'blocked', value: { accountId, blocked } } },
        at, // the decision's time: a later one from another device wins
      );
    });
    await this.outbox.flush();
  }

  /** Marks every incoming text read and sends the read receipts a request held back. */
  async #readHeldBack(scope: Scope, conversationId: string): Promise<void> {
    const read = await readAll(scope.tx, conversationId);
    await startReadCountdowns(this.ctx, scope, conversationId); // disappearing ones count down
    for (const [sender, ids] of read) {
      if (await isBlocked(scope.tx, sender)) continue;
      await this.messaging.queueReceipt(scope, sender, ids, 'read');
    }
  }

  async #respond(scope: Scope, t: Target, type: MessageRequestResponse_Type): Promise<void> {
    await this.sync.send(scope, {
      body: {
        case: 'requestResponse',
        value: { type, accountId: t.accountId ?? '', groupId: t.groupId ?? '' },
      },
    });
  }
}
