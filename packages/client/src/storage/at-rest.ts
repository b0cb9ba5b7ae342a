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

const VERSION = 1;
const IV_LENGTH = 12;

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

function aad(store: StoreName, key: string): Uint8Array<ArrayBuffer> {
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
  if (sealed.length < 1 + IV_LENGTH + 16 || sealed[0] !== VERSION) {
    throw new StorageCryptoError(`stored value ${store}/${rowKey} is not sealed or is corrupt`);
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
    throw new StorageCryptoError(`stored value ${store}/${rowKey} failed to decrypt (wrong key?)`, {
      cause,
    });
  }
}
