/**
 * The scale-out `RelayStore`: PostgreSQL through `pg` (node-postgres), shared by every relay node.
 *
 * Each method is one transaction on a pooled connection (READ COMMITTED), retried on deadlock or
 * serialization failure. The guarantees of `types.ts` map onto PostgreSQL like this:
 * - One-time prekeys: `DELETE … WHERE key = (SELECT … FOR UPDATE SKIP LOCKED LIMIT 1) RETURNING`,
 *   so concurrent `takeBundles` calls (on any node) never get the same key and never block on
 *   each other.
 * - Queue order: `enqueue` locks the destination devices' rows `FOR UPDATE` (sorted, so no
 *   deadlocks) before taking `seq` values, so per device `seq` grows in commit order and a
 *   reader's cursor can never skip an envelope that commits later with a smaller `seq`.
 * - Device list + enqueue: the destination accounts are read `FOR SHARE`, which conflicts with
 *   linking (it updates `next_device_id`), so the planner sees a stable device list.
 * - Queue caps: a statement reads rows as of its start even when it then waited for a lock, so
 *   queues are counted in the statement after the one that locks their devices; the one-statement
 *   hinted path instead detects an enqueue that committed meanwhile (`devices.enqueue_stamp`)
 *   and falls back. Caps therefore hold exactly under any concurrency.
 * Durability is PostgreSQL's: with the default `synchronous_commit = on` a send is on disk (and
 * on synchronous replicas, if configured) before its 200.
 * @module
 */
import type {
  AccountExportResponse,
  DeviceBundle,
  KyberPreKey,
  PreKey,
  PreKeyBundleResponse,
  PreKeyStatusResponse,
  PreKeyUploadRequest,
  RetiredSignedPreKey,
  SignedPreKey,
} from '@parley/protocol';
import pg from 'pg';
import { startOfUtcDay } from '../clock.ts';
import { PostgresAttachmentStore } from './attachments-postgres.ts';
import { PG_MIGRATIONS } from './postgres-migrations.ts';
import { envelopeFromRow, storedEnvelope } from './types.ts';
import { TurnBatcher } from './turn-batcher.ts';
import type {
  AccountRecord,
  DeviceRecord,
  DeviceSnapshot,
  EnqueueOptions,
  EnqueuePlanner,
  EnqueueResult,
  ExpiryResult,
  KnownDevice,
  LinkResult,
  NewDevice,
  NewEnvelope,
  QueueBound,
  RelayStore,
  SealedSenderKeyRecord,
  SendKey,
  SendRecord,
  StoredEnvelope,
  UsernameHold,
} from './types.ts';

type KeyKind = 'ec' | 'kyber';
/** A connection that runs DML as named (prepared once per connection) statements. */
interface Db {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>>;
}

const statementNames = new Map<string, string>();
/** Parsing and planning dominate these small queries: prepare each once per connection. */
function prepared(client: pg.PoolClient | pg.Pool): Db {
  return {
    query<R extends pg.QueryResultRow>(text: string, values?: unknown[]) {
      if (values === undefined || !/^\s*(SELECT|INSERT|UPDATE|DELETE|WITH)\b/i.test(text)) {
        return client.query<R>(text, values);
      }
      let name = statementNames.get(text);
      if (name === undefined) {
        name = `parley_${statementNames.size + 1}`;
        statementNames.set(text, name);
      }
      return client.query<R>({ name, text, values });
    },
  };
}

interface AccountRow {
  account_id: string;
  username: string;
  identity_key: string;
  created_at: number;
}
interface DeviceRow {
  account_id: string;
  device_id: number;
  registration_id: number;
  name: string | null;
  credential_hash: Buffer;
  created_at: number;
  last_seen_at: number;
}
interface SignedKeyRow {
  kind: KeyKind;
  key_id: number;
  public_key: string;
  signature: string;
  uploaded_at: number;
  retired_at: number | null;
}
interface OneTimeKeyRow {
  key_id: number;
  public_key: string;
  signature: string | null;
}
interface EnvelopeRow {
  seq: number;
  id: string;
  account_id: string;
  device_id: number;
  type: StoredEnvelope['type'];
  source_account_id: string | null;
  source_device_id: number | null;
  timestamp: number;
  server_timestamp: number;
  content: Buffer;
}

const INT8_OID = 20;
/** BIGINT columns hold millisecond timestamps and `seq`: well inside Number's safe range. */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary'
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
};

