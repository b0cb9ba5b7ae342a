/**
 * Group admins: who may change a group. The creator is an admin; admins may add and remove
 * members, rename the group and make other members admins; everyone else may only post and
 * leave. Our own API refuses a change we may not make (`GroupAdminError`), and every device
 * checks each group update it receives against the state it holds (`mayApply`): an update
 * its sender was not allowed to make is ignored and shown as a `group_update_refused` event.
 *
 * Updates from different members are not ordered: one that skips ahead of the revision we
 * hold (a new admin's change arriving before their promotion) waits until the group catches
 * up, and is checked then (receive/group-pending.ts).
 *
 * Limit (the groups are client-managed, with no server holding the authoritative state): a
 * device that does not know a group yet (it is being added) takes the state it is given.
 * @module
 */
import type { GroupState } from '../content/index.ts';
import { GroupAdminError } from '../errors.ts';
import type { GroupRecord } from '../model.ts';

/** The admins of `g`: its list, or for a group from before admins existed, its creator. */
export function adminsOf(g: Pick<GroupRecord, 'admins' | 'creator'>): string[] {
  return g.admins && g.admins.length > 0 ? g.admins : [g.creator];
}

export function isAdmin(g: Pick<GroupRecord, 'admins' | 'creator'>, accountId: string): boolean {
  return adminsOf(g).includes(accountId);
}

/** Throws `GroupAdminError` unless `accountId` is an admin of `g`. */
export function requireAdmin(g: GroupRecord, accountId: string): void {
  if (!isAdmin(g, accountId)) throw new GroupAdminError(g.groupId);
}

/** The admins a received state names, kept to its members (the creator for an old state). */
export function stateAdmins(state: GroupState): string[] {
  const members = new Set(state.members.map((m) => m.accountId));
  const listed = state.admins.length > 0 ? state.admins : [state.creator];
  return [...new Set(listed)].filter((a) => members.has(a));
}

const sameSet = (a: string[], b: string[]) =>
  a.length === b.length && new Set([...a, ...b]).size === a.length;

/**
 * Whether `sender` was allowed to turn `before` (what we hold) into `next`. A group we do not
 * hold yet is taken as given. An admin may make any change but not replace the creator; anyone
 * else may only leave: `next` must be `before` without them, and nothing else changed.
 */
export function mayApply(
  before: GroupRecord | undefined,
  next: GroupState,
  sender: string,
): boolean {
  if (!before) return true;
  if (next.creator !== before.creator) return false;
  if (isAdmin(before, sender)) return true;
  const without = before.members.map((m) => m.accountId).filter((a) => a !== sender);
  return (
    without.length < before.members.length &&
    sameSet(
      next.members.map((m) => m.accountId),
      without,
    ) &&
    next.title === before.title &&
    sameSet(
      stateAdmins(next),
      adminsOf(before).filter((a) => a !== sender),
    )
  );
}
