/**
 * The two 1:1 wire messages, byte-compatible with libsignal's `protocol.rs` / `wire.proto`.
 *
 *   SignalMessage       = version ‖ proto{1 ratchet_key, 2 counter, 3 previous_counter,
 *                                        4 ciphertext} ‖ MAC[8]
 *   MAC                 = HMAC-SHA256(macKey, senderIdentity33 ‖ receiverIdentity33 ‖
 *                                      version ‖ proto)[0..8]
 *   PreKeySignalMessage = version ‖ proto{1 pre_key_id?, 2 base_key, 3 identity_key,
 *                                        4 message (a whole SignalMessage), 5 registration_id,
 *                                        6 signed_pre_key_id, 7 kyber_pre_key_id?,
 *                                        8 kyber_ciphertext?}
 *   version             = (messageVersion << 4) | 4        (0x34 for X3DH, 0x44 for PQXDH)
 *
 * Receivers read the high nibble only: below 3 is `LegacyCiphertextVersion`, above 4
 * `UnrecognizedMessageVersion`. Fields written by newer libsignal (5 `pq_ratchet`, 6
 * `addresses`) are skipped, and the MAC is always checked over the bytes as received.
 * @module
 */
import { abytes, auint, concat, constantTimeEqual, toHex } from './_bytes.ts';
import { hmacSha256 } from './_primitives.ts';
import { ProtoFields, ProtoWriter } from './_protobuf.ts';
import {
  CIPHERTEXT_MESSAGE_CURRENT_VERSION,
  KYBER_AWARE_MESSAGE_VERSION,
  PRE_KYBER_MESSAGE_VERSION,
} from './consts.ts';
import { PublicKey } from './curve.ts';
import { ProtocolError } from './errors.ts';
import { KEM_CIPHERTEXT_LENGTH } from './kem.ts';

/** Length of the truncated HMAC-SHA256 that ends every SignalMessage. */
export const MAC_LENGTH = 8;

function versionByte(messageVersion: number): number {
  return ((messageVersion & 0xf) << 4) | CIPHERTEXT_MESSAGE_CURRENT_VERSION;
}

/** Reads the high nibble of a received version byte. */
function checkVersion(byte: number, what: string): number {
  const version = byte >> 4;
  if (version < PRE_KYBER_MESSAGE_VERSION) {
    throw new ProtocolError('LegacyCiphertextVersion', `${what} has legacy version ${version}`);
  }
  if (version > KYBER_AWARE_MESSAGE_VERSION) {
    throw new ProtocolError('UnrecognizedMessageVersion', `${what} has unknown version ${version}`);
  }
  return version;
}

function aversion(v: unknown): number {
  return auint(v, 'messageVersion', PRE_KYBER_MESSAGE_VERSION, KYBER_AWARE_MESSAGE_VERSION);
}

/** A key field from the wire; a bad key makes the whole message invalid. */
function wireKey(bytes: Uint8Array, what: string): PublicKey {
  try {
    return PublicKey.deserialize(bytes);
  } catch (cause) {
    throw new ProtocolError('InvalidMessage', `${what} is not a valid public key`, { cause });
  }
}

function computeMac(
  macKey: Uint8Array,
  senderIdentity: PublicKey,
  receiverIdentity: PublicKey,
  signed: Uint8Array,
): Uint8Array {
  const input = concat(senderIdentity.serialize(), receiverIdentity.serialize(), signed);
  return hmacSha256(macKey, input).subarray(0, MAC_LENGTH);
}

export interface SignalMessageInit {
  messageVersion: number;
  macKey: Uint8Array;
  senderRatchetKey: PublicKey;
  counter: number;
  previousCounter: number;
  ciphertext: Uint8Array;
  senderIdentity: PublicKey;
  receiverIdentity: PublicKey;
  /** SPQR's message (field 5); omitted when empty. */
  pqRatchet?: Uint8Array | undefined;
}

/** A Double Ratchet message: one ratchet key, one counter, one AES-CBC body, one MAC. */
export class SignalMessage {
  readonly messageVersion: number;
  readonly senderRatchetKey: PublicKey;
  readonly counter: number;
  readonly previousCounter: number;
  readonly #ciphertext: Uint8Array;
  /** The bytes as built or as received; the MAC covers exactly these. */
  readonly #serialized: Uint8Array;
  readonly #pqRatchet: Uint8Array;

  private constructor(
    messageVersion: number,
    senderRatchetKey: PublicKey,
    counter: number,
    previousCounter: number,
    ciphertext: Uint8Array,
    serialized: Uint8Array,
    pqRatchet: Uint8Array,
  ) {
    this.#pqRatchet = pqRatchet;
    this.messageVersion = messageVersion;
    this.senderRatchetKey = senderRatchetKey;
    this.counter = counter;
    this.previousCounter = previousCounter;
    this.#ciphertext = ciphertext;
    this.#serialized = serialized;
  }

