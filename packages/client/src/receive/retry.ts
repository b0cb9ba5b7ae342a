/**
 * Answering a retry request: the peer could not decrypt something we sent at `timestamp`, so
 * it goes again over a fresh 1:1 session (a group message keeps its group context and only
 * goes to members of that group); for groups, our sender key goes again too.
 * @module
 */
import { makeContent } from '../content/index.ts';
import type { ClientContext, Scope } from '../context.ts';
import type { DirectDelivery } from '../delivery/direct.ts';
import type { Outbox } from '../delivery/outbox.ts';
import { PROCESSED } from '../keys.ts';
import type { GroupRecord } from '../model.ts';
import { forgetSenderKeyRecipients, isMember, listGroups } from '../records/groups.ts';
import { findMessage } from '../records/messages.ts';

export class RetryAnswers {
  constructor(
    private readonly ctx: ClientContext,
    private readonly direct: DirectDelivery,
    private readonly outbox: Outbox,
  ) {}

  async answer(scope: Scope, accountId: string, timestamp: number, groupId: string): Promise<void> {
    const { tx } = scope;
    if (groupId) {
      // Our sender key may be what they lack: it goes again to all their devices.
      for (const g of await listGroups(tx)) {
        if (isMember(g, accountId) && forgetSenderKeyRecipients(g, accountId)) {
          await tx.put('groups', g.groupId, g);
        }
      }
    }
    const direct = await tx.get<string>('processed', PROCESSED.sentDirect(accountId, timestamp));
    const sentGroup = groupId
      ? await tx.get<{ groupId: string; id: string }>('processed', PROCESSED.sentGroup(timestamp))
      : undefined;
    const id = direct ?? sentGroup?.id;
    if (!id) return;
    const m = (await findMessage(tx, this.ctx.accountId, id))?.message;
    if (!m || m.text === undefined) return;
    let context: { groupId: string; revision: number } | undefined;
    if (!direct && sentGroup) {
      const g = await tx.get<GroupRecord>('groups', sentGroup.groupId);
      if (!g || !isMember(g, accountId)) return;
      context = { groupId: g.groupId, revision: g.revision };
    }
    const content = this.direct.withSenderUsername(
      makeContent(m.id, m.timestamp, {
        case: 'data',
        value: { text: m.text, ...(context ? { group: context } : {}) },
      }),
    );
    await this.outbox.enqueue(scope, { legs: [this.outbox.leg(accountId, content)] });
  }
}
