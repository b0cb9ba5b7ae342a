/**
 * The root key of the Double Ratchet (libsignal `RootKey`). Every DH ratchet step mixes a
 * fresh X25519 output into it and splits off a new chain:
 *
 *   RK' ‖ CK = HKDF-SHA256(salt = RK, ikm = DH(ourRatchetPriv, theirRatchetPub),
 *                          info = "WhisperRatchet", 64)
 *
 * A receiver that sees a new peer ratchet key runs this twice: once with its current ratchet
 * key (→ the receiving chain for the peer's key), then with a freshly generated key pair
 * (→ its own next sending chain).
 * @module
 */
import { abytes, utf8, wipe } from '../_bytes.ts';
import { hkdfSha256 } from '../_primitives.ts';
import type { PrivateKey, PublicKey } from '../curve.ts';
import { ChainKey } from './chain-key.ts';

const RATCHET_INFO = /* @__PURE__ */ utf8('WhisperRatchet');

const inspect = Symbol.for('nodejs.util.inspect.custom');

export class RootKey {
  readonly #key: Uint8Array;

  constructor(key: Uint8Array) {
    this.#key = abytes(key, 'root key', 32, 'InvalidRecord').slice();
  }

  /** The 32-byte root key (a copy; secret). */
  get key(): Uint8Array {
    return this.#key.slice();
  }

  /** One DH ratchet step: the next root key and a new chain starting at index 0. */
  async createChain(
    theirRatchetKey: PublicKey,
    ourRatchetKey: PrivateKey,
  ): Promise<[RootKey, ChainKey]> {
    return this.chainFromSecret(await ourRatchetKey.agreeAsync(theirRatchetKey));
  }

  /** `createChain` from the DH output already computed (wiped here). */
  chainFromSecret(shared: Uint8Array): [RootKey, ChainKey] {
    const okm = hkdfSha256(shared, this.#key, RATCHET_INFO, 64);
    const result: [RootKey, ChainKey] = [
      new RootKey(okm.subarray(0, 32)),
      new ChainKey(okm.subarray(32, 64), 0),
    ];
    wipe(shared, okm);
    return result;
  }

  toString(): string {
    return 'RootKey([redacted])';
  }

  toJSON(): string {
    return this.toString();
  }

  [inspect](): string {
    return this.toString();
  }
}
