/**
 * The symmetric hash ratchet of one sender's chain (libsignal `SenderChainKey`).
 *
 *   messageKeySeed_i = HMAC-SHA256(CK_i, 0x01)
 *   CK_{i+1}         = HMAC-SHA256(CK_i, 0x02)
 *
 * `i` is the iteration, a u32 carried in every SenderKeyMessage; stepping past 2^32 − 1 is an
 * `InvalidState` error, as in libsignal (`checked_add`).
 * @module
 */
import { abytes } from '../_bytes.ts';
import { hmacSha256 } from '../_primitives.ts';
import { ProtocolError } from '../errors.ts';
import { MAX_ITERATION } from './consts.ts';
import { SenderMessageKey } from './sender-message-key.ts';

const MESSAGE_KEY_SEED = /* @__PURE__ */ Uint8Array.of(0x01);
const CHAIN_KEY_SEED = /* @__PURE__ */ Uint8Array.of(0x02);

const inspect = Symbol.for('nodejs.util.inspect.custom');

export class SenderChainKey {
  readonly iteration: number;
  readonly #key: Uint8Array;

  constructor(iteration: number, key: Uint8Array) {
    if (!Number.isInteger(iteration) || iteration < 0 || iteration > MAX_ITERATION) {
      throw new ProtocolError('InvalidArgument', 'iteration must be a u32');
    }
    abytes(key, 'chain key', 32);
    this.iteration = iteration;
    this.#key = key.slice();
  }

  /** The 32-byte chain key (a copy). Secret: it decrypts this and every later message. */
  seed(): Uint8Array {
    return this.#key.slice();
  }

  /** The message key for this iteration. */
  messageKey(): SenderMessageKey {
    return new SenderMessageKey(this.iteration, hmacSha256(this.#key, MESSAGE_KEY_SEED));
  }

  /** The chain key for the next iteration. */
  next(): SenderChainKey {
    if (this.iteration >= MAX_ITERATION) {
      throw new ProtocolError('InvalidState', 'sender chain is too long (iteration overflow)');
    }
    return new SenderChainKey(this.iteration + 1, hmacSha256(this.#key, CHAIN_KEY_SEED));
  }

  toString(): string {
    return `SenderChainKey(iteration ${this.iteration}, [redacted])`;
  }

  toJSON(): string {
    return this.toString();
  }

  [inspect](): string {
    return this.toString();
  }
}
