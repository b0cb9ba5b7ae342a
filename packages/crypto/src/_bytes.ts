/**
 * Byte helpers used throughout the package. Internal: not exported from the package.
 * @module
 */
import { ProtocolError, type ProtocolErrorCode } from './errors.ts';

/** Asserts `value` is a Uint8Array (of `length`, when given); names the argument on failure. */
export function abytes(
  value: unknown,
  title: string,
  length?: number,
  code: ProtocolErrorCode = 'InvalidArgument',
): Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new ProtocolError(code, `${title} must be a Uint8Array`);
  }
  if (length !== undefined && value.length !== length) {
    throw new ProtocolError(code, `${title} must be ${length} bytes, got ${value.length}`);
  }
  return value;
}

/** Asserts `value` is an integer in [min, max]. */
export function auint(value: unknown, title: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ProtocolError('InvalidArgument', `${title} must be an integer in [${min}, ${max}]`);
  }
  return value;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Constant-time equality for equal-length inputs (length itself is not secret). */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** Non-secret equality (public keys, ids). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Zero-fills temporaries that held secrets. */
export function wipe(...arrays: (Uint8Array | undefined)[]): void {
  for (const a of arrays) a?.fill(0);
}

const utf8Encoder = new TextEncoder();
export const utf8 = (s: string): Uint8Array => utf8Encoder.encode(s);

export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new ProtocolError('InvalidArgument', 'hex string is malformed');
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** base64 without Buffer, for record serialisation in browsers and Node. */
export function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

export function fromBase64(b64: string, code: ProtocolErrorCode = 'InvalidRecord'): Uint8Array {
  let s: string;
  try {
    s = atob(b64);
  } catch (cause) {
    throw new ProtocolError(code, 'base64 is malformed', { cause });
  }
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** Writes a u32 big-endian. */
export function u32be(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n >>> 0, false);
  return out;
}