/** Arbitrary constant: the advisory lock every node takes while migrating. */
const MIGRATION_LOCK = 7_341_002_117;
const RETRYABLE = new Set(['40001', '40P01']);
/** Most callers served by one batched statement (page reads, ack deletes). */
const MAX_BATCH = 256;
/** Most hinted sends stored by one statement. */
const MAX_SEND_BATCH = 64;

function toAccount(row: AccountRow): AccountRecord {
  return {
    accountId: row.account_id,
    username: row.username,
    identityKey: row.identity_key,
    createdAt: row.created_at,
  };
}

function toDevice(row: DeviceRow): DeviceRecord {
  return {
    accountId: row.account_id,
    deviceId: row.device_id,
    registrationId: row.registration_id,
    ...(row.name === null ? {} : { name: row.name }),
    credentialHash: new Uint8Array(row.credential_hash),
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
  };
}

function toEnvelope(row: EnvelopeRow): StoredEnvelope {
  return envelopeFromRow({ ...row, content: row.content.toString('base64') });
}

function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: unknown }).code === '23505';
}

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database` */
  url: string;
  /** Pool size per relay node (default 10). */
  maxConnections?: number;
}

interface PageRequest {
  accountId: string;
  deviceId: number;
  afterSeq: number;
  limit: number;
  notBefore: number;
}
/** A send planned on a hint, waiting for its turn's statement (`#storeHinted`). */
interface HintedSend {
  /** Destination accounts. */
  ids: readonly string[];
  /** Their devices as the hint has them: what must be exactly the locked lists. */
  expected: readonly { accountId: string; deviceId: number; registrationId: number }[];
  bounds: readonly QueueBound[];
  sender: string;
  envelopes: readonly NewEnvelope[];
}
interface AckRequest {
  accountId: string;
  deviceId: number;
  envelopeIds: readonly string[];
}

