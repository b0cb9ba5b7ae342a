/**
 * Deleted accounts. The relay keeps a tombstone of a deleted account's id and answers sends and
 * bundle fetches to it 410 `account_gone`. When we learn it (our own send, or a group member's
 * notice that we check with the relay), in one transaction: the contact is marked gone (its
 * username kept as `formerUsername`, its sessions and devices dropped), its direct conversation
 * says "account deleted", every queued message to it fails with `account_deleted` (never
 * retried) and everything else queued for it is dropped, and it leaves the member list of every
 * group we share (with a `member_account_deleted` event). Listeners then hear which groups lost
 * whom, so the groups layer can tell the other members.
 * @module
 */
import type { ClientContext, Scope } from '../context.ts';
import { sessionPrefix } from '../keys.ts';
import {
  directConversationId,
  groupConversationId,
  type ContactRecord,
  type ConversationRecord,
  type GroupRecord,
  type SendFailure,
} from '../model.ts';
import { contactOrNew, listContacts } from '../records/contacts.ts';
import { storeEvent, updateMessage } from '../records/messages.ts';
import { goneAccountsOf } from '../relay/index.ts';
import { AccountGoneError } from '../errors.ts';

/** The failure of a message whose recipient's account was deleted. */
export const ACCOUNT_DELETED: SendFailure = { reason: 'account_deleted', retryable: false };

/** Groups that lost members because their accounts are gone. */
export interface GoneFromGroups {
  /** Group id → the gone accounts dropped from it. */
  groups: Map<string, string[]>;
}

/** The part of an outbox entry this module reads (see `OutboxEntry`). */
interface QueuedEntry {
  messageId?: string;
  legs?: { to: string }[];
  primary?: boolean;
}

/** Whether `accountId` is known to be deleted. */
export async function isGone(
  tx: { get: ClientContext['storage']['get'] },
  accountId: string,
): Promise<boolean> {
  return (await tx.get<ContactRecord>('contacts', accountId))?.goneAt !== undefined;
}

/**
 * The accounts an error says are deleted: `[accountId]` for a single-recipient answer, the
 * named ones for a multi-recipient one; undefined when it says nothing of the kind.
 */
export function goneFromError(err: unknown, accountId?: string): string[] | undefined {
  if (err instanceof AccountGoneError) return err.accountIds;
  const named = goneAccountsOf(err);
  if (!named) return undefined;
  if (named.length > 0) return named;
  return accountId === undefined ? undefined : [accountId];
}

export class GoneAccounts {
  readonly #listeners = new Set<(gone: GoneFromGroups) => Promise<void>>();

  constructor(private readonly ctx: ClientContext) {}

  /** Calls `listener` after the commit that dropped gone accounts from groups. */
  onGroupsChanged(listener: (gone: GoneFromGroups) => Promise<void>): void {
    this.#listeners.add(listener);
  }

  /** Marks `accountIds` gone in a transaction of its own; returns those newly marked. */
  mark(accountIds: readonly string[]): Promise<string[]> {
    return this.ctx.transaction((scope) => this.markIn(scope, accountIds));
  }

  /** Asks the relay which of `accountIds` are deleted and marks those; returns them. */
  async check(accountIds: readonly string[]): Promise<string[]> {
    const ids = [...new Set(accountIds)].filter((id) => !this.ctx.isSelf(id)).slice(0, 100);
    if (ids.length === 0) return [];
    const { gone } = await this.ctx.http.goneAccounts(ids);
    if (gone.length > 0) await this.mark(gone);
    return gone;
  }

  /**
   * Marks `accountIds` gone in `scope` (see the module comment). `skipOutbox`: an outbox entry
   * the caller settles itself. Returns the accounts newly marked.
   */
  async markIn(
    scope: Scope,
    accountIds: readonly string[],
    skipOutbox?: string,
  ): Promise<string[]> {
    const { ctx } = this;
    const { tx } = scope;
    const now = ctx.now();
    const newly: string[] = [];
    for (const id of new Set(accountIds)) {
      if (ctx.isSelf(id)) continue;
      const contact = await contactOrNew(tx, id);
      if (contact.goneAt !== undefined) continue;
      // Nothing goes to it any more: a pending identity change must not block group sends.
      const { username, identityChanged: _changed, ...rest } = contact;
      const formerUsername = username ?? contact.formerUsername;
      await tx.put('contacts', id, {
        ...rest,
        devices: {},
        goneAt: now,
        ...(formerUsername ? { formerUsername } : {}),
      } satisfies ContactRecord);
      for (const [k] of await tx.list('sessions', sessionPrefix(id)))
        await tx.delete('sessions', k);
      const direct = directConversationId(id);
      if (await tx.get<ConversationRecord>('conversations', direct)) {
        await storeEvent(ctx, scope, direct, 'account_deleted', [id]);
      }
      newly.push(id);
    }
    if (newly.length === 0) return [];
    const gone = new Set(newly);

    const changed = new Map<string, string[]>();
    for (const [groupId, g] of await tx.list<GroupRecord>('groups')) {
      const dropped = g.members.filter((m) => gone.has(m.accountId)).map((m) => m.accountId);
      if (dropped.length === 0) continue;
      const next: GroupRecord = {
        ...g,
        members: g.members.filter((m) => !gone.has(m.accountId)),
        senderKeySentTo: g.senderKeySentTo.filter(
          (d) => !dropped.some((a) => d.startsWith(`${a}.`)),
        ),
      };
      await tx.put('groups', groupId, next);
      await storeEvent(ctx, scope, groupConversationId(groupId), 'member_account_deleted', dropped);
      scope.emit('group', next);
      if (!g.left) changed.set(groupId, dropped);
    }

    await this.#failQueued(scope, gone, skipOutbox);
    scope.emit('contacts', await listContacts(tx));
    if (changed.size > 0) {
      scope.after(async () => {
        for (const listener of this.#listeners) await listener({ groups: changed });
      });
    }
    return newly;
  }

  /** Fails our queued messages to `gone` accounts and drops anything else queued for them. */
  async #failQueued(scope: Scope, gone: Set<string>, skip: string | undefined): Promise<void> {
    const { tx } = scope;
    const self = this.ctx.requireAccount();
    for (const [key, entry] of await tx.list<QueuedEntry>('outbox')) {
      if (key === skip || !Array.isArray(entry.legs)) continue;
      const legs = entry.legs;
      const first = legs[0];
      if (first && gone.has(first.to) && entry.primary && entry.messageId) {
        await tx.delete('outbox', key);
        const m = await updateMessage(tx, self.accountId, entry.messageId, (m) => {
          m.status = 'failed';
          m.failure = ACCOUNT_DELETED;
        });
        if (m) {
          scope.emit('status', {
            conversationId: m.conversationId,
            id: m.id,
            status: 'failed',
            failure: ACCOUNT_DELETED,
          });
        }
        continue;
      }
      const kept = legs.filter((l) => !gone.has(l.to));
      if (kept.length === legs.length) continue;
      if (kept.length === 0) await tx.delete('outbox', key);
      else {
        const primary = entry.primary === true && kept[0] === first;
        await tx.put('outbox', key, { ...entry, legs: kept, primary });
      }
    }
  }
}
