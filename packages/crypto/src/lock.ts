/**
 * Serialises async work per key (a remote address, a group), so that concurrent encrypt and
 * decrypt calls on one session run one after another instead of racing on its stored state.
 *
 * The lock is an injected instance, not module state: an application that shares stores
 * between workers or browser tabs supplies its own implementation (e.g. on the Web Locks API).
 * @module
 */

export interface KeyedLock {
  /** Runs `fn` once every earlier `fn` with the same key has settled; returns its result. */
  run<T>(key: string, fn: () => Promise<T>): Promise<T>;
}

/** An in-process FIFO lock per key. */
export class InProcessKeyedLock implements KeyedLock {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(fn, fn);
    // The tail never rejects, so one failed operation does not poison the queue.
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }
}
