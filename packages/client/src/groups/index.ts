/**
 * Managing groups we are in: create, add and remove members, rename, leave. Every change is
 * stored with its conversation event and its control message (to every member, removed ones
 * and our other devices) queued in the outbox in one transaction; nothing is stored or sent
 * while a member's safety number change is unacknowledged.
 * @module
 */
import type { ContentInit } from '../content/index.ts';
import type { ClientContext, Scope } from '../context.ts';
import type { DirectDelivery } from '../delivery/direct.ts';
import { refuseChangedIdentities } from '../delivery/group.ts';
import type { Outbox } from '../delivery/outbox.ts';
import { GroupMembershipError } from '../errors.ts';
import {
  groupConversationId,
  type ContactRecord,
  type ConversationEventKind,
  type GroupRecord,
} from '../model.ts';
import { groupState, rotateSenderKey, uuid } from '../records/groups.ts';
import { storeEvent } from '../records/messages.ts';
import { markAccepted, markGroupAccepted } from '../records/trust.ts';
import { toHex } from '../util/bytes.ts';
import { adminsOf, requireAdmin } from './admins.ts';

type GroupAction = NonNullable<(ContentInit['body'] & { case: 'groupControl' })['value']>['action'];

export class Groups {
  constructor(
    private readonly ctx: ClientContext,
    private readonly direct: DirectDelivery,
    private readonly outbox: Outbox,
  ) {}

  async list(): Promise<GroupRecord[]> {
    return (await this.ctx.storage.list<GroupRecord>('groups')).map(([, v]) => v);
  }

  async get(groupId: string): Promise<GroupRecord | undefined> {
    return this.ctx.storage.get<GroupRecord>('groups', groupId);
  }

