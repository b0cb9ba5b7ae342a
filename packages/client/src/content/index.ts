/**
 * The content format: versioned protobuf (proto/parley/content/v1/content.proto), generated
 * ahead of time by protoc-gen-es, so no code is compiled at run time (safe under a strict CSP).
 *
 * `encodeContent` pads the serialized message to a multiple of PADDING_BLOCK bytes (with the
 * `padding` field) so ciphertext length only reveals a size class. `decodeContent` checks the
 * version and the message id and throws `ContentError` on anything malformed.
 * @module
 */
import { create, fromBinary, toBinary, type MessageInitShape } from '@bufbuild/protobuf';
import { toHex } from '../util/bytes.ts';
import { ContentSchema, type Content } from './gen/parley/content/v1/content_pb.ts';

export * from './gen/parley/content/v1/content_pb.ts';
export { create, fromBinary, toBinary } from '@bufbuild/protobuf';

/** The content format version this client writes and understands. */
export const CONTENT_VERSION = 1;
/** Serialized content is padded up to a multiple of this many bytes. */
export const PADDING_BLOCK = 160;
/** Largest serialized content we accept (the relay caps envelopes at 128 KiB). */
export const MAX_CONTENT_BYTES = 96 * 1024;

const MESSAGE_ID = /^[0-9a-f]{32}$/;

export class ContentError extends Error {
  override readonly name = 'ContentError';
}

export type ContentBody = Content['body'];
export type ContentInit = MessageInitShape<typeof ContentSchema>;

/** A fresh random message id: 128 bits, lowercase hex. */
export function newMessageId(rng: (n: number) => Uint8Array): string {
  return toHex(rng(16));
}

/** Builds a Content with the current version. */
export function makeContent(
  messageId: string,
  timestamp: number,
  body: ContentInit['body'],
): Content {
  return create(ContentSchema, {
    version: CONTENT_VERSION,
    messageId,
    timestamp: BigInt(timestamp),
    body,
  });
}

/** Serializes and pads. */
export function encodeContent(content: Content): Uint8Array {
  if (!MESSAGE_ID.test(content.messageId)) throw new ContentError('invalid message id');
  const unpadded = toBinary(ContentSchema, { ...content, padding: new Uint8Array(0) });
  // A bytes field costs 1 tag byte + a length varint (1–2 bytes here) + the bytes.
  const target = Math.ceil((unpadded.length + 3) / PADDING_BLOCK) * PADDING_BLOCK;
  let pad = Math.max(0, target - unpadded.length - 3);
  let out = toBinary(ContentSchema, { ...content, padding: new Uint8Array(pad) });
  // Adjust for a 1-byte length varint (pad < 128).
  if (out.length !== target && pad < 128) {
    pad += target - out.length;
    out = toBinary(ContentSchema, { ...content, padding: new Uint8Array(Math.max(0, pad)) });
  }
  if (out.length > MAX_CONTENT_BYTES) throw new ContentError('content too large');
  return out;
}

/** Parses and validates. */
export function decodeContent(bytes: Uint8Array): Content {
  if (!(bytes instanceof Uint8Array) || bytes.length > MAX_CONTENT_BYTES) {
    throw new ContentError('content too large or not bytes');
  }
  let content: Content;
  try {
    content = fromBinary(ContentSchema, bytes);
  } catch (cause) {
    throw new ContentError('content is not a valid protobuf', { cause });
  }
  if (content.version !== CONTENT_VERSION) {
    throw new ContentError(`unsupported content version ${content.version}`);
  }
  if (!MESSAGE_ID.test(content.messageId)) throw new ContentError('invalid message id');
  content.padding = new Uint8Array(0);
  return content;
}

export function timestampOf(content: Content): number {
  return Number(content.timestamp);
}
