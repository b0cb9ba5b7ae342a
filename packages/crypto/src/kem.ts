/**
 * Kyber1024 as libsignal's KEM type 0x08 — round-3 Kyber, not the NIST-final ML-KEM.
 *
 * The key formats are identical to ML-KEM-1024, and so is the lattice arithmetic; only the
 * hashing around it differs (libsignal rust/protocol/src/kem/kyber1024.rs uses libcrux's
 * `kyber1024`). Round-3 Kyber hashes the encapsulation randomness and derives the final key
 * from the ciphertext too, so on top of noble's `ml_kem1024`:
 *
 *   encapsulate: m = SHA3-256(random32); (ct, K̄) = ML-KEM.Encaps(pk, m);
 *                ss = SHAKE256(K̄ ‖ SHA3-256(ct), 32)
 *   decapsulate: K̄ = ML-KEM.Decaps(ct, sk); ss = SHAKE256(K̄ ‖ SHA3-256(ct), 32)
 *
 * Public keys and ciphertexts are serialised with the type byte: `0x08 ‖ 1568 bytes`.
 * @module
 */
import { ml_kem1024 } from '@noble/post-quantum/ml-kem.js';
import { sha3_256, shake256 } from '@noble/hashes/sha3.js';
import { abytes, bytesEqual, concat, toHex } from './_bytes.ts';
import { ProtocolError } from './errors.ts';
import { systemRandom, type RandomSource } from './random.ts';

export const KYBER1024_TYPE = 0x08;
const PUBLIC_LENGTH = 1568;
const SECRET_LENGTH = 3168;
const CIPHERTEXT_LENGTH = 1568;
/** `0x08 ‖ key`: 1569 bytes. */
export const KEM_PUBLIC_KEY_LENGTH = PUBLIC_LENGTH + 1;
/** `0x08 ‖ ciphertext`: 1569 bytes. */
export const KEM_CIPHERTEXT_LENGTH = CIPHERTEXT_LENGTH + 1;

const inspect = Symbol.for('nodejs.util.inspect.custom');

function stripType(bytes: Uint8Array, length: number, what: string): Uint8Array {
  abytes(bytes, what, undefined, 'InvalidKey');
  if (bytes.length === 0 || bytes[0] !== KYBER1024_TYPE) {
    throw new ProtocolError('InvalidKey', `${what} has an unknown KEM type`);
  }
  if (bytes.length !== length + 1) {
    throw new ProtocolError(
      'InvalidKey',
      `${what} must be ${length + 1} bytes, got ${bytes.length}`,
    );
  }
  return bytes.subarray(1);
}

const finalKey = (kBar: Uint8Array, ct: Uint8Array) =>
  shake256(concat(kBar, sha3_256(ct)), { dkLen: 32 });

export class KemPublicKey {
  readonly #key: Uint8Array;
  private constructor(key: Uint8Array) {
    this.#key = key;
  }

  static deserialize(bytes: Uint8Array): KemPublicKey {
    return new KemPublicKey(stripType(bytes, PUBLIC_LENGTH, 'KEM public key').slice());
  }

  serialize(): Uint8Array {
    return concat(Uint8Array.of(KYBER1024_TYPE), this.#key);
  }

  /** Returns the serialised ciphertext (`0x08 ‖ ct`) and the 32-byte shared secret. */
  encapsulate(rng: RandomSource = systemRandom): {
    ciphertext: Uint8Array;
    sharedSecret: Uint8Array;
  } {
    let result;
    try {
      result = ml_kem1024.encapsulate(this.#key, sha3_256(rng(32)));
    } catch (cause) {
      throw new ProtocolError('InvalidKey', 'KEM public key is malformed', { cause });
    }
    return {
      ciphertext: concat(Uint8Array.of(KYBER1024_TYPE), result.cipherText),
      sharedSecret: finalKey(result.sharedSecret, result.cipherText),
    };
  }

  equals(other: KemPublicKey): boolean {
    return bytesEqual(this.#key, other.#key);
  }

  toString(): string {
    return `KemPublicKey(08${toHex(this.#key.subarray(0, 8))}…)`;
  }

  toJSON(): string {
    return this.toString();
  }
}

export class KemSecretKey {
  readonly #key: Uint8Array;
  private constructor(key: Uint8Array) {
    this.#key = key;
  }

  static deserialize(bytes: Uint8Array): KemSecretKey {
    return new KemSecretKey(stripType(bytes, SECRET_LENGTH, 'KEM secret key').slice());
  }

  serialize(): Uint8Array {
    return concat(Uint8Array.of(KYBER1024_TYPE), this.#key);
  }

  /** Recovers the shared secret from a serialised ciphertext (`0x08 ‖ ct`). */
  decapsulate(ciphertext: Uint8Array): Uint8Array {
    const ct = stripType(ciphertext, CIPHERTEXT_LENGTH, 'KEM ciphertext');
    let kBar;
    try {
      kBar = ml_kem1024.decapsulate(ct, this.#key);
    } catch (cause) {
      throw new ProtocolError('InvalidKey', 'KEM secret key is malformed', { cause });
    }
    return finalKey(kBar, ct);
  }

  toString(): string {
    return 'KemSecretKey([redacted])';
  }

  toJSON(): string {
    return this.toString();
  }

  [inspect](): string {
    return this.toString();
  }
}

export class KemKeyPair {
  constructor(
    readonly publicKey: KemPublicKey,
    readonly secretKey: KemSecretKey,
  ) {}

  static generate(rng: RandomSource = systemRandom): KemKeyPair {
    const { publicKey, secretKey } = ml_kem1024.keygen(rng(64));
    return new KemKeyPair(
      KemPublicKey.deserialize(concat(Uint8Array.of(KYBER1024_TYPE), publicKey)),
      KemSecretKey.deserialize(concat(Uint8Array.of(KYBER1024_TYPE), secretKey)),
    );
  }

  toString(): string {
    return `KemKeyPair(${this.publicKey.toString()}, [redacted])`;
  }

  toJSON(): string {
    return this.toString();
  }

  [inspect](): string {
    return this.toString();
  }
}