export class PostgresRelayStore implements RelayStore {
  readonly #pool: pg.Pool;
  #closed = false;
  readonly #pageReads = new TurnBatcher<PageRequest, StoredEnvelope[]>(
    (requests) => this.#readPages(requests),
    MAX_BATCH,
  );
  readonly #ackDeletes = new TurnBatcher<AckRequest, string[]>(
    (requests) => this.#deleteAcked(requests),
    MAX_BATCH,
  );
  readonly #hintedSends = new TurnBatcher<HintedSend, StoredEnvelope[] | undefined>(
    (sends) => this.#storeHinted(sends),
    MAX_SEND_BATCH,
  );

  readonly attachments: PostgresAttachmentStore;

  private constructor(pool: pg.Pool) {
    this.#pool = pool;
    this.attachments = new PostgresAttachmentStore(pool);
  }

  /** Connects, and applies pending migrations (once, even with several nodes starting). */
  static async open(options: PostgresStoreOptions): Promise<PostgresRelayStore> {
    const pool = new pg.Pool({
      connectionString: options.url,
      max: options.maxConnections ?? 10,
      types,
      connectionTimeoutMillis: 10_000,
    });
    // An idle client losing its server must not crash the process; the next query reconnects.
    pool.on('error', () => undefined);
    const store = new PostgresRelayStore(pool);
    try {
      await store.#migrate();
    } catch (err) {
      await pool.end();
      throw err;
    }
    return store;
  }

  async #migrate(): Promise<void> {
    await this.#tx(async (db) => {
      await db.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await db.query(
        `CREATE TABLE IF NOT EXISTS parley_schema_migrations (
           version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`,
      );
      const { rows } = await db.query<{ version: number | null }>(
        'SELECT MAX(version) AS version FROM parley_schema_migrations',
      );
      const current = rows[0]?.version ?? 0;
      if (current > PG_MIGRATIONS.length) {
        throw new Error(
          `database schema version ${current} is newer than this relay understands (${PG_MIGRATIONS.length})`,
        );
      }
      for (let version = current + 1; version <= PG_MIGRATIONS.length; version++) {
        await db.query(PG_MIGRATIONS[version - 1] as string);
        await db.query('INSERT INTO parley_schema_migrations (version) VALUES ($1)', [version]);
      }
    });
  }

  /** Runs `fn` in a transaction; retried (a few times) on deadlock or serialization failure. */
  async #tx<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    if (this.#closed) throw new Error('the store is closed');
    for (let attempt = 1; ; attempt++) {
      const db = await this.#pool.connect();
      let broken = false;
      try {
        await db.query('BEGIN');
        const result = await fn(prepared(db));
        await db.query('COMMIT');
        return result;
      } catch (err) {
        await db.query('ROLLBACK').catch(() => {
          broken = true;
        });
        const code = (err as { code?: string }).code;
        if (code !== undefined && RETRYABLE.has(code) && attempt < 5) continue;
        throw err;
      } finally {
        db.release(broken);
      }
    }
  }

  async #query<R extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<R[]> {
    if (this.#closed) throw new Error('the store is closed');
    return (await prepared(this.#pool).query<R>(text, values)).rows;
  }

  // ---- accounts -------------------------------------------------------------------------------

  async createAccount(
    account: AccountRecord,
    device: NewDevice,
  ): Promise<'created' | 'username_taken'> {
    try {
      return await this.#tx(async (db) => {
        if (await held(db, account.username, account.accountId, account.createdAt))
          return 'username_taken';
        await db.query(
          `INSERT INTO accounts (account_id, username, identity_key, created_at, next_device_id)
             VALUES ($1, $2, $3, $4, 2)`,
          [account.accountId, account.username, account.identityKey, account.createdAt],
        );
        await insertDevice(db, account.accountId, 1, device);
        return 'created';
      });
    } catch (err) {
      if (isUniqueViolation(err)) return 'username_taken';
      throw err;
    }
  }

  async getAccount(accountId: string): Promise<AccountRecord | undefined> {
    const [row] = await this.#query<AccountRow>('SELECT * FROM accounts WHERE account_id = $1', [
      accountId,
    ]);
    return row && toAccount(row);
  }

  async getAccountByUsername(username: string): Promise<AccountRecord | undefined> {
    const [row] = await this.#query<AccountRow>('SELECT * FROM accounts WHERE username = $1', [
      username,
    ]);
    return row && toAccount(row);
  }

  async setUsername(
    accountId: string,
    username: string,
    hold?: UsernameHold,
  ): Promise<'updated' | 'username_taken'> {
    try {
      return await this.#tx(async (db) => {
        if (hold && (await held(db, username, accountId, hold.now))) return 'username_taken';
        const { rows } = await db.query<{ username: string }>(
          'SELECT username FROM accounts WHERE account_id = $1 FOR UPDATE',
          [accountId],
        );
        if (rows[0] && rows[0].username !== username)
          await holdName(db, accountId, accountId, hold);
        await db.query('UPDATE accounts SET username = $1 WHERE account_id = $2', [
          username,
          accountId,
        ]);
        // Taking back a name we held frees its hold.
        await db.query('DELETE FROM username_holds WHERE username = $1 AND held_for = $2', [
          username,
          accountId,
        ]);
        return 'updated';
      });
    } catch (err) {
      if (isUniqueViolation(err)) return 'username_taken';
      throw err;
    }
  }

  async deleteAccount(accountId: string, hold?: UsernameHold): Promise<boolean> {
    return this.#tx(async (db) => {
      // Send records have no foreign key (see migration 2); ON DELETE CASCADE removes devices,
      // keys, envelopes and linking codes.
      await db.query('DELETE FROM sends WHERE source_account_id = $1', [accountId]);
      await holdName(db, accountId, null, hold);
      const { rowCount } = await db.query('DELETE FROM accounts WHERE account_id = $1', [
        accountId,
      ]);
      const deleted = (rowCount ?? 0) > 0;
      if (deleted) {
        await db.query(
          'INSERT INTO deleted_accounts (account_id) VALUES ($1) ON CONFLICT DO NOTHING',
          [accountId],
        );
      }
      return deleted;
    });
  }

  async goneAccounts(accountIds: readonly string[]): Promise<string[]> {
    const ids = [...new Set(accountIds)];
    if (ids.length === 0) return [];
    const rows = await this.#query<{ account_id: string }>(
      'SELECT account_id FROM deleted_accounts WHERE account_id = ANY($1::text[])',
      [ids],
    );
    return rows.map((r) => r.account_id);
  }

  async exportAccount(
    accountId: string,
    now: number,
    retentionMs: number,
  ): Promise<AccountExportResponse | undefined> {
    return this.#tx(async (db) => {
      await db.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const {
        rows: [account],
      } = await db.query<AccountRow>('SELECT * FROM accounts WHERE account_id = $1', [accountId]);
      if (!account) return undefined;
      const { rows: deviceRows } = await db.query<DeviceRow>(
        'SELECT * FROM devices WHERE account_id = $1 ORDER BY device_id',
        [accountId],
      );
      const devices = [];
      for (const device of deviceRows) {
        const id = device.device_id;
        const signed = await signedKeys(db, accountId, id);
        const current = (kind: KeyKind) =>
          signed.find((k) => k.kind === kind && k.retired_at === null);
        const ec = current('ec');
        const kyber = current('kyber');
        if (!ec || !kyber) throw new Error(`device ${id} has no current signed keys`);
        const oneTime = async (kind: KeyKind) =>
          (
            await db.query<OneTimeKeyRow>(
              `SELECT key_id, public_key, signature FROM one_time_prekeys
                 WHERE account_id = $1 AND device_id = $2 AND kind = $3 ORDER BY key_id`,
              [accountId, id, kind],
            )
          ).rows;
        const { rows: queue } = await db.query<{
          id: string;
          source_account_id: string | null;
          source_device_id: number | null;
          server_timestamp: number;
          bytes: number;
        }>(
          `SELECT id, source_account_id, source_device_id, server_timestamp, octet_length(content) AS bytes
             FROM envelopes WHERE account_id = $1 AND device_id = $2 ORDER BY seq`,
          [accountId, id],
        );
        devices.push({
          deviceId: id,
          ...(device.name === null ? {} : { name: device.name }),
          registrationId: device.registration_id,
          createdAt: device.created_at,
          lastSeenAt: device.last_seen_at,
          signedPreKey: toSignedPreKey(ec),
          pqLastResortPreKey: toSignedPreKey(kyber),
          preKeys: (await oneTime('ec')).map((k) => ({
            keyId: k.key_id,
            publicKey: k.public_key,
          })),
          pqPreKeys: (await oneTime('kyber')).map(toKyberOneTime),
          retiredSignedPreKeys: retired(signed, retentionMs),
          queue: queue.map((e) => ({
            id: e.id,
            ...(e.source_account_id === null || e.source_device_id === null
              ? {}
              : { sourceAccountId: e.source_account_id, sourceDeviceId: e.source_device_id }),
            serverTimestamp: e.server_timestamp,
            contentBytes: e.bytes,
          })),
        });
      }
      return {
        exportedAt: now,
        account: {
          accountId: account.account_id,
          username: account.username,
          identityKey: account.identity_key,
          createdAt: account.created_at,
        },
        devices,
      };
    });
  }

  // ---- devices --------------------------------------------------------------------------------

  async getDevice(accountId: string, deviceId: number): Promise<DeviceRecord | undefined> {
    const [row] = await this.#query<DeviceRow>(
      'SELECT * FROM devices WHERE account_id = $1 AND device_id = $2',
      [accountId, deviceId],
    );
    return row && toDevice(row);
  }

  async listDevices(accountId: string): Promise<DeviceRecord[]> {
    const rows = await this.#query<DeviceRow>(
      'SELECT * FROM devices WHERE account_id = $1 ORDER BY device_id',
      [accountId],
    );
    return rows.map(toDevice);
  }

  async touchDevice(accountId: string, deviceId: number, day: number): Promise<void> {
    await this.#query(
      `UPDATE devices SET last_seen_at = $1
         WHERE account_id = $2 AND device_id = $3 AND last_seen_at < $1`,
      [day, accountId, deviceId],
    );
  }

  async addLinkingCode(accountId: string, codeHash: Uint8Array, expiresAt: number): Promise<void> {
    await this.#query(
      'INSERT INTO linking_codes (code_hash, account_id, expires_at) VALUES ($1, $2, $3)',
      [Buffer.from(codeHash), accountId, expiresAt],
    );
  }

  async linkDevice(
    codeHash: Uint8Array,
    now: number,
    maxDevices: number,
    device: NewDevice,
  ): Promise<LinkResult> {
    const hash = Buffer.from(codeHash);
    return this.#tx(async (db): Promise<LinkResult> => {
      const {
        rows: [code],
      } = await db.query<{ account_id: string; expires_at: number }>(
        'SELECT account_id, expires_at FROM linking_codes WHERE code_hash = $1 FOR UPDATE',
        [hash],
      );
      if (!code) return { ok: false, reason: 'invalid_code' };
      if (code.expires_at <= now) {
        await db.query('DELETE FROM linking_codes WHERE code_hash = $1', [hash]);
        return { ok: false, reason: 'invalid_code' };
      }
      // Lock the account row: concurrent links and enqueues see a stable device list.
      await db.query('SELECT 1 FROM accounts WHERE account_id = $1 FOR UPDATE', [code.account_id]);
      const {
        rows: [counted],
      } = await db.query<{ count: number }>(
        'SELECT COUNT(*) AS count FROM devices WHERE account_id = $1',
        [code.account_id],
      );
      // The code stays valid, so the user can remove a device and try again.
      if ((counted?.count ?? 0) >= maxDevices) return { ok: false, reason: 'too_many_devices' };
      await db.query('DELETE FROM linking_codes WHERE code_hash = $1', [hash]);
      const {
        rows: [next],
      } = await db.query<{ device_id: number }>(
        `UPDATE accounts SET next_device_id = next_device_id + 1 WHERE account_id = $1
           RETURNING next_device_id - 1 AS device_id`,
        [code.account_id],
      );
      const deviceId = next?.device_id as number;
      await insertDevice(db, code.account_id, deviceId, device);
      return { ok: true, accountId: code.account_id, deviceId };
    });
  }

  async removeDevice(accountId: string, deviceId: number): Promise<boolean> {
    return this.#tx(async (db) => {
      await db.query('DELETE FROM sends WHERE source_account_id = $1 AND source_device_id = $2', [
        accountId,
        deviceId,
      ]);
      const { rowCount } = await db.query(
        'DELETE FROM devices WHERE account_id = $1 AND device_id = $2',
        [accountId, deviceId],
      );
      return (rowCount ?? 0) > 0;
    });
  }

  // ---- keys -----------------------------------------------------------------------------------

  async storeKeys(
    accountId: string,
    deviceId: number,
    upload: PreKeyUploadRequest,
    now: number,
  ): Promise<boolean> {
    return this.#tx(async (db) => {
      // FOR KEY SHARE: a concurrent removal waits for this upload (or this sees the device gone).
      const { rows } = await db.query(
        'SELECT 1 FROM devices WHERE account_id = $1 AND device_id = $2 FOR KEY SHARE',
        [accountId, deviceId],
      );
      if (rows.length === 0) return false;
      await applyUpload(db, accountId, deviceId, upload, now);
      return true;
    });
  }

  async keyStatus(
    accountId: string,
    deviceId: number,
    retentionMs: number,
  ): Promise<PreKeyStatusResponse | undefined> {
    return this.#tx(async (db) => {
      await db.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const signed = await signedKeys(db, accountId, deviceId);
      const ec = signed.find((k) => k.kind === 'ec' && k.retired_at === null);
      const kyber = signed.find((k) => k.kind === 'kyber' && k.retired_at === null);
      if (!ec || !kyber) return undefined;
      const { rows: counts } = await db.query<{ kind: KeyKind; count: number }>(
        `SELECT kind, COUNT(*) AS count FROM one_time_prekeys
           WHERE account_id = $1 AND device_id = $2 GROUP BY kind`,
        [accountId, deviceId],
      );
      const count = (kind: KeyKind) => counts.find((c) => c.kind === kind)?.count ?? 0;
      return {
        preKeyCount: count('ec'),
        pqPreKeyCount: count('kyber'),
        signedPreKeyId: ec.key_id,
        pqLastResortPreKeyId: kyber.key_id,
        retiredSignedPreKeys: retired(signed, retentionMs),
      };
    });
  }

  async takeBundles(
    accountId: string,
    deviceId: number | 'all',
  ): Promise<PreKeyBundleResponse | undefined> {
    return this.#tx(async (db) => {
      const {
        rows: [account],
      } = await db.query<{ identity_key: string }>(
        'SELECT identity_key FROM accounts WHERE account_id = $1',
        [accountId],
      );
      if (!account) return undefined;
      const { rows: devices } =
        deviceId === 'all'
          ? await db.query<{ device_id: number; registration_id: number }>(
              'SELECT device_id, registration_id FROM devices WHERE account_id = $1 ORDER BY device_id',
              [accountId],
            )
          : await db.query<{ device_id: number; registration_id: number }>(
              'SELECT device_id, registration_id FROM devices WHERE account_id = $1 AND device_id = $2',
              [accountId, deviceId],
            );
      if (devices.length === 0) return undefined;
      // SKIP LOCKED: a key another transaction is claiming is skipped, never handed out twice.
      const claim = async (id: number, kind: KeyKind) =>
        (
          await db.query<OneTimeKeyRow>(
            `DELETE FROM one_time_prekeys
               WHERE (account_id, device_id, kind, key_id) = (
                 SELECT account_id, device_id, kind, key_id FROM one_time_prekeys
                   WHERE account_id = $1 AND device_id = $2 AND kind = $3
                   ORDER BY key_id LIMIT 1 FOR UPDATE SKIP LOCKED)
             RETURNING key_id, public_key, signature`,
            [accountId, id, kind],
          )
        ).rows[0];
      const bundles: DeviceBundle[] = [];
      for (const device of devices) {
        const id = device.device_id;
        const signed = (await signedKeys(db, accountId, id)).filter((k) => k.retired_at === null);
        const ec = signed.find((k) => k.kind === 'ec');
        const lastResort = signed.find((k) => k.kind === 'kyber');
        if (!ec || !lastResort) throw new Error(`device ${id} has no current signed keys`);
        const preKey = await claim(id, 'ec');
        const pqPreKey = await claim(id, 'kyber');
        bundles.push({
          deviceId: id,
          registrationId: device.registration_id,
          signedPreKey: toSignedPreKey(ec),
          ...(preKey ? { preKey: { keyId: preKey.key_id, publicKey: preKey.public_key } } : {}),
          pqPreKey: pqPreKey ? toKyberOneTime(pqPreKey) : toSignedPreKey(lastResort),
          pqPreKeyIsLastResort: pqPreKey === undefined,
        });
      }
      return { identityKey: account.identity_key, devices: bundles };
    });
  }

  // ---- messages -------------------------------------------------------------------------------

  async enqueue<R>(
    accountIds: readonly string[],
    plan: EnqueuePlanner<R>,
    { sender = '', send, hint }: EnqueueOptions = {},
  ): Promise<EnqueueResult<R>> {
    const ids = [...new Set(accountIds)].sort();
    if (hint && !send) {
      const fast = await this.#enqueueOnHint(ids, plan, sender, hint);
      if (fast) return fast;
    }
    const attempt = this.#tx(async (db): Promise<EnqueueResult<R>> => {
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
   * One round trip instead of a transaction of four or five: plan on the caller's device lists
   * (queue counts at zero), then one statement locks the accounts (`FOR SHARE`) and their
   * devices (`FOR UPDATE`, sorted, before any `seq` is taken, as in the transactional path),
   * checks that the device lists are exactly the hint and every addressed queue is within the
   * plan's bounds, and inserts only if so. Hinted sends planned in the same event-loop turn
   * share that statement (`#storeHinted`), each with its own verdict. `undefined` (nothing
   * stored) when the hint does not hold or the plan needs the locked snapshot: the caller then
   * takes the transactional path, which gives the exact answer (409, 410, 507, 429 …).
   */
  async #enqueueOnHint<R>(
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
    const stored = await this.#hintedSends.add({ ids, expected, bounds, sender, envelopes });
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
  async #storeHinted(sends: readonly HintedSend[]): Promise<(StoredEnvelope[] | undefined)[]> {
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
      result = await this.#query(
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

  /**
   * Page reads issued in the same event-loop turn (many sockets refilling at once) go to
   * PostgreSQL as one statement; each caller gets its own page.
   */
  fetchEnvelopes(
    accountId: string,
    deviceId: number,
    page: { afterSeq: number; limit: number; notBefore: number },
  ): Promise<StoredEnvelope[]> {
    if (this.#closed) return Promise.reject(new Error('the store is closed'));
    return this.#pageReads.add({ accountId, deviceId, ...page });
  }

  async #readPages(requests: readonly PageRequest[]): Promise<StoredEnvelope[][]> {
    const rows = await this.#query<EnvelopeRow & { request: number }>(
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
    const rows = await this.#query(
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
    if (this.#closed) return Promise.reject(new Error('the store is closed'));
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
    const rows = await this.#query<{ request: number; id: string }>(
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

  // ---- maintenance ----------------------------------------------------------------------------

  async expire(now: number, retentionMs: number): Promise<ExpiryResult> {
    const cutoff = now - retentionMs;
    return this.#tx(async (db) => ({
      envelopes:
        (await db.query('DELETE FROM envelopes WHERE server_timestamp < $1', [cutoff])).rowCount ??
        0,
      linkingCodes:
        (await db.query('DELETE FROM linking_codes WHERE expires_at <= $1', [now])).rowCount ?? 0,
      retiredSignedPreKeys:
        (
          await db.query(
            'DELETE FROM signed_prekeys WHERE retired_at IS NOT NULL AND retired_at < $1',
            [cutoff],
          )
        ).rowCount ?? 0,
      sendRecords:
        (await db.query('DELETE FROM sends WHERE server_timestamp < $1', [cutoff])).rowCount ?? 0,
      usernameHolds:
        (await db.query('DELETE FROM username_holds WHERE hold_until <= $1', [now])).rowCount ?? 0,
    }));
  }

  // ---- sealed sender --------------------------------------------------------------------------

  async sealedSenderKeys(initial: SealedSenderKeyRecord): Promise<SealedSenderKeyRecord> {
    return this.#tx(async (db) => {
      // Nodes starting together: the first insert wins, everyone reads the winner.
      await db.query(
        `INSERT INTO sealed_sender_keys
           (id, trust_root_private, server_key_id, server_private, server_certificate, created_at)
         VALUES (1, $1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING`,
        [
          Buffer.from(initial.trustRootPrivateKey),
          initial.serverKeyId,
          Buffer.from(initial.serverPrivateKey),
          Buffer.from(initial.serverCertificate),
          initial.createdAt,
        ],
      );
      const { rows } = await db.query<{
        trust_root_private: Buffer;
        server_key_id: number;
        server_private: Buffer;
        server_certificate: Buffer;
        created_at: number;
      }>('SELECT * FROM sealed_sender_keys WHERE id = 1', []);
      const row = rows[0];
      if (!row) throw new Error('sealed sender keys vanished');
      return {
        trustRootPrivateKey: new Uint8Array(row.trust_root_private),
        serverKeyId: Number(row.server_key_id),
        serverPrivateKey: new Uint8Array(row.server_private),
        serverCertificate: new Uint8Array(row.server_certificate),
        createdAt: Number(row.created_at),
      };
    });
  }

  async setAccessKeyHash(accountId: string, keyHash: Uint8Array | null): Promise<boolean> {
    return this.#tx(async (db) => {
      const { rowCount } = await db.query(
        'SELECT 1 FROM accounts WHERE account_id = $1 FOR SHARE',
        [accountId],
      );
      if ((rowCount ?? 0) === 0) return false;
      if (keyHash === null) {
        await db.query('DELETE FROM unidentified_access WHERE account_id = $1', [accountId]);
      } else {
        await db.query(
          `INSERT INTO unidentified_access (account_id, key_hash) VALUES ($1, $2)
             ON CONFLICT (account_id) DO UPDATE SET key_hash = excluded.key_hash`,
          [accountId, Buffer.from(keyHash)],
        );
      }
      return true;
    });
  }

  async accessKeyHashes(accountIds: readonly string[]): Promise<Map<string, Uint8Array>> {
    const rows = await this.#query<{ account_id: string; key_hash: Buffer }>(
      'SELECT account_id, key_hash FROM unidentified_access WHERE account_id = ANY($1::text[])',
      [[...new Set(accountIds)]],
    );
    return new Map(rows.map((r) => [r.account_id, new Uint8Array(r.key_hash)]));
  }

  async ping(): Promise<void> {
    await this.#query('SELECT 1', []);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }
}

