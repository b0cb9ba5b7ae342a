/**
 * Versioning of the WebSocket protocol.
 *
 * A client offers `WS_SUBPROTOCOL` in `Sec-WebSocket-Protocol`; the relay refuses the upgrade
 * (HTTP 400, `unsupported_protocol`) when it is missing. A breaking change to any frame bumps
 * `WS_PROTOCOL_VERSION`, and for a while the relay accepts both subprotocols.
 * @module
 */

/** The WebSocket frame format described in `frames.ts`. */
export const WS_PROTOCOL_VERSION = 1;

/** The subprotocol name a client must offer when it opens any relay WebSocket. */
export const WS_SUBPROTOCOL = `parley.v${WS_PROTOCOL_VERSION}`;

/**
 * Browsers cannot set an `Authorization` header on a WebSocket, so a browser client offers a
 * second subprotocol `parley.auth.<base64url(accountId.deviceId:credential)>` instead
 * (the same trick Kubernetes uses for bearer tokens). The relay never selects it, so it is
 * never echoed back, and it is redacted from logs.
 */
export const WS_AUTH_SUBPROTOCOL_PREFIX = 'parley.auth.';

/** The relay's WebSocket paths. */
export const WS_PATHS = {
  /** Authenticated delivery socket for a registered device. */
  messages: '/v1/websocket',
  /** Unauthenticated socket a new device opens to receive its provisioning message. */
  provisioning: '/v1/provisioning',
} as const;

/**
 * Application close codes (4000–4999 are reserved for applications by RFC 6455 §7.4.2).
 * 1001 (going away) is used when the relay shuts down.
 */
export const CloseCode = {
  /** Normal end, e.g. a provisioning socket after its message was delivered. */
  Normal: 1000,
  /** The relay is shutting down; reconnect with backoff. */
  GoingAway: 1001,
  /**
   * The socket broke a relay limit (too many frames, or too many sockets from one address);
   * reconnect with backoff.
   */
  PolicyViolation: 1008,
  /** The relay hit an internal error on this socket; reconnect with backoff. */
  InternalError: 1011,
  /** Another connection for the same device took over; do not reconnect automatically. */
  Replaced: 4001,
  /** The device (or its whole account) was removed; the credential no longer works. */
  DeviceRemoved: 4002,
  /** A frame was not valid JSON or did not match the protocol; fix the client. */
  InvalidFrame: 4003,
  /** The provisioning address expired before a message arrived. */
  ProvisioningExpired: 4004,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];
