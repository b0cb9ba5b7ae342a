/**
 * The one error type of @parley/crypto. Every failure the protocol can meet — bad input,
 * a failed MAC, a replay, an unknown identity — is a `ProtocolError` with a stable `code`,
 * so callers branch on `err.code`, never on message text. Messages never contain key material.
 * @module
 */

export type ProtocolErrorCode =
  /** An argument had the wrong type or length (a programming error at the call site). */
  | 'InvalidArgument'
  /** A key could not be decoded (wrong type byte, wrong length, low-order point). */
  | 'InvalidKey'
  /** A message could not be parsed or failed a structural check. */
  | 'InvalidMessage'
  /** A message's MAC did not verify. */
  | 'InvalidMac'
  /** A signature did not verify (signed prekey, Kyber prekey, sender-key message). */
  | 'InvalidSignature'
  /** The message version is older than any we accept. */
  | 'LegacyCiphertextVersion'
  /** The message version is newer than any we understand, or does not match the session. */
  | 'UnrecognizedMessageVersion'
  /** A message key for this counter/iteration was already used: a replay or duplicate. */
  | 'DuplicatedMessage'
  /** The counter/iteration is further ahead than the protocol's forward-jump limit. */
  | 'TooFarIntoFuture'
  /** No session exists with the remote address. */
  | 'SessionNotFound'
  /** The remote identity differs from the trusted one; the application must decide. */
  | 'UntrustedIdentity'
  /** A prekey, signed prekey or Kyber prekey referenced by a message is not in our store. */
  | 'InvalidPreKeyId'
  | 'InvalidSignedPreKeyId'
  | 'InvalidKyberPreKeyId'
  /** No sender-key state for this sender and distribution id (or chain id). */
  | 'NoSenderKeyState'
  /** A stored record could not be decoded (corrupt or from an unknown version). */
  | 'InvalidRecord'
  /** Safety-number comparison: versions or identifiers differ. */
  | 'FingerprintVersionMismatch'
  | 'FingerprintIdentifierMismatch'
  | 'FingerprintParsingError'
  /** A session exists but cannot be used (e.g. unacknowledged for too long). */
  | 'InvalidState'
  /** A session's remote registration id does not fit sealed sender v2's 14 bits. */
  | 'InvalidRegistrationId'
  /**
   * A server or sender certificate could not be decoded, or its signature chain does not lead
   * to a trust root (tampered, or signed by another trust root or server key).
   */
  | 'InvalidCertificate'
  /** A sender certificate's expiry is earlier than the validation time. */
  | 'ExpiredCertificate'
  /** The server certificate's key id is on the revocation list. */
  | 'RevokedCertificate'
  /** A sender certificate names its server certificate by an id we do not know. */
  | 'UnknownServerCertificate'
  /**
   * A sealed sender message could not be decoded or opened: malformed, a failed MAC or AEAD
   * tag, or a sender certificate whose key does not match the sealing key.
   */
  | 'InvalidSealedSenderMessage'
  /** The sealed sender version byte is not one we understand (v1 and v2 are). */
  | 'UnknownSealedSenderVersion'
  /** A sealed sender message claims to come from this very device. */
  | 'SealedSenderSelfSend';

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  readonly code: ProtocolErrorCode;

  constructor(code: ProtocolErrorCode, message: string, options?: { cause?: unknown }) {
    super(`${code}: ${message}`, options);
    this.code = code;
  }
}

/** True when `err` is a ProtocolError, optionally with the given code. */
export function isProtocolError(err: unknown, code?: ProtocolErrorCode): err is ProtocolError {
  return err instanceof ProtocolError && (code === undefined || err.code === code);
}
