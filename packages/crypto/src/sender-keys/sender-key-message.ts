/**
 * SenderKeyMessage: one group message, as libsignal encodes it (`protocol.rs`, wire.proto).
 *
 *   serialized = 0x33 ‖ proto ‖ signature
 *   proto      = { 1: distribution_uuid (16 bytes), 2: chain_id, 3: iteration, 4: ciphertext }
 *   signature  = XEdDSA(signingKey, 0x33 ‖ proto)    (64 bytes)
 *
 * The ciphertext is AES-256-CBC/PKCS#7 under the iteration's message key. The signature is
 * checked over the bytes as received, never over a re-encoding.
 * @module
 */
import { abytes, concat, toHex } from '../_bytes.ts';
import { ProtoFields, ProtoWriter } from '../_protobuf.ts';
import { PrivateKey, SIGNATURE_LENGTH, type PublicKey } from '../curve.ts';
import { ProtocolError } from '../errors.ts';
import { systemRandom, type RandomSource } from '../random.ts';
import { MAX_ITERATION } from './consts.ts';
import {
  canonicalDistributionId,
  distributionIdFromBytes,
  distributionIdToBytes,
} from './distribution-id.ts';
import { SENDERKEY_VERSION_BYTE, checkVersionByte } from './_version.ts';

export interface SenderKeyMessageFields {
  distributionId: string;
  chainId: number;
  iteration: number;
  ciphertext: Uint8Array;
}

function au32(value: unknown, title: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_ITERATION) {
    throw new ProtocolError('InvalidArgument', `${title} must be a u32`);
  }
  return value;
}

export class SenderKeyMessage {
  readonly messageVersion: number;
  readonly distributionId: string;
  readonly chainId: number;
  readonly iteration: number;
  readonly #ciphertext: Uint8Array;
  readonly #serialized: Uint8Array;

  private constructor(version: number, fields: SenderKeyMessageFields, serialized: Uint8Array) {
    this.messageVersion = version;
    this.distributionId = fields.distributionId;
    this.chainId = fields.chainId;
    this.iteration = fields.iteration;
    this.#ciphertext = fields.ciphertext;
    this.#serialized = serialized;
  }

  /** Encodes and signs a message with the sender's signing key (XEdDSA on noble). */
  static create(
    fields: SenderKeyMessageFields,
    signingKey: PrivateKey,
    rng: RandomSource = systemRandom,
  ): SenderKeyMessage {
    const { checked, signed } = SenderKeyMessage.#encode(fields, signingKey);
    return SenderKeyMessage.#signed(checked, signed, signingKey.sign(signed, rng));
  }

  /** `create`, signing through the selected crypto backend (`PrivateKey.signAsync`). */
  static async createAsync(
    fields: SenderKeyMessageFields,
    signingKey: PrivateKey,
    rng: RandomSource = systemRandom,
  ): Promise<SenderKeyMessage> {
    const { checked, signed } = SenderKeyMessage.#encode(fields, signingKey);
    return SenderKeyMessage.#signed(checked, signed, await signingKey.signAsync(signed, rng));
  }

  static #encode(fields: SenderKeyMessageFields, signingKey: PrivateKey) {
    const distributionId = canonicalDistributionId(fields.distributionId);
    const chainId = au32(fields.chainId, 'chainId');
    const iteration = au32(fields.iteration, 'iteration');
    const ciphertext = abytes(fields.ciphertext, 'ciphertext').slice();
    if (!(signingKey instanceof PrivateKey)) {
      throw new ProtocolError('InvalidArgument', 'signingKey must be a PrivateKey');
    }
    const body = new ProtoWriter()
      .bytes(1, distributionIdToBytes(distributionId))
      .uint(2, chainId)
      .uint(3, iteration)
      .bytes(4, ciphertext)
      .finish();
    const signed = concat(Uint8Array.of(SENDERKEY_VERSION_BYTE), body);
    return { checked: { distributionId, chainId, iteration, ciphertext }, signed };
  }

  static #signed(fields: SenderKeyMessageFields, signed: Uint8Array, signature: Uint8Array) {
    return new SenderKeyMessage(SENDERKEY_VERSION_BYTE >> 4, fields, concat(signed, signature));
  }

  /**
   * Parses a received message (without checking its signature: that needs the sender's state).
   * Malformed input is `InvalidMessage`; a wrong version `LegacyCiphertextVersion` or
   * `UnrecognizedMessageVersion`.
   */
  static deserialize(bytes: Uint8Array): SenderKeyMessage {
    abytes(bytes, 'sender key message', undefined, 'InvalidMessage');
    if (bytes.length < 1 + SIGNATURE_LENGTH) {
      throw new ProtocolError(
        'InvalidMessage',
        `sender key message is too short (${bytes.length})`,
      );
    }
    const version = checkVersionByte(bytes[0]!, 'sender key message');
    const f = ProtoFields.decode(
      bytes.subarray(1, bytes.length - SIGNATURE_LENGTH),
      'sender key message',
    );
    const distributionId = distributionIdFromBytes(f.requireBytes(1, 'distribution_uuid'));
    const chainId = f.requireUint32(2, 'chain_id');
    const iteration = f.requireUint32(3, 'iteration');
    const ciphertext = f.requireBytes(4, 'ciphertext').slice();
    return new SenderKeyMessage(
      version,
      { distributionId, chainId, iteration, ciphertext },
      bytes.slice(),
    );
  }

  /** The AES-256-CBC ciphertext (a copy). */
  ciphertext(): Uint8Array {
    return this.#ciphertext.slice();
  }

  /** True when the trailing signature is valid for `signingKey` over the bytes before it. */
  verifySignature(signingKey: PublicKey): boolean {
    const cut = this.#serialized.length - SIGNATURE_LENGTH;
    return signingKey.verifySignature(
      this.#serialized.subarray(0, cut),
      this.#serialized.subarray(cut),
    );
  }

  /** `verifySignature` through the selected crypto backend (the same answer). */
  verifySignatureAsync(signingKey: PublicKey): Promise<boolean> {
    const cut = this.#serialized.length - SIGNATURE_LENGTH;
    return signingKey.verifySignatureAsync(
      this.#serialized.subarray(0, cut),
      this.#serialized.subarray(cut),
    );
  }

  /** The bytes to send (a copy). */
  serialize(): Uint8Array {
    return this.#serialized.slice();
  }

  toString(): string {
    return (
      `SenderKeyMessage(v${this.messageVersion}, distribution ${this.distributionId}, ` +
      `chain ${this.chainId}, iteration ${this.iteration}, ${this.#ciphertext.length} bytes ` +
      `ciphertext ${toHex(this.#ciphertext.subarray(0, 8))}…)`
    );
  }

  toJSON(): string {
    return this.toString();
  }
}
