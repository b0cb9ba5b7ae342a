/**
 * The SQLite store's database layer: prepared statements compiled once, writes group-committed
 * per event-loop turn (`write`), and the helpers every part of the store (`sqlite-*.ts`) shares.
 * @module
 */
import type Database from 'better-sqlite3';

interface PendingWrite {
  run: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: unknown }).code === 'SQLITE_CONSTRAINT_UNIQUE';
}

/** The open database file, its statement cache and its queue of writes. */
export class SqliteDatabase {
  readonly db: Database.Database;

  constructor(db: Database.Database) {
    this.db = db;
  }

  readonly #statements = new Map<string, Database.Statement>();

  /** Prepared statements are compiled once and reused (SQL parsing dominates small queries). */
  prepare(sql: string): Database.Statement {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  readonly #pending: PendingWrite[] = [];
  #flushScheduled = false;

  /**
   * Runs `fn` as a write. Writes issued in the same event-loop turn share one transaction
   * (group commit): each runs in its own savepoint, so one failing write rolls back only
   * itself, and every promise settles after the shared COMMIT is on disk. With
   * `synchronous = FULL` that turns one fsync per request into one per batch.
   */
  write<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#pending.push({ run: fn, resolve: resolve as (value: unknown) => void, reject });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#flushScheduled = false;
    const batch = this.#pending.splice(0);
    if (batch.length === 0) return;
    if (!this.db.open) {
      for (const write of batch) write.reject(new Error('the store is closed'));
      return;
    }
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    try {
      // BEGIN IMMEDIATE: take the write lock up front (no upgrade deadlocks with readers).
      this.db
        .transaction(() => {
          for (const write of batch) {
            try {
              // A transaction inside a transaction is a savepoint in better-sqlite3.
              outcomes.push({ ok: true, value: this.db.transaction(write.run)() });
            } catch (error) {
              outcomes.push({ ok: false, error });
            }
          }
        })
        .immediate();
    } catch (error) {
      // The COMMIT itself failed: nothing in the batch is durable.
      for (const write of batch) write.reject(error);
      return;
    }
    batch.forEach((write, i) => {
      const outcome = outcomes[i];
      if (outcome?.ok) write.resolve(outcome.value);
      else write.reject(outcome?.error);
    });
  }

  read<T>(fn: () => T): T {
    return this.db.transaction(fn).deferred();
  }

  close(): void {
    if (!this.db.open) return;
    this.#flush(); // settle writes still waiting for their batch
    this.db.close();
  }
}
