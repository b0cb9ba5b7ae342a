/**
 * Sending a file: encrypt (cipher.ts) → store the message `queued` and held back, with the
 * attachment `uploading` → upload the blob → hand the message to the outbox like any text
 * (`Messaging.sendHeld`), so sealed sender, groups and the transcript to our own devices work
 * unchanged and the message keeps its one outbox state.
 *
 * A failed upload marks the attachment `failed` (with the transport's reason) and the message
 * `failed` / `upload_failed`. `retry` uploads the same blob again: it stays in memory for this
 * session, so a file is encrypted once per message and its pointer never changes. Nothing is
 * held in storage across the network calls.
 * @module
 */
import { newMessageId } from '../content/index.ts';
import type { ClientContext } from '../context.ts';
import { BlockedContactError, ClientError } from '../errors.ts';
import type { Messaging } from '../messaging.ts';
import type { AttachmentFailure, AttachmentRecord, MessageRecord } from '../model.ts';
import { findMessage, storeMessage } from '../records/messages.ts';
import { isBlocked } from '../records/trust.ts';
import { META } from '../keys.ts';
import type { StorageTx } from '../storage/index.ts';
import { blobSize, encryptAttachment } from './cipher.ts';
import {
  MAX_BLOB_BYTES,
  MAX_CAPTION_LENGTH,
  MAX_CONTENT_TYPE_LENGTH,
  MAX_FILE_NAME_LENGTH,
  MAX_IMAGE_DIMENSION,
  MAX_THUMBNAIL_BYTES,
  type AttachmentTransport,
} from './types.ts';

/** A file to send, as the platform read it. */
export interface OutgoingFile {
  bytes: Uint8Array;
  fileName: string;
  contentType: string;
  /** Images: pixel dimensions and a small preview (≤ MAX_THUMBNAIL_BYTES). */
  width?: number;
  height?: number;
  thumbnail?: Uint8Array;
}

export interface SendAttachmentOptions {
  caption?: string;
  /** Blob bytes uploaded so far, of the total (the padded, encrypted size). */
  onProgress?: (done: number, total: number) => void;
  /** Aborting cancels the upload: the message fails with `cancelled` and can be retried. */
  signal?: AbortSignal;
  /** Called with the message once it is stored (`queued`, held), before the upload starts. */
  onStored?: (message: MessageRecord) => void;
}

/** An upload failed; the message is stored `failed` and `retry` may upload it again. */
export class AttachmentUploadError extends ClientError {
  override readonly name = 'AttachmentUploadError';
  constructor(readonly failure: AttachmentFailure) {
    super(
      failure.code === 'too_large' ? 'too_large' : 'upload_failed',
      `the attachment could not be uploaded (${failure.code})`,
    );
  }
}

const TRANSFER_CODES = new Set<AttachmentFailure['code']>([
  'too_large',
  'quota',
  'rate_limited',
  'not_found',
  'network',
  'cancelled',
]);

/** The transport's typed error as a stored failure; anything else counts as the network. */
export function failureOf(err: unknown, signal?: AbortSignal): AttachmentFailure {
  if (signal?.aborted) return { code: 'cancelled', retryable: true };
  const e = err as { code?: unknown; retryable?: unknown } | undefined;
  if (e && typeof e.code === 'string' && TRANSFER_CODES.has(e.code as AttachmentFailure['code'])) {
    return { code: e.code as AttachmentFailure['code'], retryable: e.retryable !== false };
  }
  return { code: 'network', retryable: true };
}

/** Strips what must not travel as a file name: directories, control characters. */
export function baseName(name: string): string {
  const last = name.split(/[/\\]/).pop() ?? '';
  const clean = last.replace(/[\u0000-\u001f\u007f]/g, '').trim();
  return clean.slice(0, MAX_FILE_NAME_LENGTH) || 'file';
}

export class AttachmentSender {
  /** Blobs encrypted but not yet uploaded, by message id (one file per message): reused by a retry. */
  readonly #blobs = new Map<string, Uint8Array>();
  /** Messages whose upload runs now: a second start is refused, never run twice. */
  readonly #running = new Set<string>();

  constructor(
    private readonly ctx: ClientContext,
    private readonly messaging: Messaging,
    private readonly transport: () => AttachmentTransport,
  ) {}

