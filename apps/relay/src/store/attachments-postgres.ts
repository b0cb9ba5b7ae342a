/**
 * `AttachmentStore` on PostgreSQL (table `attachments`, migration 5). The quota check locks the
 * account's row first, so concurrent uploads of one account (on any node) are checked one after
 * the other and cannot overshoot its quota together; other accounts are not blocked.
 * @module
 */
import type pg from 'pg';
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

const fromRow = (row: AttachmentRow): AttachmentRecord => ({
  id: row.id,
  accountId: row.account_id,
  size: row.size,
  createdAt: row.created_at,
  ...(row.completed_at === null ? {} : { completedAt: row.completed_at }),
});

export class PostgresAttachmentStore implements AttachmentStore {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async create(record: AttachmentRecord, quotaBytes: number): Promise<AttachmentCreation> {
    const db = await this.#pool.connect();
    let broken = false;
    try {
      await db.query('BEGIN');
      // No account row (deleted meanwhile): nothing to attach the upload to.
      const account = await db.query('SELECT 1 FROM accounts WHERE account_id = $1 FOR UPDATE', [
        record.accountId,
      ]);
      const { rows } = await db.query<{ bytes: number }>(
        'SELECT COALESCE(SUM(size), 0)::bigint AS bytes FROM attachments WHERE account_id = $1',
        [record.accountId],
      );
      if (account.rowCount === 0 || (rows[0]?.bytes ?? 0) + record.size > quotaBytes) {
        await db.query('ROLLBACK');
        return account.rowCount === 0 ? 'unknown_account' : 'over_quota';
      }
      await db.query(
        `INSERT INTO attachments (id, account_id, size, created_at, completed_at)
           VALUES ($1, $2, $3, $4, NULL)`,
        [record.id, record.accountId, record.size, record.createdAt],
      );
      await db.query('COMMIT');
      return 'created';
    } catch (err) {
      await db.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw err;
    } finally {
      db.release(broken);
    }
  }

  async get(id: string): Promise<AttachmentRecord | undefined> {
    const { rows } = await this.#pool.query<AttachmentRow>(
      'SELECT * FROM attachments WHERE id = $1',
      [id],
    );
    return rows[0] && fromRow(rows[0]);
  }

  async complete(id: string, at: number): Promise<boolean> {
    const result = await this.#pool.query(
      'UPDATE attachments SET completed_at = COALESCE(completed_at, $1) WHERE id = $2',
      [at, id],
    );
    return (result.rowCount ?? 0) > 0;
  }

  async usage(accountId: string): Promise<AttachmentUsage> {
    const { rows } = await this.#pool.query<{
      bytes: number;
      complete: number | null;
      incomplete: number | null;
    }>(
      `SELECT COALESCE(SUM(size), 0)::bigint AS bytes,
              MIN(CASE WHEN completed_at IS NOT NULL THEN created_at END) AS complete,
              MIN(CASE WHEN completed_at IS NULL THEN created_at END) AS incomplete
         FROM attachments WHERE account_id = $1`,
      [accountId],
    );
    return usageFromRow(rows[0] ?? { bytes: 0, complete: null, incomplete: null });
  }

  async due(sweep: AttachmentSweep): Promise<string[]> {
    const { rows } = await this.#pool.query<{ id: string }>(
      `SELECT a.id FROM attachments a
         WHERE (a.completed_at IS NOT NULL AND a.created_at < $1)
            OR (a.completed_at IS NULL AND a.created_at < $2)
            OR NOT EXISTS (SELECT 1 FROM accounts c WHERE c.account_id = a.account_id)
         LIMIT $3`,
      [sweep.now - sweep.retentionMs, sweep.now - sweep.incompleteTtlMs, sweep.limit],
    );
    return rows.map((r) => r.id);
  }

  async ofAccount(accountId: string): Promise<string[]> {
    const { rows } = await this.#pool.query<{ id: string }>(
      'SELECT id FROM attachments WHERE account_id = $1',
      [accountId],
    );
    return rows.map((r) => r.id);
  }

  async remove(ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    const result = await this.#pool.query('DELETE FROM attachments WHERE id = ANY($1::text[])', [
      ids,
    ]);
    return result.rowCount ?? 0;
  }
}
