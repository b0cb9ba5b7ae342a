/**
 * Identity changes as stored: the contact is blocked (unverified, `identityChanged`) and an
 * event goes into the conversation and every group shared with them.
 * @module
 */
import type { ClientContext, Scope } from '../context.ts';
import { directConversationId, groupConversationId, type IdentityRecord } from '../model.ts';
import { contactOrNew, unverified } from './contacts.ts';
import { isMember, listGroups } from './groups.ts';
import { storeEvent } from './messages.ts';

/** "Your safety number with X changed": in our conversation, and in every group we share. */
export async function storeIdentityChanged(
  ctx: ClientContext,
  scope: Scope,
  accountId: string,
): Promise<void> {
  await storeEvent(ctx, scope, directConversationId(accountId), 'identity_changed', [accountId]);
  for (const g of await listGroups(scope.tx)) {
    if (!g.left && isMember(g, accountId)) {
      await storeEvent(ctx, scope, groupConversationId(g.groupId), 'identity_changed', [accountId]);
    }
  }
}

/**
 * Records that `accountId`'s identity changed: received from a new key (`pendingKey` unset),
 * or found in the relay's bundle when sending (`pendingKey`: the key awaiting acknowledgement).
 */
export async function markIdentityChanged(
  ctx: ClientContext,
  scope: Scope,
  accountId: string,
  pendingKey?: Uint8Array,
): Promise<void> {
  const { tx } = scope;
  if (pendingKey) {
    const identity = await tx.get<IdentityRecord>('identities', accountId);
    if (identity) await tx.put('identities', accountId, { ...identity, pendingKey });
  }
  const contact = await contactOrNew(tx, accountId);
  await tx.put('contacts', accountId, { ...unverified(contact), identityChanged: true });
  await storeIdentityChanged(ctx, scope, accountId);
  scope.emit('identityChanged', { accountId });
}
