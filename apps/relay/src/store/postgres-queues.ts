/**
 * The PostgreSQL store's envelope queues: enqueue (on a hint, see `postgres-hinted-sends.ts`, or
 * in a transaction that locks the destination devices before it counts their queues and takes
 * `seq` values), idempotent send records, and page reads and acks batched per event-loop turn.
 * @module
 */
import type { Db, PgDatabase } from './postgres-db.ts';
import { HintedSends } from './postgres-hinted-sends.ts';
import { toEnvelope, type EnvelopeRow } from './sql-rows.ts';
import { TurnBatcher } from './turn-batcher.ts';
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

/** Most callers served by one batched statement (page reads, ack deletes). */
const MAX_BATCH = 256;

interface PageRequest {
  accountId: string;
  deviceId: number;
  afterSeq: number;
  limit: number;
  notBefore: number;
}

interface AckRequest {
  accountId: string;
  deviceId: number;
  envelopeIds: readonly string[];
}

/** Enqueue, page reads and acks; `PostgresRelayStore` delegates its queue methods here. */
export class PostgresQueues {
  readonly #pg: PgDatabase;
  readonly #hintedSends: HintedSends;
  readonly #pageReads = new TurnBatcher<PageRequest, StoredEnvelope[]>(
    (requests) => this.#readPages(requests),
    MAX_BATCH,
  );
  readonly #ackDeletes = new TurnBatcher<AckRequest, string[]>(
    (requests) => this.#deleteAcked(requests),
    MAX_BATCH,
  );

  constructor(pg: PgDatabase) {
    this.#pg = pg;
    this.#hintedSends = new HintedSends(pg);
  }

  async enqueue<R>(
    accountIds: readonly string[],
    plan: EnqueuePlanner<R>,
    { sender = '', send, hint }: EnqueueOptions = {},
  ): Promise<EnqueueResult<R>> {
    const ids = [...new Set(accountIds)].sort();
    if (hint && !send) {
      const fast = await this.#hintedSends.enqueue(ids, plan, sender, hint);
      if (fast) return fast;
    }
    const attempt = this.#pg.tx(async (db): Promise<EnqueueResult<R>> => {
      const earlier = send && (await reserveSend(db, send));
      if (earlier) return { replayed: earlier };
      const { rows: accounts } = await db.query<{ account_id: string }>(
        'SELECT account_id FROM accounts WHERE account_id = ANY($1) ORDER BY account_id FOR SHARE',
        [ids],
      );
      // Serializes enqueues per destination device, so seq follows commit order per device.
      await db.query(
        `SELECT 1 FROM devices WHERE account_id = ANY($1)
          ORDER BY account_id, device_id FOR UPDATE`,
        [ids],
      );
      // Counted in the next statement: at READ COMMITTED a statement that waited for a row lock
      // still reads other rows as of its own start, so counting in the locking statement would
      // miss the envelopes of the enqueue it waited for (and overshoot the caps). Now every
      // enqueue that could add to these queues has committed or waits for our locks.
      // octet_length() of a TOASTed bytea reads its size, not the content.
      const { rows } = await db.query<DeviceSnapshot & { accountId: string }>(
        `SELECT d.account_id AS "accountId", d.device_id AS "deviceId",
                d.registration_id AS "registrationId", q.queued, q."queuedBytes",
                q."senderQueued", q."senderQueuedBytes"
           FROM devices d, LATERAL (
             SELECT COUNT(*) AS queued,
                    COALESCE(SUM(octet_length(e.content)), 0)::bigint AS "queuedBytes",
                    COUNT(*) FILTER (WHERE e.source_account_id = $2) AS "senderQueued",
                    COALESCE(SUM(octet_length(e.content))
                      FILTER (WHERE e.source_account_id = $2), 0)::bigint AS "senderQueuedBytes"
               FROM envelopes e
              WHERE e.account_id = d.account_id AND e.device_id = d.device_id) q
          WHERE d.account_id = ANY($1)
          ORDER BY d.account_id, d.device_id`,
        [ids, sender],
      );
      const snapshot = new Map<string, DeviceSnapshot[]>();
      for (const { account_id } of accounts) snapshot.set(account_id, []);
      for (const { accountId, ...device } of rows) snapshot.get(accountId)?.push(device);
      const decision = plan(snapshot);
      // Rolls the reservation back with everything else: a rejected send records nothing.
      if ('reject' in decision) throw new Rejection(decision.reject);
      const envelopes = decision.envelopes;
      if (send) {
        await db.query(
          `UPDATE sends SET stored = $4
             WHERE source_account_id = $1 AND source_device_id = $2 AND send_id = $3`,
          [send.sourceAccountId, send.sourceDeviceId, send.sendId, envelopes.length],
        );
      }
      if (envelopes.length === 0) return { stored: [] };
      // The stamp tells hinted enqueues that waited for our locks that their counts are stale.
      const { rows: inserted } = await db.query<{ id: string; seq: number }>(
        `WITH bumped AS (
           UPDATE devices d SET enqueue_stamp = d.enqueue_stamp + 1
             FROM (SELECT DISTINCT * FROM unnest($2::text[], $3::int[])) AS t(account_id, device_id)
            WHERE d.account_id = t.account_id AND d.device_id = t.device_id)
         INSERT INTO envelopes (id, account_id, device_id, type, source_account_id, source_device_id,
                                timestamp, server_timestamp, content)
         SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[], $6::int[],
                              $7::bigint[], $8::bigint[], $9::bytea[])
         RETURNING id, seq`,
        [
          envelopes.map((e) => e.id),
          envelopes.map((e) => e.destinationAccountId),
          envelopes.map((e) => e.destinationDeviceId),
          envelopes.map((e) => e.type),
          envelopes.map((e) => e.sourceAccountId ?? null),
          envelopes.map((e) => e.sourceDeviceId ?? null),
          envelopes.map((e) => e.timestamp),
          envelopes.map((e) => e.serverTimestamp),
          envelopes.map((e) => Buffer.from(e.content, 'base64')),
        ],
      );
      const seqs = new Map(inserted.map((r) => [r.id, r.seq]));
      const stored = envelopes
        .map((e) => storedEnvelope(e, seqs.get(e.id) as number))
        .sort((a, b) => a.seq - b.seq);
      return { stored };
    });
    try {
      return await attempt;
    } catch (err) {
      if (err instanceof Rejection) return { rejected: err.reason as R };
      throw err;
    }
  }

  /**
   * Page reads issued in the same event-loop turn (many sockets refilling at once) go to
   * PostgreSQL as one statement; each caller gets its own page.
   */
  fetchEnvelopes(
    accountId: string,
    deviceId: number,
    page: { afterSeq: number; limit: number; notBefore: number },
  ): Promise<StoredEnvelope[]> {
    if (this.#pg.closed) return Promise.reject(new Error('the store is closed'));
    return this.#pageReads.add({ accountId, deviceId, ...page });
  }

  async #readPages(requests: readonly PageRequest[]): Promise<StoredEnvelope[][]> {
    const rows = await this.#pg.query<EnvelopeRow & { request: number }>(
      `SELECT r.request, e.* FROM unnest($1::text[], $2::int[], $3::bigint[], $4::bigint[], $5::int[])
                WITH ORDINALITY AS r(account_id, device_id, after_seq, not_before, lim, request),
              LATERAL (SELECT * FROM envelopes e
                        WHERE e.account_id = r.account_id AND e.device_id = r.device_id
                          AND e.seq > r.after_seq AND e.server_timestamp >= r.not_before
                        ORDER BY e.seq LIMIT r.lim) e
        ORDER BY r.request, e.seq`,
      [
        requests.map((r) => r.accountId),
        requests.map((r) => r.deviceId),
        requests.map((r) => r.afterSeq),
        requests.map((r) => r.notBefore),
        requests.map((r) => r.limit),
      ],
    );
    const pages = requests.map((): StoredEnvelope[] => []);
    for (const { request, ...row } of rows) pages[request - 1]?.push(toEnvelope(row));
    return pages;
  }

  async deleteEnvelope(accountId: string, deviceId: number, envelopeId: string): Promise<boolean> {
    const rows = await this.#pg.query(
      'DELETE FROM envelopes WHERE id = $1 AND account_id = $2 AND device_id = $3 RETURNING 1',
      [envelopeId, accountId, deviceId],
    );
    return rows.length > 0;
  }

  /**
   * Batched acks from every socket in the same event-loop turn go to PostgreSQL as one
   * statement; each caller is answered once that statement has committed (nothing is reported
   * deleted before it is).
   */
  deleteEnvelopes(
    accountId: string,
    deviceId: number,
    envelopeIds: readonly string[],
  ): Promise<string[]> {
    if (envelopeIds.length === 0) return Promise.resolve([]);
    if (this.#pg.closed) return Promise.reject(new Error('the store is closed'));
    return this.#ackDeletes.add({ accountId, deviceId, envelopeIds });
  }

  async #deleteAcked(requests: readonly AckRequest[]): Promise<string[][]> {
    const flat = requests.flatMap((r, i) =>
      r.envelopeIds.map((id) => ({
        request: i + 1,
        accountId: r.accountId,
        deviceId: r.deviceId,
        id,
      })),
    );
    // Scoped per caller: an id only matches in the queue of the device that acked it.
    const rows = await this.#pg.query<{ request: number; id: string }>(
      `DELETE FROM envelopes e
         USING unnest($1::text[], $2::int[], $3::text[], $4::int[]) AS r(account_id, device_id, id, request)
        WHERE e.account_id = r.account_id AND e.device_id = r.device_id AND e.id = r.id
       RETURNING r.request, e.id`,
      [
        flat.map((f) => f.accountId),
        flat.map((f) => f.deviceId),
        flat.map((f) => f.id),
        flat.map((f) => f.request),
      ],
    );
    const deleted = requests.map((): string[] => []);
    for (const row of rows) deleted[row.request - 1]?.push(row.id);
    return deleted;
  }
}

