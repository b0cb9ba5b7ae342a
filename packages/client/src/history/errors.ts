/**
 * Why a history transfer failed, as a stable code plus words a UI can show as they are.
 * @module
 */

export type HistoryTransferErrorCode =
  /** The downloaded archive is not the one the other device uploaded (digest differs). */
  | 'digest_mismatch'
  /** The archive did not decrypt: tampered, truncated, reordered or the wrong key. */
  | 'decrypt_failed'
  /** It decrypted but its contents are not a history archive this client can read. */
  | 'malformed'
  /** A newer archive format than this client understands. */
  | 'unsupported_version'
  /** Larger than this client accepts. */
  | 'too_large'
  /** The archive could not be uploaded (primary) or downloaded (new device). */
  | 'transfer_failed'
  /** Building the archive or storing the imported history failed. */
  | 'storage_failed'
  /** The other device could not prepare the archive (it said why). */
  | 'not_prepared';

export class HistoryTransferError extends Error {
  override readonly name = 'HistoryTransferError';
  constructor(
    readonly code: HistoryTransferErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The typed error for anything thrown while transferring (unknown errors keep their cause). */
export function asHistoryError(
  err: unknown,
  code: HistoryTransferErrorCode,
  what: string,
): HistoryTransferError {
  if (err instanceof HistoryTransferError) return err;
  const why = err instanceof Error ? err.message : String(err);
  return new HistoryTransferError(code, `${what}: ${why}`, { cause: err });
}
