/**
 * The key material for one sender-key message (libsignal `SenderMessageKey`).
 *
 *   seed              = HMAC-SHA256(chainKey_i, 0x01)            (see sender-chain-key.ts)
 *   iv ‖ cipherKey    = HKDF-SHA256(salt = none, ikm = seed, info = "WhisperGroup", 48)
 *   iv = [0..16], cipherKey = [16..48]   (note: the reverse of the 1:1 message-key layout)
 *
 * Only the seed is stored (as libsignal's `SenderMessageKey { iteration, seed }`); the iv and
 * cipher key are derived when the key is used.
 * @module
 */
import { abytes, utf8 } from '../_bytes.ts';
import { hkdfSha256 } from '../_primitives.ts';

/** HKDF info label for sender-key message keys. */
export const WHISPER_GROUP_INFO = /* @__PURE__ */ utf8('WhisperGroup');

const inspect = Symbol.for('nodejs.util.inspect.custom');

export class SenderMessageKey {
  readonly iteration: number;
  readonly #seed: Uint8Array;

  constructor(iteration: number, seed: Uint8Array) {
    abytes(seed, 'message key seed', 32);
    this.iteration = iteration;
    this.#seed = seed.slice();
  }

  /** The 32-byte seed (a copy): what records store. Secret. */
  seed(): Uint8Array {
    return this.#seed.slice();
  }

  /** Derives `{ iv (16 bytes), cipherKey (32 bytes) }`. Secret; the caller wipes them. */
  derive(): { iv: Uint8Array; cipherKey: Uint8Array } {
    const okm = hkdfSha256(this.#seed, undefined, WHISPER_GROUP_INFO, 48);
    return { iv: okm.slice(0, 16), cipherKey: okm.slice(16, 48) };
  }

  toString(): string {
    return `SenderMessageKey(iteration ${this.iteration}, [redacted])`;
  }

  toJSON(): string {
    return this.toString();
  }

  [inspect](): string {
    return this.toString();
  }
}
