/**
 * The outbox: the one durable send path for everything we send (1:1 and group messages,
 * receipts, sync and control messages). An entry is stored in the same transaction as what it
 * is about, and has legs (`{to, content, sendId}`) sent in order. The first leg of a message's
 * entry decides the message's state: `queued` until the relay accepted it, then `sent`; or
 * `failed` with a reason when the relay or our own rules refuse it for good.
 *
 * - Transient errors (relay unreachable, 5xx, 429) leave the entry queued; the outbox retries
 *   with backoff, on every reconnection and when told the network is back. An unreachable
 *   relay also marks the connection offline at once.
 * - Each leg keeps its `sendId` across attempts, so the relay stores it at most once even when
 *   its answer was lost.
 * - Passes run one at a time, entries first-in first-out; a transient error for a destination
 *   holds back the rest of the pass's sends to it, so each conversation keeps its order.
 * @module
 */
import type { ClientContext, Scope } from '../context.ts';
import { decodeContent, encodeContent, type Content } from '../content/index.ts';
import {
  AccountGoneError,
  ClientError,
  GroupMembershipError,
  IdentityChangedError,
} from '../errors.ts';
import { META, outboxKey } from '../keys.ts';
import type { MessageRecord, SendFailure } from '../model.ts';
import { updateMessage } from '../records/messages.ts';
import { goneAccountsOf, RelayHttpError, RelayUnavailableError } from '../relay/index.ts';
import { newSendId, type DirectDelivery } from './direct.ts';
import { ACCOUNT_DELETED, type GoneAccounts } from './gone.ts';
import type { GroupDelivery } from './group.ts';

export interface OutboxLeg {
  /** An account id, or `group:<group id>` for a group fan-out. */
  to: string;
  /** The encoded content. */
  content: Uint8Array;
  sendId: string;
}

/** `outbox/<message id>` for our messages, `outbox/<sequence>` for the rest. */
export interface OutboxEntry {
  /** Order of enqueueing: passes go first-in first-out. */
  seq: number;
  /** Our message whose state the first leg decides, if the entry is one. */
  messageId?: string;
  legs: OutboxLeg[];
  /** Whether the first leg is still the message's own (not a follow-up like its transcript). */
  primary: boolean;
  createdAt: number;
}

/** An outbox entry as clients before the delivery model stored it. */
interface LegacyEntry {
  to: string;
  content: Uint8Array;
  transcriptOnly?: boolean;
}

/** What an error means for a send: try again later, or a failure for good. */
export type SendVerdict =
  { transient: true; offline: boolean } | { transient: false; failure: SendFailure };

/** Sorts a send error into transient (retry) or permanent (failed, with why). */
export function classifySendError(err: unknown): SendVerdict {
  if (err instanceof RelayUnavailableError) return { transient: true, offline: true };
  if (err instanceof AccountGoneError || goneAccountsOf(err) !== undefined) {
    return { transient: false, failure: ACCOUNT_DELETED };
  }
  if (err instanceof RelayHttpError) {
    if (err.status === 429 || err.status === 507) return { transient: true, offline: false };
    if (err.status >= 500) return { transient: true, offline: true };
    if (err.status === 413 || err.code === 'payload_too_large') {
      return { transient: false, failure: { reason: 'too_large', retryable: false } };
    }
    if (err.status === 404) {
      return { transient: false, failure: { reason: 'recipient_gone', retryable: false } };
    }
    return {
      transient: false,
      failure: { reason: 'rejected', retryable: false, detail: [err.code] },
    };
  }
  if (err instanceof IdentityChangedError) {
    return {
      transient: false,
      failure: { reason: 'identity_changed', retryable: true, detail: err.accountIds },
    };
  }
  if (err instanceof GroupMembershipError) {
    return { transient: false, failure: { reason: 'not_group_member', retryable: false } };
  }
  if (err instanceof ClientError) {
    if (err.code === 'no_devices') {
      return { transient: false, failure: { reason: 'recipient_gone', retryable: false } };
    }
    if (err.code === 'devices_unstable') return { transient: true, offline: false };
    return {
      transient: false,
      failure: { reason: 'rejected', retryable: false, detail: [err.code] },
    };
  }
  // Anything else (storage busy, a bug): kept, and tried again later.
  return { transient: true, offline: false };
}

