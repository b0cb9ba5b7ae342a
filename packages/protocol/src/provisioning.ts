/**
 * Device linking. The new device opens the provisioning WebSocket and receives a one-time
 * address; it shows the address (e.g. as a QR code together with an ephemeral public key). An
 * existing device encrypts a provisioning message to that key — identity key pair, account id,
 * a linking code — and sends it here. The relay forwards the opaque bytes and never sees a key.
 * @module
 */
import { Type, type Static } from 'typebox';
import { MAX_PROVISIONING_MESSAGE_BYTES } from './limits.ts';
import { Base64Bytes } from './primitives.ts';

/** 256 random bits, base64url: unguessable, so knowing it is the only right to send to it. */
export const ProvisioningAddress = Type.String({ pattern: '^[A-Za-z0-9_-]{43}$' });
export type ProvisioningAddress = Static<typeof ProvisioningAddress>;

export const ProvisioningMessageBody = Base64Bytes(
  MAX_PROVISIONING_MESSAGE_BYTES,
  'End-to-end encrypted provisioning message, opaque to the relay, base64',
);

/** `PUT /v1/provisioning/:address` (authenticated). */
export const SendProvisioningMessageRequest = Type.Object(
  { body: ProvisioningMessageBody },
  { additionalProperties: false },
);
export type SendProvisioningMessageRequest = Static<typeof SendProvisioningMessageRequest>;
