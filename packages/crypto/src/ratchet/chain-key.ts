/**
 * A symmetric-key ratchet chain (libsignal `ChainKey`): one per sending chain and one per
 * receiving chain. Step i holds CK_i; each message consumes one step:
 *
 *   seed_i   = HMAC-SHA256(CK_i, 0x01)     → MessageKeys (see message-keys.ts)
 *   CK_{i+1} = HMAC-SHA256(CK_i, 0x02)
 *
 * Chain keys are immutable values: `next()` returns the following step.
 * @module
 */
import { abytes } from '../_bytes.ts';
import { hmacSha256 } from '../_primitives.ts';
import { MessageKeys } from './message-keys.ts';

const MESSAGE_KEY_SEED = /* @__PURE__ */ Uint8Array.of(0x01);
const CHAIN_KEY_SEED = /* @__PURE__ */ Uint8Array.of(0x02);

const inspect = Symbol.for('nodejs.util.inspect.custom');

export class ChainKey {
  readonly #key: Uint8Array;
  readonly index: number;

  constructor(key: Uint8Array, index: number) {
    this.#key = abytes(key, 'chain key', 32, 'InvalidRecord').slice();
    this.index = index;
  }

  /** The 32-byte chain key (a copy; secret). */
  get key(): Uint8Array {
    return this.#key.slice();
  }

  next(): ChainKey {
    return new ChainKey(hmacSha256(this.#key, CHAIN_KEY_SEED), this.index + 1);
  }

  /** The seed of this step's message keys (what skipped-key storage keeps). */
  messageKeySeed(): Uint8Array {
    return hmacSha256(this.#key, MESSAGE_KEY_SEED);
  }

  messageKeys(spqrKey?: Uint8Array): MessageKeys {
    return MessageKeys.derive(this.messageKeySeed(), this.index, spqrKey);
  }

  toString(): string {
    return `ChainKey(${this.index}, [redacted])`;
  }

  toJSON(): string {
    return this.toString();
  }

  [inspect](): string {
    return this.toString();
  }
}