  async send(
    conversationId: string,
    file: OutgoingFile,
    options: SendAttachmentOptions = {},
  ): Promise<MessageRecord> {
    const self = this.ctx.requireAccount();
    const attachment = checkFile(file);
    const caption = options.caption?.slice(0, MAX_CAPTION_LENGTH);
    const target = await this.messaging.target(conversationId); // refused for a group we left
    if ('accountId' in target && (await isBlocked(this.ctx.storage, target.accountId))) {
      throw new BlockedContactError(target.accountId);
    }
    const enc = await encryptAttachment(file.bytes);
    const now = this.ctx.now();
    const record: MessageRecord = {
      id: newMessageId(this.ctx.rng),
      conversationId,
      kind: 'text',
      direction: 'out',
      senderAccountId: self.accountId,
      senderDeviceId: self.deviceId,
      timestamp: now,
      storedAt: now,
      text: caption ?? '',
      status: 'queued',
      held: true,
      attachments: [
        {
          ...attachment,
          key: enc.key,
          digest: enc.digest,
          size: enc.size,
          ...(caption ? { caption } : {}),
          upload: 'uploading',
        },
      ],
    };
    await this.ctx.transaction(async (scope) => {
      await storeMessage(scope.tx, record);
      await setHeld(scope.tx, record.id, true);
      scope.emit('messageChanged', record);
    });
    this.#blobs.set(record.id, enc.blob);
    options.onStored?.(record);
    return this.#upload(conversationId, record.id, options);
  }

  /** Uploads a failed message's attachments again, then sends it. */
  retry(
    conversationId: string,
    id: string,
    options: Omit<SendAttachmentOptions, 'caption' | 'onStored'> = {},
  ): Promise<MessageRecord> {
    return this.#upload(conversationId, id, options);
  }

  async #upload(
    conversationId: string,
    id: string,
    options: Omit<SendAttachmentOptions, 'caption' | 'onStored'>,
  ): Promise<MessageRecord> {
    if (this.#running.has(id)) {
      throw new ClientError('not_retryable', `message ${id} is uploading already`);
    }
    this.#running.add(id);
    try {
      const m = await this.#message(id);
      if (!m?.held || m.conversationId !== conversationId) {
        throw new ClientError('not_retryable', `message ${id} has no upload to retry`);
      }
      const attachments = m.attachments ?? [];
      for (let index = 0; index < attachments.length; index++) {
        if (attachments[index]!.upload === 'uploaded') continue;
        const blob = this.#blobs.get(id);
        if (!blob) {
          // Encrypted in an earlier session: the file is gone with it. Fails for good.
          await this.#fail(id, index, { code: 'interrupted', retryable: false });
          throw new ClientError('not_retryable', `message ${id}'s file is no longer here`);
        }
        await this.#mark(id, index, { upload: 'uploading' }, 'queued');
        let relayId: string;
        try {
          relayId = await this.transport().upload(blob, {
            ...(options.signal ? { signal: options.signal } : {}),
            onProgress: (done, total) => {
              options.onProgress?.(done, total);
              this.ctx.events.emit('attachmentProgress', {
                conversationId,
                messageId: id,
                index,
                direction: 'upload',
                done,
                total,
              });
            },
          });
        } catch (err) {
          const failure = failureOf(err, options.signal);
          await this.#fail(id, index, failure);
          if (!failure.retryable) {
            this.#blobs.delete(id);
            await this.ctx.transaction(({ tx }) => setHeld(tx, id, false));
          }
          throw new AttachmentUploadError(failure);
        }
        await this.#mark(id, index, { relayId, upload: 'uploaded' });
      }
      this.#blobs.delete(id);
    } finally {
      this.#running.delete(id);
    }
    const sent = await this.messaging.sendHeld(conversationId, id);
    await this.ctx.transaction(({ tx }) => setHeld(tx, id, false));
    return sent;
  }

  /**
   * At start: uploads that were running when the app last closed cannot finish (the encrypted
   * file was only in memory). Their messages fail for good instead of staying `queued`.
   */
  async recover(): Promise<void> {
    const self = this.ctx.account;
    if (!self) return;
    const held = (await this.ctx.storage.get<string[]>('meta', META.heldUploads)) ?? [];
    for (const id of held) {
      if (this.#running.has(id)) continue;
      const m = await this.#message(id);
      const index = m?.attachments?.findIndex((a) => a.upload !== 'uploaded') ?? -1;
      if (m?.held && index >= 0)
        await this.#fail(id, index, { code: 'interrupted', retryable: false });
    }
    await this.ctx.transaction(async ({ tx }) => {
      const now = (await tx.get<string[]>('meta', META.heldUploads)) ?? [];
      const left = now.filter((id) => !held.includes(id) || this.#running.has(id));
      await tx.put('meta', META.heldUploads, left);
    });
  }

  #message(id: string): Promise<MessageRecord | undefined> {
    const self = this.ctx.requireAccount();
    return findMessage(this.ctx.storage, self.accountId, id).then((f) => f?.message);
  }

  /** Changes one attachment's transfer state (and the message's status) and announces it. */
  async #mark(
    id: string,
    index: number,
    change: Partial<AttachmentRecord>,
    status?: 'queued',
  ): Promise<void> {
    const self = this.ctx.requireAccount();
    await this.ctx.transaction(async (scope) => {
      const found = await findMessage(scope.tx, self.accountId, id);
      const a = found?.message.attachments?.[index];
      if (!found || !a) return;
      const m = found.message;
      const { uploadFailure: _u, ...rest } = a;
      m.attachments![index] = { ...rest, ...change };
      if (status && m.status !== status) {
        m.status = status;
        delete m.failure;
        scope.emit('status', { conversationId: m.conversationId, id, status });
      }
      await scope.tx.put('messages', found.key, m);
      scope.emit('messageChanged', m);
    });
  }

  async #fail(id: string, index: number, failure: AttachmentFailure): Promise<void> {
    const self = this.ctx.requireAccount();
    await this.ctx.transaction(async (scope) => {
      const found = await findMessage(scope.tx, self.accountId, id);
      const a = found?.message.attachments?.[index];
      if (!found || !a) return;
      const m = found.message;
      m.attachments![index] = { ...a, upload: 'failed', uploadFailure: failure };
      m.status = 'failed';
      m.failure = { reason: 'upload_failed', retryable: failure.retryable };
      await scope.tx.put('messages', found.key, m);
      scope.emit('status', {
        conversationId: m.conversationId,
        id,
        status: 'failed',
        failure: m.failure,
      });
      scope.emit('messageChanged', m);
    });
  }
}

