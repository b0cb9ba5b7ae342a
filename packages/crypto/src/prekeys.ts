/**
 * Prekeys and prekey bundles: what a device publishes so that others can start sessions with
 * it while it is offline.
 *
 * - One-time prekeys (Curve25519), each used by at most one session, then deleted.
 * - A signed prekey (Curve25519), XEdDSA-signed by the identity key over its 33-byte serialised
 *   public key; rotated from time to time, used by every session started meanwhile.
 * - Kyber prekeys (Kyber1024, `0x08 ‖ key`), signed the same way over the serialised KEM public
 *   key; one-time, or "last resort" (kept and reused when one-time ones run out).
 *
 * Records serialise as libsignal's storage.proto (`PreKeyRecordStructure`,
 * `SignedPreKeyRecordStructure`, and the latter again for Kyber prekeys), proto3 style (zero
 * values omitted), so records move between this package and libsignal byte for byte.
 *
 * A {@link PreKeyBundle} without a Kyber prekey starts an X3DH session (message version 3); with
 * one, a PQXDH session (version 4).
 * @module
 */
import { abytes, auint } from './_bytes.ts';
import { ProtoFields, ProtoWriter } from './_protobuf.ts';
import { KeyPair, PrivateKey, PublicKey, SIGNATURE_LENGTH, type IdentityKeyPair } from './curve.ts';
import { ProtocolError } from './errors.ts';
import { KemKeyPair, KemPublicKey, KemSecretKey } from './kem.ts';
import { systemRandom, type RandomSource } from './random.ts';

const inspect = Symbol.for('nodejs.util.inspect.custom');
/** Prekey ids are u32 on the wire. */
const MAX_ID = 0xffff_ffff;
/** Signed prekey ids are stored as int32 in a session's pending-prekey field (storage.proto). */
const MAX_SIGNED_ID = 0x7fff_ffff;

/** proto3 omits zero scalars; so do we, to stay byte-identical with libsignal. */
const nz = (n: number): number | undefined => (n === 0 ? undefined : n);

function decodeRecord(bytes: Uint8Array, what: string): ProtoFields {
  abytes(bytes, what, undefined, 'InvalidRecord');
  return ProtoFields.decode(bytes, what, 'InvalidRecord');
}

function recordKey<T>(what: string, f: () => T): T {
  try {
    return f();
  } catch (cause) {
    throw new ProtocolError('InvalidRecord', `${what} holds an invalid key`, { cause });
  }
}

/** A one-time Curve25519 prekey: `PreKeyRecordStructure { id, public_key, private_key }`. */
export class PreKeyRecord {
  readonly id: number;
  readonly keyPair: KeyPair;

  constructor(id: number, keyPair: KeyPair) {
    this.id = auint(id, 'prekey id', 0, MAX_ID);
    if (!(keyPair instanceof KeyPair)) {
      throw new ProtocolError('InvalidArgument', 'keyPair must be a KeyPair');
    }
    this.keyPair = keyPair;
  }

  get publicKey(): PublicKey {
    return this.keyPair.publicKey;
  }

  /** Secret: holds the private key. */
  serialize(): Uint8Array {
    return new ProtoWriter()
      .uint(1, nz(this.id))
      .bytes(2, this.keyPair.publicKey.serialize())
      .bytes(3, this.keyPair.privateKey.serialize())
      .finish();
  }

  static deserialize(bytes: Uint8Array): PreKeyRecord {
    const f = decodeRecord(bytes, 'prekey record');
    const keyPair = recordKey('prekey record', () =>
      checkedPair(f.requireBytes(2, 'public_key'), f.requireBytes(3, 'private_key')),
    );
    return new PreKeyRecord(f.uint32(1) ?? 0, keyPair);
  }

  toString(): string {
    return `PreKeyRecord(${this.id}, ${this.keyPair.publicKey.toString()}, [redacted])`;
  }

  toJSON(): string {
    return this.toString();
  }

