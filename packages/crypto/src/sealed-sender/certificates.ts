/**
 * Server and sender certificates, in libsignal's format (`sealed_sender.proto`) and with
 * libsignal's checks (`sealed_sender.rs`). They let a recipient trust the sender a sealed
 * message names, although the relay never learns it:
 *
 *   trust root (an XEdDSA key pair the relay's operator keeps offline; apps ship its public key)
 *     └ signs ServerCertificate   { 1: id (uint32), 2: key (33) }
 *         └ server key signs SenderCertificate { 1: senderE164?, 2: senderDevice, 3: expires
 *             (fixed64 ms), 4: identityKey (33), 5: ServerCertificate | 8: its id,
 *             6: senderUuid string | 7: its 16 bytes }
 *
 *   serialized = { 1: certificate (the bytes above), 2: signature (64, XEdDSA over them) }
 *
 * Validation (`SenderCertificate.validate`), in libsignal's order: the server certificate's key
 * id is not revoked and one of the trust roots signed it (every root is checked, so the time
 * taken does not say which one); the server key signed the sender certificate; the validation
 * time is not after `expires`. Each failure is its own `ProtocolError`: `RevokedCertificate`,
 * `InvalidCertificate`, `ExpiredCertificate` (`UnknownServerCertificate` for an id we do not
 * hold). Signatures always cover the bytes as received, and `serialize()` returns those bytes.
 *
 * Stricter than libsignal: both members of a `oneof` present, a sender id that is empty or
 * longer than a ProtocolAddress name allows, or a non-UTF-8 string is `InvalidCertificate`
 * (libsignal keeps the last member, or fails on UTF-8 too).
 * @module
 */
import { MAX_DEVICE_ID, ProtocolAddress } from '../address.ts';
import { abytes, auint, bytesEqual } from '../_bytes.ts';
import { ProtoFields, ProtoWriter } from '../_protobuf.ts';
import { REVOKED_SERVER_CERTIFICATE_KEY_IDS } from '../consts.ts';
import { PrivateKey, PublicKey } from '../curve.ts';
import { ProtocolError, isProtocolError } from '../errors.ts';
import { systemRandom, type RandomSource } from '../random.ts';
import { UUID_LENGTH, uuidFromBytes } from './service-id.ts';

const inspect = Symbol.for('nodejs.util.inspect.custom');
const utf8Fatal = /* @__PURE__ */ new TextDecoder('utf-8', { fatal: true });

/** The longest sender id a certificate may carry: a ProtocolAddress name's limit. */
const MAX_SENDER_UUID_LENGTH = 256;

/** Options of `SenderCertificate.validate` beyond the trust roots and the time. */
export interface CertificateValidationOptions {
  /**
   * Server key ids to refuse besides libsignal's `REVOKED_SERVER_CERTIFICATE_KEY_IDS` (a relay
   * operator revokes a leaked server key by publishing its id to the apps).
   */
  revokedServerKeyIds?: Iterable<number>;
  /**
   * Server certificates that sender certificates may name by id (field 8) instead of embedding,
   * to save space. They are validated against the trust roots like embedded ones.
   */
  knownServerCertificates?: readonly ServerCertificate[];
}

function certError(what: string, cause?: unknown): ProtocolError {
  return new ProtocolError('InvalidCertificate', what, cause === undefined ? {} : { cause });
}

/** A 33-byte key field; any decoding problem is `InvalidCertificate`. */
function certKey(bytes: Uint8Array, what: string): PublicKey {
  try {
    return PublicKey.deserialize(bytes);
  } catch (cause) {
    throw certError(`${what} is not a valid public key`, cause);
  }
}

function certString(bytes: Uint8Array, what: string): string {
  try {
    return utf8Fatal.decode(bytes);
  } catch (cause) {
    throw certError(`${what} is not UTF-8`, cause);
  }
}

