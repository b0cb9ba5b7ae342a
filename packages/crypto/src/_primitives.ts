/**
 * Symmetric primitives the protocol is built from, in one place so that a faster backend can
 * replace them without the protocol code noticing. noble by default; a `CurveBackend` that
 * carries `symmetric` (e.g. `@parley/crypto-node`, on node:crypto) swaps them in while it is
 * selected. They stay synchronous: WebCrypto's are promise-based and, at protocol sizes, its
 * import and promise overhead exceeds the work, so the WebCrypto backend keeps noble here.
 * Internal: not exported from the package (the interface is, through `backend.ts`).
 * @module
 */
import { cbc, ctr, gcmsiv } from '@noble/ciphers/aes.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { ProtocolError } from './errors.ts';

/** What a backend may supply; every function must give noble's bytes exactly. */
export interface SymmetricPrimitives {
  hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array;
  /** RFC 5869 HKDF-SHA256; an absent salt is HashLen zero bytes (RFC 5869 §2.2). */
  hkdfSha256(
    ikm: Uint8Array,
    salt: Uint8Array | undefined,
    info: Uint8Array,
    length: number,
  ): Uint8Array;
  sha512(data: Uint8Array): Uint8Array;
  /** AES-256-CBC with PKCS#7 padding. */
  aes256CbcEncrypt(key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array): Uint8Array;
  /** Throws (any error) on bad padding; the caller turns it into `InvalidMessage`. */
  aes256CbcDecrypt(key: Uint8Array, iv: Uint8Array, ciphertext: Uint8Array): Uint8Array;
}

export const nobleSymmetric: SymmetricPrimitives = {
  hmacSha256: (key, data) => hmac(sha256, key, data),
  hkdfSha256: (ikm, salt, info, length) => hkdf(sha256, ikm, salt, info, length),
  sha512: (data) => sha512(data),
  aes256CbcEncrypt: (key, iv, plaintext) => cbc(key, iv).encrypt(plaintext),
  aes256CbcDecrypt: (key, iv, ciphertext) => cbc(key, iv).decrypt(ciphertext),
};

let active: SymmetricPrimitives = nobleSymmetric;

/** Called by `setCryptoBackend`: the selected backend's primitives, or noble's. */
export function setSymmetricPrimitives(next: SymmetricPrimitives | undefined): void {
  active = next ?? nobleSymmetric;
}

export const hmacSha256 = (key: Uint8Array, data: Uint8Array): Uint8Array =>
  active.hmacSha256(key, data);

/** RFC 5869 HKDF-SHA256. An absent salt is HashLen zero bytes (RFC 5869 §2.2). */
export const hkdfSha256 = (
  ikm: Uint8Array,
  salt: Uint8Array | undefined,
  info: Uint8Array,
  length: number,
): Uint8Array => active.hkdfSha256(ikm, salt, info, length);

export const sha512Digest = (data: Uint8Array): Uint8Array => active.sha512(data);

/** AES-256-CBC with PKCS#7 padding, as libsignal's `aes_256_cbc_encrypt`. */
export function aes256CbcEncrypt(key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array) {
  return active.aes256CbcEncrypt(key, iv, plaintext);
}

/**
 * AES-256-CBC decryption. Bad length or padding is an `InvalidMessage`: it only happens when
 * the MAC or signature already passed, i.e. the sender itself encrypted garbage.
 */
export function aes256CbcDecrypt(key: Uint8Array, iv: Uint8Array, ciphertext: Uint8Array) {
  if (ciphertext.length === 0 || ciphertext.length % 16 !== 0) {
    throw new ProtocolError('InvalidMessage', 'ciphertext length is not a positive multiple of 16');
  }
  try {
    return active.aes256CbcDecrypt(key, iv, ciphertext);
  } catch (cause) {
    throw new ProtocolError('InvalidMessage', 'ciphertext padding is invalid', { cause });
  }
}

/*
 * Sealed sender's ciphers. Backends do not replace these (they are used once per sealed
 * message, never per ratchet step), so they stay on noble everywhere.
 */

const ZERO_IV16 = /* @__PURE__ */ new Uint8Array(16);
const ZERO_NONCE12 = /* @__PURE__ */ new Uint8Array(12);

/**
 * AES-256-CTR with an all-zero initial counter block, as libsignal's `aes_256_ctr_encrypt`
 * (`Ctr32BE` over a zero nonce). noble increments all 128 bits, libsignal the low 32: the
 * streams agree for the first 2^32 blocks (64 GiB), far beyond any message. Its own inverse.
 */
export function aes256Ctr(key: Uint8Array, data: Uint8Array): Uint8Array {
  return ctr(key, ZERO_IV16).encrypt(data);
}

/**
 * AES-256-GCM-SIV (RFC 8452) with the all-zero nonce and no associated data, as sealed sender
 * v2 uses it (each key encrypts one message). Output is ciphertext ‖ 16-byte tag.
 */
export function aes256GcmSivEncrypt(key: Uint8Array, plaintext: Uint8Array): Uint8Array {
  return gcmsiv(key, ZERO_NONCE12).encrypt(plaintext);
}

/** The inverse of `aes256GcmSivEncrypt`; throws (any error) when the tag does not verify. */
export function aes256GcmSivDecrypt(key: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  return gcmsiv(key, ZERO_NONCE12).decrypt(ciphertext);
}
