/**
 * Hinted sends on PostgreSQL: a send planned on the caller's device lists (`EnqueueOptions.hint`)
 * is stored by one statement shared with the other hinted sends of its event-loop turn
 * (`TurnBatcher`), instead of a transaction of four or five round trips. A send the statement
 * cannot decide exactly is answered `undefined`, and the caller takes the transactional path.
 * @module
 */
import type { PgDatabase } from './postgres-db.ts';
import { TurnBatcher } from './turn-batcher.ts';
import { storedEnvelope } from './types.ts';
import type {
  DeviceSnapshot,
  EnqueuePlanner,
  EnqueueResult,
  KnownDevice,
  NewEnvelope,
  QueueBound,
  StoredEnvelope,
} from './types.ts';

/** Most hinted sends stored by one statement. */
const MAX_SEND_BATCH = 64;

/** A send planned on a hint, waiting for its turn's statement (`#store`). */
interface HintedSend {
  /** Destination accounts. */
  ids: readonly string[];
  /** Their devices as the hint has them: what must be exactly the locked lists. */
  expected: readonly { accountId: string; deviceId: number; registrationId: number }[];
  bounds: readonly QueueBound[];
  sender: string;
  envelopes: readonly NewEnvelope[];
}

/** The hinted sends of each event-loop turn, stored by one statement per batch. */
export class HintedSends {
  readonly #pg: PgDatabase;
  readonly #batches = new TurnBatcher<HintedSend, StoredEnvelope[] | undefined>(
    (sends) => this.#store(sends),
    MAX_SEND_BATCH,
  );

  constructor(pg: PgDatabase) {
    this.#pg = pg;
  }

  /**
   * One round trip instead of a transaction of four or five: plan on the caller's device lists
   * (queue counts at zero), then one statement locks the accounts (`FOR SHARE`) and their
   * devices (`FOR UPDATE`, sorted, before any `seq` is taken, as in the transactional path),
   * checks that the device lists are exactly the hint and every addressed queue is within the
   * plan's bounds, and inserts only if so. Hinted sends planned in the same event-loop turn
   * share that statement (`#store`), each with its own verdict. `undefined` (nothing
   * stored) when the hint does not hold or the plan needs the locked snapshot: the caller then
   * takes the transactional path, which gives the exact answer (409, 410, 507, 429 …).
   */
  async enqueue<R>(
    ids: readonly string[],
    plan: EnqueuePlanner<R>,
    sender: string,
    hint: ReadonlyMap<string, readonly KnownDevice[]>,
  ): Promise<EnqueueResult<R> | undefined> {
    if (!ids.every((id) => hint.has(id))) return undefined;
    const snapshot = new Map<string, DeviceSnapshot[]>();
    for (const id of ids) {
      snapshot.set(
        id,
        (hint.get(id) ?? []).map((d) => ({
          ...d,
          queued: 0,
          queuedBytes: 0,
          senderQueued: 0,
          senderQueuedBytes: 0,
        })),
      );
    }
    const decision = plan(snapshot);
    if ('reject' in decision || !decision.bounds || decision.envelopes.length === 0)
      return undefined;
    const { envelopes, bounds } = decision;
    const expected = ids.flatMap((id) =>
      (hint.get(id) ?? []).map((d) => ({ accountId: id, ...d })),
    );
    const stored = await this.#batches.add({ ids, expected, bounds, sender, envelopes });
    return stored && { stored };
  }

  /**
   * Stores a turn's hinted sends with one statement: the union of their accounts and devices is
   * locked as for one send (sorted), and each send gets its own verdict (its accounts' device
   * lists are exactly its hint, its queues within its bounds) and is inserted only if it holds.
   * The counts are read as of the statement's start, which is stale if another enqueue to one of
   * the devices committed since (the statement may have waited for its locks): every enqueue
   * bumps its devices' `enqueue_stamp`, the locked rows carry the newest stamp and a plain read
   * the one as of the start, and a send whose devices' stamps differ falls back to the
   * transaction. Acks and expiry only shrink queues, so counts that miss them err on the safe
   * side. All verdicts see the queues as before the statement, so each send's bounds are first
   * tightened by the envelopes that sends before it in the batch add to the same devices (as if
   * all of those were stored): a send over them falls back to the transaction, which decides
   * exactly. On any error nothing was stored and every send falls back (each then fails or
   * succeeds on its own).
   */
  async #store(sends: readonly HintedSend[]): Promise<(StoredEnvelope[] | undefined)[]> {
    const ids = [...new Set(sends.flatMap((s) => s.ids))].sort();
    /** What earlier sends of the batch add to each device queue, in total and per sender. */
    const added = new Map<
      string,
      { count: number; bytes: number; bySender: Map<string, number[]> }
    >();
    const targets: { request: number; accountId: string }[] = [];
    const expected: {
      request: number;
      accountId: string;
      deviceId: number;
      registrationId: number;
    }[] = [];
    const bounds: (QueueBound & { request: number; sender: string })[] = [];
    const rows: (NewEnvelope & { request: number; bytes: Buffer })[] = [];
    sends.forEach((send, i) => {
      const request = i + 1;
      for (const accountId of send.ids) targets.push({ request, accountId });
      for (const d of send.expected) expected.push({ request, ...d });
      for (const b of send.bounds) {
        const prior = added.get(`${b.accountId}.${b.deviceId}`);
        const [senderCount, senderBytes] = prior?.bySender.get(send.sender) ?? [0, 0];
        bounds.push({
          request,
          sender: send.sender,
          accountId: b.accountId,
          deviceId: b.deviceId,
          queued: b.queued - (prior?.count ?? 0),
          queuedBytes: b.queuedBytes - (prior?.bytes ?? 0),
          senderQueued: b.senderQueued - (senderCount ?? 0),
          senderQueuedBytes: b.senderQueuedBytes - (senderBytes ?? 0),
        });
      }
      for (const e of send.envelopes) {
        const bytes = Buffer.from(e.content, 'base64');
        rows.push({ ...e, request, bytes });
        const key = `${e.destinationAccountId}.${e.destinationDeviceId}`;
        const entry = added.get(key) ?? { count: 0, bytes: 0, bySender: new Map() };
        entry.count += 1;
        entry.bytes += bytes.length;
        if (e.sourceAccountId !== undefined) {
          const [count = 0, total = 0] = entry.bySender.get(e.sourceAccountId) ?? [];
          entry.bySender.set(e.sourceAccountId, [count + 1, total + bytes.length]);
        }
        added.set(key, entry);
      }
    });
    let result: {
      request: number | null;
      ok: boolean | null;
      id: string | null;
      seq: number | null;
    }[];
    try {
      result = await this.#pg.query(
        `WITH locked AS (
           SELECT d.account_id, d.device_id, d.registration_id, d.enqueue_stamp
             FROM accounts a JOIN devices d ON d.account_id = a.account_id
            WHERE a.account_id = ANY($1::text[])
            ORDER BY d.account_id, d.device_id
              FOR SHARE OF a FOR UPDATE OF d),
         seen AS (
           SELECT account_id, device_id, enqueue_stamp FROM devices
            WHERE account_id = ANY($1::text[])),
         targets AS (
           SELECT * FROM unnest($2::int[], $3::text[]) AS t(request, account_id)),
         expected AS (
           SELECT * FROM unnest($4::int[], $5::text[], $6::int[], $7::int[])
             AS x(request, account_id, device_id, registration_id)),
         bounds AS (
           SELECT * FROM unnest($8::int[], $9::text[], $10::int[], $11::bigint[], $12::bigint[],
                                $13::bigint[], $14::bigint[], $15::text[])
             AS b(request, account_id, device_id, queued, bytes, sender_queued, sender_bytes,
                  sender)),
         verdict AS (
           SELECT r.request,
                  (SELECT COUNT(*) FROM targets t JOIN locked l USING (account_id)
                    WHERE t.request = r.request)
                    = (SELECT COUNT(*) FROM expected x WHERE x.request = r.request)
              AND (SELECT COUNT(*) FROM expected x
                     JOIN locked l USING (account_id, device_id, registration_id)
                    WHERE x.request = r.request)
                    = (SELECT COUNT(*) FROM expected x WHERE x.request = r.request)
              AND NOT EXISTS (
                SELECT 1 FROM expected x
                  JOIN locked l USING (account_id, device_id)
                  LEFT JOIN seen s USING (account_id, device_id)
                 WHERE x.request = r.request
                   AND l.enqueue_stamp IS DISTINCT FROM s.enqueue_stamp)
              AND NOT EXISTS (
                SELECT 1
                  FROM bounds b,
                       LATERAL (
                         SELECT COUNT(*) AS queued,
                                COALESCE(SUM(octet_length(e.content)), 0) AS bytes,
                                COUNT(*) FILTER (WHERE e.source_account_id = b.sender) AS sender_queued,
                                COALESCE(SUM(octet_length(e.content))
                                  FILTER (WHERE e.source_account_id = b.sender), 0) AS sender_bytes
                           FROM envelopes e
                          WHERE e.account_id = b.account_id AND e.device_id = b.device_id) q
                 WHERE b.request = r.request
                   AND (q.queued > b.queued OR q.bytes > b.bytes
                        OR q.sender_queued > b.sender_queued OR q.sender_bytes > b.sender_bytes))
               AS ok
             FROM generate_series(1, $16::int) AS r(request)),
         inserted AS (
           INSERT INTO envelopes (id, account_id, device_id, type, source_account_id,
                                  source_device_id, timestamp, server_timestamp, content)
           SELECT n.id, n.account_id, n.device_id, n.type, n.source_account_id, n.source_device_id,
                  n.timestamp, n.server_timestamp, n.content
             FROM unnest($17::int[], $18::text[], $19::text[], $20::int[], $21::text[], $22::text[],
                         $23::int[], $24::bigint[], $25::bigint[], $26::bytea[]) WITH ORDINALITY
                    AS n(request, id, account_id, device_id, type, source_account_id,
                         source_device_id, timestamp, server_timestamp, content, ord)
            WHERE (SELECT v.ok FROM verdict v WHERE v.request = n.request)
            ORDER BY n.ord
           RETURNING id, seq, account_id, device_id),
         bumped AS (
           UPDATE devices d SET enqueue_stamp = d.enqueue_stamp + 1
             FROM (SELECT DISTINCT account_id, device_id FROM inserted) i
            WHERE d.account_id = i.account_id AND d.device_id = i.device_id)
         SELECT v.request, v.ok, NULL::text AS id, NULL::bigint AS seq FROM verdict v
         UNION ALL
         SELECT NULL::int, NULL::boolean, i.id, i.seq FROM inserted i`,
        [
          ids,
          targets.map((t) => t.request),
          targets.map((t) => t.accountId),
          expected.map((d) => d.request),
          expected.map((d) => d.accountId),
          expected.map((d) => d.deviceId),
          expected.map((d) => d.registrationId),
          bounds.map((b) => b.request),
          bounds.map((b) => b.accountId),
          bounds.map((b) => b.deviceId),
          bounds.map((b) => b.queued),
          bounds.map((b) => b.queuedBytes),
          bounds.map((b) => b.senderQueued),
          bounds.map((b) => b.senderQueuedBytes),
          bounds.map((b) => b.sender),
          sends.length,
          rows.map((e) => e.request),
          rows.map((e) => e.id),
          rows.map((e) => e.destinationAccountId),
          rows.map((e) => e.destinationDeviceId),
          rows.map((e) => e.type),
          rows.map((e) => e.sourceAccountId ?? null),
          rows.map((e) => e.sourceDeviceId ?? null),
          rows.map((e) => e.timestamp),
          rows.map((e) => e.serverTimestamp),
          rows.map((e) => e.bytes),
        ],
      );
    } catch {
      // A deadlock, a serialization failure, a duplicate id …: nothing of the batch was stored;
      // each send takes the transactional path, which retries or fails on its own.
      return sends.map(() => undefined);
    }
    const ok = new Set<number>();
    const seqs = new Map<string, number>();
    for (const row of result) {
      if (row.request !== null && row.ok === true) ok.add(row.request);
      if (row.id !== null && row.seq !== null) seqs.set(row.id, row.seq);
    }
    return sends.map((send, i) => {
      if (!ok.has(i + 1)) return undefined;
      const stored = send.envelopes.map((e) => {
        const seq = seqs.get(e.id);
        if (seq === undefined) throw new Error('enqueue stored an unexpected number of envelopes');
        return storedEnvelope(e, seq);
      });
      return stored.sort((a, b) => a.seq - b.seq);
    });
  }
}
