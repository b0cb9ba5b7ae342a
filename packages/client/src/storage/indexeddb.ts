/**
 * The IndexedDB backend for browsers (the `idb` library): one object store per keyspace,
 * each batch in one `readwrite` transaction (IndexedDB's own atomicity).
 *
 * `openOrCreateDeviceKey` keeps the at-rest key in IndexedDB as a non-extractable
 * `CryptoKey` (structured-cloned; script can use it but never read its bytes), optionally
 * wrapped by a passphrase through scrypt so a copied profile is useless without it.
 * @module
 */
import { openDB, unwrap, type IDBPDatabase } from 'idb';
import {
  deriveFromPassphrase,
  importAtRestKey,
  DEFAULT_SCRYPT,
  type ScryptParams,
} from './at-rest.ts';
import { STORE_NAMES, type StorageBackend, type StoreName, type WriteOp } from './types.ts';
import { ClientError } from '../errors.ts';

const DB_VERSION = 1;
const KEYS_STORE = '_keys';

export class IndexedDbBackend implements StorageBackend {
  /**
   * The read transaction single `get`s last used. A get issued while it is still active (from
   * a previous get's success, with nothing truly asynchronous between: a run of dedupe misses
   * in a batch) joins it instead of opening a transaction per row; once it has finished, a new
   * one is opened. It can never show a state older than a commit: a `readwrite` transaction
   * only starts after every earlier overlapping one has finished, and commits forget it.
   */
  #reading: IDBTransaction | undefined;

  private constructor(private readonly db: IDBPDatabase) {}

  static async open(name: string): Promise<IndexedDbBackend> {
    const db = await openDB(name, DB_VERSION, {
      upgrade(db) {
        for (const store of [...STORE_NAMES, KEYS_STORE]) {
          if (!db.objectStoreNames.contains(store)) db.createObjectStore(store);
        }
      },
    });
    return new IndexedDbBackend(db);
  }

  async get(store: StoreName, key: string): Promise<Uint8Array | undefined> {
    const request = this.#read(store, key);
    const v = await new Promise<unknown>((resolve, reject) => {
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error ?? new Error('IndexedDB read failed'));
    });
    return v === undefined ? undefined : new Uint8Array(v as Uint8Array);
  }

  #read(store: StoreName, key: string): IDBRequest {
    if (this.#reading) {
      try {
        return this.#reading.objectStore(store).get(key);
      } catch {
        // Finished or inactive: a new one below.
      }
    }
    this.#reading = unwrap(this.db).transaction([...STORE_NAMES], 'readonly');
    return this.#reading.objectStore(store).get(key);
  }

  async getMany(
    rows: ReadonlyArray<readonly [StoreName, string]>,
  ): Promise<Array<Uint8Array | undefined>> {
    const tx = this.db.transaction([...new Set(rows.map(([store]) => store))], 'readonly');
    // Every request queued at once, in one transaction: one round trip for all of them.
    const values = await Promise.all(rows.map(([store, key]) => tx.objectStore(store).get(key)));
    await tx.done;
    return values.map((v: unknown) =>
      v === undefined ? undefined : new Uint8Array(v as Uint8Array),
    );
  }

  async list(store: StoreName, prefix: string): Promise<Array<[string, Uint8Array]>> {
    const range = IDBKeyRange.bound(prefix, prefix + '\uffff\uffff', false, false);
    const tx = this.db.transaction(store, 'readonly');
    const out: Array<[string, Uint8Array]> = [];
    for await (const cursor of tx.store.iterate(range)) {
      const k = cursor.key as string;
      if (k.startsWith(prefix)) out.push([k, new Uint8Array(cursor.value as Uint8Array)]);
    }
    await tx.done;
    return out;
  }

  async commit(ops: WriteOp[]): Promise<void> {
    this.#reading = undefined;
    const stores = [...new Set(ops.map((o) => o.store))];
    const tx = this.db.transaction(stores, 'readwrite');
    // Queue every request synchronously: awaiting anything else would auto-commit.
    const reqs = ops.map((op) =>
      op.value === undefined
        ? tx.objectStore(op.store).delete(op.key)
        : tx.objectStore(op.store).put(op.value, op.key),
    );
    await Promise.all([...reqs, tx.done]);
  }

  async close(): Promise<void> {
    this.db.close();
  }

  /** @internal the raw database, for the device key helpers. */
  get _db(): IDBPDatabase {
    return this.db;
  }
}

interface StoredKey {
  kind: 'plain';
  key: CryptoKey;
}
interface WrappedKey {
  kind: 'passphrase';
  salt: Uint8Array;
  iv: Uint8Array;
  wrapped: Uint8Array;
  params: ScryptParams;
}

/**
 * Returns this browser profile's at-rest key, creating it on first use.
 * - without a passphrase: a non-extractable AES-GCM `CryptoKey` stored as is;
 * - with a passphrase: 32 random bytes encrypted under scrypt(passphrase, salt); on
 *   unlock they are imported as a non-extractable key and wiped. A wrong passphrase throws.
 */
export async function openOrCreateDeviceKey(
  backend: IndexedDbBackend,
  options: { passphrase?: string; scrypt?: ScryptParams } = {},
): Promise<CryptoKey> {
  const db = backend._db;
  const existing = (await db.get(KEYS_STORE, 'at-rest')) as StoredKey | WrappedKey | undefined;
  if (existing?.kind === 'plain') return existing.key;
  if (existing?.kind === 'passphrase') {
    if (!options.passphrase)
      throw new ClientError('locked', 'this profile is locked with a passphrase');
    const kek = await importAtRestKey(
      await deriveFromPassphrase(options.passphrase, existing.salt, existing.params),
    );
    let raw: Uint8Array;
    try {
      raw = new Uint8Array(
        await crypto.subtle.decrypt(
          { name: 'AES-GCM', iv: existing.iv as Uint8Array<ArrayBuffer> },
          kek,
          existing.wrapped as Uint8Array<ArrayBuffer>,
        ),
      );
    } catch {
      throw new ClientError('wrong_passphrase', 'wrong passphrase');
    }
    try {
      return await importAtRestKey(raw);
    } finally {
      raw.fill(0);
    }
  }
  if (!options.passphrase) {
    const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, [
      'encrypt',
      'decrypt',
    ]);
    await db.put(KEYS_STORE, { kind: 'plain', key } satisfies StoredKey, 'at-rest');
    return key;
  }
  const params = options.scrypt ?? DEFAULT_SCRYPT;
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const raw = crypto.getRandomValues(new Uint8Array(32));
  const kek = await importAtRestKey(await deriveFromPassphrase(options.passphrase, salt, params));
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const wrapped = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, kek, raw));
  await db.put(
    KEYS_STORE,
    { kind: 'passphrase', salt, iv, wrapped, params } satisfies WrappedKey,
    'at-rest',
  );
  try {
    return await importAtRestKey(raw);
  } finally {
    raw.fill(0);
  }
}