/**
 * Whether `username` is held at `now` for someone other than `accountId`. Under READ COMMITTED
 * a registration that checked just before a deletion of the name's owner committed can still
 * take the name (its INSERT waits on the unique index, then succeeds): a window of one commit,
 * which costs the hold nothing that matters.
 */
async function held(db: Db, username: string, accountId: string, now: number): Promise<boolean> {
  const { rows } = await db.query<{ held_for: string | null }>(
    'SELECT held_for FROM username_holds WHERE username = $1 AND hold_until > $2',
    [username, now],
  );
  return rows[0] !== undefined && rows[0].held_for !== accountId;
}

/** Holds the name `accountId` has now (before it is freed) until `hold.until`. */
async function holdName(
  db: Db,
  accountId: string,
  heldFor: string | null,
  hold: UsernameHold | undefined,
): Promise<void> {
  if (!hold || hold.until <= hold.now) return;
  await db.query(
    `INSERT INTO username_holds (username, held_for, hold_until)
       SELECT username, $1, $2 FROM accounts WHERE account_id = $3
       ON CONFLICT (username) DO UPDATE SET held_for = EXCLUDED.held_for,
         hold_until = EXCLUDED.hold_until`,
    [heldFor, hold.until, accountId],
  );
}

async function insertDevice(
  db: Db,
  accountId: string,
  deviceId: number,
  device: NewDevice,
): Promise<void> {
  const { keys } = device;
  await db.query(
    `INSERT INTO devices (account_id, device_id, registration_id, name, credential_hash, created_at, last_seen_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [
      accountId,
      deviceId,
      keys.registrationId,
      keys.name ?? null,
      Buffer.from(device.credentialHash),
      device.createdAt,
      startOfUtcDay(device.createdAt),
    ],
  );
  await applyUpload(
    db,
    accountId,
    deviceId,
    {
      signedPreKey: keys.signedPreKey,
      pqLastResortPreKey: keys.pqLastResortPreKey,
      preKeys: keys.preKeys,
      pqPreKeys: keys.pqPreKeys,
    },
    device.createdAt,
  );
}

async function applyUpload(
  db: Db,
  accountId: string,
  deviceId: number,
  upload: PreKeyUploadRequest,
  now: number,
): Promise<void> {
  const replaceSigned = async (kind: KeyKind, key: SignedPreKey | KyberPreKey) => {
    await db.query(
      'DELETE FROM signed_prekeys WHERE account_id = $1 AND device_id = $2 AND kind = $3 AND key_id = $4',
      [accountId, deviceId, kind, key.keyId],
    );
    // The previous key is retired, not deleted: see PreKeyStatusResponse.retiredSignedPreKeys.
    await db.query(
      `UPDATE signed_prekeys SET retired_at = $1
         WHERE account_id = $2 AND device_id = $3 AND kind = $4 AND retired_at IS NULL`,
      [now, accountId, deviceId, kind],
    );
    await db.query(
      `INSERT INTO signed_prekeys (account_id, device_id, kind, key_id, public_key, signature, uploaded_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [accountId, deviceId, kind, key.keyId, key.publicKey, key.signature, now],
    );
  };
  const replaceOneTime = async (kind: KeyKind, keys: readonly (PreKey | KyberPreKey)[]) => {
    await db.query(
      'DELETE FROM one_time_prekeys WHERE account_id = $1 AND device_id = $2 AND kind = $3',
      [accountId, deviceId, kind],
    );
    if (keys.length === 0) return;
    await db.query(
      `INSERT INTO one_time_prekeys (account_id, device_id, kind, key_id, public_key, signature)
         SELECT $1, $2, $3, * FROM unnest($4::int[], $5::text[], $6::text[])`,
      [
        accountId,
        deviceId,
        kind,
        keys.map((k) => k.keyId),
        keys.map((k) => k.publicKey),
        keys.map((k) => ('signature' in k ? k.signature : null)),
      ],
    );
  };
  if (upload.signedPreKey) await replaceSigned('ec', upload.signedPreKey);
  if (upload.pqLastResortPreKey) await replaceSigned('kyber', upload.pqLastResortPreKey);
  if (upload.preKeys) await replaceOneTime('ec', upload.preKeys);
  if (upload.pqPreKeys) await replaceOneTime('kyber', upload.pqPreKeys);
}

