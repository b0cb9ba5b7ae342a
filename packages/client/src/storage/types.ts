/**
 * The storage contract of the client core. Deliberately small: named keyspaces of
 * string-keyed values, read through or written inside an atomic transaction.
 *
 * A backend (memory, SQLite, IndexedDB) only has to store opaque bytes per (store, key) and
 * apply a batch of writes atomically; `Storage` (storage.ts) adds value encoding, encryption
 * at rest and transactions on top, so every backend behaves the same.
 * @module
 */
import type { AtRestSealer } from './at-rest.ts';

/** Every keyspace the client uses. Backends create all of them up front. */
export const STORE_NAMES = [
  /** Our account: identity key pair, registration id, account id, device id, settings. */
  'meta',
  /** Remote identity keys we trust (TOFU), keyed by account id. */
  'identities',
  'preKeys',
  'signedPreKeys',
  'kyberPreKeys',
  /** Double-ratchet sessions, keyed by `accountId.deviceId`. */
  'sessions',
  /** Sender-key records, keyed by `accountId.deviceId/distributionId`. */
  'senderKeys',
  'contacts',
  'conversations',
  /** Messages, keyed by `conversationId/sortKey/messageId` so a prefix scan is chronological. */
  'messages',
  'groups',
  /** Messages we still owe the relay (sent but not yet accepted). */
  'outbox',
  /** Ids of envelopes and messages already processed, for exactly-once delivery. */
  'processed',
] as const;

export type StoreName = (typeof STORE_NAMES)[number];

/** A value the storage can hold: JSON-like data, with byte arrays allowed anywhere. */
export type StorageValue =
  | null
  | boolean
  | number
  | string
  | Uint8Array
  | StorageValue[]
  | { [key: string]: StorageValue | undefined };

/** One write in a batch: `value === undefined` deletes. */
export interface WriteOp {
  store: StoreName;
  key: string;
  value: Uint8Array | undefined;
}

/** What a backend implements: opaque bytes per (store, key), atomic batches. */
export interface StorageBackend {
  get(store: StoreName, key: string): Promise<Uint8Array | undefined>;
  /** Entries whose key starts with `prefix`, in ascending key order (UTF-16 code unit order). */
  list(store: StoreName, prefix: string): Promise<Array<[string, Uint8Array]>>;
  /** Applies every op, or none of them. */
  commit(ops: WriteOp[]): Promise<void>;
  /**
   * Several rows in one round trip (IndexedDB: one transaction instead of one per row), in the
   * order asked. Backends whose single reads are cheap (SQLite, memory) leave it out.
   */
  getMany?(
    rows: ReadonlyArray<readonly [StoreName, string]>,
  ): Promise<Array<Uint8Array | undefined>>;
  close(): Promise<void>;
  /**
   * A number that changes whenever another connection committed (another process, or another
   * `Storage` over the same file; one `Storage` per backend object). With it, `Storage` keeps
   * rows decoded between transactions (row-cache.ts); backends that cannot tell leave it out
   * (IndexedDB: a browser's tabs share the database).
   */
  dataVersion?(): number;
  /**
   * A faster way to seal rows with `key` on this platform (same format, `at-rest.ts`); without
   * it, `Storage` seals through WebCrypto.
   */
  sealer?(key: CryptoKey): AtRestSealer;
}

/** Reads and writes inside one transaction: reads see the transaction's own writes. */
export interface StorageTx {
  /** `T` is what the caller stored there; values are JSON-like data with `Uint8Array`s. */
  get<T = StorageValue>(store: StoreName, key: string): Promise<T | undefined>;
  list<T = StorageValue>(store: StoreName, prefix?: string): Promise<Array<[string, T]>>;
  /** `value` must be a StorageValue (JSON-like, bytes allowed); typed loosely for records. */
  put(store: StoreName, key: string, value: unknown): Promise<void>;
  delete(store: StoreName, key: string): Promise<void>;
  /**
   * Marks the transaction's writes so far; the returned function undoes every write made after
   * it (a batch of envelopes rolls back one bad envelope and commits the rest). Only inside a
   * transaction.
   */
  savepoint?(): () => void;
  /**
   * Reads `rows` ahead in one round trip where the backend can (`getMany`), so this
   * transaction's gets of them are served from memory; elsewhere it does nothing. Only inside a
   * transaction.
   */
  prefetch?(rows: ReadonlyArray<readonly [StoreName, string]>): Promise<void>;
  /**
   * Hot records (sessions, sender keys): `get` decoded by `decode`, once per transaction — the
   * same object is returned until the row is written, so a batch of envelopes does not decode a
   * session for each one. The caller must not mutate it. Only inside a transaction.
   */
  getDecoded?<T>(
    store: StoreName,
    key: string,
    decode: (v: StorageValue) => T,
  ): Promise<T | undefined>;
  /**
   * Writes `object`, encoded by `encode` only at the commit (or when the row is read as a value),
   * so a record changed by every envelope of a batch is encoded and sealed once. The caller hands
   * `object` over and must not mutate it afterwards.
   */
  putDecoded?<T>(
    store: StoreName,
    key: string,
    object: T,
    encode: (o: T) => StorageValue,
  ): Promise<void>;
}
