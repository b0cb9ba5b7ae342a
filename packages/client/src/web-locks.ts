/**
 * A `KeyedLock` on the Web Locks API (`navigator.locks`), for browsers where several tabs of
 * one account share an IndexedDB database: storage transactions and protocol work are then
 * serialised across tabs, not just within one, so two tabs can never interleave the
 * read-modify-write of a session. Pair it with a single delivery socket per device (e.g. only
 * the tab holding the `parley-socket` lock connects; see `runAsSocketLeader`).
 * @module
 */
import type { KeyedLock } from '@parley/crypto/lock.js';
import { ClientError } from './errors.ts';

interface LockManagerLike {
  request<T>(name: string, callback: () => Promise<T>): Promise<T>;
  request<T>(
    name: string,
    options: { ifAvailable?: boolean },
    callback: (lock: unknown) => Promise<T>,
  ): Promise<T>;
}

/** Whether this environment has the Web Locks API (browsers do; Node 20 does not). */
export function webLocksAvailable(): boolean {
  return !!(globalThis as { navigator?: { locks?: LockManagerLike } }).navigator?.locks;
}

function locks(): LockManagerLike {
  const l = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator?.locks;
  if (!l) throw new ClientError('unsupported_platform', 'the Web Locks API is not available here');
  return l;
}

export class WebLocksKeyedLock implements KeyedLock {
  constructor(private readonly prefix = 'parley:') {}

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    return locks().request(this.prefix + key, fn);
  }
}

/**
 * Runs `whileLeader` in exactly one tab at a time (the one holding the lock); the next tab
 * takes over when that one closes. Resolves when this tab's leadership ends.
 */
export function runAsSocketLeader(
  whileLeader: () => Promise<void>,
  name = 'parley:socket',
): Promise<void> {
  return locks().request(name, whileLeader);
}
