/**
 * Envelopes: opaque ciphertext the relay queues per destination device until the device acks it.
 * The relay authenticates the sender and stamps `sourceAccountId`/`sourceDeviceId` itself.
 * @module
 */
import { Type, type Static } from 'typebox';
import {
  MAX_ENVELOPE_CONTENT_BYTES,
  MAX_MESSAGES_PER_SEND,
  MAX_MULTI_RECIPIENTS,
} from './limits.ts';
import {
  AccountId,
  Base64Bytes,
  DeviceId,
  EnvelopeId,
  RegistrationId,
  SendId,
  Timestamp,
} from './primitives.ts';

const closed = { additionalProperties: false } as const;

/** What kind of ciphertext an envelope carries, so the receiver knows how to decrypt it. */
export const EnvelopeType = Type.Union([
  Type.Literal('message'),
  Type.Literal('prekey_message'),
  Type.Literal('sender_key_message'),
]);
export type EnvelopeType = Static<typeof EnvelopeType>;

export const EnvelopeContent = Base64Bytes(
  MAX_ENVELOPE_CONTENT_BYTES,
  'Ciphertext, opaque to the relay, base64',
);

/** One ciphertext for one destination device. */
export const OutgoingMessage = Type.Object(
  {
    type: EnvelopeType,
    destinationDeviceId: DeviceId,
    destinationRegistrationId: RegistrationId,
    content: EnvelopeContent,
  },
  closed,
);
export type OutgoingMessage = Static<typeof OutgoingMessage>;

/**
 * `PUT /v1/messages/:accountId`: one message per device of the destination account (when sending
 * to your own account, every device but the sender's). Anything else is a 409 or 410 and nothing
 * is stored.
 */
export const SendMessagesRequest = Type.Object(
  {
    timestamp: Timestamp,
    sendId: Type.Optional(SendId),
    messages: Type.Array(OutgoingMessage, { minItems: 1, maxItems: MAX_MESSAGES_PER_SEND }),
  },
  closed,
);
export type SendMessagesRequest = Static<typeof SendMessagesRequest>;

export const SendMessagesResponse = Type.Object(
  { serverTimestamp: Timestamp, stored: Type.Integer({ minimum: 0 }) },
  closed,
);
export type SendMessagesResponse = Static<typeof SendMessagesResponse>;

export const MultiRecipient = Type.Object(
  { accountId: AccountId, deviceId: DeviceId, registrationId: RegistrationId },
  closed,
);
export type MultiRecipient = Static<typeof MultiRecipient>;

/**
 * `PUT /v1/messages/multi_recipient`: one sender-key ciphertext for many devices. Every account
 * named must be covered completely (all its devices), as in a single send.
 */
export const MultiRecipientSendRequest = Type.Object(
  {
    timestamp: Timestamp,
    sendId: Type.Optional(SendId),
    type: EnvelopeType,
    content: EnvelopeContent,
    recipients: Type.Array(MultiRecipient, { minItems: 1, maxItems: MAX_MULTI_RECIPIENTS }),
  },
  closed,
);
export type MultiRecipientSendRequest = Static<typeof MultiRecipientSendRequest>;

/** An envelope as delivered (WebSocket `envelope` frame or `GET /v1/messages`). */
export const Envelope = Type.Object(
  {
    id: EnvelopeId,
    type: EnvelopeType,
    sourceAccountId: AccountId,
    sourceDeviceId: DeviceId,
    destinationDeviceId: DeviceId,
    timestamp: Timestamp,
    serverTimestamp: Timestamp,
    content: EnvelopeContent,
  },
  closed,
);
export type Envelope = Static<typeof Envelope>;

/**
 * A sealed sender envelope (see `sealed.ts`) as delivered: the relay knows only its destination,
 * so it carries no source; the recipient learns the sender by opening it.
 */
export const SEALED_ENVELOPE_TYPE = 'unidentified_sender';
export const SealedEnvelope = Type.Object(
  {
    id: EnvelopeId,
    type: Type.Literal(SEALED_ENVELOPE_TYPE),
    destinationDeviceId: DeviceId,
    timestamp: Timestamp,
    serverTimestamp: Timestamp,
    content: EnvelopeContent,
  },
  closed,
);
export type SealedEnvelope = Static<typeof SealedEnvelope>;

/** What a device receives: an envelope sent with the sender's login, or a sealed one. */
export const DeliveredEnvelope = Type.Union([Envelope, SealedEnvelope]);
export type DeliveredEnvelope = Static<typeof DeliveredEnvelope>;

/** Whether a delivered envelope is sealed (has no source). */
export function isSealedEnvelope(envelope: DeliveredEnvelope): envelope is SealedEnvelope {
  return envelope.type === SEALED_ENVELOPE_TYPE;
}

/** `GET /v1/messages?limit=N`: HTTP fallback for devices that cannot hold a WebSocket. */
export const FetchMessagesQuery = Type.Object(
  { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })) },
  closed,
);
export type FetchMessagesQuery = Static<typeof FetchMessagesQuery>;

export const FetchMessagesResponse = Type.Object(
  { envelopes: Type.Array(DeliveredEnvelope), more: Type.Boolean() },
  closed,
);
export type FetchMessagesResponse = Static<typeof FetchMessagesResponse>;
