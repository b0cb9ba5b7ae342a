/**
 * Opening a received (or sent) attachment: download the blob through the transport, then
 * `decryptAttachment` checks digest, MAC, padding and size before any plaintext exists. The
 * plaintext is returned, never stored by the core: the app decides where it goes (a `blob:`
 * URL in the browser, a file for the CLI). The message only records when this device last
 * downloaded it successfully.
 * @module
 */
import type { ClientContext } from '../context.ts';
import { ClientError } from '../errors.ts';
import type { AttachmentRecord } from '../model.ts';
import { findInConversation, updateMessage } from '../records/messages.ts';
import { decryptAttachment } from './cipher.ts';
import type { AttachmentTransport, TransferOptions } from './types.ts';

export class AttachmentReceiver {
  constructor(
    private readonly ctx: ClientContext,
    private readonly transport: () => AttachmentTransport,
  ) {}

  /**
   * Downloads and opens attachment `index` of message `id` in the conversation. Throws the
   * transport's `AttachmentTransferError`, or `AttachmentIntegrityError` for a blob that is not
   * the one the sender uploaded.
   */
  async download(
    conversationId: string,
    id: string,
    index = 0,
    options: TransferOptions = {},
  ): Promise<Uint8Array> {
    const m = await findInConversation(this.ctx.storage, conversationId, id);
    const a = m?.attachments?.[index];
    if (!m || !a || a.relayId === '') {
      throw new ClientError('message_not_found', `no attachment ${index} on message ${id}`);
    }
    const plaintext = await this.open(a, {
      ...options,
      onProgress: (done, total) => {
        options.onProgress?.(done, total);
        this.ctx.events.emit('attachmentProgress', {
          conversationId,
          messageId: id,
          index,
          direction: 'download',
          done,
          total,
        });
      },
    });
    await this.ctx.transaction(async (scope) => {
      const updated = await updateMessage(scope.tx, m.senderAccountId, id, (stored) => {
        const s = stored.attachments?.[index];
        if (s) s.downloadedAt = this.ctx.now();
      });
      if (updated) scope.emit('messageChanged', updated);
    });
    return plaintext;
  }

  /** Downloads and opens a pointer (no stored message needed). */
  async open(pointer: AttachmentRecord, options: TransferOptions = {}): Promise<Uint8Array> {
    const blob = await this.transport().download(pointer.relayId, options);
    return decryptAttachment(blob, pointer);
  }
}