async function signedKeys(db: Db, accountId: string, deviceId: number): Promise<SignedKeyRow[]> {
  return (
    await db.query<SignedKeyRow>(
      `SELECT kind, key_id, public_key, signature, uploaded_at, retired_at FROM signed_prekeys
         WHERE account_id = $1 AND device_id = $2 ORDER BY uploaded_at, key_id`,
      [accountId, deviceId],
    )
  ).rows;
}

function toSignedPreKey(row: SignedKeyRow): SignedPreKey & KyberPreKey {
  return { keyId: row.key_id, publicKey: row.public_key, signature: row.signature };
}

function toKyberOneTime(row: OneTimeKeyRow): KyberPreKey {
  if (row.signature === null) throw new Error(`Kyber prekey ${row.key_id} has no signature`);
  return { keyId: row.key_id, publicKey: row.public_key, signature: row.signature };
}

function retired(signed: readonly SignedKeyRow[], retentionMs: number): RetiredSignedPreKey[] {
  return signed
    .filter((k): k is SignedKeyRow & { retired_at: number } => k.retired_at !== null)
    .map((k) => ({
      kind: k.kind,
      keyId: k.key_id,
      retiredAt: k.retired_at,
      keepUntil: k.retired_at + retentionMs,
    }));
}

/** Carries a planner's rejection out of `#tx`, which rolls the transaction back. */
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