  [inspect](): string {
    return this.toString();
  }
}

/** A Curve25519 key pair whose stored public half must match the private half. */
function checkedPair(pub: Uint8Array, priv: Uint8Array): KeyPair {
  const privateKey = PrivateKey.deserialize(priv);
  const publicKey = PublicKey.deserialize(pub);
  if (!privateKey.publicKey().equals(publicKey)) {
    throw new ProtocolError('InvalidRecord', 'public key does not match private key');
  }
  return new KeyPair(publicKey, privateKey);
}

/**
 * The signed prekey: `SignedPreKeyRecordStructure { id, public_key, private_key, signature,
 * fixed64 timestamp }`. The timestamp is milliseconds since the epoch (libsignal's `Timestamp`).
 */
export class SignedPreKeyRecord {
  readonly id: number;
  readonly timestamp: number;
  readonly keyPair: KeyPair;
  readonly #signature: Uint8Array;

  constructor(id: number, timestamp: number, keyPair: KeyPair, signature: Uint8Array) {
    this.id = auint(id, 'signed prekey id', 0, MAX_ID);
    this.timestamp = auint(timestamp, 'timestamp', 0, Number.MAX_SAFE_INTEGER);
    if (!(keyPair instanceof KeyPair)) {
      throw new ProtocolError('InvalidArgument', 'keyPair must be a KeyPair');
    }
    this.keyPair = keyPair;
    this.#signature = abytes(signature, 'signature', SIGNATURE_LENGTH).slice();
  }

  get publicKey(): PublicKey {
    return this.keyPair.publicKey;
  }

  get signature(): Uint8Array {
    return this.#signature.slice();
  }

  /** Secret: holds the private key. */
  serialize(): Uint8Array {
    return new ProtoWriter()
      .uint(1, nz(this.id))
      .bytes(2, this.keyPair.publicKey.serialize())
      .bytes(3, this.keyPair.privateKey.serialize())
      .bytes(4, this.#signature)
      .fixed64(5, nz(this.timestamp))
      .finish();
  }

  static deserialize(bytes: Uint8Array): SignedPreKeyRecord {
    const f = decodeRecord(bytes, 'signed prekey record');
    const keyPair = recordKey('signed prekey record', () =>
      checkedPair(f.requireBytes(2, 'public_key'), f.requireBytes(3, 'private_key')),
    );
    const signature = f.requireBytes(4, 'signature');
    if (signature.length !== SIGNATURE_LENGTH) {
      throw new ProtocolError('InvalidRecord', 'signed prekey record has a malformed signature');
    }
    return new SignedPreKeyRecord(f.uint32(1) ?? 0, f.fixed64(5) ?? 0, keyPair, signature);
  }

  toString(): string {
    return `SignedPreKeyRecord(${this.id}, ${this.keyPair.publicKey.toString()}, [redacted])`;
  }

  toJSON(): string {
    return this.toString();
  }

  [inspect](): string {
    return this.toString();
  }
}

/**
 * A signed Kyber1024 prekey, stored as libsignal does in a `SignedPreKeyRecordStructure` whose
 * key fields hold the type-prefixed KEM keys (`0x08 ‖ …`).
 */
export class KyberPreKeyRecord {
  readonly id: number;
  readonly timestamp: number;
  readonly keyPair: KemKeyPair;
  readonly #signature: Uint8Array;

  constructor(id: number, timestamp: number, keyPair: KemKeyPair, signature: Uint8Array) {
    this.id = auint(id, 'Kyber prekey id', 0, MAX_ID);
    this.timestamp = auint(timestamp, 'timestamp', 0, Number.MAX_SAFE_INTEGER);
    if (!(keyPair instanceof KemKeyPair)) {
      throw new ProtocolError('InvalidArgument', 'keyPair must be a KemKeyPair');
    }
    this.keyPair = keyPair;
    this.#signature = abytes(signature, 'signature', SIGNATURE_LENGTH).slice();
  }

