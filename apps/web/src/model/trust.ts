/**
 * Message requests, blocking and group admins in the view model (issue 12): the actions the
 * screens can take, and the words for what the client core refuses. `ChatModel` includes
 * `TrustActions`; `client-model/requests.ts` and `client-model/groups.ts` implement them on
 * `@parley/client`, `fake-model.ts` in memory.
 * @module
 */
import type { ModelState } from './types.ts';

export interface TrustActions {
  /** Accepts a message request: read receipts and typing go back from now on. */
  acceptRequest(conversationId: string): Promise<void>;
  /** Deletes a message request with its messages (a group request is left). */
  deleteRequest(conversationId: string): Promise<void>;
  /** Blocks whoever sent the request (a group request is also left). */
  blockRequest(conversationId: string): Promise<void>;
  /** Blocks or unblocks an account, on all of our devices. */
  setBlocked(accountId: string, blocked: boolean): Promise<void>;
  /** Makes a member an admin of a group (only admins may). */
  makeAdmin(groupId: string, accountId: string): Promise<void>;
}

/** What the core's trust error codes mean to a user (merged into client-model/errors.ts). */
export const TRUST_WORDS = {
  not_group_admin: 'Only a group admin can do that.',
  blocked: 'You blocked this contact. Unblock them to write to them.',
} as const;

/** Whether we may change the group (an admin); a group without an admin list: yes. */
export function isGroupAdmin(state: ModelState, groupId: string): boolean {
  const group = state.groups[groupId];
  const me = state.me?.accountId;
  if (!group || !me) return false;
  return group.admins === undefined || group.admins.includes(me);
}

/** The conversation's request and blocked state, for the screens. */
export function trustOf(state: ModelState, conversationId: string) {
  const summary = state.conversations.find((c) => c.id === conversationId);
  const peer = conversationId.startsWith('direct:') ? conversationId.slice(7) : undefined;
  return {
    request: summary?.request === true,
    blocked: peer !== undefined && state.contacts[peer]?.blocked === true,
    peer,
  };
}
