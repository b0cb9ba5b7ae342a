/**
 * Conversations as a whole: opening one (its messages join the snapshot, and the relay is asked
 * whether its accounts were deleted), starting a direct one by username, marking read, and our
 * typing signal.
 * @module
 */
import { DeletedAccountChecks } from '../lifecycle.ts';
import type { StateStore } from '../store.ts';
import type { ActiveClient } from './active-client.ts';
import type { Snapshot } from './snapshot.ts';
import { lookUp } from './usernames.ts';
import { toMessage } from './views.ts';

export class ConversationActions {
  /** Deleted-account checks done this session (see `DeletedAccountChecks`). */
  readonly #deletedChecks = new DeletedAccountChecks();

  constructor(
    private readonly store: StateStore,
    private readonly active: ActiveClient,
    private readonly snapshot: Snapshot,
  ) {}

  async openConversation(conversationId: string): Promise<void> {
    this.snapshot.open.add(conversationId);
    const list = (await this.active.require().messages(conversationId)).map(toMessage);
    this.store.update((s) => ({ messages: { ...s.messages, [conversationId]: list } }));
    void this.#deletedChecks.check(this.active.require(), conversationId);
  }

  async startDirect(username: string): Promise<string> {
    const contact = await lookUp(this.active, username);
    if (contact.accountId === this.store.getState().me?.accountId) {
      throw new Error('That is you. Pick someone else to chat with.');
    }
    await this.snapshot.refresh();
    return `direct:${contact.accountId}`;
  }

  async markRead(conversationId: string): Promise<void> {
    await this.active.require().markRead(conversationId);
    this.store.update((s) => ({
      conversations: s.conversations.map((c) =>
        c.id === conversationId ? { ...c, unread: 0 } : c,
      ),
    }));
  }

  setTyping(conversationId: string, typing: boolean): void {
    const [kind, peer] = splitId(conversationId);
    // The client sends typing indicators in 1:1 conversations only (over HTTP, from any tab;
    // not while this device is offline).
    if (
      kind !== 'direct' ||
      !this.active.current?.account ||
      this.store.getState().connection !== 'online'
    )
      return;
    void this.active.current.sendTyping(peer, typing).catch(() => {});
  }
}

/** `direct:<accountId>` or `group:<groupId>`, taken apart. */
export function splitId(conversationId: string): ['direct' | 'group', string] {
  const i = conversationId.indexOf(':');
  const kind = conversationId.slice(0, i);
  if (kind !== 'direct' && kind !== 'group')
    throw new Error(`bad conversation id ${conversationId}`);
  return [kind, conversationId.slice(i + 1)];
}