  /** Builds and MACs a message (the sender's side). */
  static create(init: SignalMessageInit): SignalMessage {
    const version = aversion(init.messageVersion);
    abytes(init.macKey, 'macKey', 32);
    auint(init.counter, 'counter', 0, 0xffff_ffff);
    auint(init.previousCounter, 'previousCounter', 0, 0xffff_ffff);
    abytes(init.ciphertext, 'ciphertext');
    const body = new ProtoWriter()
      .bytes(1, init.senderRatchetKey.serialize())
      .uint(2, init.counter)
      .uint(3, init.previousCounter)
      .bytes(4, init.ciphertext)
      .bytes(5, init.pqRatchet?.length ? init.pqRatchet : undefined)
      .finish();
    const signed = concat(Uint8Array.of(versionByte(version)), body);
    const mac = computeMac(init.macKey, init.senderIdentity, init.receiverIdentity, signed);
    return new SignalMessage(
      version,
      init.senderRatchetKey,
      init.counter,
      init.previousCounter,
      init.ciphertext.slice(),
      concat(signed, mac),
      init.pqRatchet?.slice() ?? new Uint8Array(0),
    );
  }

  /** Parses received bytes. The MAC is checked later, once the session yields the MAC key. */
  static deserialize(bytes: Uint8Array): SignalMessage {
    abytes(bytes, 'SignalMessage', undefined, 'InvalidMessage');
    if (bytes.length < 1 + MAC_LENGTH) {
      throw new ProtocolError('InvalidMessage', `SignalMessage is too short (${bytes.length})`);
    }
    const version = checkVersion(bytes[0]!, 'SignalMessage');
    const copy = bytes.slice();
    const f = ProtoFields.decode(copy.subarray(1, copy.length - MAC_LENGTH), 'SignalMessage');
    const ratchetKey = wireKey(f.requireBytes(1, 'ratchet_key'), 'SignalMessage ratchet_key');
    const counter = f.requireUint32(2, 'counter');
    const previousCounter = f.uint32(3) ?? 0;
    const ciphertext = f.requireBytes(4, 'ciphertext');
    const pqRatchet = f.bytes(5) ?? new Uint8Array(0);
    return new SignalMessage(
      version,
      ratchetKey,
      counter,
      previousCounter,
      ciphertext,
      copy,
      pqRatchet,
    );
  }

  get ciphertext(): Uint8Array {
    return this.#ciphertext.slice();
  }

  /** SPQR's message (field 5), empty when absent. */
  get pqRatchet(): Uint8Array {
    return this.#pqRatchet.slice();
  }

  /** The wire bytes (a copy). */
  serialize(): Uint8Array {
    return this.#serialized.slice();
  }

  /** Constant-time check of the 8-byte MAC over the received bytes. */
  verifyMac(macKey: Uint8Array, senderIdentity: PublicKey, receiverIdentity: PublicKey): boolean {
    abytes(macKey, 'macKey', 32);
    const n = this.#serialized.length;
    const ours = computeMac(
      macKey,
      senderIdentity,
      receiverIdentity,
      this.#serialized.subarray(0, n - MAC_LENGTH),
    );
    return constantTimeEqual(ours, this.#serialized.subarray(n - MAC_LENGTH));
  }

  toString(): string {
    return (
      `SignalMessage(v${this.messageVersion}, ratchet ${toHex(this.senderRatchetKey.serialize())}, ` +
      `counter ${this.counter}, ${this.#ciphertext.length} bytes)`
    );
  }

  toJSON(): string {
    return this.toString();
  }
}

export interface PreKeySignalMessageInit {
  messageVersion: number;
  registrationId: number;
  preKeyId?: number | undefined;
  signedPreKeyId: number;
  kyberPreKeyId?: number | undefined;
  kyberCiphertext?: Uint8Array | undefined;
  baseKey: PublicKey;
  identityKey: PublicKey;
  message: SignalMessage;
}

/** The first messages of a session: the initiator's X3DH/PQXDH inputs around a SignalMessage. */
export class PreKeySignalMessage {
  readonly messageVersion: number;
  readonly registrationId: number;
  readonly preKeyId: number | undefined;
  readonly signedPreKeyId: number;
  readonly kyberPreKeyId: number | undefined;
  readonly #kyberCiphertext: Uint8Array | undefined;
  readonly baseKey: PublicKey;
  readonly identityKey: PublicKey;
  readonly message: SignalMessage;
  readonly #serialized: Uint8Array;

