/**
 * Sealing at rest with Node's synchronous AES-256-GCM (OpenSSL) instead of a WebCrypto call per
 * row: the same key (the non-extractable `CryptoKey`'s key material, through `KeyObject.from`,
 * never exported), the same associated data and the same bytes (`at-rest.ts`), so rows sealed
 * either way open either way. In Node a WebCrypto AES-GCM call costs about 70 µs for a 6 KB
 * session record, this about 10 µs. Node only (`SqliteBackend` uses it).
 * @module
 */
import { createCipheriv, createDecipheriv, KeyObject } from 'node:crypto';
import {
  aad,
  failedToOpen,
  IV_LENGTH,
  notSealed,
  SEALED_VERSION,
  TAG_LENGTH,
  type AtRestSealer,
} from './at-rest.ts';

/** IVs are cut from a pool of `crypto.getRandomValues` output: one call per 256 rows, not per row. */
const IV_POOL = 256 * IV_LENGTH;

export function nodeSealer(key: CryptoKey): AtRestSealer {
  const secret = KeyObject.from(key);
  const pool = new Uint8Array(IV_POOL);
  let used = IV_POOL;
  const nextIv = (into: Uint8Array) => {
    if (used === IV_POOL) {
      globalThis.crypto.getRandomValues(pool);
      used = 0;
    }
    into.set(pool.subarray(used, used + IV_LENGTH));
    pool.fill(0, used, used + IV_LENGTH); // each IV is handed out once
    used += IV_LENGTH;
    return into;
  };
  return {
    seal(store, rowKey, plaintext) {
      const out = new Uint8Array(1 + IV_LENGTH + plaintext.length + TAG_LENGTH);
      out[0] = SEALED_VERSION;
      const iv = nextIv(out.subarray(1, 1 + IV_LENGTH));
      const cipher = createCipheriv('aes-256-gcm', secret, iv);
      cipher.setAAD(aad(store, rowKey));
      let at = 1 + IV_LENGTH;
      for (const part of [cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]) {
        out.set(part, at);
        at += part.length;
      }
      return out;
    },
    open(store, rowKey, sealed) {
      if (sealed.length < 1 + IV_LENGTH + TAG_LENGTH || sealed[0] !== SEALED_VERSION) {
        throw notSealed(store, rowKey);
      }
      try {
        const decipher = createDecipheriv('aes-256-gcm', secret, sealed.subarray(1, 1 + IV_LENGTH));
        decipher.setAAD(aad(store, rowKey));
        decipher.setAuthTag(sealed.subarray(sealed.length - TAG_LENGTH));
        const head = decipher.update(sealed.subarray(1 + IV_LENGTH, sealed.length - TAG_LENGTH));
        const tail = decipher.final();
        if (tail.length === 0) return new Uint8Array(head.buffer, head.byteOffset, head.length);
        return new Uint8Array(Buffer.concat([head, tail]));
      } catch (cause) {
        throw failedToOpen(store, rowKey, cause);
      }
    },
  };
}
