/**
 * Rows kept decoded between transactions, so the records every message touches (the account,
 * contacts, identities, sessions) are not read, opened and parsed again for each one: a steady
 * chat read each of them several times a message.
 *
 * Coherent by construction, or not used:
 * - Only backends that can tell when another connection committed (`dataVersion`: SQLite's
 *   `PRAGMA data_version`) get one; IndexedDB, shared by a browser's tabs, does not. `check()`
 *   empties the cache if the version changed: before a read outside a transaction, and once at
 *   the start of each transaction (a transaction never was isolated from other processes: it
 *   reads as it goes and commits at the end; with the cache it reads as of its start).
 * - Our own commits write through: a cached row that was written is cached as written.
 * - Only rows that were read and found are kept: a catch-up writes thousands of rows (messages,
 *   dedupe records) that are never read again, and looks up as many absent dedupe keys; keeping
 *   those would push out the few rows every message reads.
 * - A read that raced a commit does not fill: `epoch` moves at every commit, and a fill is only
 *   taken if it did not move since the read began.
 * Values are shared: whoever takes one from here must copy it before handing it out.
 * @module
 */
import type { StorageValue } from './types.ts';

/** `found: false` = not cached; otherwise its `value`. */
export type CacheLookup = { found: false } | { found: true; value: StorageValue };

export class RowCache {
  readonly #rows = new Map<string, StorageValue>();
  #version: number | undefined;
  /** Moves at every commit and clear: a read begun before it does not fill. */
  epoch = 0;

  constructor(
    /** Rows kept, least recently used dropped first. */
    readonly max: number,
    /** The backend's foreign-commit counter (see `StorageBackend.dataVersion`). */
    private readonly dataVersion: () => number,
  ) {}

  /** Empties the cache if another connection committed since the last check. */
  check(): void {
    const version = this.dataVersion();
    if (version !== this.#version) {
      this.#version = version;
      this.clear();
    }
  }

  lookup(id: string): CacheLookup {
    const value = this.#rows.get(id);
    if (value === undefined) return { found: false };
    // Most recently used last.
    this.#rows.delete(id);
    this.#rows.set(id, value);
    return { found: true, value };
  }

  /** What a read begun at `epoch` found, unless a commit came in between. */
  fill(id: string, value: StorageValue | undefined, epoch: number): void {
    if (epoch !== this.epoch || value === undefined) return;
    this.#set(id, value);
  }

  /** A commit of ours: cached rows it wrote are updated (undefined: deleted). */
  wrote(rows: Iterable<readonly [string, StorageValue | undefined]>): void {
    this.epoch++;
    this.check();
    for (const [id, value] of rows) {
      if (!this.#rows.has(id)) continue;
      if (value === undefined) this.#rows.delete(id);
      else this.#set(id, value);
    }
  }

  clear(): void {
    this.epoch++;
    this.#rows.clear();
  }

  #set(id: string, value: StorageValue): void {
    this.#rows.delete(id);
    this.#rows.set(id, value);
    if (this.#rows.size > this.max) this.#rows.delete(this.#rows.keys().next().value!);
  }
}
