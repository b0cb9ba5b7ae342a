/**
 * The snapshot the screens read, rebuilt from storage: contacts, groups, the conversation list
 * and the messages of the conversations on screen. Rebuilds asked for while one runs are
 * coalesced, so a burst of envelopes costs one more rebuild, not one each.
 * @module
 */
import { PRIMARY_DEVICE_ID } from '@parley/protocol';
import { toContact } from '../lifecycle.ts';
import { sortConversations, type StateStore } from '../store.ts';
import type { Contact, ConversationSummary, Group, Message } from '../types.ts';
import type { ActiveClient } from './active-client.ts';
import { friendly } from './errors.ts';
import { summarize, toGroup, toMessage } from './views.ts';

export class Snapshot {
  /** Conversations opened on screen (or written to): their messages are kept in the state. */
  readonly open = new Set<string>();
  #refreshing: Promise<void> | undefined;
  #again = false;

  constructor(
    private readonly store: StateStore,
    private readonly active: ActiveClient,
  ) {}

  /** Rebuilds soon; if a rebuild is running, once more after it. Never rejects. */
  schedule(): void {
    if (this.#refreshing) {
      this.#again = true;
      return;
    }
    this.#refreshing = (async () => {
      try {
        do {
          this.#again = false;
          await this.refresh();
        } while (this.#again);
      } catch (err) {
        console.warn('parley: refresh failed', friendly(err));
      } finally {
        this.#refreshing = undefined;
      }
    })();
  }

  /** `refresh`, logging a failure instead of rejecting (after an action, whatever its outcome). */
  refreshOrWarn(): Promise<void> {
    return this.refresh().catch((err: unknown) =>
      console.warn('parley: refresh failed', friendly(err)),
    );
  }

  async refresh(): Promise<void> {
    const client = this.active.current;
    const account = client?.account;
    if (!client || !account) return;
    const [contactRecords, groupRecords, conversationRecords] = await Promise.all([
      client.contacts(),
      client.groups(),
      client.conversations(),
    ]);
    const contacts: Record<string, Contact> = {};
    for (const c of contactRecords) contacts[c.accountId] = toContact(c);
    const groups: Record<string, Group> = {};
    for (const g of groupRecords) groups[g.groupId] = toGroup(g, account.accountId);

    const messages: Record<string, Message[]> = {};
    const conversations: ConversationSummary[] = [];
    for (const c of conversationRecords) {
      const list = (await client.messages(c.id)).map(toMessage);
      if (this.open.has(c.id)) messages[c.id] = list;
      conversations.push(summarize(c, list, contacts, groups, account.accountId));
    }
    for (const id of this.open) messages[id] ??= (await client.messages(id)).map(toMessage);

    this.store.update({
      me: {
        accountId: account.accountId,
        deviceId: account.deviceId,
        username: account.username,
        isPrimary: account.deviceId === PRIMARY_DEVICE_ID,
      },
      contacts,
      groups,
      conversations: sortConversations(conversations),
      messages,
    });
  }
}
