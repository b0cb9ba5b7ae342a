/**
 * `AttachmentStore` on the relay's SQLite database (table `attachments`, migration 5). Each
 * method is one statement or one synchronous transaction: better-sqlite3 runs it to completion,
 * so the quota check and the insert cannot interleave with another upload's.
 * @module
 */
import type Database from 'better-sqlite3';
import {
  usageFromRow,
  type AttachmentCreation,
  type AttachmentRecord,
  type AttachmentStore,
  type AttachmentSweep,
  type AttachmentUsage,
} from './attachments.ts';

interface AttachmentRow {
  id: string;
  account_id: string;
  size: number;
  created_at: number;
  completed_at: number | null;
}

export const attachmentFromRow = (row: AttachmentRow): AttachmentRecord => ({
  id: row.id,
  accountId: row.account_id,
  size: row.size,
  createdAt: row.created_at,
  ...(row.completed_at === null ? {} : { completedAt: row.completed_at }),
});

export class SqliteAttachmentStore implements AttachmentStore {
  readonly #db: Database.Database;

  constructor(db: Database.Database) {
    this.#db = db;
  }

  async create(record: AttachmentRecord, quotaBytes: number): Promise<AttachmentCreation> {
    return this.#db.transaction((): AttachmentCreation => {
      const account = this.#db
        .prepare('SELECT 1 FROM accounts WHERE account_id = ?')
        .get(record.accountId);
      if (account === undefined) return 'unknown_account';
      const { bytes } = this.#db
        .prepare('SELECT COALESCE(SUM(size), 0) AS bytes FROM attachments WHERE account_id = ?')
        .get(record.accountId) as { bytes: number };
      if (bytes + record.size > quotaBytes) return 'over_quota';
      this.#db
        .prepare(
          `INSERT INTO attachments (id, account_id, size, created_at, completed_at)
             VALUES (?, ?, ?, ?, NULL)`,
        )
        .run(record.id, record.accountId, record.size, record.createdAt);
      return 'created';
    })();
  }

  async get(id: string): Promise<AttachmentRecord | undefined> {
    const row = this.#db.prepare('SELECT * FROM attachments WHERE id = ?').get(id) as
      AttachmentRow | undefined;
    return row && attachmentFromRow(row);
  }

  async complete(id: string, at: number): Promise<boolean> {
    return (
      this.#db
        .prepare('UPDATE attachments SET completed_at = COALESCE(completed_at, ?) WHERE id = ?')
        .run(at, id).changes > 0
    );
  }

  async usage(accountId: string): Promise<AttachmentUsage> {
    const row = this.#db
      .prepare(
        `SELECT COALESCE(SUM(size), 0) AS bytes,
                MIN(CASE WHEN completed_at IS NOT NULL THEN created_at END) AS complete,
                MIN(CASE WHEN completed_at IS NULL THEN created_at END) AS incomplete
           FROM attachments WHERE account_id = ?`,
      )
      .get(accountId) as { bytes: number; complete: number | null; incomplete: number | null };
    return usageFromRow(row);
  }

  async due(sweep: AttachmentSweep): Promise<string[]> {
    const rows = this.#db
      .prepare(
        `SELECT id FROM attachments
           WHERE (completed_at IS NOT NULL AND created_at < ?)
              OR (completed_at IS NULL AND created_at < ?)
              OR account_id NOT IN (SELECT account_id FROM accounts)
           LIMIT ?`,
      )
      .all(sweep.now - sweep.retentionMs, sweep.now - sweep.incompleteTtlMs, sweep.limit) as {
      id: string;
    }[];
    return rows.map((r) => r.id);
  }

  async ofAccount(accountId: string): Promise<string[]> {
    const rows = this.#db
      .prepare('SELECT id FROM attachments WHERE account_id = ?')
      .all(accountId) as { id: string }[];
    return rows.map((r) => r.id);
  }

  async remove(ids: readonly string[]): Promise<number> {
    const remove = this.#db.prepare('DELETE FROM attachments WHERE id = ?');
    return this.#db.transaction(() => ids.reduce((n, id) => n + remove.run(id).changes, 0))();
  }
}
