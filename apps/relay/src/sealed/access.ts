/**
 * Unidentified-access keys: what authorises a sealed send instead of a login. An account's key
 * is 16 random-looking bytes derived from a secret the account shares with its contacts only
 * inside end-to-end encrypted content; the relay stores SHA-256(key) and compares hashes in
 * constant time, also when the account has no key (so timing does not say which accounts do).
 * A leaked hash does not let anyone send sealed: the key is 128 bits, not guessable.
 * @module
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { ErrorCode, UNIDENTIFIED_ACCESS_KEY_BYTES } from '@parley/protocol';
import { RelayError } from '../errors.ts';

/** SHA-256 of an access key: the only form the relay stores. */
export function hashAccessKey(key: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(key).digest());
}

/** Compared against when an account has no key, so both paths do the same work. */
const ABSENT = hashAccessKey(new Uint8Array(UNIDENTIFIED_ACCESS_KEY_BYTES));

/** Constant-time check of a presented key (base64, schema-checked) against a stored hash. */
export function accessKeyMatches(presented: string, storedHash: Uint8Array | undefined): boolean {
  const hash = hashAccessKey(Buffer.from(presented, 'base64'));
  const expected = storedHash?.length === hash.length ? storedHash : ABSENT;
  const equal = timingSafeEqual(hash, expected);
  return equal && expected !== ABSENT;
}

/** 401 for a sealed send whose access key is missing or wrong (or whose account is unknown). */
export const wrongAccessKey = () =>
  new RelayError(
    401,
    ErrorCode.Unauthorized,
    'the unidentified-access key does not match; send with your login instead',
  );
