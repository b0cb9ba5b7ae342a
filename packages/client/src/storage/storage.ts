/**
 * `Storage`: the object the client core talks to. It wraps a backend with
 * - value encoding (codec.ts),
 * - optional encryption of every value at rest (at-rest.ts),
 * - atomic transactions: writes are buffered in memory while the transaction's function
 *   runs (reads see them), then handed to the backend as one atomic batch. Nothing is
 *   written if the function throws. A transaction may await anything (WebCrypto, the
 *   network), which native IndexedDB and better-sqlite3 transactions cannot.
 *
 * Transactions are serialised through a lock (in-process by default; a browser app with
 * several tabs passes a Web Locks based `KeyedLock`), so they are also isolated from each
 * other. Code running inside a transaction must use its `tx`, never the `Storage` itself.
 *
 * On backends that can tell another connection's commits (SQLite), rows stay decoded between
 * transactions (row-cache.ts).
 * @module
 */
import type { KeyedLock } from '@parley/crypto/lock.js';
import { InProcessKeyedLock } from '@parley/crypto/lock.js';
import { webCryptoSealer, type AtRestSealer } from './at-rest.ts';
import { cloneValue, decodeValue, encodeValue } from './codec.ts';
import { RowCache } from './row-cache.ts';
import type { StorageBackend, StorageTx, StorageValue, StoreName, WriteOp } from './types.ts';
import { ClientError } from '../errors.ts';
import { turnTaker } from '../util/turns.ts';

export interface StorageOptions {
  /** AES-GCM key for encryption at rest; without it values are stored in the clear. */
  key?: CryptoKey;
  /** Serialises transactions (default: in-process). */
  lock?: KeyedLock;
}

const TX_LOCK = 'parley-storage-tx';
/** Rows opened together by `list` between two chances to yield. */
const LIST_CHUNK = 64;
/** Rows kept decoded between transactions (row-cache.ts): a few hundred contacts and sessions. */
const ROW_CACHE_ROWS = 1024;

const rowId = (store: StoreName, key: string) => `${store}\u0000${key}`;

export class Storage implements StorageTx {
  readonly #backend: StorageBackend;
  readonly #sealer: AtRestSealer | undefined;
  readonly #lock: KeyedLock;
  readonly #cache: RowCache | undefined;
  #closed = false;

  constructor(backend: StorageBackend, options: StorageOptions = {}) {
    this.#backend = backend;
    this.#sealer = options.key
      ? (backend.sealer?.(options.key) ?? webCryptoSealer(options.key))
      : undefined;
    this.#lock = options.lock ?? new InProcessKeyedLock();
    const version = backend.dataVersion?.bind(backend);
    this.#cache = version ? new RowCache(ROW_CACHE_ROWS, version) : undefined;
  }

  /** @internal */
  async _decode<T = StorageValue>(store: StoreName, key: string, bytes: Uint8Array): Promise<T> {
    const plain = this.#sealer ? await this.#sealer.open(store, key, bytes) : bytes;
    return decodeValue(plain) as T;
  }

  /** @internal */
  async _encode(store: StoreName, key: string, value: StorageValue): Promise<Uint8Array> {
    const plain = encodeValue(value);
    return this.#sealer ? this.#sealer.seal(store, key, plain) : plain;
  }

  /** @internal */
  get _backend(): StorageBackend {
    this.#assertOpen();
    return this.#backend;
  }

  #assertOpen(): void {
    if (this.#closed) throw new ClientError('storage_closed', 'storage is closed');
  }

  async get<T = StorageValue>(store: StoreName, key: string): Promise<T | undefined> {
    if (!this.#cache) {
      const bytes = await this._backend.get(store, key);
      return bytes === undefined ? undefined : this._decode<T>(store, key, bytes);
    }
    this.#cache.check();
    const value = await this._read(store, key);
    return value === undefined ? undefined : (cloneValue(value) as T);
  }

