/**
 * The attachment records' storage contract, beside `RelayStore` (`store.attachments`). A record
 * says who uploaded a blob, how big it is and whether it is complete; the blob itself lives in a
 * blob store (`attachments/blob-store.ts`), never in the database.
 *
 * Sizes count against the uploading account's quota from the moment an upload is created (the
 * space is reserved), until the record is removed.
 * @module
 */

export interface AttachmentRecord {
  id: string;
  accountId: string;
  /** Declared length (`Upload-Length`), bytes. */
  size: number;
  createdAt: number;
  /** Set once every byte was received; only complete attachments are served. */
  completedAt?: number;
}

export interface AttachmentUsage {
  /** Bytes of all the account's attachments, complete or not. */
  bytes: number;
  /** Creation time of the account's oldest complete attachment (none: undefined). */
  oldestComplete?: number;
  /** Creation time of the account's oldest unfinished upload (none: undefined). */
  oldestIncomplete?: number;
}

/** What `due` finds to remove. */
export interface AttachmentSweep {
  now: number;
  /** Complete attachments created before `now - retentionMs` are due. */
  retentionMs: number;
  /** Incomplete ones created before `now - incompleteTtlMs` are due. */
  incompleteTtlMs: number;
  /** At most this many ids per call. */
  limit: number;
}

export type AttachmentCreation = 'created' | 'over_quota' | 'unknown_account';

export interface AttachmentStore {
  /**
   * Records a new upload if the account's attachments plus `record.size` stay within
   * `quotaBytes` (checked and recorded atomically, so concurrent uploads cannot overshoot);
   * `over_quota`, or `unknown_account` (deleted meanwhile), store nothing.
   */
  create(record: AttachmentRecord, quotaBytes: number): Promise<AttachmentCreation>;
  get(id: string): Promise<AttachmentRecord | undefined>;
  /** Marks the attachment complete at `at`; false if there is no such record. */
  complete(id: string, at: number): Promise<boolean>;
  usage(accountId: string): Promise<AttachmentUsage>;
  /**
   * Ids due for removal: expired complete ones, stale incomplete ones, and those of accounts
   * that no longer exist (deleted accounts).
   */
  due(sweep: AttachmentSweep): Promise<string[]>;
  /** Every attachment id of the account (account deletion). */
  ofAccount(accountId: string): Promise<string[]>;
  /** Deletes these records; returns how many existed. */
  remove(ids: readonly string[]): Promise<number>;
}

/** `usage` from a row of `SUM(size)` and the two `MIN(created_at)`s (shared by the stores). */
export const usageFromRow = (row: {
  bytes: number;
  complete: number | null;
  incomplete: number | null;
}): AttachmentUsage => ({
  bytes: row.bytes,
  ...(row.complete === null ? {} : { oldestComplete: row.complete }),
  ...(row.incomplete === null ? {} : { oldestIncomplete: row.incomplete }),
});
