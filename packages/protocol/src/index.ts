/**
 * @parley/protocol: the contract between the Parley relay and its clients.
 *
 * - HTTP request/response schemas (TypeBox, i.e. JSON Schema) with their static types; the relay
 *   registers them on its routes, so validation, OpenAPI docs and client types share one source.
 * - WebSocket frames, their validators, close codes and the protocol version.
 * - The device login format (HTTP Basic / WebSocket subprotocol).
 *
 * No crypto and no I/O: binary values are opaque base64 strings of checked sizes.
 * @module
 */
export * from './version.ts';
export * from './limits.ts';
export * from './primitives.ts';
export * from './errors.ts';
export * from './keys.ts';
export * from './accounts.ts';
export * from './messages.ts';
export * from './sealed.ts';
export * from './provisioning.ts';
export * from './frames.ts';
export * from './auth.ts';
export * from './health.ts';
export * from './csp.ts';
export * from './attachments.ts';
