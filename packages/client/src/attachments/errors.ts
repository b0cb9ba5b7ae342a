/**
 * Typed errors of attachment encryption. None of them carries plaintext or key material; a
 * UI maps `code` to words.
 * @module
 */

export type AttachmentIntegrityCode =
  /** SHA-256 of the downloaded blob is not the digest the sender put in the pointer. */
  | 'bad_digest'
  /** The HMAC over IV ‖ ciphertext does not verify. */
  | 'bad_mac'
  /** The CBC padding is invalid (only reachable by a sender that MACed garbage). */
  | 'bad_padding'
  /** The blob or the decrypted plaintext does not have the length the pointer says. */
  | 'bad_size'
  /** The pointer's key is not 64 bytes, or its digest not 32. */
  | 'bad_key';

/** A downloaded attachment failed a check: nothing of it is returned. */
export class AttachmentIntegrityError extends Error {
  override readonly name = 'AttachmentIntegrityError';
  constructor(
    readonly code: AttachmentIntegrityCode,
    message: string,
  ) {
    super(message);
  }
}
