/**
 * Merging a group state from a peer (a control message, a sync, a link): kept only if newer;
 * member usernames are the ones we confirmed ourselves, the sender's claims are checked.
 * @module
 */
import type { GroupState } from '../content/index.ts';
import type { ClientContext, Scope } from '../context.ts';
import type { ContactRecord, GroupMemberRecord, GroupRecord } from '../model.ts';
import { uuid } from '../records/groups.ts';
import { stateAdmins } from './admins.ts';
import type { Usernames } from '../usernames.ts';

/**
 * Stores `state` if it is newer than what we have; returns the stored record. With
 * `usernames`, the member names it claims are checked with the relay after the commit.
 */
export async function mergeGroupState(
  ctx: ClientContext,
  scope: Scope,
  state: GroupState,
  usernames?: Usernames,
): Promise<GroupRecord | undefined> {
  const { tx } = scope;
  const existing = await tx.get<GroupRecord>('groups', state.groupId);
  if (existing && existing.revision >= state.revision) return undefined;
  const self = ctx.requireAccount();
  const members: GroupMemberRecord[] = [];
  for (const m of state.members) {
    if (members.some((x) => x.accountId === m.accountId)) continue;
    const contact =
      m.accountId === self.accountId
        ? undefined
        : await tx.get<ContactRecord>('contacts', m.accountId);
    if (contact?.goneAt !== undefined) continue; // deleted: dropped from every group
    const username = m.accountId === self.accountId ? self.username : contact?.username;
    members.push({ accountId: m.accountId, ...(username ? { username } : {}) });
  }
  const stillMember = members.some((m) => m.accountId === self.accountId);
  const group: GroupRecord = {
    groupId: state.groupId,
    title: state.title,
    revision: state.revision,
    members,
    creator: state.creator,
    admins: stateAdmins(state),
    ...(existing?.request ? { request: true } : {}),
    distributionId: existing?.distributionId ?? uuid(ctx.rng),
    senderKeySentTo: existing?.senderKeySentTo ?? [],
    ...(stillMember ? {} : { left: true }),
  };
  await tx.put('groups', group.groupId, group);
  for (const m of state.members) {
    if (m.accountId === self.accountId) continue;
    if (!(await tx.get<ContactRecord>('contacts', m.accountId))) {
      await tx.put('contacts', m.accountId, {
        accountId: m.accountId,
        devices: {},
      } satisfies ContactRecord);
    }
    await usernames?.claim(scope, m.accountId, m.username);
  }
  scope.emit('group', group);
  return group;
}
