/**
 * UnidentifiedSenderMessageContent (USMC): what a sealed envelope holds once opened — the inner
 * message, its type, the sender's certificate and two hints. libsignal's
 * `UnidentifiedSenderMessage.Message` (`sealed_sender.proto`):
 *
 *   { 1: type (PREKEY_MESSAGE 1, MESSAGE 2, SENDERKEY_MESSAGE 7, PLAINTEXT_CONTENT 8),
 *     2: senderCertificate (bytes), 3: content (bytes), 4: contentHint (omitted when 0),
 *     5: groupId (omitted when empty) }
 *
 * `contentHint` tells the receiver what to do if the inner message fails to decrypt (0: show an
 * error, 1 RESENDABLE: wait for a resend, 2 IMPLICIT: say nothing — typing, receipts); unknown
 * values are kept. `groupId` lets a receiver that cannot decrypt name the group in its error.
 * @module
 */
import { abytes, auint } from '../_bytes.ts';
import { ProtoFields, ProtoWriter } from '../_protobuf.ts';
import { ProtocolError } from '../errors.ts';
import { SenderCertificate } from './certificates.ts';

const inspect = Symbol.for('nodejs.util.inspect.custom');

/** The inner message's kind: a 1:1 PreKey or Signal message, a sender-key message, plaintext. */
export type SealedMessageType = 'prekey' | 'whisper' | 'senderkey' | 'plaintext';

const TYPE_TO_WIRE: Record<SealedMessageType, number> = {
  prekey: 1,
  whisper: 2,
  senderkey: 7,
  plaintext: 8,
};
const WIRE_TO_TYPE: ReadonlyMap<number, SealedMessageType> = new Map(
  Object.entries(TYPE_TO_WIRE).map(([k, v]) => [v, k as SealedMessageType]),
);

/** libsignal's `ContentHint` values (any other u32 is carried as is). */
export const ContentHint = Object.freeze({
  /** Show an error at once if the message cannot be decrypted. */
  Default: 0,
  /** The sender will resend: delay any error. */
  Resendable: 1,
  /** Never show an error (typing notices, receipts). */
  Implicit: 2,
} as const);

/** The largest content hint we write (prost writes int32; larger ones would be negative). */
const MAX_CONTENT_HINT = 0x7fff_ffff;

export interface UsmcFields {
  type: SealedMessageType;
  sender: SenderCertificate;
  contents: Uint8Array;
  contentHint?: number;
  groupId?: Uint8Array | undefined;
}

export class UnidentifiedSenderMessageContent {
  readonly type: SealedMessageType;
  readonly sender: SenderCertificate;
  readonly contentHint: number;
  readonly #contents: Uint8Array;
  readonly #groupId: Uint8Array | undefined;
  readonly #serialized: Uint8Array;

  private constructor(
    f: Required<Omit<UsmcFields, 'groupId'>> & { groupId: Uint8Array | undefined },
    serialized: Uint8Array,
  ) {
    this.type = f.type;
    this.sender = f.sender;
    this.contentHint = f.contentHint;
    this.#contents = f.contents;
    this.#groupId = f.groupId;
    this.#serialized = serialized;
  }

  static create(fields: UsmcFields): UnidentifiedSenderMessageContent {
    if (typeof fields !== 'object' || fields === null) {
      throw new ProtocolError('InvalidArgument', 'fields must be an object');
    }
    const { type, sender, contents, contentHint = ContentHint.Default, groupId } = fields;
    if (!Object.hasOwn(TYPE_TO_WIRE, type)) {
      throw new ProtocolError(
        'InvalidArgument',
        "type must be 'prekey', 'whisper', 'senderkey' or 'plaintext'",
      );
    }
    if (!(sender instanceof SenderCertificate)) {
      throw new ProtocolError('InvalidArgument', 'sender must be a SenderCertificate');
    }
    abytes(contents, 'contents');
    auint(contentHint, 'contentHint', 0, MAX_CONTENT_HINT);
    if (groupId !== undefined) abytes(groupId, 'groupId');
    const gid = groupId !== undefined && groupId.length > 0 ? groupId.slice() : undefined;
    const serialized = new ProtoWriter()
      .uint(1, TYPE_TO_WIRE[type])
      .bytes(2, sender.serialize())
      .bytes(3, contents)
      .uint(4, contentHint === ContentHint.Default ? undefined : contentHint)
      .bytes(5, gid)
      .finish();
    return new UnidentifiedSenderMessageContent(
      { type, sender, contents: contents.slice(), contentHint, groupId: gid },
      serialized,
    );
  }

  /**
   * Decodes a USMC: `InvalidSealedSenderMessage` when malformed or of an unknown type,
   * `InvalidCertificate` when its sender certificate cannot be decoded.
   */
  static deserialize(bytes: Uint8Array): UnidentifiedSenderMessageContent {
    abytes(bytes, 'sealed sender message content', undefined, 'InvalidSealedSenderMessage');
    const f = ProtoFields.decode(
      bytes,
      'sealed sender message content',
      'InvalidSealedSenderMessage',
    );
    const wireType = f.requireUint32(1, 'type');
    const type = WIRE_TO_TYPE.get(wireType);
    if (type === undefined) {
      throw new ProtocolError(
        'InvalidSealedSenderMessage',
        `unknown sealed message type ${wireType}`,
      );
    }
    const senderBytes = f.requireBytes(2, 'senderCertificate');
    const contents = f.requireBytes(3, 'content');
    const contentHint = f.uint32(4) ?? ContentHint.Default;
    const groupId = f.bytes(5);
    const sender = SenderCertificate.deserialize(senderBytes);
    return new UnidentifiedSenderMessageContent(
      { type, sender, contents: contents.slice(), contentHint, groupId: groupId?.slice() },
      bytes.slice(),
    );
  }

  /** The serialized USMC, exactly as created or received (what gets sealed). */
  serialize(): Uint8Array {
    return this.#serialized.slice();
  }

  /** The inner message: a serialized PreKeySignalMessage, SignalMessage or SenderKeyMessage. */
  contents(): Uint8Array {
    return this.#contents.slice();
  }

  /** The group id, when the sender set one. */
  groupId(): Uint8Array | undefined {
    return this.#groupId?.slice();
  }

  toString(): string {
    return (
      `UnidentifiedSenderMessageContent(${this.type}, from ${this.sender.senderUuid}.` +
      `${this.sender.senderDeviceId}, hint ${this.contentHint}, ${this.#contents.length} bytes)`
    );
  }

  toJSON(): string {
    return this.toString();
  }

  [inspect](): string {
    return this.toString();
  }
}
