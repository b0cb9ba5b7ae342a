/**
 * Files in the web app (issue 17): what `ClientModel` does for `sendFile`, `openAttachment` and
 * upload retries (called from client-model/messages.ts). Progress comes from the core's
 * `attachmentProgress` events into `state.transfers`; each upload has an AbortController so
 * the screen can cancel it.
 *
 * Images are described in the browser before sending: dimensions and a small JPEG thumbnail
 * (createImageBitmap + canvas), both travelling inside the encrypted message.
 * @module
 */
import {
  AttachmentIntegrityError,
  AttachmentUploadError,
  MAX_THUMBNAIL_BYTES,
  type AttachmentProgress,
  type AttachmentRecord,
  type ParleyClient,
} from '@parley/client';
import type { StateStore } from './store.ts';
import { transferKey, type AttachmentView, type Transfer } from './types.ts';

/** Image types shown inline (decoded by the browser from a `blob:` URL); others are cards. */
export const INLINE_IMAGE_TYPES = new Set([
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'image/avif',
]);

const THUMBNAIL_EDGE = 192;

/** What a failed transfer's code means, for people. */
export function transferWords(code: string): string {
  switch (code) {
    case 'too_large':
      return 'the file is larger than the relay accepts';
    case 'quota':
      return 'your storage on the relay is full';
    case 'rate_limited':
      return 'too many transfers right now; try again shortly';
    case 'not_found':
      return 'the file is no longer on the relay';
    case 'cancelled':
      return 'cancelled';
    case 'interrupted':
      return 'the app closed during the upload; send the file again';
    case 'integrity':
      return 'the file was altered or damaged on the way, so it was not opened';
    default:
      return 'the relay could not be reached';
  }
}

export function toAttachmentView(a: AttachmentRecord): AttachmentView {
  return {
    fileName: a.fileName,
    contentType: a.contentType,
    size: a.size,
    ...(a.width ? { width: a.width, height: a.height! } : {}),
    ...(a.thumbnail ? { thumbnail: a.thumbnail } : {}),
    ...(a.upload ? { upload: a.upload } : {}),
    ...(a.uploadFailure ? { uploadFailure: { ...a.uploadFailure } } : {}),
  };
}

/** Dimensions and a small JPEG preview of an image; undefined when the browser cannot decode it. */
export async function describeImage(
  file: Blob,
): Promise<{ width: number; height: number; thumbnail?: Uint8Array } | undefined> {
  if (!INLINE_IMAGE_TYPES.has(file.type) || typeof createImageBitmap !== 'function') return;
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    return undefined; // not an image after all: sent as a file
  }
  const { width, height } = bitmap;
  try {
    const scale = Math.min(1, THUMBNAIL_EDGE / Math.max(width, height));
    const canvas = document.createElement('canvas');
    canvas.width = Math.max(1, Math.round(width * scale));
    canvas.height = Math.max(1, Math.round(height * scale));
    canvas.getContext('2d')?.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    for (const quality of [0.7, 0.4]) {
      const blob = await new Promise<Blob | null>((r) => canvas.toBlob(r, 'image/jpeg', quality));
      if (blob && blob.size <= MAX_THUMBNAIL_BYTES) {
        return { width, height, thumbnail: new Uint8Array(await blob.arrayBuffer()) };
      }
    }
    return { width, height };
  } catch {
    return { width, height };
  } finally {
    bitmap.close();
  }
}

/** A core error as a sentence for the screen. */
export function fileErrorText(err: unknown): string {
  if (err instanceof AttachmentUploadError) return `Not sent: ${transferWords(err.failure.code)}.`;
  if (err instanceof AttachmentIntegrityError) return `Not opened: ${transferWords('integrity')}.`;
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string') return `Failed: ${transferWords(code)}.`;
  return err instanceof Error ? err.message : String(err);
}

export class FileTransfers {
  readonly #uploads = new Map<string, AbortController>();

  constructor(private readonly store: Pick<StateStore, 'update'>) {}

  /** Tracks a core progress event; the entry goes when the transfer settles. */
  progress(p: AttachmentProgress): void {
    const key = transferKey(p.messageId, p.index, p.direction);
    const t: Transfer = { direction: p.direction, done: p.done, total: p.total };
    this.store.update((s) => ({ transfers: { ...s.transfers, [key]: t } }));
  }

  #settled(messageId: string, direction: Transfer['direction']): void {
    this.store.update((s) => {
      const transfers = { ...s.transfers };
      for (const k of Object.keys(transfers)) {
        if (k.startsWith(`${messageId}/`) && k.endsWith(`/${direction}`)) delete transfers[k];
      }
      return { transfers };
    });
  }

  async send(
    client: ParleyClient,
    conversationId: string,
    file: File,
    caption: string | undefined,
  ): Promise<void> {
    const bytes = new Uint8Array(await file.arrayBuffer());
    const image = await describeImage(file);
    const controller = new AbortController();
    let id: string | undefined;
    try {
      await client.sendAttachment(
        conversationId,
        {
          bytes,
          fileName: file.name || 'file',
          contentType: file.type || 'application/octet-stream',
          ...(image ?? {}),
        },
        {
          signal: controller.signal,
          onStored: (m) => {
            id = m.id;
            this.#uploads.set(id, controller);
          },
          ...(caption ? { caption } : {}),
        },
      );
    } catch (err) {
      throw new Error(fileErrorText(err));
    } finally {
      if (id !== undefined) {
        this.#uploads.delete(id);
        this.#settled(id, 'upload');
      }
    }
  }

  async retry(client: ParleyClient, conversationId: string, id: string): Promise<void> {
    const controller = new AbortController();
    this.#uploads.set(id, controller);
    try {
      await client.retrySend(conversationId, id, { signal: controller.signal });
    } catch (err) {
      throw new Error(fileErrorText(err));
    } finally {
      this.#uploads.delete(id);
      this.#settled(id, 'upload');
    }
  }

  cancel(messageId: string): void {
    this.#uploads.get(messageId)?.abort();
  }

  async open(
    client: ParleyClient,
    conversationId: string,
    id: string,
    index: number,
    signal: AbortSignal | undefined,
  ): Promise<Blob> {
    const m = (await client.messages(conversationId)).find((x) => x.id === id);
    const a = m?.attachments?.[index];
    if (!a) throw new Error('That file is no longer here.');
    try {
      const bytes = await client.downloadAttachment(
        conversationId,
        id,
        index,
        signal ? { signal } : {},
      );
      return new Blob([bytes as Uint8Array<ArrayBuffer>], { type: a.contentType });
    } catch (err) {
      throw new Error(fileErrorText(err));
    } finally {
      this.#settled(id, 'download');
    }
  }
}