/** `{1: certificate, 2: signature}`, the envelope both certificate kinds share. */
function decodeSigned(bytes: unknown, what: string) {
  const outer = ProtoFields.decode(
    abytes(bytes, what, undefined, 'InvalidCertificate'),
    what,
    'InvalidCertificate',
  );
  const certificate = outer.requireBytes(1, 'certificate');
  const signature = outer.requireBytes(2, 'signature');
  return { certificate, signature };
}

function encodeSigned(certificate: Uint8Array, signature: Uint8Array): Uint8Array {
  return new ProtoWriter().bytes(1, certificate).bytes(2, signature).finish();
}

function atrustRoots(trustRoots: unknown): readonly PublicKey[] {
  const roots = trustRoots instanceof PublicKey ? [trustRoots] : trustRoots;
  if (!Array.isArray(roots) || roots.length === 0 || !roots.every((r) => r instanceof PublicKey)) {
    throw new ProtocolError(
      'InvalidArgument',
      'trustRoots must be a PublicKey or a non-empty array of them',
    );
  }
  return roots as readonly PublicKey[];
}

/** A server's signing key, certified by a trust root. */
export class ServerCertificate {
  /** The server key's id (u32): what revocation and by-id references name. */
  readonly keyId: number;
  /** The server's public key, which signs sender certificates. */
  readonly key: PublicKey;
  readonly #certificate: Uint8Array;
  readonly #signature: Uint8Array;
  readonly #serialized: Uint8Array;

  private constructor(
    keyId: number,
    key: PublicKey,
    certificate: Uint8Array,
    signature: Uint8Array,
    serialized: Uint8Array,
  ) {
    this.keyId = keyId;
    this.key = key;
    this.#certificate = certificate;
    this.#signature = signature;
    this.#serialized = serialized;
  }

  /** Certifies `serverKey` under `keyId` with the trust root's private key. */
  static create(
    keyId: number,
    serverKey: PublicKey,
    trustRoot: PrivateKey,
    rng: RandomSource = systemRandom,
  ): ServerCertificate {
    auint(keyId, 'keyId', 0, 0xffff_ffff);
    if (!(serverKey instanceof PublicKey)) {
      throw new ProtocolError('InvalidArgument', 'serverKey must be a PublicKey');
    }
    if (!(trustRoot instanceof PrivateKey)) {
      throw new ProtocolError('InvalidArgument', 'trustRoot must be a PrivateKey');
    }
    const certificate = new ProtoWriter().uint(1, keyId).bytes(2, serverKey.serialize()).finish();
    const signature = trustRoot.sign(certificate, rng);
    const serialized = encodeSigned(certificate, signature);
    return new ServerCertificate(keyId, serverKey, certificate, signature, serialized);
  }

  /** Decodes a serialized ServerCertificate; `InvalidCertificate` when malformed. */
  static deserialize(bytes: Uint8Array): ServerCertificate {
    const { certificate, signature } = decodeSigned(bytes, 'server certificate');
    const f = ProtoFields.decode(certificate, 'server certificate data', 'InvalidCertificate');
    const keyId = f.requireUint32(1, 'id');
    const key = certKey(f.requireBytes(2, 'key'), 'server certificate key');
    return new ServerCertificate(keyId, key, certificate.slice(), signature.slice(), bytes.slice());
  }

  /** The serialized certificate, exactly as created or received. */
  serialize(): Uint8Array {
    return this.#serialized.slice();
  }

  /** The signed bytes (`ServerCertificate.Certificate`). */
  certificateData(): Uint8Array {
    return this.#certificate.slice();
  }

  signature(): Uint8Array {
    return this.#signature.slice();
  }

