/**
 * @parley/client: the headless Parley client core. See client.ts for the behaviour and
 * storage/ for the storage contract.
 * @module
 */
export { ParleyClient, type ParleyClientOptions, type ClientEvents } from './client.ts';
export {
  ClientError,
  IdentityChangedError,
  NotRegisteredError,
  GroupMembershipError,
  AccountGoneError,
  GroupAdminError,
  BlockedContactError,
  type ClientErrorCode,
} from './errors.ts';
export { classifySendError, type SendVerdict } from './delivery/outbox.ts';
export { QUOTE_TEXT_LENGTH, type SendOptions } from './messaging.ts';
export {
  EXPIRE_TIMERS,
  describeTimer,
  isExpireTimer,
  type ExpireTimer,
} from './disappearing/index.ts';
export {
  DELETE_WINDOW_MS,
  EDIT_WINDOW_MS,
  MAX_EDITS,
  MAX_REACTION_LENGTH,
} from './message-actions.ts';
export * from './model.ts';
export { adminsOf, isAdmin } from './groups/admins.ts';
export { Emitter } from './events.ts';
export { encodeLinkUri, parseLinkUri, LinkError } from './provisioning.ts';
export { HistoryTransferError, type HistoryTransferErrorCode } from './history/errors.ts';
export type { HistoryPhase, HistoryTransferEvents } from './history/events.ts';
export type { ApproveOptions, HistoryState } from './history/transfer.ts';
export {
  RelayHttp,
  RelayHttpError,
  RelayUnavailableError,
  DeliverySocket,
  type WebSocketConstructor,
  type WebSocketLike,
} from './relay/index.ts';
export { Storage, MemoryBackend, type StorageBackend, type StorageTx } from './storage/index.ts';
export {
  AttachmentIntegrityError,
  AttachmentUploadError,
  MAX_BLOB_BYTES,
  MAX_THUMBNAIL_BYTES,
  MAX_ATTACHMENTS_PER_MESSAGE,
  baseName,
  blobSize,
  type AttachmentIntegrityCode,
  type AttachmentProgress,
  type OutgoingFile,
  type SendAttachmentOptions,
} from './attachments/index.ts';
export {
  AttachmentTransferError,
  createAttachmentTransport,
  type AttachmentTransferErrorCode,
  type AttachmentTransport,
  type AttachmentTransportContext,
  type TransferOptions,
} from './attachments/transport.ts';
