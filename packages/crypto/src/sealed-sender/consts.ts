/**
 * Sealed sender version bytes and KDF labels, as libsignal's `sealed_sender.rs` names them.
 * A version byte is `(required version << 4) | current version`; receivers look at the high
 * nibble only. (The limits live with the others in `../consts.ts`.)
 * @module
 */

/** v1 (one recipient): 0x11 ‖ protobuf `UnidentifiedSenderMessage`. */
export const SEALED_SENDER_V1_FULL_VERSION = 0x11;
export const SEALED_SENDER_V1_MAJOR_VERSION = 1;
/** v2 ReceivedMessage, and a v2 SentMessage naming recipients by 16-byte ACI UUIDs. */
export const SEALED_SENDER_V2_UUID_FULL_VERSION = 0x22;
/** v2 SentMessage naming recipients by 17-byte fixed-width service ids (what libsignal sends). */
export const SEALED_SENDER_V2_SERVICE_ID_FULL_VERSION = 0x23;
export const SEALED_SENDER_V2_MAJOR_VERSION = 2;

/** v1: HKDF salt prefix of the ephemeral keys. */
export const V1_SALT_PREFIX = 'UnidentifiedDelivery';
/** v1: truncated HMAC-SHA256 length after each AES-CTR ciphertext. */
export const V1_MAC_LENGTH = 10;

/** v2: HKDF info labels (salt absent) for r (→ E), K, the per-recipient pad and tag. */
export const V2_LABEL_R = 'Sealed Sender v2: r (2023-08)';
export const V2_LABEL_K = 'Sealed Sender v2: K';
export const V2_LABEL_DH = 'Sealed Sender v2: DH';
export const V2_LABEL_DH_S = 'Sealed Sender v2: DH-sender';

/** v2: M and every C_i are 32 bytes, AT_i 16, E.pub a raw 32-byte X25519 u (no 0x05). */
export const V2_MESSAGE_KEY_LENGTH = 32;
export const V2_AUTH_TAG_LENGTH = 16;
export const V2_PUBLIC_KEY_LENGTH = 32;

/** v2 registration ids are 14 bits; the top bit of the u16 says "another device follows". */
export const V2_REGISTRATION_ID_MASK = 0x3fff;
export const V2_HAS_MORE_DEVICES = 0x8000;