  private constructor(init: PreKeySignalMessageInit, serialized: Uint8Array) {
    this.messageVersion = init.messageVersion;
    this.registrationId = init.registrationId;
    this.preKeyId = init.preKeyId;
    this.signedPreKeyId = init.signedPreKeyId;
    this.kyberPreKeyId = init.kyberPreKeyId;
    this.#kyberCiphertext = init.kyberCiphertext;
    this.baseKey = init.baseKey;
    this.identityKey = init.identityKey;
    this.message = init.message;
    this.#serialized = serialized;
  }

  static create(init: PreKeySignalMessageInit): PreKeySignalMessage {
    const version = aversion(init.messageVersion);
    auint(init.registrationId, 'registrationId', 0, 0xffff_ffff);
    if (init.preKeyId !== undefined) auint(init.preKeyId, 'preKeyId', 0, 0xffff_ffff);
    auint(init.signedPreKeyId, 'signedPreKeyId', 0, 0xffff_ffff);
    if ((init.kyberPreKeyId === undefined) !== (init.kyberCiphertext === undefined)) {
      throw new ProtocolError('InvalidArgument', 'kyberPreKeyId and kyberCiphertext go together');
    }
    if (init.kyberPreKeyId !== undefined) {
      auint(init.kyberPreKeyId, 'kyberPreKeyId', 0, 0xffff_ffff);
      abytes(init.kyberCiphertext, 'kyberCiphertext', KEM_CIPHERTEXT_LENGTH);
    } else if (version >= KYBER_AWARE_MESSAGE_VERSION) {
      throw new ProtocolError('InvalidArgument', 'a version 4 PreKey message needs Kyber fields');
    }
    if (!(init.message instanceof SignalMessage)) {
      throw new ProtocolError('InvalidArgument', 'message must be a SignalMessage');
    }
    const body = new ProtoWriter()
      .uint(1, init.preKeyId)
      .bytes(2, init.baseKey.serialize())
      .bytes(3, init.identityKey.serialize())
      .bytes(4, init.message.serialize())
      .uint(5, init.registrationId)
      .uint(6, init.signedPreKeyId)
      .uint(7, init.kyberPreKeyId)
      .bytes(8, init.kyberCiphertext)
      .finish();
    const kyberCiphertext = init.kyberCiphertext?.slice();
    return new PreKeySignalMessage(
      { ...init, messageVersion: version, kyberCiphertext },
      concat(Uint8Array.of(versionByte(version)), body),
    );
  }

  static deserialize(bytes: Uint8Array): PreKeySignalMessage {
    abytes(bytes, 'PreKeySignalMessage', undefined, 'InvalidMessage');
    if (bytes.length < 1) throw new ProtocolError('InvalidMessage', 'PreKeySignalMessage is empty');
    const version = checkVersion(bytes[0]!, 'PreKeySignalMessage');
    const copy = bytes.slice();
    const f = ProtoFields.decode(copy.subarray(1), 'PreKeySignalMessage');
    const baseKey = wireKey(f.requireBytes(2, 'base_key'), 'PreKeySignalMessage base_key');
    const identityKey = wireKey(
      f.requireBytes(3, 'identity_key'),
      'PreKeySignalMessage identity_key',
    );
    const message = SignalMessage.deserialize(f.requireBytes(4, 'message'));
    const signedPreKeyId = f.requireUint32(6, 'signed_pre_key_id');
    const kyberPreKeyId = f.uint32(7);
    const kyberCiphertext = f.bytes(8);
    if ((kyberPreKeyId === undefined) !== (kyberCiphertext === undefined)) {
      throw new ProtocolError(
        'InvalidMessage',
        'PreKeySignalMessage must carry both or neither Kyber prekey id and ciphertext',
      );
    }
    if (kyberPreKeyId === undefined && version > PRE_KYBER_MESSAGE_VERSION) {
      throw new ProtocolError(
        'InvalidMessage',
        'a version 4 PreKeySignalMessage must carry a Kyber ciphertext',
      );
    }
    return new PreKeySignalMessage(
      {
        messageVersion: version,
        registrationId: f.uint32(5) ?? 0,
        preKeyId: f.uint32(1),
        signedPreKeyId,
        kyberPreKeyId,
        kyberCiphertext,
        baseKey,
        identityKey,
        message,
      },
      copy,
    );
  }

  get kyberCiphertext(): Uint8Array | undefined {
    return this.#kyberCiphertext?.slice();
  }

  serialize(): Uint8Array {
    return this.#serialized.slice();
  }

  toString(): string {
    return (
      `PreKeySignalMessage(v${this.messageVersion}, registration ${this.registrationId}, ` +
      `prekey ${this.preKeyId ?? 'none'}, signed prekey ${this.signedPreKeyId}, ` +
      `Kyber prekey ${this.kyberPreKeyId ?? 'none'}, ${this.message.toString()})`
    );
  }

  toJSON(): string {
    return this.toString();
  }
}
