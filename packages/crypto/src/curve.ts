/**
 * Curve25519 keys as libsignal uses them: X25519 for agreement, XEdDSA for signatures.
 *
 * - A public key is serialised as `0x05 ‖ u` (33 bytes), the X25519 u-coordinate.
 * - A private key is 32 bytes and is always clamped (RFC 7748 §5) on import, as libsignal's
 *   `PrivateKey::from` does; unclamped input would otherwise pair with the wrong public key.
 * - Signatures are XEdDSA (https://signal.org/docs/specifications/xeddsa/) in libsignal's
 *   variant: the Edwards sign bit rides in bit 7 of the signature's last byte instead of
 *   forcing a positive public key (see `_xeddsa.ts`).
 * @module
 */
import { x25519 } from '@noble/curves/ed25519.js';
import { curveBackend, nobleAgree } from './_backend.ts';
import { abytes, bytesEqual, toHex } from './_bytes.ts';
import { Lru, secretId } from './_lru.ts';
import { xeddsaSign, xeddsaVerify } from './_xeddsa.ts';
import { ProtocolError } from './errors.ts';
import { ProtoFields, ProtoWriter } from './_protobuf.ts';
import { systemRandom, type RandomSource } from './random.ts';

/** libsignal's key-type byte for Curve25519 (`DJB_TYPE`). */
export const DJB_TYPE = 0x05;
export const PUBLIC_KEY_LENGTH = 33;
export const PRIVATE_KEY_LENGTH = 32;
export const SIGNATURE_LENGTH = 64;

const inspect = Symbol.for('nodejs.util.inspect.custom');

export class PublicKey {
  readonly #u: Uint8Array;
  #serialized?: Uint8Array;

  private constructor(u: Uint8Array) {
    this.#u = u;
  }

  /** Decodes `0x05 ‖ u`. Trailing bytes are rejected (libsignal merely warns; we are strict). */
  static deserialize(bytes: Uint8Array): PublicKey {
    abytes(bytes, 'public key', undefined, 'InvalidKey');
    if (bytes.length !== PUBLIC_KEY_LENGTH) {
      throw new ProtocolError('InvalidKey', `public key must be 33 bytes, got ${bytes.length}`);
    }
    if (bytes[0] !== DJB_TYPE) {
      throw new ProtocolError('InvalidKey', `unknown public key type 0x${bytes[0]!.toString(16)}`);
    }
    return new PublicKey(bytes.slice(1));
  }

  /** From the raw 32-byte X25519 u-coordinate. */
  static fromRaw(u: Uint8Array): PublicKey {
    abytes(u, 'raw public key', 32, 'InvalidKey');
    return new PublicKey(u.slice());
  }

  /** `0x05 ‖ u`, 33 bytes. */
  serialize(): Uint8Array {
    if (!this.#serialized) {
      this.#serialized = new Uint8Array(PUBLIC_KEY_LENGTH);
      this.#serialized[0] = DJB_TYPE;
      this.#serialized.set(this.#u, 1);
    }
    return this.#serialized.slice();
  }

  /** The raw 32-byte u-coordinate (a copy). */
  raw(): Uint8Array {
    return this.#u.slice();
  }

