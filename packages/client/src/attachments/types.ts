/**
 * The attachment types the rest of the client sees: the transport's contract (implemented by
 * attachments/transport.ts over the relay's tus routes), progress, limits.
 * @module
 */
import { DEFAULT_MAX_ATTACHMENT_BYTES } from '@parley/protocol';

export type { AttachmentTransport, TransferOptions } from './transport.ts';

/** One step of an upload or download, for progress bars. */
export interface AttachmentProgress {
  conversationId: string;
  messageId: string;
  /** Which attachment of the message. */
  index: number;
  direction: 'upload' | 'download';
  /** Blob bytes moved so far, of `total`. */
  done: number;
  total: number;
}

/**
 * The largest blob we upload: the relay's default cap. Padding adds up to 5 %, so the largest
 * file is a little smaller (`blobSize(size) <= MAX_BLOB_BYTES`, attachments/cipher.ts).
 */
export const MAX_BLOB_BYTES = DEFAULT_MAX_ATTACHMENT_BYTES;
/** Pointers we accept on one message (more are dropped). */
export const MAX_ATTACHMENTS_PER_MESSAGE = 10;
/** A preview image travels inside the message, which must stay under MAX_CONTENT_BYTES. */
export const MAX_THUMBNAIL_BYTES = 32 * 1024;
export const MAX_FILE_NAME_LENGTH = 255;
export const MAX_CAPTION_LENGTH = 2000;
export const MAX_CONTENT_TYPE_LENGTH = 128;
/** Images larger than this in either dimension are not described as images. */
export const MAX_IMAGE_DIMENSION = 32_768;
