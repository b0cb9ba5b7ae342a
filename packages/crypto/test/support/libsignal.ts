/**
 * The libsignal versions we test against (see ../shared/protocol/SIGNAL-WIRE.md), loaded
 * side by side under npm aliases. 0.72.1 is CommonJS and wants `Buffer`s; the others are ESM.
 */
import * as ls090 from 'libsignal-0.90';
import * as ls0103 from 'libsignal-0.103';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
// 0.72.1 ships CommonJS; its typings are close enough to 0.90's for the calls we make.
export const ls072 = require('libsignal-0.72') as typeof ls090;
export { ls090, ls0103 };

/** Buffer view for 0.72.1, which rejects plain Uint8Arrays. */
export const buf = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);
/** A plain Uint8Array copy (so toEqual compares against our outputs). */
export const u8 = (b: Uint8Array): Uint8Array => Uint8Array.from(b);

/** The byte type libsignal's typings want. */
export type LsBytes = Uint8Array<ArrayBuffer>;
/** Our bytes in the form a given libsignal version accepts (Buffer for 0.72.1). */
export const bytesFor =
  (ls: unknown) =>
  (u: Uint8Array): LsBytes =>
    (ls === ls072 ? buf(u) : u) as LsBytes;
/** Our bytes typed for libsignal ≥ 0.75. */
export const lsb = (u: Uint8Array): LsBytes => u as LsBytes;
