/**
 * Encrypted attachments (Signal's design): each file is encrypted on the device with a fresh
 * key (cipher.ts), uploaded as an opaque blob under a random relay id (the transport), and the
 * pointer — relay id, key, digest, size, type, name, image dimensions, thumbnail — travels
 * inside the end-to-end encrypted message (pointer.ts).
 * @module
 */
import type { ClientContext } from '../context.ts';
import type { Messaging } from '../messaging.ts';
import { AttachmentReceiver } from './receive.ts';
import { AttachmentSender } from './send.ts';
import { createAttachmentTransport, type AttachmentTransport } from './transport.ts';

export { AttachmentIntegrityError, type AttachmentIntegrityCode } from './errors.ts';
export { blobSize, decryptAttachment, encryptAttachment } from './cipher.ts';
export { paddedSize } from './padding.ts';
export {
  AttachmentUploadError,
  baseName,
  type OutgoingFile,
  type SendAttachmentOptions,
} from './send.ts';
export * from './types.ts';

/** The send and receive halves over one lazily built transport. */
export class Attachments {
  readonly sender: AttachmentSender;
  readonly receiver: AttachmentReceiver;
  #transport: AttachmentTransport | undefined;

  constructor(ctx: ClientContext, messaging: Messaging) {
    const transport = () => {
      if (this.#transport) return this.#transport;
      const make = ctx.options.attachmentTransport ?? createAttachmentTransport;
      return (this.#transport = make(ctx));
    };
    this.sender = new AttachmentSender(ctx, messaging, transport);
    this.receiver = new AttachmentReceiver(ctx, transport);
  }
}