  /** Queues `action` with `group`'s state to every member (plus `extra`) and our devices. */
  async #broadcast(scope: Scope, group: GroupRecord, action: GroupAction, extra: string[] = []) {
    const content = this.direct.content({
      case: 'groupControl',
      value: { state: groupState(group), ...(action ? { action } : {}) },
    });
    const targets = new Set([...group.members.map((m) => m.accountId), ...extra]);
    targets.delete(this.ctx.accountId);
    const legs = [...targets, this.ctx.accountId].map((to) => this.outbox.leg(to, content));
    await this.outbox.enqueue(scope, { legs });
  }

  /**
   * Creates a group with us and `memberAccountIds`. Refused (`IdentityChangedError`) while a
   * member's identity change is unacknowledged.
   */
  async create(title: string, memberAccountIds: string[]): Promise<GroupRecord> {
    const { ctx } = this;
    const self = ctx.requireAccount();
    await refuseChangedIdentities(ctx, memberAccountIds);
    const ids = [...new Set([self.accountId, ...memberAccountIds])];
    const group = await ctx.transaction(async (scope) => {
      const members = [];
      for (const accountId of ids) {
        const c = await scope.tx.get<ContactRecord>('contacts', accountId);
        const username = accountId === self.accountId ? self.username : c?.username;
        members.push({ accountId, ...(username ? { username } : {}) });
      }
      const group: GroupRecord = {
        groupId: toHex(ctx.rng(16)),
        title,
        revision: 1,
        members,
        creator: self.accountId,
        admins: [self.accountId],
        distributionId: uuid(ctx.rng),
        senderKeySentTo: [],
      };
      await scope.tx.put('groups', group.groupId, group);
      // Members we chose are people we wrote to: not message requests.
      for (const id of memberAccountIds) await markAccepted(scope.tx, id);
      await storeEvent(ctx, scope, groupConversationId(group.groupId), 'group_created', [
        self.accountId,
      ]);
      await this.#broadcast(scope, group, { case: 'create', value: {} });
      scope.emit('group', group);
      return group;
    });
    await this.outbox.flush();
    return group;
  }

  async #change(
    groupId: string,
    change: (g: GroupRecord) => void,
    action: GroupAction,
    event: ConversationEventKind,
    subjects: string[],
    options: {
      rotate?: boolean;
      alsoNotify?: string[];
      notifyIfTrusted?: string[];
      leave?: boolean;
      /** No conversation event (the caller stored one already). */
      quiet?: boolean;
      /** Accounts we chose (added members): accepted, not message requests. */
      accept?: string[];
      /** Reporting deleted accounts (`announceGone`): allowed to any member. */
      goneReport?: boolean;
    } = {},
  ): Promise<GroupRecord> {
    const { ctx } = this;
    const group = await ctx.transaction(async (scope) => {
      const { tx } = scope;
      const g = await tx.get<GroupRecord>('groups', groupId);
      if (!g || g.left) throw new GroupMembershipError(groupId, g !== undefined);
      // Any member may report deleted accounts (receivers check them with the relay).
      if (!options.leave && !options.goneReport) requireAdmin(g, ctx.accountId);
      await markGroupAccepted(tx, g); // changing a group we were invited to accepts it
      for (const id of options.accept ?? []) await markAccepted(tx, id);
      const alsoNotify = [...(options.alsoNotify ?? [])];
      if (options.leave) alsoNotify.push(...g.members.map((m) => m.accountId));
      change(g);
      // Everyone told must be trusted (checked before anything is stored or sent); those
      // only told if trusted (removed members) are left out while their change is pending.
      await refuseChangedIdentities(ctx, [...g.members.map((m) => m.accountId), ...alsoNotify], tx);
      for (const accountId of options.notifyIfTrusted ?? []) {
        if (!(await tx.get<ContactRecord>('contacts', accountId))?.identityChanged) {
          alsoNotify.push(accountId);
        }
      }
      g.revision++;
      await tx.put('groups', groupId, g);
      if (options.rotate) await rotateSenderKey(tx, g, ctx.ourAddress(), ctx.rng);
      if (!options.quiet)
        await storeEvent(ctx, scope, groupConversationId(groupId), event, subjects);
      await this.#broadcast(scope, g, action, alsoNotify);
      if (options.leave) g.left = true;
      await tx.put('groups', groupId, g);
      scope.emit('group', g);
      return g;
    });
    await this.outbox.flush();
    return group;
  }

  async addMembers(groupId: string, accountIds: string[]): Promise<GroupRecord> {
    const usernames = new Map<string, string | undefined>();
    for (const id of accountIds) {
      usernames.set(id, (await this.ctx.storage.get<ContactRecord>('contacts', id))?.username);
    }
    return this.#change(
      groupId,
      (g) => {
        for (const id of accountIds) {
          if (!g.members.some((m) => m.accountId === id)) {
            const username = usernames.get(id);
            g.members.push({ accountId: id, ...(username ? { username } : {}) });
          }
        }
      },
      { case: 'add', value: { accountIds } },
      'group_members_added',
      accountIds,
      { accept: accountIds },
    );
  }

  /** Removes members; our sender key rotates, so they cannot read what follows. */
  async removeMembers(groupId: string, accountIds: string[]): Promise<GroupRecord> {
    return this.#change(
      groupId,
      (g) => {
        g.members = g.members.filter((m) => !accountIds.includes(m.accountId));
        g.admins = adminsOf(g).filter((a) => !accountIds.includes(a));
      },
      { case: 'remove', value: { accountIds } },
      'group_members_removed',
      accountIds,
      // A removed member whose safety number changed is not told (the others are), so a
      // changed member can still be removed without acknowledging the change first.
      { rotate: true, notifyIfTrusted: accountIds },
    );
  }

  /**
   * Tells the other members (and our devices) that these members' accounts were deleted (we
   * dropped them already, see `delivery/gone.ts`): each checks with the relay and drops them.
   */
  async announceGone(groupId: string, accountIds: string[]): Promise<GroupRecord> {
    return this.#change(
      groupId,
      (g) => {
        g.members = g.members.filter((m) => !accountIds.includes(m.accountId));
      },
      { case: 'remove', value: { accountIds, accountsGone: true } },
      'member_account_deleted',
      accountIds,
      { quiet: true, goneReport: true },
    );
  }

  async rename(groupId: string, title: string): Promise<GroupRecord> {
    return this.#change(
      groupId,
      (g) => {
        g.title = title;
      },
      { case: 'rename', value: { title } },
      'group_renamed',
      [title],
    );
  }

  /** Makes members admins (only an admin may). */
  async makeAdmins(groupId: string, accountIds: string[]): Promise<GroupRecord> {
    return this.#change(
      groupId,
      (g) => {
        const members = new Set(g.members.map((m) => m.accountId));
        g.admins = [...new Set([...adminsOf(g), ...accountIds.filter((a) => members.has(a))])];
      },
      { case: 'makeAdmins', value: { accountIds } },
      'group_admins_added',
      accountIds,
    );
  }

  async leave(groupId: string): Promise<void> {
    const self = this.ctx.requireAccount();
    await this.#change(
      groupId,
      (g) => {
        g.members = g.members.filter((m) => m.accountId !== self.accountId);
        // The last admin to leave hands the group to the longest-standing member.
        const admins = adminsOf(g).filter((a) => a !== self.accountId);
        g.admins = admins.length > 0 || !g.members[0] ? admins : [g.members[0].accountId];
      },
      { case: 'leave', value: {} },
      'group_left',
      [self.accountId],
      { leave: true },
    );
  }
}