export interface OutboxHooks {
  /** The relay could not be reached: the connection is not what it seemed. */
  offline(): void;
}

/** Records the outcome of one leg (in the pass's closing transaction). */
type Settle = (scope: Scope) => Promise<void>;

export class Outbox {
  #chain: Promise<void> = Promise.resolve();
  /** A pass queued behind the running one (at most one: it sees every entry anyway). */
  #queued: Promise<void> | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #attempt = 0;
  #stopped = false;
  /** Why a message failed in the last pass, for the caller that awaited its first attempt. */
  readonly #errors = new Map<string, unknown>();

  constructor(
    private readonly ctx: ClientContext,
    private readonly direct: DirectDelivery,
    private readonly group: GroupDelivery,
    private readonly hooks: OutboxHooks,
    private readonly gone?: GoneAccounts,
  ) {}

  /** A leg carrying `content` to `to` (an account id or `group:<id>`), with a fresh send id. */
  leg(to: string, content: Content): OutboxLeg {
    return { to, content: encodeContent(content), sendId: newSendId(this.ctx.rng) };
  }

  /** Stores an entry in `scope`'s transaction; a pass starts once it committed. */
  async enqueue(scope: Scope, entry: { messageId?: string; legs: OutboxLeg[] }): Promise<void> {
    if (entry.legs.length === 0) return;
    const { tx } = scope;
    const seq = ((await tx.get<number>('meta', META.outboxSeq)) ?? 0) + 1;
    await tx.put('meta', META.outboxSeq, seq);
    await tx.put('outbox', entry.messageId ?? outboxKey(seq), {
      seq,
      ...(entry.messageId ? { messageId: entry.messageId } : {}),
      legs: entry.legs,
      primary: entry.messageId !== undefined,
      createdAt: this.ctx.now(),
    } satisfies OutboxEntry);
    scope.after(async () => this.kick());
  }

