/**
 * Encryption at rest: every stored value is sealed with AES-256-GCM under a key the
 * application supplies (a WebCrypto `CryptoKey`, ideally non-extractable). The row's store
 * name and key are the associated data, so a sealed value cannot be moved to another row.
 *
 * Layout of a sealed value: `0x01 ‖ iv(12) ‖ ciphertext‖tag`.
 *
 * Key sources:
 * - `generateAtRestKey()` — a fresh non-extractable key (the browser keeps it in IndexedDB,
 *   see `indexeddb.ts` `openOrCreateDeviceKey`);
 * - `keyFromPassphrase()` — scrypt (memory-hard, N=2^15, r=8, p=1 by default) over a
 *   passphrase and a stored salt;
 * - `importAtRestKey()` — 32 raw bytes, e.g. a key file of the terminal client.
 * @module
 */
import { scryptAsync } from '@noble/hashes/scrypt.js';
import { concatBytes, utf8 } from '../util/bytes.ts';
import type { StoreName } from './types.ts';

/** The sealed format's version byte (the layout above); every sealer writes and reads it. */
export const SEALED_VERSION = 1;
export const IV_LENGTH = 12;
export const TAG_LENGTH = 16;
const VERSION = SEALED_VERSION;

/**
 * Seals and opens row values. Every platform's sealer writes the same bytes (the layout above),
 * so a store written through one opens through another. `webCryptoSealer` works everywhere; a
 * backend may bring a faster one (`SqliteBackend`: Node's synchronous AES-GCM, `at-rest-node.ts`,
 * about 7x cheaper per row than a WebCrypto call in Node).
 */
export interface AtRestSealer {
  seal(store: StoreName, rowKey: string, plaintext: Uint8Array): Uint8Array | Promise<Uint8Array>;
  open(store: StoreName, rowKey: string, sealed: Uint8Array): Uint8Array | Promise<Uint8Array>;
}

export function webCryptoSealer(key: CryptoKey): AtRestSealer {
  return {
    seal: (store, rowKey, plaintext) => seal(key, store, rowKey, plaintext),
    open: (store, rowKey, sealed) => open(key, store, rowKey, sealed),
  };
}

export class StorageCryptoError extends Error {
  override readonly name = 'StorageCryptoError';
}

function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (!s) throw new StorageCryptoError('WebCrypto (crypto.subtle) is not available');
  return s;
}

/** A fresh AES-256-GCM key that can never be exported. */
export async function generateAtRestKey(): Promise<CryptoKey> {
  return subtle().generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
}

/** Imports 32 raw bytes as a non-extractable AES-256-GCM key. */
export async function importAtRestKey(raw: Uint8Array): Promise<CryptoKey> {
  if (!(raw instanceof Uint8Array) || raw.length !== 32) {
    throw new TypeError('an at-rest key must be 32 bytes');
  }
  return subtle().importKey('raw', raw as Uint8Array<ArrayBuffer>, 'AES-GCM', false, [
    'encrypt',
    'decrypt',
  ]);
}

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

export const DEFAULT_SCRYPT: ScryptParams = { N: 2 ** 15, r: 8, p: 1 };

/** 32 bytes from a passphrase through scrypt (memory-hard). */
export async function deriveFromPassphrase(
  passphrase: string,
  salt: Uint8Array,
  params: ScryptParams = DEFAULT_SCRYPT,
): Promise<Uint8Array> {
  if (typeof passphrase !== 'string' || passphrase.length === 0) {
    throw new TypeError('passphrase must be a non-empty string');
  }
  if (!(salt instanceof Uint8Array) || salt.length < 16) {
    throw new TypeError('salt must be at least 16 bytes');
  }
  return scryptAsync(utf8.encode(passphrase.normalize('NFKC')), salt, { ...params, dkLen: 32 });
}

/** A non-extractable at-rest key derived from a passphrase. */
export async function keyFromPassphrase(
  passphrase: string,
  salt: Uint8Array,
  params: ScryptParams = DEFAULT_SCRYPT,
): Promise<CryptoKey> {
  const raw = await deriveFromPassphrase(passphrase, salt, params);
  try {
    return await importAtRestKey(raw);
  } finally {
    raw.fill(0);
  }
}

/** The associated data of a row: its store and key, so a value cannot move to another row. */
export function aad(store: StoreName, key: string): Uint8Array<ArrayBuffer> {
  return utf8.encode(`parley-at-rest/v1/${store}/${key}`) as Uint8Array<ArrayBuffer>;
}

export async function seal(
  key: CryptoKey,
  store: StoreName,
  rowKey: string,
  plaintext: Uint8Array,
): Promise<Uint8Array> {
  const iv = crypto.getRandomValues(new Uint8Array(IV_LENGTH));
  const ct = await subtle().encrypt(
    { name: 'AES-GCM', iv, additionalData: aad(store, rowKey) },
    key,
    plaintext as Uint8Array<ArrayBuffer>,
  );
  return concatBytes(Uint8Array.of(VERSION), iv, new Uint8Array(ct));
}

export async function open(
  key: CryptoKey,
  store: StoreName,
  rowKey: string,
  sealed: Uint8Array,
): Promise<Uint8Array> {
  if (sealed.length < 1 + IV_LENGTH + TAG_LENGTH || sealed[0] !== VERSION) {
    throw notSealed(store, rowKey);
  }
  try {
    const pt = await subtle().decrypt(
      {
        name: 'AES-GCM',
        iv: sealed.subarray(1, 1 + IV_LENGTH) as Uint8Array<ArrayBuffer>,
        additionalData: aad(store, rowKey),
      },
      key,
      sealed.subarray(1 + IV_LENGTH) as Uint8Array<ArrayBuffer>,
    );
    return new Uint8Array(pt);
  } catch (cause) {
    throw failedToOpen(store, rowKey, cause);
  }
}

export function notSealed(store: StoreName, rowKey: string): StorageCryptoError {
  return new StorageCryptoError(`stored value ${store}/${rowKey} is not sealed or is corrupt`);
}

export function failedToOpen(store: StoreName, rowKey: string, cause: unknown): StorageCryptoError {
  return new StorageCryptoError(`stored value ${store}/${rowKey} failed to decrypt (wrong key?)`, {
    cause,
  });
}