  get publicKey(): KemPublicKey {
    return this.keyPair.publicKey;
  }

  get signature(): Uint8Array {
    return this.#signature.slice();
  }

  /** Secret: holds the KEM secret key. */
  serialize(): Uint8Array {
    return new ProtoWriter()
      .uint(1, nz(this.id))
      .bytes(2, this.keyPair.publicKey.serialize())
      .bytes(3, this.keyPair.secretKey.serialize())
      .bytes(4, this.#signature)
      .fixed64(5, nz(this.timestamp))
      .finish();
  }

  static deserialize(bytes: Uint8Array): KyberPreKeyRecord {
    const f = decodeRecord(bytes, 'Kyber prekey record');
    const keyPair = recordKey(
      'Kyber prekey record',
      () =>
        new KemKeyPair(
          KemPublicKey.deserialize(f.requireBytes(2, 'public_key')),
          KemSecretKey.deserialize(f.requireBytes(3, 'private_key')),
        ),
    );
    const signature = f.requireBytes(4, 'signature');
    if (signature.length !== SIGNATURE_LENGTH) {
      throw new ProtocolError('InvalidRecord', 'Kyber prekey record has a malformed signature');
    }
    return new KyberPreKeyRecord(f.uint32(1) ?? 0, f.fixed64(5) ?? 0, keyPair, signature);
  }

  toString(): string {
    return `KyberPreKeyRecord(${this.id}, ${this.keyPair.publicKey.toString()}, [redacted])`;
  }

  toJSON(): string {
    return this.toString();
  }

  [inspect](): string {
    return this.toString();
  }
}

/** `count` one-time prekeys with ids `startId, startId + 1, …`. */
export function generatePreKeys(
  startId: number,
  count: number,
  rng: RandomSource = systemRandom,
): PreKeyRecord[] {
  auint(startId, 'startId', 0, MAX_ID);
  auint(count, 'count', 0, MAX_ID - startId + 1);
  const out: PreKeyRecord[] = [];
  for (let i = 0; i < count; i++) out.push(new PreKeyRecord(startId + i, KeyPair.generate(rng)));
  return out;
}

function aidentity(identity: unknown): IdentityKeyPair {
  if (!(identity instanceof KeyPair)) {
    throw new ProtocolError('InvalidArgument', 'identity must be an IdentityKeyPair');
  }
  return identity as IdentityKeyPair;
}

/** A fresh signed prekey; `now` is milliseconds since the epoch. */
export function generateSignedPreKey(
  identity: IdentityKeyPair,
  id: number,
  now: number = Date.now(),
  rng: RandomSource = systemRandom,
): SignedPreKeyRecord {
  aidentity(identity);
  const keyPair = KeyPair.generate(rng);
  const signature = identity.privateKey.sign(keyPair.publicKey.serialize(), rng);
  return new SignedPreKeyRecord(id, now, keyPair, signature);
}

/** A fresh signed Kyber1024 prekey; `now` is milliseconds since the epoch. */
export function generateKyberPreKey(
  identity: IdentityKeyPair,
  id: number,
  now: number = Date.now(),
  rng: RandomSource = systemRandom,
): KyberPreKeyRecord {
  aidentity(identity);
  const keyPair = KemKeyPair.generate(rng);
  const signature = identity.privateKey.sign(keyPair.publicKey.serialize(), rng);
  return new KyberPreKeyRecord(id, now, keyPair, signature);
}

/** The fields of a {@link PreKeyBundle}. */
export interface PreKeyBundleInit {
  registrationId: number;
  deviceId: number;
  identityKey: PublicKey;
  /** One-time prekey: both or neither of id and key. */
  preKeyId?: number | undefined;
  preKey?: PublicKey | undefined;
  signedPreKeyId: number;
  signedPreKey: PublicKey;
  signedPreKeySignature: Uint8Array;
  /** Kyber prekey: all three or none. Present means PQXDH (v4), absent X3DH (v3). */
  kyberPreKeyId?: number | undefined;
  kyberPreKey?: KemPublicKey | undefined;
  kyberPreKeySignature?: Uint8Array | undefined;
}

/**
 * Another device's published keys, as fetched from the server. Only shapes are checked here;
 * the signatures are verified when the bundle is processed (`SessionCipher.processPreKeyBundle`).
 */
export class PreKeyBundle {
  readonly registrationId: number;
  readonly deviceId: number;
  readonly identityKey: PublicKey;
  readonly preKeyId: number | undefined;
  readonly preKey: PublicKey | undefined;
  readonly signedPreKeyId: number;
  readonly signedPreKey: PublicKey;
  readonly #signedPreKeySignature: Uint8Array;
  readonly kyberPreKeyId: number | undefined;
  readonly kyberPreKey: KemPublicKey | undefined;
  readonly #kyberPreKeySignature: Uint8Array | undefined;