  /**
   * @internal A row's value, shared with the row cache: the caller must not change it. The
   * caller has checked the cache (`RowCache.check`): per read, or at its transaction's start.
   */
  async _read(store: StoreName, key: string): Promise<StorageValue | undefined> {
    const cache = this.#cache;
    const id = rowId(store, key);
    if (cache) {
      const hit = cache.lookup(id);
      if (hit.found) return hit.value;
    }
    const epoch = cache?.epoch ?? 0;
    const bytes = await this._backend.get(store, key);
    const value = bytes === undefined ? undefined : await this._decode(store, key, bytes);
    cache?.fill(id, value, epoch);
    return value;
  }

  /**
   * Rows are opened a chunk at a time, giving the event loop turns (util/turns.ts): a
   * large keyspace (the dedupe records after a catch-up) would otherwise be opened in one
   * long task that freezes a page.
   */
  async list<T = StorageValue>(store: StoreName, prefix = ''): Promise<Array<[string, T]>> {
    const rows = await this._backend.list(store, prefix);
    const out: Array<[string, T]> = [];
    const breathe = turnTaker();
    for (let i = 0; i < rows.length; i += LIST_CHUNK) {
      const chunk = rows.slice(i, i + LIST_CHUNK);
      for (const row of await Promise.all(
        chunk.map(async ([k, v]) => [k, await this._decode<T>(store, k, v)] as [string, T]),
      )) {
        out.push(row);
      }
      if (i + LIST_CHUNK < rows.length) await breathe();
    }
    return out;
  }

  /** A single write is its own transaction. */
  put(store: StoreName, key: string, value: unknown): Promise<void> {
    return this.transaction((tx) => tx.put(store, key, value));
  }

  delete(store: StoreName, key: string): Promise<void> {
    return this.transaction((tx) => tx.delete(store, key));
  }

  /** Runs `fn`; commits all its writes atomically when it resolves, none if it throws. */
  transaction<T>(fn: (tx: StorageTx) => Promise<T>): Promise<T> {
    this.#assertOpen();
    return this.#lock.run(TX_LOCK, async () => {
      this.#cache?.check();
      const tx = new BufferedTx(this);
      const result = await fn(tx);
      tx.finished = true;
      const ops = await tx.ops();
      if (ops.length === 0) return result;
      try {
        await this._backend.commit(ops);
      } catch (err) {
        this.#cache?.clear();
        throw err;
      }
      // The transaction is over: its written values are handed to the cache as they are.
      this.#cache?.wrote(tx.written());
      return result;
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    // Let running transactions finish first.
    await this.#lock.run(TX_LOCK, async () => {
      this.#closed = true;
      this.#cache?.clear();
      await this.#backend.close();
    });
  }
}

interface BufferedWrite {
  store: StoreName;
  key: string;
  /** The value (undefined: deleted — unless `decoded` holds it, not encoded yet). */
  value: StorageValue | undefined;
  /** Written by `putDecoded`: the object and how to encode it. */
  decoded?: { object: unknown; encode: (o: never) => StorageValue };
}

/** The write's value, encoding a `putDecoded` object the first time it is needed. */
function valueOf(w: BufferedWrite): StorageValue | undefined {
  if (w.decoded && w.value === undefined) w.value = w.decoded.encode(w.decoded.object as never);
  return w.value;
}

class BufferedTx implements StorageTx {
  readonly #writes = new Map<string, BufferedWrite>();
  /**
   * Rows read in this transaction, decoded (opened and parsed once however often they are read:
   * a batch of envelopes reads the same account, sessions and contacts again and again). Safe
   * because transactions are serialised: nothing else writes while this one runs.
   */
  readonly #reads = new Map<string, StorageValue | undefined>();
  /** Rows decoded by `getDecoded` from what storage holds (writes take precedence). */
  readonly #decoded = new Map<string, unknown>();
  /** What each write replaced, while a savepoint is active (see `savepoint`). */
  #undo: Array<[string, BufferedWrite | undefined]> | undefined;
  finished = false;

  constructor(private readonly storage: Storage) {}

