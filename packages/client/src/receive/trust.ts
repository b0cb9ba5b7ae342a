/**
 * Message requests and blocking on the receive path, inside the envelope's transaction:
 * what a blocked account sends is dropped; a group a stranger adds us to is a request; our
 * own devices' block, accept and delete decisions are applied here too.
 * @module
 */
import type { Envelope } from '@parley/protocol';
import {
  MessageRequestResponse_Type,
  timestampOf,
  type BlockedSync,
  type Content,
  type GroupControl,
  type MessageRequestResponse,
} from '../content/index.ts';
import type { ClientContext, Scope } from '../context.ts';
import { directConversationId, groupConversationId, type GroupRecord } from '../model.ts';
import { startReadCountdowns } from '../disappearing/countdown.ts';
import {
  deleteConversation,
  isAccepted,
  isBlocked,
  markAccepted,
  markGroupAccepted,
  readAll,
} from '../records/trust.ts';
import { recordBlockDecision } from '../trust/block.ts';

/**
 * Whether to drop `content` from a blocked account, unseen and unanswered (no receipt). Its
 * sender keys and updates to groups we share are still taken, so such a group keeps working
 * and stays in step; its texts, receipts, typing, retry requests and invitations are not.
 */
export async function dropBlocked(
  ctx: ClientContext,
  scope: Scope,
  env: Envelope,
  content: Content,
): Promise<boolean> {
  if (ctx.isSelf(env.sourceAccountId)) return false;
  if (!(await isBlocked(scope.tx, env.sourceAccountId))) return false;
  const body = content.body;
  if (body.case === 'senderKeyDistribution') return false;
  // Updates to a group we are in are taken; a blocked account cannot add us to a new one.
  if (body.case === 'groupControl') {
    const groupId = body.value.state?.groupId;
    return !groupId || !(await scope.tx.get<GroupRecord>('groups', groupId));
  }
  return true;
}

/**
 * After a group update was merged: a group a stranger added us to is a request; a change from
 * our own device accepts the group and the members it chose.
 */
export async function adoptGroup(
  scope: Scope,
  group: GroupRecord,
  isNew: boolean,
  env: Envelope,
  action: GroupControl['action'],
  self: string,
): Promise<void> {
  const { tx } = scope;
  const sender = env.sourceAccountId;
  if (sender === self) {
    await markGroupAccepted(tx, group);
    const chosen =
      action.case === 'create'
        ? group.members.map((m) => m.accountId)
        : action.case === 'add'
          ? action.value.accountIds
          : [];
    for (const id of chosen) if (id !== self) await markAccepted(tx, id);
    return;
  }
  if (isNew && !group.left && !(await isAccepted(tx, sender))) {
    group.request = true;
    group.invitedBy = sender;
    await tx.put('groups', group.groupId, group);
    scope.emit('trust', { conversationId: groupConversationId(group.groupId), change: 'request' });
  }
}

/** Another of our devices blocked or unblocked an account (the later decision wins). */
export async function applyBlockedSync(
  ctx: ClientContext,
  scope: Scope,
  env: Envelope,
  content: Content,
  sync: BlockedSync,
): Promise<void> {
  const { accountId, blocked } = sync;
  if (!accountId || ctx.isSelf(accountId)) return;
  const by = { accountId: env.sourceAccountId, deviceId: env.sourceDeviceId };
  await recordBlockDecision(ctx, scope, accountId, blocked, timestampOf(content), by);
}

/** Another of our devices accepted or deleted a message request. */
export async function applyRequestResponse(
  ctx: ClientContext,
  scope: Scope,
  response: MessageRequestResponse,
): Promise<void> {
  const { tx } = scope;
  const accept = response.type === MessageRequestResponse_Type.ACCEPT;
  let conversationId: string;
  if (response.groupId) {
    conversationId = groupConversationId(response.groupId);
    const group = await tx.get<GroupRecord>('groups', response.groupId);
    if (accept && group && (await markGroupAccepted(tx, group))) scope.emit('group', group);
  } else if (response.accountId) {
    conversationId = directConversationId(response.accountId);
    if (accept) await markAccepted(tx, response.accountId);
  } else {
    return;
  }
  // The accepting device marked it read (and sent the receipts); so do we.
  if (accept) {
    await readAll(tx, conversationId);
    await startReadCountdowns(ctx, scope, conversationId);
  } else {
    await deleteConversation(tx, conversationId);
  }
  scope.emit('trust', { conversationId, change: accept ? 'accepted' : 'deleted' });
}
