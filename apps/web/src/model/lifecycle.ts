/**
 * Account lifecycle in the view model: a contact whose account was deleted, one whose username
 * moved to another account (renamed, or freed and taken), and a newcomer whose username was
 * last seen on an account we talked to. Conversations are keyed by account id, so none of this
 * ever merges two people; it only says so in words.
 * @module
 */
import type { ContactRecord } from '@parley/client';
import type { Contact } from './types.ts';

/** A short form of an account id, for someone whose username we do not know. */
export const shortId = (accountId: string) => `${accountId.slice(0, 8)}…`;

/** The view model's contact: the old username stays on a contact that lost it. */
export function toContact(c: ContactRecord): Contact {
  const lost = c.username === undefined ? c.formerUsername : undefined;
  return {
    accountId: c.accountId,
    username: c.username ?? lost ?? shortId(c.accountId),
    verified: c.verified ?? false,
    identityChanged: c.identityChanged ?? false,
    sealedSender: c.sealedSender ?? false,
    ...(c.goneAt !== undefined ? { deleted: true } : {}),
    ...(lost ? { formerUsername: lost } : {}),
    ...(c.usernameReusedFrom ? { usernameReusedFrom: c.usernameReusedFrom } : {}),
    ...(c.blocked ? { blocked: true } : {}),
  };
}

/** What a direct conversation's header says about the other account, if anything. */
export function accountStatus(contact: Contact | undefined): string | undefined {
  if (!contact) return undefined;
  if (contact.deleted) return 'Account deleted';
  if (contact.formerUsername) return 'No longer uses this username';
  return undefined;
}

/**
 * "Not the carol_… you talked to before", when `contact`'s username was last seen on another
 * account we know; undefined otherwise.
 */
export function reusedUsernameWarning(contact: Contact | undefined): string | undefined {
  if (!contact?.usernameReusedFrom || contact.formerUsername) return undefined;
  return (
    `Not the ${contact.username} you talked to before: this username belonged to another ` +
    `account until recently. Compare safety numbers before you trust it.`
  );
}

/** What `DeletedAccountChecks` needs of the client. */
interface GoneChecker {
  checkDeletedAccounts(accountIds: string[]): Promise<string[]>;
  group(groupId: string): Promise<{ members: { accountId: string }[] } | undefined>;
  readonly accountId: string;
}

/**
 * Opening a conversation asks the relay (once per account per session) whether its other
 * account, or a group's members, were deleted: every device then shows "account deleted" and
 * drops deleted members, also when it never sent to them itself.
 */
export class DeletedAccountChecks {
  readonly #checked = new Set<string>();

  /** Never throws: a failed check is logged and tried again next time. */
  async check(client: GoneChecker, conversationId: string): Promise<void> {
    const colon = conversationId.indexOf(':');
    const kind = conversationId.slice(0, colon);
    const peer = conversationId.slice(colon + 1);
    let fresh: string[] = [];
    try {
      const ids =
        kind === 'group'
          ? ((await client.group(peer))?.members.map((m) => m.accountId) ?? [])
          : [peer];
      fresh = ids.filter((id) => id !== client.accountId && !this.#checked.has(id));
      if (fresh.length === 0) return;
      for (const id of fresh) this.#checked.add(id);
      await client.checkDeletedAccounts(fresh);
    } catch (err) {
      for (const id of fresh) this.#checked.delete(id); // try again next time
      console.warn('parley: could not check for deleted accounts', err);
    }
  }
}