/** Adds or removes a message id in the list of held uploads. */
async function setHeld(tx: StorageTx, id: string, held: boolean): Promise<void> {
  const list = (await tx.get<string[]>('meta', META.heldUploads)) ?? [];
  const next = held ? [...list.filter((x) => x !== id), id] : list.filter((x) => x !== id);
  if (next.length !== list.length || held) await tx.put('meta', META.heldUploads, next);
}

/** Validates a file and returns its pointer fields (everything but key, digest and size). */
function checkFile(
  file: OutgoingFile,
): Pick<
  AttachmentRecord,
  'relayId' | 'contentType' | 'fileName' | 'width' | 'height' | 'thumbnail'
> {
  if (!(file.bytes instanceof Uint8Array)) {
    throw new ClientError('invalid_argument', 'the file must be a Uint8Array');
  }
  if (blobSize(file.bytes.length) > MAX_BLOB_BYTES) {
    throw new ClientError('too_large', `the file is larger than the relay accepts`);
  }
  if (file.thumbnail && file.thumbnail.length > MAX_THUMBNAIL_BYTES) {
    throw new ClientError('invalid_argument', 'the thumbnail is too large');
  }
  const dims =
    Number.isInteger(file.width) &&
    Number.isInteger(file.height) &&
    file.width! > 0 &&
    file.height! > 0 &&
    file.width! <= MAX_IMAGE_DIMENSION &&
    file.height! <= MAX_IMAGE_DIMENSION;
  return {
    relayId: '',
    contentType: (file.contentType || 'application/octet-stream').slice(0, MAX_CONTENT_TYPE_LENGTH),
    fileName: baseName(file.fileName),
    ...(dims ? { width: file.width!, height: file.height! } : {}),
    ...(file.thumbnail && file.thumbnail.length > 0 ? { thumbnail: file.thumbnail } : {}),
  };
}
