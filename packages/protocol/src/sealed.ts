/**
 * Sealed sender: envelopes whose sender the relay never learns (libsignal's sealed sender v1 and
 * v2 inside). A device fetches a short-lived sender certificate signed by the relay's server
 * key (certified in turn by the relay's trust root, which clients pin at registration), seals
 * its message with it, and sends it on the sealed routes without any credentials: the
 * recipient's unidentified-access key (16 bytes, derived from a secret the recipient shares
 * only inside end-to-end encrypted content) authorises the send instead.
 * @module
 */
import { Type, type Static } from 'typebox';
import { MAX_ENVELOPE_CONTENT_BYTES, MAX_MESSAGES_PER_SEND } from './limits.ts';
import {
  AccountId,
  Base64Bytes,
  DeviceId,
  EcPublicKey,
  RegistrationId,
  SendId,
  Timestamp,
  base64PatternOfLength,
} from './primitives.ts';

const closed = { additionalProperties: false } as const;

/** Bytes of an unidentified-access key (Signal's `UNIDENTIFIED_ACCESS_KEY_LEN`). */
export const UNIDENTIFIED_ACCESS_KEY_BYTES = 16;
/** The request header carrying the recipient's access key on a single-recipient sealed send. */
export const UNIDENTIFIED_ACCESS_KEY_HEADER = 'unidentified-access-key';
/** Largest serialized sender certificate the relay issues (with its server certificate). */
export const MAX_SENDER_CERTIFICATE_BYTES = 1024;
/**
 * Largest multi-recipient (v2) sealed message: one envelope's worth of ciphertext plus, per
 * recipient device, its service id, device id, registration id and key material.
 */
export const MAX_SEALED_MULTI_RECIPIENT_BYTES = MAX_ENVELOPE_CONTENT_BYTES + 128 * 1024;
/** Most recipient accounts of one multi-recipient sealed send (one access key each). */
export const MAX_SEALED_MULTI_RECIPIENT_ACCOUNTS = 256;

/** A 16-byte unidentified-access key, base64. */
export const UnidentifiedAccessKey = Type.String({
  pattern: base64PatternOfLength(UNIDENTIFIED_ACCESS_KEY_BYTES),
  description: 'Unidentified-access key: 16 bytes, base64',
});
export type UnidentifiedAccessKey = Static<typeof UnidentifiedAccessKey>;

/**
 * `PUT /v1/accounts/me/unidentified-access`: the account's access key (the relay keeps only its
 * SHA-256). `null` turns sealed delivery to this account off.
 */
export const SetUnidentifiedAccessRequest = Type.Object(
  { unidentifiedAccessKey: Type.Union([UnidentifiedAccessKey, Type.Null()]) },
  closed,
);
export type SetUnidentifiedAccessRequest = Static<typeof SetUnidentifiedAccessRequest>;

/** `GET /v1/certificate/trust-root`: what clients pin, and the current server certificate. */
export const TrustRootResponse = Type.Object(
  {
    /** The trust root's public key (33 bytes, base64). */
    publicKey: EcPublicKey,
    /** The relay's current ServerCertificate (libsignal format), base64. */
    serverCertificate: Base64Bytes(MAX_SENDER_CERTIFICATE_BYTES, 'ServerCertificate, base64'),
  },
  closed,
);
export type TrustRootResponse = Static<typeof TrustRootResponse>;

/** `GET /v1/certificate/delivery`: a sender certificate for the authenticated device. */
export const SenderCertificateResponse = Type.Object(
  {
    certificate: Base64Bytes(MAX_SENDER_CERTIFICATE_BYTES, 'SenderCertificate, base64'),
    /** When the certificate stops being accepted (ms since the epoch). */
    expiresAt: Timestamp,
  },
  closed,
);
export type SenderCertificateResponse = Static<typeof SenderCertificateResponse>;

/** One sealed (v1) envelope for one destination device. */
export const SealedOutgoingMessage = Type.Object(
  {
    destinationDeviceId: DeviceId,
    destinationRegistrationId: RegistrationId,
    content: Base64Bytes(MAX_ENVELOPE_CONTENT_BYTES, 'Sealed sender v1 message, base64'),
  },
  closed,
);
export type SealedOutgoingMessage = Static<typeof SealedOutgoingMessage>;

/**
 * `PUT /v1/messages/sealed/:accountId` (no credentials; `Unidentified-Access-Key` header): one
 * sealed envelope per device of the destination, as in `SendMessagesRequest`. A `sendId` makes
 * the send idempotent like an authenticated one (the record names no sender).
 */
export const SealedSendRequest = Type.Object(
  {
    timestamp: Timestamp,
    sendId: Type.Optional(SendId),
    messages: Type.Array(SealedOutgoingMessage, { minItems: 1, maxItems: MAX_MESSAGES_PER_SEND }),
  },
  closed,
);
export type SealedSendRequest = Static<typeof SealedSendRequest>;

/** One recipient account's access key on a multi-recipient sealed send. */
export const RecipientAccessKey = Type.Object(
  { accountId: AccountId, unidentifiedAccessKey: UnidentifiedAccessKey },
  closed,
);
export type RecipientAccessKey = Static<typeof RecipientAccessKey>;

/**
 * `PUT /v1/messages/sealed_multi_recipient` (no credentials): a sealed sender v2 SentMessage
 * (libsignal's multi-recipient format; recipients are named by their account ids as ACI service
 * ids) and one access key per recipient account. The relay splits it: each recipient device
 * gets its own `unidentified_sender` envelope.
 */
export const SealedMultiRecipientRequest = Type.Object(
  {
    timestamp: Timestamp,
    sendId: Type.Optional(SendId),
    content: Base64Bytes(MAX_SEALED_MULTI_RECIPIENT_BYTES, 'Sealed sender v2 SentMessage, base64'),
    accessKeys: Type.Array(RecipientAccessKey, {
      minItems: 1,
      maxItems: MAX_SEALED_MULTI_RECIPIENT_ACCOUNTS,
    }),
  },
  closed,
);
export type SealedMultiRecipientRequest = Static<typeof SealedMultiRecipientRequest>;