  /** Runs a pass now (after the one under way); resolves when it finished. */
  flush(): Promise<void> {
    if (this.#queued) return this.#queued;
    const run = this.#chain.then(() => {
      this.#queued = undefined;
      return this.#pass();
    });
    this.#queued = run;
    this.#chain = run.catch(() => undefined);
    return run;
  }

  /** Starts a pass in the background (not while stopped). */
  kick(): void {
    if (this.#stopped) return;
    this.ctx.background(this.flush(), 'outbox');
  }

  /** The error that failed message `id` in its last attempt, once. */
  takeError(id: string): unknown {
    const err = this.#errors.get(id);
    this.#errors.delete(id);
    return err;
  }

  start(): void {
    this.#stopped = false;
  }

  /** No more automatic passes; resolves once the one under way finished. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#chain;
  }

  /** Whether anything waits to be sent. */
  async pending(): Promise<number> {
    return (await this.ctx.storage.list('outbox')).length;
  }

  async #pass(): Promise<void> {
    clearTimeout(this.#timer);
    if (!this.ctx.account) return;
    const entries = await this.ctx.storage.list<OutboxEntry>('outbox');
    entries.sort(([, a], [, b]) => (a.seq ?? 0) - (b.seq ?? 0));
    // Destinations that failed transiently in this pass: what follows for them waits, so each
    // destination's order is kept, while others still go.
    const blocked = new Set<string>();
    // Group commit: what the relay accepted in this pass is recorded in one transaction at its
    // end, not one per leg. A crash before it only means those legs go again with the same
    // send ids, which the relay answers without storing anything twice.
    const settled: Settle[] = [];
    try {
      for (const [key] of entries) await this.#deliver(key, blocked, settled);
    } finally {
      if (settled.length > 0) {
        await this.ctx.transaction(async (scope) => {
          for (const settle of settled) await settle(scope);
        });
      }
    }
    if (blocked.size > 0) this.#retryLater();
    else this.#attempt = 0;
  }

  #retryLater(): void {
    if (this.#stopped) return;
    const initial = this.ctx.options.backoff?.initialMs ?? 1000;
    const max = this.ctx.options.backoff?.maxMs ?? 30_000;
    const ceiling = Math.min(max, initial * 2 ** this.#attempt++);
    const delay = Math.max(initial / 2, (this.ctx.rng(1)[0]! / 256) * ceiling);
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.kick(), delay);
    (this.#timer as { unref?: () => void }).unref?.();
  }

  /**
   * Sends what is left of entry `key`, unless its next leg goes to a `blocked` destination; what
   * the relay accepted (or refused for good) is added to `settled`, for the pass to store.
   */
  async #deliver(key: string, blocked: Set<string>, settled: Settle[]): Promise<void> {
    const { ctx } = this;
    const stored = await ctx.storage.get<OutboxEntry | LegacyEntry>('outbox', key);
    let entry = this.#upgrade(key, stored);
    if (entry && entry !== stored) {
      const upgraded = entry;
      await ctx.transaction(async ({ tx }) => {
        if (upgraded.legs.length > 0) await tx.put('outbox', key, upgraded);
        else await tx.delete('outbox', key);
      });
    }
    while (entry && entry.legs.length > 0) {
      const leg = entry.legs[0]!;
      if (blocked.has(leg.to)) return;
      let verdict: SendVerdict | undefined;
      try {
        if (leg.to.startsWith('group:')) {
          await this.group.send(leg.to.slice('group:'.length), leg.content, leg.sendId);
        } else {
          await this.direct.send(leg.to, decodeContent(leg.content), leg.sendId);
        }
      } catch (err) {
        verdict = classifySendError(err);
        if (verdict.transient) {
          if (verdict.offline) this.hooks.offline();
          console.warn(`parley: outbox entry ${key} not sent yet`, err);
          blocked.add(leg.to);
          return;
        }
        // One typed error for a deleted recipient, whichever step found out.
        const reported =
          !verdict.transient &&
          verdict.failure.reason === 'account_deleted' &&
          !(err instanceof AccountGoneError) &&
          !leg.to.startsWith('group:')
            ? new AccountGoneError([leg.to])
            : err;
        if (entry.primary && entry.messageId) this.#errors.set(entry.messageId, reported);
        else console.warn(`parley: dropped an outgoing message to ${leg.to}`, err);
      }
      const failure = verdict && !verdict.transient ? verdict.failure : undefined;
      const current: OutboxEntry = entry;
      const rest = failure && current.primary ? [] : current.legs.slice(1);
      settled.push(async (scope) => {
        // The recipient's account was deleted: so is everything else queued for it.
        if (failure?.reason === 'account_deleted' && !leg.to.startsWith('group:')) {
          await this.gone?.markIn(scope, [leg.to], key);
        }
        if (rest.length > 0) {
          await scope.tx.put('outbox', key, { ...current, legs: rest, primary: false });
        } else {
          await scope.tx.delete('outbox', key);
        }
        if (current.primary && current.messageId) {
          await this.#settle(scope, current.messageId, failure);
        }
      });
      entry = rest.length > 0 ? { ...current, legs: rest, primary: false } : undefined;
    }
  }

  /**
   * An entry stored by a client before legs and send ids (`outbox/<message id>`): its message
   * goes as a one-leg entry; a pending transcript of it is given up (the message was sent).
   */
  #upgrade(key: string, stored: OutboxEntry | LegacyEntry | undefined): OutboxEntry | undefined {
    if (!stored || 'legs' in stored) return stored;
    if (stored.transcriptOnly) return { seq: 0, legs: [], primary: false, createdAt: 0 };
    return {
      seq: 0,
      messageId: key,
      primary: true,
      createdAt: 0,
      legs: [{ to: stored.to, content: stored.content, sendId: newSendId(this.ctx.rng) }],
    };
  }

  /** The relay accepted our message (`sent`), or it failed for good. */
  async #settle(scope: Scope, id: string, failure: SendFailure | undefined): Promise<void> {
    const self = this.ctx.requireAccount();
    const m: MessageRecord | undefined = await updateMessage(scope.tx, self.accountId, id, (m) => {
      if (failure) {
        m.status = 'failed';
        m.failure = failure;
      } else if (m.status !== 'delivered' && m.status !== 'read') {
        m.status = 'sent';
        delete m.failure;
      }
    });
    if (!m) return;
    scope.emit('status', {
      conversationId: m.conversationId,
      id,
      status: m.status!,
      ...(failure ? { failure } : {}),
    });
  }
}
