/**
 * A group change from a member (or from our own device): merged if newer, with its
 * conversation event; removals and leaves rotate our sender key.
 * @module
 */
import type { Envelope } from '@parley/protocol';
import type { Content } from '../content/index.ts';
import type { ClientContext, Scope } from '../context.ts';
import type { GoneAccounts } from '../delivery/gone.ts';
import { isAdmin, mayApply } from '../groups/admins.ts';
import { mergeGroupState } from '../groups/state.ts';
import { groupConversationId, type GroupRecord } from '../model.ts';
import { isMember, rotateSenderKey } from '../records/groups.ts';
import { storeEvent } from '../records/messages.ts';
import type { Usernames } from '../usernames.ts';
import { parkIfAhead, takeParked } from './group-pending.ts';
import { adoptGroup } from './trust.ts';

export class GroupControlHandler {
  constructor(
    private readonly ctx: ClientContext,
    private readonly usernames: Usernames,
    private readonly gone?: GoneAccounts,
  ) {}

  async apply(scope: Scope, env: Envelope, content: Content): Promise<void> {
    if (content.body.case !== 'groupControl') return;
    const { ctx } = this;
    const control = content.body.value;
    const state = control.state;
    if (!state) return;
    const before = await scope.tx.get<GroupRecord>('groups', state.groupId);
    const fromSelf = ctx.isSelf(env.sourceAccountId);
    // Only members may change a group (anyone may be told they were added).
    if (before && !fromSelf && !isMember(before, env.sourceAccountId)) return;
    const conv = groupConversationId(state.groupId);
    const sender = { accountId: env.sourceAccountId, deviceId: env.sourceDeviceId };
    const event = (kind: Parameters<typeof storeEvent>[3], subjects: string[]) =>
      storeEvent(ctx, scope, conv, kind, subjects, sender);
    const claim = control.action;
    if (
      claim.case === 'remove' &&
      claim.value.accountsGone &&
      before &&
      !isAdmin(before, sender.accountId)
    ) {
      // A member who is not an admin reports deleted accounts: nothing changes on their word.
      // The relay is asked, and a deletion it confirms drops them here (delivery/gone.ts).
      const gone = this.gone;
      const ids = claim.value.accountIds;
      if (gone) scope.after(async () => void (await gone.check(ids)));
      return;
    }
    // Only admins change a group; anyone else may only leave (groups/admins.ts).
    if (before && before.revision < state.revision && !mayApply(before, state, sender.accountId)) {
      // It may build on an update not here yet (from another member): wait for that.
      const { groupId, revision } = state;
      if (await parkIfAhead(scope.tx, env, content, groupId, revision, before.revision)) return;
      // A change attempt is shown; a bare state (a catch-up after a safety number change)
      // from a member who may not change the group is only ignored.
      if (!before.left && control.action.case) {
        await event('group_update_refused', [sender.accountId]);
      }
      return;
    }
    const group = await mergeGroupState(ctx, scope, state, this.usernames);
    if (!group) return;
    await adoptGroup(scope, group, !before, env, control.action, ctx.accountId);
    const rotate = async () => {
      if (!group.left) await rotateSenderKey(scope.tx, group, ctx.ourAddress(), ctx.rng);
    };
    const action = control.action;
    switch (action.case) {
      case 'create':
        await event('group_created', [env.sourceAccountId]);
        break;
      case 'add':
        await event('group_members_added', action.value.accountIds);
        break;
      case 'remove': {
        const ids = action.value.accountIds;
        if (action.value.accountsGone) {
          // Deleted accounts: said once (for those still members here), and checked with the
          // relay before we mark them gone everywhere.
          const were = ids.filter((id) => before && isMember(before, id));
          if (were.length > 0) await event('member_account_deleted', were);
          const gone = this.gone;
          if (gone) scope.after(async () => void (await gone.check(ids)));
          // As for any removal: should the claim be false, they cannot read what follows.
          await rotate();
          break;
        }
        await event('group_members_removed', ids);
        await rotate();
        break;
      }
      case 'rename':
        await event('group_renamed', [action.value.title]);
        break;
      case 'leave':
        await event('group_left', [env.sourceAccountId]);
        await rotate();
        break;
      case 'makeAdmins':
        await event('group_admins_added', action.value.accountIds);
        break;
      default:
        break;
    }
    // An update that was waiting for this one is checked now.
    const parked = await takeParked(scope.tx, group.groupId, group.revision);
    if (parked) await this.apply(scope, parked.env, parked.content);
  }
}
