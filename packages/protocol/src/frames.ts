/**
 * WebSocket frames (protocol version `WS_PROTOCOL_VERSION`). Every frame is one JSON text
 * message with a `type` discriminator. Nothing validates frames for us after the upgrade, so both
 * sides run every incoming frame through the parsers below before acting on it.
 *
 * Delivery socket (`/v1/websocket`):
 *   relay → device: `envelope` (must be acked), `queue_empty` (the stored backlog has been
 *   sent; live envelopes follow), `pong`, `error`.
 *   device → relay: `ack` of one id or a batch of `ids` (the relay deletes those envelopes only
 *   now), `ping`.
 * Provisioning socket (`/v1/provisioning`):
 *   relay → new device: `provisioning_address`, then `provisioning_message`, then close 1000.
 *   new device → relay: `ping`.
 * @module
 */
import { Type, type Static, type TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { MAX_ACK_IDS_PER_FRAME, MAX_CLIENT_FRAME_BYTES } from './limits.ts';
import { DeliveredEnvelope } from './messages.ts';
import { EnvelopeId, Timestamp } from './primitives.ts';
import { ProvisioningAddress, ProvisioningMessageBody } from './provisioning.ts';

const closed = { additionalProperties: false } as const;

/**
 * Acks one envelope (`id`, the original form) or many at once (`ids`, so a busy device needs one
 * frame and the relay one statement per batch); at least one of the two.
 */
export const AckFrame = Type.Object(
  {
    type: Type.Literal('ack'),
    id: Type.Optional(EnvelopeId),
    ids: Type.Optional(Type.Array(EnvelopeId, { minItems: 1, maxItems: MAX_ACK_IDS_PER_FRAME })),
  },
  { ...closed, minProperties: 2 },
);
export type AckFrame = Static<typeof AckFrame>;

const PingId = Type.Optional(Type.Integer({ minimum: 0, maximum: 0xffffffff }));
export const PingFrame = Type.Object({ type: Type.Literal('ping'), id: PingId }, closed);
export type PingFrame = Static<typeof PingFrame>;

export const EnvelopeFrame = Type.Object(
  { type: Type.Literal('envelope'), envelope: DeliveredEnvelope },
  closed,
);
export type EnvelopeFrame = Static<typeof EnvelopeFrame>;

export const QueueEmptyFrame = Type.Object({ type: Type.Literal('queue_empty') }, closed);
export type QueueEmptyFrame = Static<typeof QueueEmptyFrame>;

export const PongFrame = Type.Object({ type: Type.Literal('pong'), id: PingId }, closed);
export type PongFrame = Static<typeof PongFrame>;

export const ErrorFrame = Type.Object(
  { type: Type.Literal('error'), error: Type.String(), message: Type.String() },
  closed,
);
export type ErrorFrame = Static<typeof ErrorFrame>;

export const ProvisioningAddressFrame = Type.Object(
  {
    type: Type.Literal('provisioning_address'),
    address: ProvisioningAddress,
    expiresAt: Timestamp,
  },
  closed,
);
export type ProvisioningAddressFrame = Static<typeof ProvisioningAddressFrame>;

export const ProvisioningMessageFrame = Type.Object(
  { type: Type.Literal('provisioning_message'), body: ProvisioningMessageBody },
  closed,
);
export type ProvisioningMessageFrame = Static<typeof ProvisioningMessageFrame>;

/** Frames a device sends on the delivery socket. */
export type ClientFrame = AckFrame | PingFrame;
/** Frames the relay sends on the delivery socket. */
export type ServerFrame = EnvelopeFrame | QueueEmptyFrame | PongFrame | ErrorFrame;
/** Frames a new device sends on the provisioning socket. */
export type ProvisioningClientFrame = PingFrame;
/** Frames the relay sends on the provisioning socket. */
export type ProvisioningServerFrame =
  ProvisioningAddressFrame | ProvisioningMessageFrame | PongFrame | ErrorFrame;

export type FrameParseResult<T> = { ok: true; frame: T } | { ok: false; error: string };
export type FrameParser<T> = (data: string) => FrameParseResult<T>;

/**
 * Builds a parser that dispatches on `type` and checks the frame against that type's compiled
 * schema, so an error names the field that is wrong rather than "matches no union member".
 * Error messages never include the frame's content.
 */
function frameParser<T>(schemas: readonly TSchema[], maxChars?: number): FrameParser<T> {
  const byType = new Map<string, ReturnType<typeof Compile>>();
  for (const schema of schemas) {
    const literal = (schema as { properties?: { type?: { const?: unknown } } }).properties?.type
      ?.const;
    if (typeof literal !== 'string') throw new TypeError('frame schema without a literal type');
    byType.set(literal, Compile(schema));
  }
  return (data) => {
    if (typeof data !== 'string') return { ok: false, error: 'frame must be text' };
    if (maxChars !== undefined && data.length > maxChars) {
      return { ok: false, error: `frame longer than ${maxChars} characters` };
    }
    let value: unknown;
    try {
      value = JSON.parse(data);
    } catch {
      return { ok: false, error: 'frame is not valid JSON' };
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return { ok: false, error: 'frame must be a JSON object' };
    }
    const type = (value as { type?: unknown }).type;
    const validator = typeof type === 'string' ? byType.get(type) : undefined;
    if (validator === undefined) {
      return {
        ok: false,
        error: `unknown frame type; expected one of: ${[...byType.keys()].join(', ')}`,
      };
    }
    if (!validator.Check(value)) {
      const first = validator.Errors(value)[0];
      const where = first?.instancePath || '/';
      return {
        ok: false,
        error: `invalid ${type} frame at ${where}: ${first?.message ?? 'invalid'}`,
      };
    }
    return { ok: true, frame: value as T };
  };
}

/** Relay side: validates a frame from a device on the delivery socket. */
export const parseClientFrame: FrameParser<ClientFrame> = frameParser(
  [AckFrame, PingFrame],
  MAX_CLIENT_FRAME_BYTES,
);
/** Client side: validates a frame from the relay on the delivery socket. */
export const parseServerFrame: FrameParser<ServerFrame> = frameParser([
  EnvelopeFrame,
  QueueEmptyFrame,
  PongFrame,
  ErrorFrame,
]);
/** Relay side: validates a frame from a new device on the provisioning socket. */
export const parseProvisioningClientFrame: FrameParser<ProvisioningClientFrame> = frameParser(
  [PingFrame],
  MAX_CLIENT_FRAME_BYTES,
);
/** New-device side: validates a frame from the relay on the provisioning socket. */
export const parseProvisioningServerFrame: FrameParser<ProvisioningServerFrame> = frameParser([
  ProvisioningAddressFrame,
  ProvisioningMessageFrame,
  PongFrame,
  ErrorFrame,
]);

/** Frames are plain JSON; one helper so both sides serialize the same way. */
export function encodeFrame(frame: ClientFrame | ServerFrame | ProvisioningServerFrame): string {
  return JSON.stringify(frame);
}