/** Carries a planner's rejection out of `PgDatabase.tx`, which rolls the transaction back. */
class Rejection {
  constructor(readonly reason: unknown) {}
}

/**
 * Claims `send`'s key for this transaction, or returns the answer already recorded under it.
 * The insert waits for a concurrent transaction holding the same key: if that one commits, its
 * record is returned; if it rolls back, the claim succeeds. A record past retention is taken
 * over.
 */
async function reserveSend(db: Db, send: SendKey): Promise<SendRecord | undefined> {
  const key = [send.sourceAccountId, send.sourceDeviceId, send.sendId];
  const { rowCount } = await db.query(
    `INSERT INTO sends (source_account_id, source_device_id, send_id, server_timestamp, stored)
       VALUES ($1, $2, $3, $4, 0)
     ON CONFLICT (source_account_id, source_device_id, send_id) DO UPDATE
       SET server_timestamp = EXCLUDED.server_timestamp, stored = 0
       WHERE sends.server_timestamp < $5`,
    [...key, send.serverTimestamp, send.notBefore],
  );
  if ((rowCount ?? 0) > 0) return undefined;
  const {
    rows: [record],
  } = await db.query<SendRecord>(
    `SELECT server_timestamp AS "serverTimestamp", stored FROM sends
       WHERE source_account_id = $1 AND source_device_id = $2 AND send_id = $3`,
    key,
  );
  if (!record) throw new Error('send record vanished while locked');
  return { serverTimestamp: Number(record.serverTimestamp), stored: Number(record.stored) };
}
