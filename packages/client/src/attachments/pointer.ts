/**
 * Attachment pointers between the wire (`AttachmentPointer` in the content format) and the
 * stored `AttachmentRecord`. Received pointers are checked here: a pointer that could never
 * open a blob (bad key or digest length, no relay id) or that oversteps the limits is dropped,
 * and text fields are cut to their limits.
 * @module
 */
import type { DataMessage } from '../content/index.ts';
import type { AttachmentRecord, MessageRecord } from '../model.ts';
import { ATTACHMENT_DIGEST_LENGTH, ATTACHMENT_KEY_LENGTH } from './cipher.ts';
import {
  MAX_ATTACHMENTS_PER_MESSAGE,
  MAX_BLOB_BYTES,
  MAX_CAPTION_LENGTH,
  MAX_CONTENT_TYPE_LENGTH,
  MAX_FILE_NAME_LENGTH,
  MAX_IMAGE_DIMENSION,
  MAX_THUMBNAIL_BYTES,
} from './types.ts';

type PointerInit = Omit<DataMessage['attachments'][number], '$typeName' | '$unknown'>;

/** The wire pointers of a message (only uploaded attachments have a relay id). */
export function pointersOf(m: Pick<MessageRecord, 'attachments'>): PointerInit[] {
  return (m.attachments ?? []).map((a) => ({
    relayId: a.relayId,
    key: a.key,
    digest: a.digest,
    size: BigInt(a.size),
    contentType: a.contentType,
    fileName: a.fileName,
    width: a.width ?? 0,
    height: a.height ?? 0,
    thumbnail: a.thumbnail ?? new Uint8Array(0),
    caption: a.caption ?? '',
  }));
}

/** The attachments of a received data message, checked; `{}` when it has none. */
export function attachmentsOf(data: DataMessage): { attachments?: AttachmentRecord[] } {
  const out: AttachmentRecord[] = [];
  for (const p of data.attachments.slice(0, MAX_ATTACHMENTS_PER_MESSAGE)) {
    if (
      p.relayId === '' ||
      p.relayId.length > 128 ||
      p.key.length !== ATTACHMENT_KEY_LENGTH ||
      p.digest.length !== ATTACHMENT_DIGEST_LENGTH ||
      p.size > BigInt(MAX_BLOB_BYTES)
    ) {
      continue;
    }
    const image =
      p.width > 0 &&
      p.height > 0 &&
      p.width <= MAX_IMAGE_DIMENSION &&
      p.height <= MAX_IMAGE_DIMENSION;
    out.push({
      relayId: p.relayId,
      key: p.key,
      digest: p.digest,
      size: Number(p.size),
      contentType: p.contentType.slice(0, MAX_CONTENT_TYPE_LENGTH) || 'application/octet-stream',
      fileName: p.fileName.slice(0, MAX_FILE_NAME_LENGTH),
      ...(image ? { width: p.width, height: p.height } : {}),
      ...(p.thumbnail.length > 0 && p.thumbnail.length <= MAX_THUMBNAIL_BYTES
        ? { thumbnail: p.thumbnail }
        : {}),
      ...(p.caption ? { caption: p.caption.slice(0, MAX_CAPTION_LENGTH) } : {}),
    });
  }
  return out.length > 0 ? { attachments: out } : {};
}
