/**
 * Client storage: the `Storage` the core uses, its in-memory backend and the at-rest
 * encryption helpers. The SQLite (Node) and IndexedDB (browser) backends are separate
 * entry points (`@parley/client/storage/sqlite.js`, `.../indexeddb.js`) so a bundle only
 * pulls in the one it uses.
 * @module
 */
export * from './types.ts';
export { Storage, type StorageOptions } from './storage.ts';
export { MemoryBackend } from './memory.ts';
export {
  generateAtRestKey,
  importAtRestKey,
  keyFromPassphrase,
  deriveFromPassphrase,
  StorageCryptoError,
  DEFAULT_SCRYPT,
  type ScryptParams,
} from './at-rest.ts';
