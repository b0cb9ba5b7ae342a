/**
 * Per-message keys, derived from a chain step's 32-byte seed (libsignal `ratchet/keys.rs`):
 *
 *   cipherKey ‖ macKey ‖ iv = HKDF-SHA256(salt = none, ikm = seed, info = "WhisperMessageKeys", 80)
 *                             (32 ‖ 32 ‖ 16 bytes)
 *
 * Skipped keys are stored as their seed (as libsignal does), and expanded only when used.
 * @module
 */
import { abytes, utf8, wipe } from '../_bytes.ts';
import { hkdfSha256 } from '../_primitives.ts';

const MESSAGE_KEYS_INFO = /* @__PURE__ */ utf8('WhisperMessageKeys');

export class MessageKeys {
  private constructor(
    readonly cipherKey: Uint8Array,
    readonly macKey: Uint8Array,
    readonly iv: Uint8Array,
    /** The chain index these keys belong to. */
    readonly counter: number,
  ) {}

  /** `salt` is the message's SPQR key, when the session uses SPQR (libsignal 0.92+). */
  static derive(seed: Uint8Array, counter: number, salt?: Uint8Array): MessageKeys {
    abytes(seed, 'message key seed', 32);
    const okm = hkdfSha256(seed, salt, MESSAGE_KEYS_INFO, 80);
    const keys = new MessageKeys(okm.slice(0, 32), okm.slice(32, 64), okm.slice(64, 80), counter);
    wipe(okm);
    return keys;
  }

  toString(): string {
    return `MessageKeys(${this.counter}, [redacted])`;
  }

  toJSON(): string {
    return this.toString();
  }
}
