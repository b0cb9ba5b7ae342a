/**
 * A block or unblock decision, taken here or synced from another of our devices: stored on the
 * contact when it is not older than the one we hold, shown as an event in the chat.
 * @module
 */
import type { ClientContext, Scope } from '../context.ts';
import { directConversationId } from '../model.ts';
import { listContacts } from '../records/contacts.ts';
import { storeEvent } from '../records/messages.ts';
import { setBlocked } from '../records/trust.ts';

/**
 * Records the decision made at `at` by `by` (one of our devices; this one when absent).
 * Returns false when a later decision is already stored, and nothing changes.
 */
export async function recordBlockDecision(
  ctx: ClientContext,
  scope: Scope,
  accountId: string,
  blocked: boolean,
  at: number,
  by?: { accountId: string; deviceId: number },
): Promise<boolean> {
  if (!(await setBlocked(scope.tx, accountId, blocked, at))) return false;
  const conversationId = directConversationId(accountId);
  const event = blocked ? 'contact_blocked' : 'contact_unblocked';
  await storeEvent(ctx, scope, conversationId, event, [accountId], by ?? ctx.account, at);
  scope.emit('contacts', await listContacts(scope.tx));
  scope.emit('trust', { conversationId, change: blocked ? 'blocked' : 'unblocked' });
  return true;
}
