import type { ModelState } from '../model/types.ts';

export interface ConversationInfo {
  kind: 'direct' | 'group';
  peer: string;
  title: string;
}

/** Title and kind of a conversation, also for one that has no messages yet. */
export function conversationInfo(state: ModelState, conversationId: string): ConversationInfo {
  const sep = conversationId.indexOf(':');
  const kind = conversationId.slice(0, sep) === 'group' ? 'group' : 'direct';
  const peer = conversationId.slice(sep + 1);
  const summary = state.conversations.find((c) => c.id === conversationId);
  const title =
    kind === 'group'
      ? (state.groups[peer]?.title ?? summary?.title ?? 'Group')
      : (state.contacts[peer]?.username ?? summary?.title ?? `${peer.slice(0, 8)}…`);
  return { kind, peer, title };
}

/** Contacts whose identity key changed and who take part in this conversation. */
export function changedIdentities(state: ModelState, conversationId: string): string[] {
  const { kind, peer } = conversationInfo(state, conversationId);
  const ids =
    kind === 'direct' ? [peer] : (state.groups[peer]?.members.map((m) => m.accountId) ?? []);
  return ids.filter((id) => state.contacts[id]?.identityChanged);
}

/** "alice is typing…", "alice and bob are typing…", "3 people are typing…". */
export function typingLabel(names: readonly string[]): string | undefined {
  if (names.length === 0) return undefined;
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  return `${names.length} people are typing…`;
}
