/**
 * Usernames claimed in content: a sender about itself, a group state about its members, our
 * own device about a recipient. A claim is only a hint; it is looked up on the relay after the
 * commit and kept only if the relay maps it to that account now.
 * @module
 */
import type { ClientContext, Scope } from './context.ts';
import { listContacts } from './records/contacts.ts';
import type { ContactRecord, GroupRecord } from './model.ts';
import { RelayHttpError } from './relay/index.ts';
import type { StorageTx } from './storage/index.ts';

/** A claimed username the relay did not confirm is not looked up again for this long. */
const USERNAME_RECHECK_MS = 3600_000;
/**
 * At most this many claim lookups an hour, so they leave most of the relay's per-account
 * lookup limit (100/h by default) to the user's own searches; over it, a claim waits for a
 * later message.
 */
const USERNAME_CHECKS_PER_HOUR = 40;
/** What the relay accepts as a username (`Username` in @parley/protocol). */
const USERNAME = /^[A-Za-z0-9_.]{3,32}$/;

/**
 * Stores `username`, which the relay maps to `accountId`, on that contact and its group
 * memberships. Another contact still showing that name (it was renamed or deleted since) keeps
 * it as `formerUsername`, never as its current name; and if any other account we know had the
 * name, this one is marked `usernameReusedFrom` it ("not the <name> you talked to before").
 * Accounts that lost the name are added to `moved`. Returns the groups that changed.
 */
export async function storeUsername(
  tx: StorageTx,
  accountId: string,
  username: string,
  moved: string[] = [],
): Promise<GroupRecord[]> {
  const name = username.toLowerCase();
  let previous: string | undefined;
  for (const [id, c] of await tx.list<ContactRecord>('contacts')) {
    if (id === accountId) continue;
    const had = c.username?.toLowerCase() === name;
    if (had || c.formerUsername?.toLowerCase() === name) previous = id;
    if (!had) continue;
    const { username: stale, ...rest } = c;
    await tx.put('contacts', id, { ...rest, formerUsername: stale } satisfies ContactRecord);
    moved.push(id);
  }
  const contact = (await tx.get<ContactRecord>('contacts', accountId)) ?? {
    accountId,
    devices: {},
  };
  if (contact.username !== username) {
    // A new name: the flag says whether *this* name was someone else's.
    const { formerUsername: _old, usernameReusedFrom: _before, ...rest } = contact;
    const reused =
      previous !== undefined && contact.username?.toLowerCase() !== name
        ? { usernameReusedFrom: previous }
        : {};
    await tx.put('contacts', accountId, { ...rest, username, ...reused } satisfies ContactRecord);
  }
  const changed: GroupRecord[] = [];
  for (const [groupId, g] of await tx.list<GroupRecord>('groups')) {
    let dirty = false;
    const members = g.members.map((m) => {
      if (m.accountId === accountId && m.username !== username) {
        dirty = true;
        return { ...m, username };
      }
      if (m.accountId !== accountId && m.username?.toLowerCase() === name) {
        dirty = true;
        return { accountId: m.accountId };
      }
      return m;
    });
    if (!dirty) continue;
    const next = { ...g, members };
    await tx.put('groups', groupId, next);
    changed.push(next);
  }
  return changed;
}

export class Usernames {
  /** Claims (`accountId` + lowercased name) being checked or refuted, and when. */
  readonly #checks = new Map<string, number>();
  /** When the claim lookups of the last hour ran. */
  #lookups: number[] = [];

  /**
   * Called (after the commit) with accounts whose username moved to another account: they
   * were renamed or deleted, which the front checks with the relay.
   */
  onNameMoved: ((accountIds: string[]) => Promise<void>) | undefined;

  constructor(private readonly ctx: ClientContext) {}

  /**
   * `username` is claimed for `accountId`. Unless it is the name we already confirmed (or a
   * claim refuted within the last hour), it is looked up on the relay after the commit.
   */
  async claim(scope: Scope, accountId: string, username: string): Promise<void> {
    const { ctx } = this;
    if (!USERNAME.test(username) || ctx.isSelf(accountId)) return;
    const claim = username.toLowerCase();
    const contact = await scope.tx.get<ContactRecord>('contacts', accountId);
    if (contact?.username?.toLowerCase() === claim) return;
    const key = `${accountId}\n${claim}`;
    const now = ctx.now();
    const checkedAt = this.#checks.get(key);
    if (checkedAt !== undefined && now - checkedAt < USERNAME_RECHECK_MS) return;
    this.#lookups = this.#lookups.filter((t) => now - t < 3600_000);
    if (this.#lookups.length >= USERNAME_CHECKS_PER_HOUR) return;
    this.#lookups.push(now);
    this.#checks.set(key, now);
    scope.after(() => this.#confirm(accountId, claim, key));
  }

  /** Looks a claimed username up; stores it on the contact if it is that account's now. */
  async #confirm(accountId: string, claim: string, key: string): Promise<void> {
    const { ctx } = this;
    let found;
    try {
      found = await ctx.http.lookupUsername(claim);
    } catch (err) {
      // Nobody has it (404): refuted. Anything else (rate limit, relay down): try again later.
      if (!(err instanceof RelayHttpError && (err.status === 404 || err.status === 400))) {
        this.#checks.delete(key);
        console.warn(`parley: could not check the username claimed by ${accountId}`, err);
      }
      return;
    }
    if (found.accountId !== accountId) return; // a forged or stale claim: ignored
    this.#checks.delete(key);
    const username = found.username;
    await ctx.transaction(async (scope) => {
      const moved: string[] = [];
      const groups = await storeUsername(scope.tx, accountId, username, moved);
      scope.emit('contacts', await listContacts(scope.tx));
      for (const g of groups) scope.emit('group', g);
      const onMoved = this.onNameMoved;
      if (moved.length > 0 && onMoved) scope.after(() => onMoved(moved));
    });
  }
}
