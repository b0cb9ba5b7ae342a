/**
 * @parley/crypto: the Signal protocol on noble, wire-compatible with libsignal.
 *
 * The root import gathers the public API of every subpath (`@parley/crypto/session.js`, …);
 * the subpaths stay for code that wants one area only.
 * @module
 */
export * from './address.ts';
export * from './backend.ts';
export * from './curve.ts';
export * from './errors.ts';
export * from './fingerprint.ts';
export * from './group.ts';
export * from './inmem-stores.ts';
export * from './kem.ts';
export * from './lock.ts';
export * from './messages.ts';
export * from './prekeys.ts';
export * from './random.ts';
export * from './session.ts';
export * from './stores.ts';
// Re-exported by both group.ts and session.ts (the same constants).
export { MAX_FORWARD_JUMPS, MAX_MESSAGE_KEYS } from './consts.ts';
