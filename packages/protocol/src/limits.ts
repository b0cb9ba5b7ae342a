/**
 * Protocol-level size limits. Both sides enforce them: the relay through its schemas, a client
 * before it sends, so a too-large request fails locally with a clear error.
 * @module
 */

/** Serialized EC public key (`0x05 ‖ X25519 key`). */
export const EC_PUBLIC_KEY_BYTES = 33;
/** Serialized Kyber1024 (ML-KEM-1024) public key (`0x08 ‖ key`). */
export const KYBER_PUBLIC_KEY_BYTES = 1569;
/** XEdDSA signature over a signed prekey. */
export const SIGNATURE_BYTES = 64;

/** Largest batch of one-time prekeys (EC or Kyber) in one upload; an upload replaces the batch. */
export const MAX_PREKEYS_PER_UPLOAD = 100;
/** Largest envelope body, in decoded bytes. Attachments travel elsewhere. */
export const MAX_ENVELOPE_CONTENT_BYTES = 128 * 1024;
/** Most envelopes in one single-recipient send (one per destination device). */
export const MAX_MESSAGES_PER_SEND = 64;
/** Most destination devices in one multi-recipient send. */
export const MAX_MULTI_RECIPIENTS = 1024;
/** Largest provisioning message, in decoded bytes. */
export const MAX_PROVISIONING_MESSAGE_BYTES = 64 * 1024;
/** Largest encrypted device name, in decoded bytes. */
export const MAX_DEVICE_NAME_BYTES = 256;
/** Most envelope ids in one ack frame (a full in-flight window at the default of 100). */
export const MAX_ACK_IDS_PER_FRAME = 100;
/** Largest frame a client may send on a WebSocket (pings are tiny; a full batched ack fits). */
export const MAX_CLIENT_FRAME_BYTES = 8 * 1024;
/** Largest page of envelopes `GET /v1/messages` returns. */
export const MAX_MESSAGES_PAGE = 100;

/** Registration ids are 14-bit, non-zero (as libsignal generates them). */
export const MAX_REGISTRATION_ID = 0x3fff;
/** Prekey ids are 24-bit (libsignal's `PreKeyId` range used by Signal clients). */
export const MAX_KEY_ID = 0xffffff;
/** Device ids start at 1 (the device that registered the account). */
export const PRIMARY_DEVICE_ID = 1;
export const MAX_DEVICE_ID = 0x7fffffff;
