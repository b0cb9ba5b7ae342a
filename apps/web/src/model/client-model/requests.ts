/**
 * Message requests and blocking (model/trust.ts): accepting, deleting or blocking a request,
 * and blocking or unblocking an account. Group admins are in groups.ts.
 * @module
 */
import type { ActiveClient } from './active-client.ts';
import { friendly } from './errors.ts';
import type { Snapshot } from './snapshot.ts';

export class RequestActions {
  constructor(
    private readonly active: ActiveClient,
    private readonly snapshot: Snapshot,
  ) {}

  async acceptRequest(conversationId: string): Promise<void> {
    await this.#trustChange(() => this.active.require().acceptRequest(conversationId));
  }

  async deleteRequest(conversationId: string): Promise<void> {
    this.snapshot.open.delete(conversationId);
    await this.#trustChange(() => this.active.require().deleteRequest(conversationId));
  }

  async blockRequest(conversationId: string): Promise<void> {
    await this.#trustChange(() => this.active.require().blockRequest(conversationId));
  }

  async setBlocked(accountId: string, blocked: boolean): Promise<void> {
    const client = this.active.require();
    await this.#trustChange(() => (blocked ? client.block(accountId) : client.unblock(accountId)));
  }

  async #trustChange(change: () => Promise<void>): Promise<void> {
    try {
      await change();
    } catch (err) {
      throw new Error(friendly(err));
    }
    await this.snapshot.refresh();
  }
}
