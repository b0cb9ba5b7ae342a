/**
 * Delivery receipts held while catching up (issue 13).
 *
 * A device coming online to a backlog handles it in batches of up to 50 envelopes; sending one
 * delivery receipt per sender per batch meant thousands of outbox sends for a 10,000-message
 * backlog, each an encryption transaction and an HTTP request competing with the batches for
 * the storage lock and the main thread. So while the socket has not yet reported the stored
 * backlog handled, a batch adds its delivery receipts' ids to one row per sender
 * (`meta/heldReceipts/<account>`) in its own transaction, and they are queued in the outbox as
 * one receipt per sender (`MAX_RECEIPT_IDS` ids at most each) when the backlog is drained —
 * or at once for a sender whose row fills up. Being stored with the batch, no receipt is lost
 * to a crash; a held row left over is released at the next drain. Read receipts are never held.
 * @module
 */
import type { ClientContext, Scope } from '../context.ts';
import { META } from '../keys.ts';
import type { Messaging } from '../messaging.ts';

/** Most message ids in one receipt (about 9 KB of content). */
export const MAX_RECEIPT_IDS = 256;

const rowKey = (accountId: string) => `${META.heldReceipts}${accountId}`;

export class HeldReceipts {
  constructor(
    private readonly ctx: ClientContext,
    private readonly messaging: Messaging,
  ) {}

  /** In a batch's transaction: holds `ids` for `accountId` (a full row is queued now). */
  async hold(scope: Scope, accountId: string, ids: readonly string[]): Promise<void> {
    const key = rowKey(accountId);
    const held = [...((await scope.tx.get<string[]>('meta', key)) ?? []), ...ids];
    while (held.length >= MAX_RECEIPT_IDS) {
      const ids = held.splice(0, MAX_RECEIPT_IDS);
      await this.messaging.queueReceipt(scope, accountId, ids, 'delivery');
    }
    if (held.length > 0) await scope.tx.put('meta', key, held);
    else await scope.tx.delete('meta', key);
  }

  /** Queues every held receipt in one transaction (the outbox sends them after its commit). */
  async release(): Promise<void> {
    if (!this.ctx.account) return;
    await this.ctx.transaction(async (scope) => {
      for (const [key, held] of await scope.tx.list<string[]>('meta', META.heldReceipts)) {
        const accountId = key.slice(META.heldReceipts.length);
        for (let i = 0; i < held.length; i += MAX_RECEIPT_IDS) {
          const ids = held.slice(i, i + MAX_RECEIPT_IDS);
          await this.messaging.queueReceipt(scope, accountId, ids, 'delivery');
        }
        await scope.tx.delete('meta', key);
      }
    });
  }
}