  /** Checks an XEdDSA signature made by the matching private key over `message`. */
  verifySignature(message: Uint8Array, signature: Uint8Array): boolean {
    abytes(message, 'message');
    if (!(signature instanceof Uint8Array) || signature.length !== SIGNATURE_LENGTH) return false;
    return xeddsaVerify(this.#u, message, signature);
  }

  /**
   * `verifySignature` through the selected crypto backend (`setCryptoBackend`): the same
   * answer on every input, faster where WebCrypto has Ed25519.
   */
  async verifySignatureAsync(message: Uint8Array, signature: Uint8Array): Promise<boolean> {
    abytes(message, 'message');
    if (!(signature instanceof Uint8Array) || signature.length !== SIGNATURE_LENGTH) return false;
    const b = curveBackend();
    return 'then' in b
      ? b.then((b) => b.verify(this.#u, message, signature))
      : b.verify(this.#u, message, signature);
  }

  /** @internal The u-coordinate itself (no copy): for the backends, never to be mutated. */
  static _u(key: PublicKey): Uint8Array {
    return key.#u;
  }

  equals(other: PublicKey): boolean {
    return bytesEqual(this.#u, other.#u);
  }

  toString(): string {
    return `PublicKey(05${toHex(this.#u)})`;
  }

  toJSON(): string {
    return this.toString();
  }
}

/** Public keys computed for private scalars, under SHA-256 of the scalar (never the scalar). */
const KNOWN_PUBLIC = /* @__PURE__ */ new Lru<PublicKey>(1024);

export class PrivateKey {
  readonly #k: Uint8Array;
  #public?: PublicKey;
  /** The public key a key pair says goes with this one: a speed hint for the backend only. */
  #publicHint?: PublicKey;

  private constructor(k: Uint8Array) {
    this.#k = k;
  }

  static generate(rng: RandomSource = systemRandom): PrivateKey {
    return PrivateKey.deserialize(rng(PRIVATE_KEY_LENGTH));
  }

  /**
   * `generate` through the selected crypto backend, which may keep the new key for the
   * agreements that follow. The same key as `generate` from the same injected `rng` (drawn
   * before anything is awaited, so concurrent users of one seeded `rng` stay reproducible).
   */
  static async generateAsync(rng: RandomSource = systemRandom): Promise<PrivateKey> {
    const drawn = PrivateKey.#draw(rng);
    return PrivateKey.#fromBackend(await (await curveBackend()).generate(drawn));
  }

  /**
   * A new key for signing (sender keys): where the backend can, it also keeps a faster
   * signing handle for it in this process (see `signAsync`). Same bytes from the same `rng`.
   */
  static async generateSigningAsync(rng: RandomSource = systemRandom): Promise<PrivateKey> {
    const drawn = PrivateKey.#draw(rng);
    return PrivateKey.#fromBackend(await (await curveBackend()).generateSigning(drawn));
  }

  /** An injected rng's scalar; none for the system RNG (the backend draws its own). */
  static #draw(rng: RandomSource): Uint8Array | undefined {
    return rng === systemRandom ? undefined : PrivateKey.deserialize(rng(32)).#k;
  }

  static #fromBackend({ k, u }: { k: Uint8Array; u: Uint8Array }): PrivateKey {
    const key = new PrivateKey(k);
    key.#public = PublicKey.fromRaw(u);
    KNOWN_PUBLIC.set(secretId(k), key.#public);
    return key;
  }

  /** @internal Records the public key a key pair pairs this key with (see `#publicHint`). */
  static _hintPublic(key: PrivateKey, publicKey: PublicKey): void {
    key.#publicHint ??= publicKey;
  }

  /** Imports 32 bytes, clamping them (RFC 7748 §5) as libsignal does. */
  static deserialize(bytes: Uint8Array): PrivateKey {
    abytes(bytes, 'private key', PRIVATE_KEY_LENGTH, 'InvalidKey');
    const k = bytes.slice();
    k[0]! &= 248;
    k[31]! &= 127;
    k[31]! |= 64;
    return new PrivateKey(k);
  }

  /** The clamped 32-byte scalar. Handle with care: this is the secret. */
  serialize(): Uint8Array {
    return this.#k.slice();
  }

  /** X25519(k, 9). Remembered per scalar in this process: records that hold both halves
   *  (identity, prekeys) check them on every load, and a scalar multiplication in noble costs
   *  ≈ 300 µs. */
  publicKey(): PublicKey {
    if (this.#public) return this.#public;
    const id = secretId(this.#k);
    this.#public = KNOWN_PUBLIC.get(id) ?? PublicKey.fromRaw(x25519.getPublicKey(this.#k));
    KNOWN_PUBLIC.set(id, this.#public);
    return this.#public;
  }

  /**
   * X25519 agreement. Low-order public keys (an all-zero shared secret) are rejected with
   * `InvalidKey`; libsignal would compute the zero secret, which no honest peer produces.
   */
  agree(theirPublic: PublicKey): Uint8Array {
    return nobleAgree(this.#k, PublicKey._u(theirPublic));
  }

  /** `agree` through the selected crypto backend (`setCryptoBackend`): the same bytes. */
  agreeAsync(theirPublic: PublicKey): Promise<Uint8Array> {
    // No await before the backend call: a cached WebCrypto key starts its work at once.
    const b = curveBackend();
    const u = PublicKey._u(theirPublic);
    const mine = this.#public ?? this.#publicHint;
    const hint = mine ? PublicKey._u(mine) : undefined;
    return 'then' in b ? b.then((b) => b.agree(this.#k, u, hint)) : b.agree(this.#k, u, hint);
  }

  /** XEdDSA signature (64 bytes) over `message`, with 64 bytes of fresh randomness. */
  sign(message: Uint8Array, rng: RandomSource = systemRandom): Uint8Array {
    abytes(message, 'message');
    return xeddsaSign(this.#k, message, rng(64));
  }

  /**
   * A signature through the selected crypto backend that every XEdDSA verifier (libsignal's
   * included) accepts for this key: XEdDSA itself, or for a key from `generateSigningAsync`
   * still held by this process, the equivalent Ed25519 signature (see `_webcrypto.ts`).
   */
  async signAsync(message: Uint8Array, rng: RandomSource = systemRandom): Promise<Uint8Array> {
    abytes(message, 'message');
    return (await curveBackend()).sign(this.#k, message, rng);
  }

  toString(): string {
    return 'PrivateKey([redacted])';
  }

  toJSON(): string {
    return this.toString();
  }

  [inspect](): string {
    return this.toString();
  }
}

/** A Curve25519 key pair (ratchet keys, prekeys, sender-key signing keys). */
export class KeyPair {
  constructor(
    readonly publicKey: PublicKey,
    readonly privateKey: PrivateKey,
  ) {
    PrivateKey._hintPublic(privateKey, publicKey);
  }

  static generate(rng: RandomSource = systemRandom): KeyPair {
    const privateKey = PrivateKey.generate(rng);
    return new KeyPair(privateKey.publicKey(), privateKey);
  }

  /** `generate` through the selected crypto backend: the same key pair from the same `rng`. */
  static async generateAsync(rng: RandomSource = systemRandom): Promise<KeyPair> {
    const privateKey = await PrivateKey.generateAsync(rng);
    return new KeyPair(privateKey.publicKey(), privateKey);
  }

  /** `generateAsync` for a signing key pair (see `PrivateKey.generateSigningAsync`). */
  static async generateSigningAsync(rng: RandomSource = systemRandom): Promise<KeyPair> {
    const privateKey = await PrivateKey.generateSigningAsync(rng);
    return new KeyPair(privateKey.publicKey(), privateKey);
  }

  static fromPrivateKey(privateKey: PrivateKey): KeyPair {
    return new KeyPair(privateKey.publicKey(), privateKey);
  }

  toString(): string {
    return `KeyPair(${this.publicKey.toString()}, [redacted])`;
  }

  toJSON(): string {
    return this.toString();
  }

  [inspect](): string {
    return this.toString();
  }
}

/**
 * A long-term identity key pair. Serialises as libsignal's `IdentityKeyPairStructure`
 * protobuf (`1: public_key` 33 bytes, `2: private_key` 32 bytes), so keys move between the two.
 */
export class IdentityKeyPair extends KeyPair {
  static override generate(rng: RandomSource = systemRandom): IdentityKeyPair {
    const privateKey = PrivateKey.generate(rng);
    return new IdentityKeyPair(privateKey.publicKey(), privateKey);
  }

  static deserialize(bytes: Uint8Array): IdentityKeyPair {
    abytes(bytes, 'identity key pair', undefined, 'InvalidKey');
    const f = ProtoFields.decode(bytes, 'identity key pair', 'InvalidKey');
    const publicKey = PublicKey.deserialize(f.requireBytes(1, 'public_key'));
    const privateKey = PrivateKey.deserialize(f.requireBytes(2, 'private_key'));
    if (!privateKey.publicKey().equals(publicKey)) {
      throw new ProtocolError('InvalidKey', 'identity public key does not match its private key');
    }
    return new IdentityKeyPair(publicKey, privateKey);
  }

  serialize(): Uint8Array {
    return new ProtoWriter()
      .bytes(1, this.publicKey.serialize())
      .bytes(2, this.privateKey.serialize())
      .finish();
  }
}
