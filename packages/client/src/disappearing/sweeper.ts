/**
 * The sweeper: removes disappearing messages once they are due. Due times live in storage, so
 * they survive restarts: `start()` sweeps what fell due while the client was closed, then a
 * timer wakes the sweeper for the next one (and earlier when a sooner countdown starts).
 * @module
 */
import type { ClientContext } from '../context.ts';
import { nextDue, onCountdown, removeDue } from './countdown.ts';

/** setTimeout's longest delay; a later due time is reached in several waits. */
const MAX_DELAY_MS = 2 ** 31 - 1;

export class Sweeper {
  #running = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = Infinity;

  constructor(private readonly ctx: ClientContext) {
    onCountdown(ctx, (at) => this.#scheduleAt(at));
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