  /**
   * Checks that this certificate is not revoked (`RevokedCertificate`) and that one of
   * `trustRoots` signed it (`InvalidCertificate`); every root is tried, whichever matches.
   */
  async validate(
    trustRoots: PublicKey | readonly PublicKey[],
    options: Pick<CertificateValidationOptions, 'revokedServerKeyIds'> = {},
  ): Promise<void> {
    const roots = atrustRoots(trustRoots);
    if (isRevoked(this.keyId, options.revokedServerKeyIds)) {
      throw new ProtocolError(
        'RevokedCertificate',
        `server certificate key id 0x${this.keyId.toString(16)} is revoked`,
      );
    }
    const results = await Promise.all(
      roots.map((root) => root.verifySignatureAsync(this.#certificate, this.#signature)),
    );
    let any = false;
    for (const ok of results) any ||= ok;
    if (!any) throw certError('server certificate is not signed by a trust root');
  }

  equals(other: ServerCertificate): boolean {
    return bytesEqual(this.#serialized, other.#serialized);
  }

  toString(): string {
    return `ServerCertificate(id 0x${this.keyId.toString(16)}, ${this.key.toString()})`;
  }

  toJSON(): string {
    return this.toString();
  }

  [inspect](): string {
    return this.toString();
  }
}

function isRevoked(keyId: number, extra: Iterable<number> | undefined): boolean {
  if (REVOKED_SERVER_CERTIFICATE_KEY_IDS.includes(keyId)) return true;
  if (extra === undefined) return false;
  for (const id of extra) if (id === keyId) return true;
  return false;
}

/** What a sender certificate says about its sender. */
export interface SenderCertificateFields {
  /** The sender's account id (Parley: the account UUID; libsignal: the ACI string). */
  senderUuid: string;
  /** The sender's phone number, where an application has one (Parley does not). */
  senderE164?: string | undefined;
  /** The sending device, 1..127. */
  senderDeviceId: number;
  /** The sender's identity key: the key that sealed the message must be this one. */
  identityKey: PublicKey;
  /** Milliseconds since the epoch after which the certificate is refused. */
  expiration: number;
}

/** A server's statement that an account's device holds an identity key, until an expiry. */
export class SenderCertificate {
  readonly senderUuid: string;
  readonly senderE164: string | undefined;
  readonly senderDeviceId: number;
  readonly identityKey: PublicKey;
  readonly expiration: number;
  /** The embedded server certificate, or undefined when it is named by `signerKeyId` only. */
  readonly embeddedSigner: ServerCertificate | undefined;
  /** The key id of the server certificate that signed this one. */
  readonly signerKeyId: number;
  readonly #certificate: Uint8Array;
  readonly #signature: Uint8Array;
  readonly #serialized: Uint8Array;

  private constructor(
    fields: Required<Omit<SenderCertificateFields, 'senderE164'>> & { senderE164?: string },
    signer: ServerCertificate | number,
    certificate: Uint8Array,
    signature: Uint8Array,
    serialized: Uint8Array,
  ) {
    this.senderUuid = fields.senderUuid;
    this.senderE164 = fields.senderE164;
    this.senderDeviceId = fields.senderDeviceId;
    this.identityKey = fields.identityKey;
    this.expiration = fields.expiration;
    this.embeddedSigner = typeof signer === 'number' ? undefined : signer;
    this.signerKeyId = typeof signer === 'number' ? signer : signer.keyId;
    this.#certificate = certificate;
    this.#signature = signature;
    this.#serialized = serialized;
  }

  /**
   * Issues a certificate (the relay does this for an authenticated device), embedding `signer`
   * as libsignal's `SenderCertificate::new` does; `signerKey` is the server certificate's
   * private key. The field order is prost's, so the signed bytes equal libsignal's.
   */
  static create(
    fields: SenderCertificateFields,
    signer: ServerCertificate,
    signerKey: PrivateKey,
    rng: RandomSource = systemRandom,
  ): SenderCertificate {
    if (typeof fields !== 'object' || fields === null) {
      throw new ProtocolError('InvalidArgument', 'fields must be an object');
    }
    const { senderUuid, senderE164, senderDeviceId, identityKey, expiration } = fields;
    if (
      typeof senderUuid !== 'string' ||
      senderUuid.length === 0 ||
      senderUuid.length > MAX_SENDER_UUID_LENGTH
    ) {
      throw new ProtocolError(
        'InvalidArgument',
        `senderUuid must be a string of 1..${MAX_SENDER_UUID_LENGTH} characters`,
      );
    }
    if (senderE164 !== undefined && typeof senderE164 !== 'string') {
      throw new ProtocolError('InvalidArgument', 'senderE164 must be a string when given');
    }
    auint(senderDeviceId, 'senderDeviceId', 1, MAX_DEVICE_ID);
    auint(expiration, 'expiration', 0, Number.MAX_SAFE_INTEGER);
    if (!(identityKey instanceof PublicKey)) {
      throw new ProtocolError('InvalidArgument', 'identityKey must be a PublicKey');
    }
    if (!(signer instanceof ServerCertificate)) {
      throw new ProtocolError('InvalidArgument', 'signer must be a ServerCertificate');
    }
    if (!(signerKey instanceof PrivateKey)) {
      throw new ProtocolError('InvalidArgument', 'signerKey must be a PrivateKey');
    }
    const utf8 = new TextEncoder();
    const certificate = new ProtoWriter()
      .bytes(1, senderE164 === undefined ? undefined : utf8.encode(senderE164))
      .uint(2, senderDeviceId)
      .fixed64(3, expiration)
      .bytes(4, identityKey.serialize())
      .bytes(5, signer.serialize())
      .bytes(6, utf8.encode(senderUuid))
      .finish();
    const signature = signerKey.sign(certificate, rng);
    return new SenderCertificate(
      {
        senderUuid,
        ...(senderE164 === undefined ? {} : { senderE164 }),
        senderDeviceId,
        identityKey,
        expiration,
      },
      signer,
      certificate,
      signature,
      encodeSigned(certificate, signature),
    );
  }

  /** Decodes a serialized SenderCertificate; `InvalidCertificate` when malformed. */
  static deserialize(bytes: Uint8Array): SenderCertificate {
    const { certificate, signature } = decodeSigned(bytes, 'sender certificate');
    const f = ProtoFields.decode(certificate, 'sender certificate data', 'InvalidCertificate');

    const e164Bytes = f.bytes(1);
    const senderE164 = e164Bytes === undefined ? undefined : certString(e164Bytes, 'senderE164');
    const senderDeviceId = f.requireUint32(2, 'senderDevice');
    if (senderDeviceId < 1 || senderDeviceId > MAX_DEVICE_ID) {
      throw certError(`sender device id ${senderDeviceId} is not in 1..${MAX_DEVICE_ID}`);
    }
    const expiration = f.fixed64(3);
    if (expiration === undefined) throw certError('sender certificate data lacks expires');
    const identityKey = certKey(f.requireBytes(4, 'identityKey'), 'sender identity key');

    if (f.has(5) && f.has(8)) throw certError('sender certificate has two signers');
    let signer: ServerCertificate | number;
    const embedded = f.bytes(5);
    if (embedded !== undefined) signer = ServerCertificate.deserialize(embedded);
    else if (f.has(8)) signer = f.requireUint32(8, 'signer id');
    else throw certError('sender certificate data lacks a signer');

    if (f.has(6) && f.has(7)) throw certError('sender certificate has two sender ids');
    let senderUuid: string;
    const uuidString = f.bytes(6);
    const uuidBytes = f.bytes(7);
    if (uuidString !== undefined) senderUuid = certString(uuidString, 'senderUuid');
    else if (uuidBytes !== undefined) {
      if (uuidBytes.length !== UUID_LENGTH) throw certError('senderUuid bytes must be 16 bytes');
      senderUuid = uuidFromBytes(uuidBytes);
    } else throw certError('sender certificate data lacks a sender id');
    if (senderUuid.length === 0 || senderUuid.length > MAX_SENDER_UUID_LENGTH) {
      throw certError(`senderUuid must be 1..${MAX_SENDER_UUID_LENGTH} characters`);
    }

    return new SenderCertificate(
      {
        senderUuid,
        ...(senderE164 === undefined ? {} : { senderE164 }),
        senderDeviceId,
        identityKey,
        expiration,
      },
      signer,
      certificate.slice(),
      signature.slice(),
      bytes.slice(),
    );
  }

  /** The serialized certificate, exactly as created or received. */
  serialize(): Uint8Array {
    return this.#serialized.slice();
  }

  /** The signed bytes (`SenderCertificate.Certificate`). */
  certificateData(): Uint8Array {
    return this.#certificate.slice();
  }

  signature(): Uint8Array {
    return this.#signature.slice();
  }

  /** The sender's protocol address: (senderUuid, senderDeviceId). */
  senderAddress(): ProtocolAddress {
    return new ProtocolAddress(this.senderUuid, this.senderDeviceId);
  }

  /**
   * The server certificate that signed this one: the embedded one, or the one with
   * `signerKeyId` among `known` (`UnknownServerCertificate` otherwise).
   */
  serverCertificate(known: readonly ServerCertificate[] = []): ServerCertificate {
    if (this.embeddedSigner) return this.embeddedSigner;
    const found = known.find((c) => c instanceof ServerCertificate && c.keyId === this.signerKeyId);
    if (!found) {
      throw new ProtocolError(
        'UnknownServerCertificate',
        `no server certificate with key id 0x${this.signerKeyId.toString(16)}`,
      );
    }
    return found;
  }

  /**
   * libsignal's `validate_with_trust_roots`: resolves and checks the server certificate
   * (`RevokedCertificate`, `InvalidCertificate`), then this certificate's signature by the
   * server key (`InvalidCertificate`), then that `now` (ms since the epoch) is not after
   * `expiration` (`ExpiredCertificate`). Returns normally when the certificate is valid.
   */
  async validate(
    trustRoots: PublicKey | readonly PublicKey[],
    now: number,
    options: CertificateValidationOptions = {},
  ): Promise<void> {
    atrustRoots(trustRoots);
    if (typeof now !== 'number' || !Number.isFinite(now)) {
      throw new ProtocolError('InvalidArgument', 'now must be a finite number (ms)');
    }
    const server = this.serverCertificate(options.knownServerCertificates);
    await server.validate(
      trustRoots,
      options.revokedServerKeyIds === undefined
        ? {}
        : { revokedServerKeyIds: options.revokedServerKeyIds },
    );
    if (!(await server.key.verifySignatureAsync(this.#certificate, this.#signature))) {
      throw certError('sender certificate is not signed by its server certificate');
    }
    if (now > this.expiration) {
      throw new ProtocolError(
        'ExpiredCertificate',
        `sender certificate expired at ${this.expiration} (now ${now})`,
      );
    }
  }

  /** `validate` as a boolean (false for a certificate error; other errors still throw). */
  async isValid(
    trustRoots: PublicKey | readonly PublicKey[],
    now: number,
    options: CertificateValidationOptions = {},
  ): Promise<boolean> {
    try {
      await this.validate(trustRoots, now, options);
      return true;
    } catch (err) {
      if (
        isProtocolError(err, 'InvalidCertificate') ||
        isProtocolError(err, 'ExpiredCertificate') ||
        isProtocolError(err, 'RevokedCertificate') ||
        isProtocolError(err, 'UnknownServerCertificate')
      ) {
        return false;
      }
      throw err;
    }
  }

  equals(other: SenderCertificate): boolean {
    return bytesEqual(this.#serialized, other.#serialized);
  }

  toString(): string {
    return (
      `SenderCertificate(${this.senderUuid}.${this.senderDeviceId}, expires ${this.expiration}, ` +
      `signer 0x${this.signerKeyId.toString(16)})`
    );
  }

  toJSON(): string {
    return this.toString();
  }

  [inspect](): string {
    return this.toString();
  }
}