  #check(): void {
    if (this.finished) throw new ClientError('storage_closed', 'transaction already finished');
  }

  async get<T = StorageValue>(store: StoreName, key: string): Promise<T | undefined> {
    this.#check();
    const id = rowId(store, key);
    const w = this.#writes.get(id);
    if (w) {
      const value = valueOf(w);
      return value === undefined ? undefined : (cloneValue(value) as T);
    }
    if (this.#reads.has(id)) {
      const v = this.#reads.get(id);
      return v === undefined ? undefined : (cloneValue(v) as T);
    }
    const v = await this.storage._read(store, key);
    this.#reads.set(id, v);
    return v === undefined ? undefined : (cloneValue(v) as T);
  }

  async list<T = StorageValue>(store: StoreName, prefix = ''): Promise<Array<[string, T]>> {
    this.#check();
    const merged = new Map<string, T>(await this.storage.list<T>(store, prefix));
    for (const w of this.#writes.values()) {
      if (w.store !== store || !w.key.startsWith(prefix)) continue;
      const value = valueOf(w);
      if (value === undefined) merged.delete(w.key);
      else merged.set(w.key, cloneValue(value) as T);
    }
    return [...merged.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  async put(store: StoreName, key: string, value: unknown): Promise<void> {
    this.#check();
    if (typeof key !== 'string') throw new TypeError('storage key must be a string');
    this.#write({ store, key, value: cloneValue(value) as StorageValue });
  }

  async delete(store: StoreName, key: string): Promise<void> {
    this.#check();
    this.#write({ store, key, value: undefined });
  }

  async prefetch(rows: ReadonlyArray<readonly [StoreName, string]>): Promise<void> {
    this.#check();
    const backend = this.storage._backend;
    if (!backend.getMany) return;
    const wanted = new Map<string, readonly [StoreName, string]>();
    for (const row of rows) {
      const id = rowId(row[0], row[1]);
      if (!this.#writes.has(id) && !this.#reads.has(id)) wanted.set(id, row);
    }
    if (wanted.size === 0) return;
    const list = [...wanted.values()];
    const found = await backend.getMany(list);
    const values = await Promise.all(
      list.map(([store, key], i) =>
        found[i] === undefined
          ? undefined
          : this.storage._decode<StorageValue>(store, key, found[i]),
      ),
    );
    list.forEach(([store, key], i) => {
      const id = rowId(store, key);
      // A get that raced this read ahead has already cached the same row.
      if (!this.#reads.has(id)) this.#reads.set(id, values[i]);
    });
  }

  async getDecoded<T>(
    store: StoreName,
    key: string,
    decode: (v: StorageValue) => T,
  ): Promise<T | undefined> {
    this.#check();
    const id = rowId(store, key);
    const w = this.#writes.get(id);
    if (w?.decoded) return w.decoded.object as T;
    if (w) return w.value === undefined ? undefined : decode(w.value);
    if (this.#decoded.has(id)) return this.#decoded.get(id) as T | undefined;
    const v = await this.get<StorageValue>(store, key);
    const object = v === undefined ? undefined : decode(v);
    this.#decoded.set(id, object);
    return object;
  }

  async putDecoded<T>(
    store: StoreName,
    key: string,
    object: T,
    encode: (o: T) => StorageValue,
  ): Promise<void> {
    this.#check();
    this.#write({
      store,
      key,
      value: undefined,
      decoded: { object, encode: encode as (o: never) => StorageValue },
    });
  }

  #write(w: BufferedWrite): void {
    const id = rowId(w.store, w.key);
    this.#undo?.push([id, this.#writes.get(id)]);
    this.#writes.set(id, w);
  }

  savepoint(): () => void {
    this.#check();
    const undo = (this.#undo ??= []);
    const mark = undo.length;
    return () => {
      this.#check();
      while (undo.length > mark) {
        const [id, previous] = undo.pop()!;
        if (previous) this.#writes.set(id, previous);
        else this.#writes.delete(id);
      }
    };
  }

  /** Each written row and its value (undefined: deleted), after `ops()` encoded them. */
  *written(): Generator<readonly [string, StorageValue | undefined]> {
    for (const [id, w] of this.#writes) yield [id, w.value] as const;
  }

  async ops(): Promise<WriteOp[]> {
    return Promise.all(
      [...this.#writes.values()].map(async (w) => {
        const value = valueOf(w);
        return {
          store: w.store,
          key: w.key,
          value:
            value === undefined ? undefined : await this.storage._encode(w.store, w.key, value),
        };
      }),
    );
  }
}