  constructor(init: PreKeyBundleInit) {
    if (typeof init !== 'object' || init === null) {
      throw new ProtocolError('InvalidArgument', 'bundle fields must be an object');
    }
    this.registrationId = auint(init.registrationId, 'registrationId', 0, MAX_ID);
    this.deviceId = auint(init.deviceId, 'deviceId', 1, 127);
    this.identityKey = apublic(init.identityKey, 'identityKey');
    if ((init.preKeyId === undefined) !== (init.preKey === undefined)) {
      throw new ProtocolError('InvalidArgument', 'preKeyId and preKey go together');
    }
    this.preKeyId =
      init.preKeyId === undefined ? undefined : auint(init.preKeyId, 'preKeyId', 0, MAX_ID);
    this.preKey = init.preKey === undefined ? undefined : apublic(init.preKey, 'preKey');
    this.signedPreKeyId = auint(init.signedPreKeyId, 'signedPreKeyId', 0, MAX_SIGNED_ID);
    this.signedPreKey = apublic(init.signedPreKey, 'signedPreKey');
    this.#signedPreKeySignature = abytes(
      init.signedPreKeySignature,
      'signedPreKeySignature',
      SIGNATURE_LENGTH,
    ).slice();
    const kyber = [init.kyberPreKeyId, init.kyberPreKey, init.kyberPreKeySignature];
    const present = kyber.filter((x) => x !== undefined).length;
    if (present !== 0 && present !== 3) {
      throw new ProtocolError(
        'InvalidArgument',
        'kyberPreKeyId, kyberPreKey and kyberPreKeySignature go together',
      );
    }
    if (present === 3) {
      this.kyberPreKeyId = auint(init.kyberPreKeyId, 'kyberPreKeyId', 0, MAX_ID);
      if (!(init.kyberPreKey instanceof KemPublicKey)) {
        throw new ProtocolError('InvalidArgument', 'kyberPreKey must be a KemPublicKey');
      }
      this.kyberPreKey = init.kyberPreKey;
      this.#kyberPreKeySignature = abytes(
        init.kyberPreKeySignature,
        'kyberPreKeySignature',
        SIGNATURE_LENGTH,
      ).slice();
    }
  }

  get signedPreKeySignature(): Uint8Array {
    return this.#signedPreKeySignature.slice();
  }

  get kyberPreKeySignature(): Uint8Array | undefined {
    return this.#kyberPreKeySignature?.slice();
  }

  toString(): string {
    return (
      `PreKeyBundle(device ${this.deviceId}, ${this.identityKey.toString()}, ` +
      `signed prekey ${this.signedPreKeyId}, one-time ${this.preKeyId ?? 'none'}, ` +
      `Kyber ${this.kyberPreKeyId ?? 'none'})`
    );
  }

  toJSON(): string {
    return this.toString();
  }
}

function apublic(key: unknown, title: string): PublicKey {
  if (!(key instanceof PublicKey)) {
    throw new ProtocolError('InvalidArgument', `${title} must be a PublicKey`);
  }
  return key;
}
