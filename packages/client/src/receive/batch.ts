/**
 * Receiving in batches: the envelopes the relay pushed while the previous batch was handled are
 * processed in one storage transaction, each exactly as `Receiver.process` does for one, and
 * committed once; the socket acks them only after that commit. A crash before it means the
 * relay delivers the whole batch again, and dedupe by envelope id drops what was stored.
 *
 * Two stages: a run of envelopes is decrypted first (each behind a savepoint), then the message
 * dedupe records of the whole run are read in one round trip (IndexedDB: one transaction, not
 * one per message) and the run is applied in order. A run ends at any content later
 * decryptions may depend on (a sender key, a group change, a sync message).
 *
 * One envelope cannot spoil the others: if decrypting one throws (not bad ciphertext, which
 * becomes a `decryption_failed` event with its typed error, but e.g. a storage read failing)
 * its writes, events and follow-ups are undone, it is left unacked (redelivered on the next
 * connection) and the rest still commit. If applying one throws, later ones are already
 * decrypted, so the whole batch goes again in a fresh transaction one envelope at a time
 * (decrypt, apply, next), where the same rule leaves just that one unacked.
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
import type { ClientContext, DeferredReceipt, Scope } from '../context.ts';
import type { Messaging } from '../messaging.ts';
import type { Receiver } from '../receive/index.ts';
import type { HeldReceipts } from './held-receipts.ts';
import { turnTaker } from '../util/turns.ts';
import type { Content } from '../content/index.ts';
import { META, PROCESSED, sessionKey } from '../keys.ts';
import { directConversationId, groupConversationId } from '../model.ts';
import type { StoreName } from '../storage/types.ts';

/** What applying opened envelopes reads first: message dedupe records and group records. */
function secondReads(run: ReadonlyArray<{ envelope: Envelope; content: Content }>) {
  const rows: Array<[StoreName, string]> = [];
  for (const { envelope, content } of run) {
    rows.push(['processed', PROCESSED.message(envelope.sourceAccountId, content.messageId)]);
    const group = content.body.case === 'data' ? content.body.value.group : undefined;
    if (group?.groupId) {
      rows.push(['groups', group.groupId], ['conversations', groupConversationId(group.groupId)]);
    }
  }
  return rows;
}

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
    let durable: Envelope[];
    try {
      durable = await ctx.transaction((scope) => this.#inStages(scope, envelopes));
    } catch (err) {
      if (!(err instanceof ApplyFailure)) throw err;
      // An envelope's effects failed after later envelopes were decrypted: the batch again,
      // one envelope at a time, so that only the failing one is left for redelivery.
      console.warn(
        'parley: a batch failed in its second stage; handling it envelope by envelope',
        err.cause,
      );
      durable = await ctx.transaction((scope) => this.#oneByOne(scope, envelopes));
    }
    for (const envelope of durable) ctx.events.emit('processed', envelope);
    return [...dropped, ...durable.map((e: Envelope) => e.id)];
  }

  /**
   * Decrypts a run of envelopes, reads their message dedupe records (and groups) ahead in one
   * round trip, then applies them in order. A run ends at any content other than a text,
   * receipt or typing indicator (a sender key, a group change, a sync…): it may matter to the
   * decryption of what follows, so it is applied before the next envelope is decrypted.
   */
  async #inStages(scope: Scope, envelopes: readonly Envelope[]): Promise<Envelope[]> {
    await scope.tx.prefetch?.(firstReads(envelopes));
    const done: Envelope[] = [];
    const receipts = new Receipts();
    const breathe = turnTaker();
    let run: Array<{ envelope: Envelope; content: Content }> = [];
    const applyRun = async () => {
      await scope.tx.prefetch?.(secondReads(run));
      for (const { envelope, content } of run) {
        await breathe();
        try {
          await receipts.collect(scope, () => this.receiver.apply(scope, envelope, content));
        } catch (err) {
          throw new ApplyFailure(err);
        }
      }
      run = [];
    };
    for (const envelope of envelopes) {
      await breathe();
      const rollback = scope.savepoint();
      let content: Content | undefined;
      try {
        content = await this.receiver.open(scope, envelope);
      } catch (err) {
        rollback();
        console.warn(`parley: envelope ${envelope.id} failed; it will be redelivered`, err);
        continue;
      }
      done.push(envelope);
      if (!content) continue;
      run.push({ envelope, content });
      if (!DEFERRABLE.has(content.body.case ?? '')) await applyRun();
    }
    await applyRun();
    await this.#sendReceipts(scope, receipts);
    return done;
  }

  /** Each envelope decrypted and applied before the next, behind its own savepoint. */
  async #oneByOne(scope: Scope, envelopes: readonly Envelope[]): Promise<Envelope[]> {
    const done: Envelope[] = [];
    const receipts = new Receipts();
    const breathe = turnTaker();
    for (const envelope of envelopes) {
      await breathe();
      const rollback = scope.savepoint();
      try {
        await receipts.collect(scope, () => this.receiver.process(scope, envelope), rollback);
      } catch (err) {
        console.warn(`parley: envelope ${envelope.id} failed; it will be redelivered`, err);
        continue;
      }
      done.push(envelope);
    }
    await this.#sendReceipts(scope, receipts);
    return done;
  }

  async #sendReceipts(scope: Scope, receipts: Receipts): Promise<void> {
    const hold = this.held?.now() ?? false;
    for (const r of receipts.merged()) {
      if (hold && r.type === 'delivery') {
        await this.held!.receipts.hold(scope, r.accountId, r.ids);
      } else {
        await this.messaging.queueReceipt(scope, r.accountId, r.ids, r.type);
      }
    }
  }
}

/** Contents whose effects no later decryption depends on: applied a run at a time. */
const DEFERRABLE = new Set<string>(['data', 'receipt', 'typing']);

/** A failure in the second stage (the batch then goes again, one envelope at a time). */
class ApplyFailure extends Error {
  constructor(cause: unknown) {
    super('applying an envelope failed', { cause });
  }
}

/** The delivery and read receipts of a batch, one per sender and type. */
class Receipts {
  readonly #byKey = new Map<string, DeferredReceipt>();

  /** Runs `fn` with receipts deferred into this batch's; on a throw `undo` runs, none kept. */
  async collect(scope: Scope, fn: () => Promise<void>, undo?: () => void): Promise<void> {
    const deferred: DeferredReceipt[] = [];
    scope.deferredReceipts = deferred;
    try {
      await fn();
    } catch (err) {
      undo?.();
      throw err;
    } finally {
      scope.deferredReceipts = undefined;
    }
    for (const r of deferred) {
      const key = `${r.type}\u0000${r.accountId}`;
      const merged = this.#byKey.get(key);
      if (merged) merged.ids.push(...r.ids);
      else this.#byKey.set(key, { ...r, ids: [...r.ids] });
    }
  }

  merged(): Iterable<DeferredReceipt> {
    return this.#byKey.values();
  }
}
