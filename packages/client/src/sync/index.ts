/**
 * Keeping our own devices in step: what one device learns or decides (contacts, groups,
 * messages read, a new device asking for everything) goes to the others as sync content,
 * through the outbox.
 * @module
 */
import type { ClientContext, Scope } from '../context.ts';
import type { ContentInit } from '../content/index.ts';
import type { DirectDelivery } from '../delivery/direct.ts';
import type { Outbox } from '../delivery/outbox.ts';
import { contactList, groupList } from './lists.ts';

export { contactList, groupList } from './lists.ts';

type SyncBody = (ContentInit['body'] & { case: 'sync' })['value'];

export class SelfSync {
  constructor(
    private readonly ctx: ClientContext,
    private readonly direct: DirectDelivery,
    private readonly outbox: Outbox,
  ) {}

  /** Queues a sync message to our other devices in `scope`'s transaction. */
  async send(scope: Scope, value: SyncBody, timestamp?: number): Promise<void> {
    const content = this.direct.content({ case: 'sync', value }, timestamp);
    await this.outbox.enqueue(scope, { legs: [this.outbox.leg(this.ctx.accountId, content)] });
  }

  async sendContacts(scope: Scope): Promise<void> {
    await this.send(scope, { body: { case: 'contacts', value: await contactList(scope.tx) } });
  }

  /**
   * Both lists, now: a new device of ours asked. Not queued: they are snapshots only the
   * asking device needs, and one that misses them asks again when it next announces itself.
   */
  async sendListsNow(): Promise<void> {
    const { ctx } = this;
    for (const value of [
      { body: { case: 'contacts' as const, value: await contactList(ctx.storage) } },
      { body: { case: 'groups' as const, value: await groupList(ctx.storage) } },
    ]) {
      await this.direct.send(ctx.accountId, this.direct.content({ case: 'sync', value }));
    }
  }

  /** A new device asks the others for contacts and groups. */
  async request(scope: Scope): Promise<void> {
    await this.send(scope, { body: { case: 'request', value: {} } });
  }
}
