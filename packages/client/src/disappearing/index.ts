/**
 * Disappearing messages: a timer per conversation (EXPIRE_TIMERS), set by any member and shown
 * as a `timer_changed` event; each message is removed from storage that long after it was read
 * (sent, for our own). Timers live in storage, so they survive restarts: `start()` sweeps what
 * fell due while the client was closed, then a timer wakes the sweeper for the next one.
 * @module
 */
import type { ClientContext } from '../context.ts';
import { ClientError } from '../errors.ts';
import type { Messaging } from '../messaging.ts';
import type { MessageRecord } from '../model.ts';
import { nextDue, onCountdown, removeDue } from './countdown.ts';
import { applyTimer, isExpireTimer } from './timer.ts';

export { EXPIRE_TIMERS, describeTimer, isExpireTimer, type ExpireTimer } from './timer.ts';

/** setTimeout's longest delay; a later due time is reached in several waits. */
const MAX_DELAY_MS = 2 ** 31 - 1;

export class Disappearing {
  #running = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = Infinity;

  constructor(
    private readonly ctx: ClientContext,
    private readonly messaging: Messaging,
  ) {
    onCountdown(ctx, (at) => this.#scheduleAt(at));
  }

  /**
   * Sets a conversation's timer (seconds, one of EXPIRE_TIMERS) for everyone in it and for our
   * other devices; returns the event shown (none when it already had that value).
   */
  async setTimer(conversationId: string, seconds: number): Promise<MessageRecord | undefined> {
    if (!isExpireTimer(seconds)) {
      throw new ClientError(
        'invalid_argument',
        'a timer is off, 30 s, 5 min, 1 hour, 1 day or 1 week',
      );
    }
    const target = await this.messaging.target(conversationId);
    const self = this.ctx.requireAccount();
    const event = await this.ctx.transaction(async (scope) => {
      const at = this.ctx.now();
      const stored = await applyTimer(this.ctx, scope, conversationId, seconds, self, at);
      await this.messaging.queueAction(
        scope,
        target,
        '',
        { expireTimer: seconds, expireTimerUpdate: true },
        at,
      );
      return stored;
    });
    await this.messaging.flush();
    return event;
  }

  /** Removes every message due now; returns how many. */
  async sweepExpired(): Promise<number> {
    const { count, next } = await this.ctx.transaction(async (scope) => ({
      count: await removeDue(scope, this.ctx.now()),
      next: await nextDue(scope.tx),
    }));
    this.#clear();
    if (next !== undefined) this.#scheduleAt(next);
    return count;
  }

  /** Sweeps what fell due while stopped, then keeps sweeping on time. */
  async start(): Promise<void> {
    this.#running = true;
    await this.sweepExpired();
  }

  stop(): void {
    this.#running = false;
    this.#clear();
  }

  #scheduleAt(at: number): void {
    if (!this.#running || at >= this.#timerAt) return;
    this.#clear();
    this.#timerAt = at;
    const delay = Math.min(Math.max(0, at - this.ctx.now()), MAX_DELAY_MS);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Infinity;
      this.ctx.background(this.sweepExpired(), 'disappearing-message sweep');
    }, delay);
    // A Node process (the CLI) need not stay up for a message that disappears next week.
    (this.#timer as { unref?: () => void }).unref?.();
  }

  #clear(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }
}
