/**
 * Device credentials, linking codes and provisioning addresses.
 *
 * A credential is 256 bits from the OS CSPRNG. The relay stores only SHA-256(credential) and
 * compares hashes in constant time. A slow password KDF (Argon2, scrypt, bcrypt) exists to make
 * guessing *low-entropy human passwords* expensive after a database leak; a uniformly random
 * 256-bit secret cannot be guessed at any speed, so a fast preimage-resistant hash gives the
 * same protection — a leaked hash does not let anyone log in — without costing milliseconds of
 * CPU on every authenticated request (and without opening a CPU-exhaustion DoS on the login path).
 * @module
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** 32 random bytes as base64url (43 characters): the `credential` a device gets once. */
export function generateCredential(): string {
  return randomBytes(32).toString('base64url');
}

/** 16 random bytes as base64url (22 characters): a one-time linking code. */
export function generateLinkingCode(): string {
  return randomBytes(16).toString('base64url');
}

/** 32 random bytes as base64url (43 characters): a provisioning address. */
export function generateProvisioningAddress(): string {
  return randomBytes(32).toString('base64url');
}

/** SHA-256 of a high-entropy secret; the only form in which the relay stores one. */
export function hashSecret(secret: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(secret, 'utf8').digest());
}

/** Hash compared against when a device does not exist, so both paths do the same work. */
const ABSENT = hashSecret('absent device: no credential hashes to this');

/**
 * Constant-time check of `credential` against a stored hash (or against nothing, when the
 * device is unknown — the comparison still runs so timing does not reveal which ids exist).
 */
export function verifyCredential(credential: string, storedHash: Uint8Array | undefined): boolean {
  const presented = hashSecret(credential);
  const expected = storedHash?.length === presented.length ? storedHash : ABSENT;
  const equal = timingSafeEqual(presented, expected);
  return equal && expected !== ABSENT;
}
