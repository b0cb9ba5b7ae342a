/**
 * The SQLite store's envelope queues: enqueue (the planner runs inside the write, on a snapshot
 * of the destination devices and their queues), idempotent send records, page reads and acks.
 * @module
 */
import type { SqliteDatabase } from './sqlite-db.ts';
import { toEnvelope, type EnvelopeRow } from './sql-rows.ts';
import { storedEnvelope } from './types.ts';
import type {
  DeviceSnapshot,
  EnqueueOptions,
  EnqueuePlanner,
  EnqueueResult,
  SendKey,
  SendRecord,
  StoredEnvelope,
} from './types.ts';

export async function enqueue<R>(
  db: SqliteDatabase,
  accountIds: readonly string[],
  plan: EnqueuePlanner<R>,
  { sender = '', send }: EnqueueOptions = {},
): Promise<EnqueueResult<R>> {
  return db.write((): EnqueueResult<R> => {
    // One writer at a time: nothing can record this key between this read and our insert.
    const earlier = send && sendRecord(db, send);
    if (earlier) return { replayed: earlier };
    const snapshot = new Map<string, DeviceSnapshot[]>();
    const exists = db.prepare('SELECT 1 FROM accounts WHERE account_id = ?');
    // length() of a BLOB reads its size from the record header, not the content.
    const devices = db.prepare(
      `SELECT d.device_id AS deviceId, d.registration_id AS registrationId,
                COUNT(e.seq) AS queued,
                COALESCE(SUM(length(e.content)), 0) AS queuedBytes,
                COUNT(CASE WHEN e.source_account_id = @sender THEN 1 END) AS senderQueued,
                COALESCE(SUM(CASE WHEN e.source_account_id = @sender THEN length(e.content) END), 0)
                  AS senderQueuedBytes
         FROM devices d
         LEFT JOIN envelopes e ON e.account_id = d.account_id AND e.device_id = d.device_id
         WHERE d.account_id = @accountId GROUP BY d.device_id ORDER BY d.device_id`,
    );
    for (const accountId of new Set(accountIds)) {
      if (exists.get(accountId) !== undefined) {
        snapshot.set(accountId, devices.all({ accountId, sender }) as DeviceSnapshot[]);
      }
    }
    const decision = plan(snapshot);
    if ('reject' in decision) return { rejected: decision.reject };
    const insert = db.prepare(
      `INSERT INTO envelopes (id, account_id, device_id, type, source_account_id, source_device_id,
                                timestamp, server_timestamp, content)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq`,
    );
    const stored = decision.envelopes.map((e): StoredEnvelope => {
      const { seq } = insert.get(
        e.id,
        e.destinationAccountId,
        e.destinationDeviceId,
        e.type,
        e.sourceAccountId ?? null,
        e.sourceDeviceId ?? null,
        e.timestamp,
        e.serverTimestamp,
        Buffer.from(e.content, 'base64'),
      ) as { seq: number };
      return storedEnvelope(e, seq);
    });
    if (send) {
      // Replaces a record left past retention by a sweep that has not run yet.
      db.prepare(
        `INSERT OR REPLACE INTO sends
             (source_account_id, source_device_id, send_id, server_timestamp, stored)
           VALUES (?, ?, ?, ?, ?)`,
      ).run(
        send.sourceAccountId,
        send.sourceDeviceId,
        send.sendId,
        send.serverTimestamp,
        stored.length,
      );
    }
    return { stored };
  });
}

export async function fetchEnvelopes(
  db: SqliteDatabase,
  accountId: string,
  deviceId: number,
  page: { afterSeq: number; limit: number; notBefore: number },
): Promise<StoredEnvelope[]> {
  const rows = db
    .prepare(
      `SELECT * FROM envelopes
         WHERE account_id = ? AND device_id = ? AND seq > ? AND server_timestamp >= ?
         ORDER BY seq LIMIT ?`,
    )
    .all(accountId, deviceId, page.afterSeq, page.notBefore, page.limit) as EnvelopeRow[];
  return rows.map(toEnvelope);
}

export async function deleteEnvelope(
  db: SqliteDatabase,
  accountId: string,
  deviceId: number,
  envelopeId: string,
): Promise<boolean> {
  return db.write(
    () =>
      db
        .prepare('DELETE FROM envelopes WHERE id = ? AND account_id = ? AND device_id = ?')
        .run(envelopeId, accountId, deviceId).changes > 0,
  );
}

export async function deleteEnvelopes(
  db: SqliteDatabase,
  accountId: string,
  deviceId: number,
  envelopeIds: readonly string[],
): Promise<string[]> {
  if (envelopeIds.length === 0) return [];
  return db.write(() =>
    (
      db
        .prepare(
          `DELETE FROM envelopes
             WHERE account_id = ? AND device_id = ? AND id IN (SELECT value FROM json_each(?))
           RETURNING id`,
        )
        .all(accountId, deviceId, JSON.stringify(envelopeIds)) as { id: string }[]
    ).map((row) => row.id),
  );
}

function sendRecord(db: SqliteDatabase, send: SendKey): SendRecord | undefined {
  return db
    .prepare(
      `SELECT server_timestamp AS serverTimestamp, stored FROM sends
         WHERE source_account_id = ? AND source_device_id = ? AND send_id = ?
           AND server_timestamp >= ?`,
    )
    .get(send.sourceAccountId, send.sourceDeviceId, send.sendId, send.notBefore) as
    SendRecord | undefined;
}
