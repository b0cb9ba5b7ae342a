/**
 * Attachments: opaque ciphertext blobs uploaded with the tus 1.0.0 resumable-upload protocol and
 * downloaded by id (the id is the capability: 128 random bits chosen by the relay).
 *
 * - `POST   /v1/attachments`     tus creation; device login; `Upload-Length` required.
 * - `HEAD   /v1/attachments/:id` tus offset; device login of the uploading account.
 * - `PATCH  /v1/attachments/:id` tus append; device login of the uploading account.
 * - `GET    /v1/attachments/:id` download, no login; `Range: bytes=a-b` gives 206. Always
 *   `application/octet-stream` with `Content-Disposition: attachment` and `nosniff`.
 *
 * Errors use the usual `{ error, message }` body: 413 `payload_too_large` over the size cap,
 * 429 `rate_limited` (too many uploads) or `attachment_quota_exceeded` (the account's stored
 * bytes), both with `Retry-After`; 404 `not_found` for an unknown, incomplete or expired id.
 * @module
 */
import { Type, type Static } from 'typebox';

/** Path prefix of the attachment routes (the tus upload endpoint). */
export const ATTACHMENTS_PATH = '/v1/attachments';
/** The tus protocol version the relay speaks. */
export const TUS_VERSION = '1.0.0';
/** Relay default for the largest attachment (ciphertext bytes); relays may set another. */
export const DEFAULT_MAX_ATTACHMENT_BYTES = 100 * 1024 * 1024;
/** Attachment ids: 16 random bytes, base64url without padding. */
export const ATTACHMENT_ID_PATTERN = '^[A-Za-z0-9_-]{22}$';

export const AttachmentId = Type.String({
  pattern: ATTACHMENT_ID_PATTERN,
  description: 'Attachment id: 128 random bits (base64url) chosen by the relay',
});
export type AttachmentId = Static<typeof AttachmentId>;

export const AttachmentParams = Type.Object({ id: AttachmentId }, { additionalProperties: false });
export type AttachmentParams = Static<typeof AttachmentParams>;

const ATTACHMENT_ID_REGEX = new RegExp(ATTACHMENT_ID_PATTERN);
export const isAttachmentId = (value: string): boolean => ATTACHMENT_ID_REGEX.test(value);
