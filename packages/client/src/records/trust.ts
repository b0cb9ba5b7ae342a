/**
 * Message requests and blocking as stored: storage only (the rules that use them are in
 * trust/ and the receive path).
 *
 * - An account is *accepted* once we wrote to it (a 1:1 text, a contact we added, a member we
 *   chose for a group) or accepted its request; `ContactRecord.accepted`. An account we wrote
 *   to before requests existed counts too (we keep a `sent:` index of those texts).
 * - A direct conversation is a *request* while its peer is not accepted (worked out when it is
 *   read: `isRequest`); a group is one (`GroupRecord.request`) when a stranger added us, until
 *   we accept it (or write to it, or change it).
 * - A *blocked* account (`ContactRecord.blocked`) has everything it sends dropped.
 * @module
 */
import { PROCESSED } from '../keys.ts';
import type { ContactRecord, ConversationRecord, GroupRecord, MessageRecord } from '../model.ts';
import type { StorageTx } from '../storage/index.ts';
import { contactOrNew } from './contacts.ts';

type Reader = Pick<StorageTx, 'get' | 'list'>;

export async function isBlocked(tx: Pick<StorageTx, 'get'>, accountId: string): Promise<boolean> {
  return (await tx.get<ContactRecord>('contacts', accountId))?.blocked === true;
}

/**
 * Whether we wrote to `accountId` or accepted them (see the module comment). In a writable
 * transaction, an account found accepted only by the texts we sent before requests existed is
 * marked accepted, so the next look is one read.
 */
export async function isAccepted(tx: Reader | StorageTx, accountId: string): Promise<boolean> {
  const contact = await tx.get<ContactRecord>('contacts', accountId);
  if (contact?.accepted) return true;
  const wrote = (await tx.list('processed', PROCESSED.sentDirectPrefix(accountId))).length > 0;
  if (wrote && contact && 'put' in tx)
    await tx.put('contacts', accountId, { ...contact, accepted: true });
  return wrote;
}

/**
 * Whether a conversation (`direct:…` / `group:…`) is a request we have not accepted. Callers
 * that answer messages check `isBlocked` too.
 */
export async function isRequest(tx: Reader | StorageTx, conversationId: string): Promise<boolean> {
  if (conversationId.startsWith('group:')) {
    const g = await tx.get<GroupRecord>('groups', conversationId.slice('group:'.length));
    return g?.request === true;
  }
  // A blocked stranger's conversation is no pending request (it is blocked; unblocking makes
  // it one again).
  const peer = conversationId.slice('direct:'.length);
  return !(await isAccepted(tx, peer)) && !(await isBlocked(tx, peer));
}

/** Marks `accountId` accepted: its direct conversation is no longer a request. */
export async function markAccepted(tx: StorageTx, accountId: string): Promise<boolean> {
  const contact = await contactOrNew(tx, accountId);
  if (contact.accepted) return false;
  await tx.put('contacts', accountId, { ...contact, accepted: true });
  return true;
}

/** Marks a group accepted (we accepted it, wrote to it or changed it). */
export async function markGroupAccepted(tx: StorageTx, group: GroupRecord): Promise<boolean> {
  if (!group.request) return false;
  delete group.request;
  delete group.invitedBy;
  await tx.put('groups', group.groupId, group);
  return true;
}

/** Sets `blocked` on a contact if `at` is not older than the decision we have. */
export async function setBlocked(
  tx: StorageTx,
  accountId: string,
  blocked: boolean,
  at: number,
): Promise<boolean> {
  const contact = await contactOrNew(tx, accountId);
  if (contact.blockedAt !== undefined && at < contact.blockedAt) return false;
  if ((contact.blocked === true) === blocked && contact.blockedAt !== undefined) {
    await tx.put('contacts', accountId, { ...contact, blockedAt: at });
    return false;
  }
  const { blocked: _b, ...rest } = contact;
  await tx.put('contacts', accountId, { ...rest, ...(blocked ? { blocked } : {}), blockedAt: at });
  return true;
}

/**
 * Marks the groups our own device lists as requests, among those this device did not hold
 * before (`known`): a group it already had keeps its own state.
 */
export async function adoptGroupRequests(
  tx: StorageTx,
  requests: ReadonlyArray<{ groupId: string; invitedBy: string }>,
  known: ReadonlySet<string>,
): Promise<void> {
  for (const r of requests) {
    if (known.has(r.groupId)) continue;
    const g = await tx.get<GroupRecord>('groups', r.groupId);
    if (!g || g.left) continue;
    await tx.put('groups', g.groupId, {
      ...g,
      request: true,
      ...(r.invitedBy ? { invitedBy: r.invitedBy } : {}),
    });
  }
}

/** The ids of the groups stored here. */
export async function knownGroupIds(tx: Pick<StorageTx, 'list'>): Promise<Set<string>> {
  return new Set((await tx.list('groups')).map(([id]) => id));
}

/**
 * Marks every incoming text of a conversation read (an accepted request); returns their ids
 * by sender, for the read receipts the request held back.
 */
export async function readAll(
  tx: StorageTx,
  conversationId: string,
): Promise<Map<string, string[]>> {
  const bySender = new Map<string, string[]>();
  for (const [key, m] of await tx.list<MessageRecord>('messages', `${conversationId}/`)) {
    if (m.direction !== 'in' || m.kind !== 'text') continue;
    if (m.status !== 'read') await tx.put('messages', key, { ...m, status: 'read' });
    bySender.set(m.senderAccountId, [...(bySender.get(m.senderAccountId) ?? []), m.id]);
  }
  const conv = await tx.get<ConversationRecord>('conversations', conversationId);
  if (conv && conv.unread > 0)
    await tx.put('conversations', conversationId, { ...conv, unread: 0 });
  return bySender;
}

/** Deletes a conversation and every message in it (a deleted request). */
export async function deleteConversation(tx: StorageTx, conversationId: string): Promise<void> {
  for (const [key] of await tx.list('messages', `${conversationId}/`)) {
    await tx.delete('messages', key);
  }
  await tx.delete('conversations', conversationId);
}
