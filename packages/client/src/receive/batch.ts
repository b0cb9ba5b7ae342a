/**
 * Receiving in batches: the envelopes the relay pushed while the previous batch was handled are
 * processed in one storage transaction, each exactly as `Receiver.process` does for one, and
 * committed once; the socket acks them only after that commit. A crash before it means the
 * relay delivers the whole batch again, and dedupe by envelope id drops what was stored.
 *
 * One envelope cannot spoil the others: each runs behind a savepoint, and if processing it
 * throws (not bad ciphertext, which `process` turns into a `decryption_failed` event with its
 * typed error, but e.g. a storage read failing) its writes, events and follow-ups are undone,
 * it is left unacked (redelivered on the next connection) and the rest still commit.
 *
 * Delivery receipts for a batch go out as one receipt per sender, not one per message; while
 * the backlog is still coming, they are held and go once it is drained (held-receipts.ts).
 *
 * A batch gives the event loop a turn every `YIELD_EVERY_MS` of work: whisper messages on one
 * chain decrypt without awaiting anything truly asynchronous, so a browser tab would otherwise
 * see one long task per batch (the transaction stays open; nothing awaits the network).
 * @module
 */
import type { DeliveredEnvelope, Envelope } from '@parley/protocol';
import type { ClientContext, DeferredReceipt } from '../context.ts';
import type { Messaging } from '../messaging.ts';
import type { Receiver } from '../receive/index.ts';
import type { HeldReceipts } from './held-receipts.ts';
import { nextTurn, YIELD_EVERY_MS } from '../util/turns.ts';
import { META, PROCESSED, sessionKey } from '../keys.ts';
import { directConversationId } from '../model.ts';
import type { StoreName } from '../storage/types.ts';

/**
 * The rows processing an envelope reads first — its dedupe record, the sender's session,
 * contact, identity, 1:1 conversation and held receipts — read ahead for the whole batch in one round trip
 * where the store can (IndexedDB).
 */
function firstReads(envelopes: readonly Envelope[]): Array<[StoreName, string]> {
  const rows: Array<[StoreName, string]> = [['meta', META.account]];
  for (const e of envelopes) {
    const sender = e.sourceAccountId;
    rows.push(
      ['processed', PROCESSED.envelope(e.id)],
      ['sessions', sessionKey({ name: sender, deviceId: e.sourceDeviceId })],
      ['contacts', sender],
      ['identities', sender],
      ['conversations', directConversationId(sender)],
      ['meta', `${META.heldReceipts}${sender}`],
    );
  }
  return rows;
}

export class BatchReceiver {
  constructor(
    private readonly ctx: ClientContext,
    private readonly receiver: Receiver,
    private readonly messaging: Messaging,
    /** While catching up, delivery receipts are held and sent once drained (held-receipts.ts). */
    private readonly held?: { receipts: HeldReceipts; now: () => boolean },
  ) {}

  /**
   * Processes `envelopes` in order in one transaction; resolves after the commit with the ids
   * of those now durable (to ack). Throws only if the commit fails (then nothing is acked).
   */
  async handle(delivered: readonly DeliveredEnvelope[]): Promise<string[]> {
    const { ctx } = this;
    ctx.requireAccount();
    // Sealed envelopes are opened first (the sender is known only then); one that does not
    // open is dropped (acked) and reported.
    const { ready: envelopes, dropped } = await this.receiver.openSealed(delivered);
    for (const envelope of envelopes) ctx.events.emit('envelope', envelope);
    const durable = await ctx.transaction(async (scope) => {
      await scope.tx.prefetch?.(firstReads(envelopes));
      const done: Envelope[] = [];
      const receipts = new Map<string, DeferredReceipt>();
      let turn = performance.now();
      for (const envelope of envelopes) {
        if (performance.now() - turn > YIELD_EVERY_MS) {
          await nextTurn();
          turn = performance.now();
        }
        const rollback = scope.savepoint();
        const deferred: DeferredReceipt[] = [];
        scope.deferredReceipts = deferred;
        try {
          await this.receiver.process(scope, envelope);
        } catch (err) {
          rollback();
          console.warn(`parley: envelope ${envelope.id} failed; it will be redelivered`, err);
          continue;
        } finally {
          scope.deferredReceipts = undefined;
        }
        done.push(envelope);
        for (const r of deferred) {
          const key = `${r.type}\u0000${r.accountId}`;
          const merged = receipts.get(key);
          if (merged) merged.ids.push(...r.ids);
          else receipts.set(key, { ...r, ids: [...r.ids] });
        }
      }
      const hold = this.held?.now() ?? false;
      for (const r of receipts.values()) {
        if (hold && r.type === 'delivery') {
          await this.held!.receipts.hold(scope, r.accountId, r.ids);
        } else {
          await this.messaging.queueReceipt(scope, r.accountId, r.ids, r.type);
        }
      }
      return done;
    });
    for (const envelope of durable) ctx.events.emit('processed', envelope);
    return [...dropped, ...durable.map((e: Envelope) => e.id)];
  }
}
