/**
 * The SQLite backend for Node (better-sqlite3): one table `kv(store, key, value)`, WAL journal.
 *
 * Durability (`synchronous`): in WAL mode a commit appends the batch to the WAL file before it
 * returns. With `NORMAL` the WAL is not fsynced at every commit, only at
 * checkpoints: a committed batch survives the process crashing or being killed at any point (the
 * OS has the bytes), and the database is never corrupted, but an OS crash or power loss can roll
 * back the last commits before the next checkpoint (SQLite docs, "WAL mode … synchronous=NORMAL").
 * With `FULL` (the default) every commit waits for an fsync of the WAL, so it survives power
 * loss too.
 *
 * Why FULL by default: the client acks an envelope to the relay only after the commit that
 * stored it, and the relay then deletes it, so a commit that power loss rolls back is a message
 * lost for good. Batching keeps the price down (one fsync per batch of envelopes, not per
 * message). `NORMAL` is for stores whose content can be fetched again (a test or a bench on a
 * busy disk, where the fsync was half the catch-up wall time).
 * @module
 */
import Database from 'better-sqlite3';
import type { AtRestSealer } from './at-rest.ts';
import { nodeSealer } from './at-rest-node.ts';
import { STORE_NAMES, type StorageBackend, type StoreName, type WriteOp } from './types.ts';

const known = new Set<string>(STORE_NAMES);

export interface SqliteOptions {
  /** `FULL` (default): survives power loss; `NORMAL`: survives process crashes only (see above). */
  synchronous?: 'NORMAL' | 'FULL';
}

export class SqliteBackend implements StorageBackend {
  readonly #db: Database.Database;
  readonly #get: Database.Statement<[string, string], { value: Buffer }>;
  readonly #list: Database.Statement<[string, string, string], { key: string; value: Buffer }>;
  readonly #put: Database.Statement<[string, string, Uint8Array]>;
  readonly #del: Database.Statement<[string, string]>;
  readonly #commit: (ops: WriteOp[]) => void;
  readonly #dataVersion: Database.Statement<[], number>;

  /** Opens (creating if needed) the database file at `path` (`:memory:` works too). */
  constructor(path: string, options: SqliteOptions = {}) {
    this.#db = new Database(path);
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma(`synchronous = ${options.synchronous === 'NORMAL' ? 'NORMAL' : 'FULL'}`);
    this.#db.pragma('busy_timeout = 5000');
    this.#db.exec(
      `CREATE TABLE IF NOT EXISTS kv (
         store TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL,
         PRIMARY KEY (store, key)
       ) WITHOUT ROWID`,
    );
    this.#get = this.#db.prepare('SELECT value FROM kv WHERE store = ? AND key = ?');
    // Prefix scan by range: key >= prefix AND key < prefix || U+FFFF (collation is binary).
    this.#list = this.#db.prepare(
      'SELECT key, value FROM kv WHERE store = ? AND key >= ? AND key < ? ORDER BY key',
    );
    this.#put = this.#db.prepare(
      'INSERT INTO kv (store, key, value) VALUES (?, ?, ?) ON CONFLICT (store, key) DO UPDATE SET value = excluded.value',
    );
    this.#del = this.#db.prepare('DELETE FROM kv WHERE store = ? AND key = ?');
    // Moves when another connection commits (not for this one's own commits).
    this.#dataVersion = this.#db.prepare<[], number>('PRAGMA data_version').pluck();
    this.#commit = this.#db.transaction((ops: WriteOp[]) => {
      for (const op of ops) {
        if (op.value === undefined) this.#del.run(op.store, op.key);
        else this.#put.run(op.store, op.key, op.value);
      }
    });
  }

  static #check(store: StoreName): void {
    if (!known.has(store)) throw new TypeError(`unknown store ${String(store)}`);
  }

  async get(store: StoreName, key: string): Promise<Uint8Array | undefined> {
    SqliteBackend.#check(store);
    const row = this.#get.get(store, key);
    return row ? new Uint8Array(row.value) : undefined;
  }

  async list(store: StoreName, prefix: string): Promise<Array<[string, Uint8Array]>> {
    SqliteBackend.#check(store);
    // SQLite compares TEXT as UTF-8 bytes; that matches UTF-16 order except for astral vs
    // U+E000..U+FFFF, which never occur in our keys. Filter once more to be exact.
    return this.#list
      .all(store, prefix, prefix + '\u{10FFFF}')
      .filter((r) => r.key.startsWith(prefix))
      .map((r) => [r.key, new Uint8Array(r.value)]);
  }

  async commit(ops: WriteOp[]): Promise<void> {
    for (const op of ops) SqliteBackend.#check(op.store);
    this.#commit(ops);
  }

  dataVersion(): number {
    return this.#dataVersion.get()!;
  }

  /** Node's synchronous AES-GCM: the same sealed bytes as WebCrypto, several times cheaper. */
  sealer(key: CryptoKey): AtRestSealer {
    return nodeSealer(key);
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }
}
