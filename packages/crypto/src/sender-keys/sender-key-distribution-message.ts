/**
 * SenderKeyDistributionMessage (SKDM): how a sender hands its chain to each group member,
 * inside an end-to-end encrypted 1:1 message. As libsignal encodes it (`protocol.rs`):
 *
 *   serialized = 0x33 ‖ { 1: distribution_uuid (16), 2: chain_id, 3: iteration,
 *                         4: chain_key (32), 5: signing_key (33, 0x05 ‖ u) }
 *
 * Unsigned: its authenticity comes from the 1:1 session that carries it. At least 65 bytes
 * (version byte + a key and a chain key). The chain key is secret: whoever holds the SKDM
 * can read every message from `iteration` on, so `toString`/`toJSON` never show it.
 * @module
 */
import { abytes, concat } from '../_bytes.ts';
import { ProtoFields, ProtoWriter } from '../_protobuf.ts';
import { PUBLIC_KEY_LENGTH, PublicKey } from '../curve.ts';
import { ProtocolError } from '../errors.ts';
import { MAX_ITERATION } from './consts.ts';
import {
  canonicalDistributionId,
  distributionIdFromBytes,
  distributionIdToBytes,
} from './distribution-id.ts';
import { SENDERKEY_VERSION_BYTE, checkVersionByte } from './_version.ts';

/** 1 version byte + 32 (key) + 32 (chain key), libsignal's minimum. */
export const SKDM_MIN_LENGTH = 65;

const inspect = Symbol.for('nodejs.util.inspect.custom');

export interface SenderKeyDistributionFields {
  distributionId: string;
  chainId: number;
  iteration: number;
  chainKey: Uint8Array;
  signingKey: PublicKey;
}

export class SenderKeyDistributionMessage {
  readonly messageVersion: number;
  readonly distributionId: string;
  readonly chainId: number;
  readonly iteration: number;
  readonly signingKey: PublicKey;
  readonly #chainKey: Uint8Array;
  readonly #serialized: Uint8Array;

  private constructor(version: number, f: SenderKeyDistributionFields, serialized: Uint8Array) {
    this.messageVersion = version;
    this.distributionId = f.distributionId;
    this.chainId = f.chainId;
    this.iteration = f.iteration;
    this.signingKey = f.signingKey;
    this.#chainKey = f.chainKey;
    this.#serialized = serialized;
  }

  static create(fields: SenderKeyDistributionFields): SenderKeyDistributionMessage {
    const distributionId = canonicalDistributionId(fields.distributionId);
    for (const [name, v] of [
      ['chainId', fields.chainId],
      ['iteration', fields.iteration],
    ] as const) {
      if (!Number.isInteger(v) || v < 0 || v > MAX_ITERATION) {
        throw new ProtocolError('InvalidArgument', `${name} must be a u32`);
      }
    }
    const chainKey = abytes(fields.chainKey, 'chainKey', 32).slice();
    if (!(fields.signingKey instanceof PublicKey)) {
      throw new ProtocolError('InvalidArgument', 'signingKey must be a PublicKey');
    }
    const body = new ProtoWriter()
      .bytes(1, distributionIdToBytes(distributionId))
      .uint(2, fields.chainId)
      .uint(3, fields.iteration)
      .bytes(4, chainKey)
      .bytes(5, fields.signingKey.serialize())
      .finish();
    return new SenderKeyDistributionMessage(
      SENDERKEY_VERSION_BYTE >> 4,
      { ...fields, distributionId, chainKey },
      concat(Uint8Array.of(SENDERKEY_VERSION_BYTE), body),
    );
  }

  /** Parses a received SKDM. Malformed input is `InvalidMessage` (a bad key `InvalidKey`). */
  static deserialize(bytes: Uint8Array): SenderKeyDistributionMessage {
    abytes(bytes, 'sender key distribution message', undefined, 'InvalidMessage');
    if (bytes.length < SKDM_MIN_LENGTH) {
      throw new ProtocolError(
        'InvalidMessage',
        `sender key distribution message is too short (${bytes.length})`,
      );
    }
    const what = 'sender key distribution message';
    const version = checkVersionByte(bytes[0]!, what);
    const f = ProtoFields.decode(bytes.subarray(1), what);
    const distributionId = distributionIdFromBytes(f.requireBytes(1, 'distribution_uuid'));
    const chainId = f.requireUint32(2, 'chain_id');
    const iteration = f.requireUint32(3, 'iteration');
    const chainKey = f.requireBytes(4, 'chain_key');
    const signingKey = f.requireBytes(5, 'signing_key');
    if (chainKey.length !== 32 || signingKey.length !== PUBLIC_KEY_LENGTH) {
      throw new ProtocolError('InvalidMessage', `${what} has a wrong-sized chain or signing key`);
    }
    return new SenderKeyDistributionMessage(
      version,
      {
        distributionId,
        chainId,
        iteration,
        chainKey: chainKey.slice(),
        signingKey: PublicKey.deserialize(signingKey),
      },
      bytes.slice(),
    );
  }

  /** The 32-byte chain key at `iteration` (a copy). Secret. */
  chainKey(): Uint8Array {
    return this.#chainKey.slice();
  }

  /** The bytes to send (a copy). Secret: they contain the chain key. */
  serialize(): Uint8Array {
    return this.#serialized.slice();
  }

  toString(): string {
    return (
      `SenderKeyDistributionMessage(v${this.messageVersion}, distribution ${this.distributionId}, ` +
      `chain ${this.chainId}, iteration ${this.iteration}, signing ${this.signingKey}, ` +
      `chain key [redacted])`
    );
  }

  toJSON(): string {
    return this.toString();
  }

  [inspect](): string {
    return this.toString();
  }
}
