/**
 * Group changes: creating, renaming, adding and removing members, leaving, making an admin.
 * A change refused because a member's safety number changed says whose.
 * @module
 */
import { ClientError, IdentityChangedError } from '@parley/client';
import type { ActiveClient } from './active-client.ts';
import { friendly } from './errors.ts';
import type { Snapshot } from './snapshot.ts';
import { accountIdsOf } from './usernames.ts';

export class GroupActions {
  constructor(
    private readonly active: ActiveClient,
    private readonly snapshot: Snapshot,
  ) {}

  async createGroup(title: string, usernames: string[]): Promise<string> {
    const ids = await accountIdsOf(this.active, usernames);
    const group = await this.#groupChange(() => this.active.require().createGroup(title, ids));
    await this.snapshot.refresh();
    return `group:${group.groupId}`;
  }

  async renameGroup(groupId: string, title: string): Promise<void> {
    await this.#groupChange(() => this.active.require().renameGroup(groupId, title));
    await this.snapshot.refresh();
  }

  async addMembers(groupId: string, usernames: string[]): Promise<void> {
    const ids = await accountIdsOf(this.active, usernames);
    await this.#groupChange(() => this.active.require().addGroupMembers(groupId, ids));
    await this.snapshot.refresh();
  }

  async removeMember(groupId: string, accountId: string): Promise<void> {
    await this.#groupChange(() => this.active.require().removeGroupMembers(groupId, [accountId]));
    await this.snapshot.refresh();
  }

  async leaveGroup(groupId: string): Promise<void> {
    await this.#groupChange(() => this.active.require().leaveGroup(groupId));
    await this.snapshot.refresh();
  }

  async makeAdmin(groupId: string, accountId: string): Promise<void> {
    await this.#groupChange(() => this.active.require().makeGroupAdmins(groupId, [accountId]));
    await this.snapshot.refresh();
  }

  /** A group change the client refused because a member's safety number changed, said by name. */
  async #groupChange<T>(change: () => Promise<T>): Promise<T> {
    try {
      return await change();
    } catch (err) {
      if (!(err instanceof IdentityChangedError)) {
        throw err instanceof ClientError ? new Error(friendly(err)) : err;
      }
      const client = this.active.require();
      const names = await Promise.all(
        err.accountIds.map(
          async (id) => (await client.contact(id))?.username ?? `${id.slice(0, 8)}…`,
        ),
      );
      throw new Error(
        `Not done: the safety number of ${names.join(', ')} changed. Review it in your conversation first.`,
      );
    }
  }
}
