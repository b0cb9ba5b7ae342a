/**
 * Symmetric primitives the protocol is built from, in one place so that a faster backend
 * (WebCrypto, node:crypto) can later replace them without the protocol code noticing.
 * Internal: not exported from the package.
 * @module
 */
import { cbc } from '@noble/ciphers/aes.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { ProtocolError } from './errors.ts';

export const hmacSha256 = (key: Uint8Array, data: Uint8Array): Uint8Array =>
  hmac(sha256, key, data);

/** RFC 5869 HKDF-SHA256. An absent salt is HashLen zero bytes (RFC 5869 §2.2). */
export const hkdfSha256 = (
  ikm: Uint8Array,
  salt: Uint8Array | undefined,
  info: Uint8Array,
  length: number,
): Uint8Array => hkdf(sha256, ikm, salt, info, length);

export const sha512Digest = (data: Uint8Array): Uint8Array => sha512(data);

/** AES-256-CBC with PKCS#7 padding, as libsignal's `aes_256_cbc_encrypt`. */
export function aes256CbcEncrypt(key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array) {
  return cbc(key, iv).encrypt(plaintext);
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
    return cbc(key, iv).decrypt(ciphertext);
  } catch (cause) {
    throw new ProtocolError('InvalidMessage', 'ciphertext padding is invalid', { cause });
  }
}
