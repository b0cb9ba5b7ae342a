/**
 * Scalar schemas every message is built from. Binary values travel as standard base64 with
 * padding; fixed-size keys are checked for their exact decoded length by pattern, including the
 * zero bits of the last character, so every accepted string has exactly one byte decoding.
 * @module
 */
import { Type, type Static } from 'typebox';
import {
  EC_PUBLIC_KEY_BYTES,
  KYBER_PUBLIC_KEY_BYTES,
  MAX_DEVICE_ID,
  MAX_KEY_ID,
  MAX_REGISTRATION_ID,
  SIGNATURE_BYTES,
} from './limits.ts';

const B64 = 'A-Za-z0-9+/';

/** A regular expression matching the canonical base64 encoding of exactly `bytes` bytes. */
export function base64PatternOfLength(bytes: number): string {
  if (!Number.isSafeInteger(bytes) || bytes < 1) {
    throw new RangeError(`bytes must be a positive integer, got ${bytes}`);
  }
  const fullGroups = Math.floor(bytes / 3);
  const head = `[${B64}]{${fullGroups * 4}}`;
  switch (bytes % 3) {
    case 0:
      return `^${head}$`;
    case 1: // one trailing byte: 2 chars, the second with its low 4 bits zero
      return `^${head}[${B64}][AQgw]==$`;
    default: // two trailing bytes: 3 chars, the third with its low 2 bits zero
      return `^${head}[${B64}]{2}[AEIMQUYcgkosw048]=$`;
  }
}

/** Exact decoded length of a canonical, padded base64 string of a valid length. */
export function base64DecodedLength(b64: string): number {
  const padding = b64.endsWith('==') ? 2 : b64.endsWith('=') ? 1 : 0;
  return (b64.length / 4) * 3 - padding;
}

/** Encoded length of `bytes` bytes in padded base64. */
export function base64EncodedLength(bytes: number): number {
  return Math.ceil(bytes / 3) * 4;
}

/** Padded base64 of 1..maxBytes bytes (length is checked by `maxLength`, alphabet by pattern). */
export function Base64Bytes(maxBytes: number, description: string) {
  return Type.String({
    pattern: `^(?:[${B64}]{4})*(?:[${B64}]{2}==|[${B64}]{3}=)?$`,
    minLength: 4,
    maxLength: base64EncodedLength(maxBytes),
    description,
  });
}

/** Random account id (UUID, lowercase hex). */
export const AccountId = Type.String({
  pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$',
  description: 'Account id: a random UUID in lowercase hex',
});
export type AccountId = Static<typeof AccountId>;

/** Server-assigned envelope id (UUID); also what a device acks. */
export const EnvelopeId = Type.String({
  pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$',
  description: 'Envelope id: a random UUID in lowercase hex',
});
export type EnvelopeId = Static<typeof EnvelopeId>;

/**
 * Client-chosen id of one send (16 random bytes, base64url without padding). The relay stores at
 * most one result per (sender device, send id) within the retention window and answers a retry
 * with the first answer, so a send whose reply was lost is never stored twice.
 */
export const SendId = Type.String({
  pattern: '^[A-Za-z0-9_-]{22}$',
  description: 'Send id: 16 random bytes, base64url, no padding; chosen by the sending device',
});
export type SendId = Static<typeof SendId>;

export const DeviceId = Type.Integer({ minimum: 1, maximum: MAX_DEVICE_ID });
export type DeviceId = Static<typeof DeviceId>;

export const RegistrationId = Type.Integer({ minimum: 1, maximum: MAX_REGISTRATION_ID });
export type RegistrationId = Static<typeof RegistrationId>;

export const KeyId = Type.Integer({ minimum: 0, maximum: MAX_KEY_ID });
export type KeyId = Static<typeof KeyId>;

/** Milliseconds since the Unix epoch. */
export const Timestamp = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
export type Timestamp = Static<typeof Timestamp>;

export const EcPublicKey = Type.String({
  pattern: base64PatternOfLength(EC_PUBLIC_KEY_BYTES),
  description: `${EC_PUBLIC_KEY_BYTES}-byte EC public key (0x05 prefix), base64`,
});
export const KyberPublicKey = Type.String({
  pattern: base64PatternOfLength(KYBER_PUBLIC_KEY_BYTES),
  description: `${KYBER_PUBLIC_KEY_BYTES}-byte Kyber1024 public key (0x08 prefix), base64`,
});
export const Signature = Type.String({
  pattern: base64PatternOfLength(SIGNATURE_BYTES),
  description: `${SIGNATURE_BYTES}-byte XEdDSA signature, base64`,
});

/**
 * A username as typed. The relay lowercases it; uniqueness and lookups are case-insensitive.
 * Only ASCII letters, digits, `_` and `.` are allowed, which rules out homoglyphs from other
 * scripts (Cyrillic `а`, Greek `ο`, fullwidth forms …) by construction.
 */
export const Username = Type.String({
  pattern: '^[A-Za-z0-9_.]{3,32}$',
  minLength: 3,
  maxLength: 32,
  description: '3–32 characters of a-z, 0-9, "_" and "."; case-insensitive',
});
export type Username = Static<typeof Username>;

/** Canonical form of a username that passed the `Username` schema. */
export function normalizeUsername(username: string): string {
  // Safe for the ASCII-only alphabet above (no locale-sensitive letters such as Turkish İ).
  return username.toLowerCase();
}
