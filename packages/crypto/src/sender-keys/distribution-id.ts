/**
 * Distribution ids: a group's sender-key "channel" is named by a UUID. On the wire it is the
 * 16 raw bytes (SenderKeyMessage / SenderKeyDistributionMessage field 1); in the API and as a
 * store key it is the canonical lowercase hyphenated string (`8-4-4-4-12` hex digits), which
 * is also what libsignal's JS API passes around.
 * @module
 */
import { abytes, fromHex, toHex } from '../_bytes.ts';
import { ProtocolError, type ProtocolErrorCode } from '../errors.ts';

export const DISTRIBUTION_ID_LENGTH = 16;

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Checks a UUID string and returns its canonical (lowercase) form. */
export function canonicalDistributionId(id: unknown): string {
  if (typeof id !== 'string' || !UUID_RE.test(id)) {
    throw new ProtocolError('InvalidArgument', 'distributionId must be a UUID string');
  }
  return id.toLowerCase();
}

/** UUID string → 16 bytes. */
export function distributionIdToBytes(id: string): Uint8Array {
  return fromHex(canonicalDistributionId(id).replaceAll('-', ''));
}

/** 16 bytes → canonical UUID string; any other length is a `code` error (a malformed message). */
export function distributionIdFromBytes(
  bytes: Uint8Array,
  code: ProtocolErrorCode = 'InvalidMessage',
): string {
  abytes(bytes, 'distribution id', DISTRIBUTION_ID_LENGTH, code);
  const h = toHex(bytes);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
