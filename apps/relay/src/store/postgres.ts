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
 * The parts live in `postgres-accounts.ts`, `postgres-devices.ts`, `postgres-keys.ts`,
 * `postgres-queues.ts` (with `postgres-hinted-sends.ts`) and `postgres-sealed.ts`, on the pool
 * of `postgres-db.ts`; this class puts them together as one `RelayStore`.
 * Durability is PostgreSQL's: with the default `synchronous_commit = on` a send is on disk (and
 * on synchronous replicas, if configured) before its 200.
 * @module
 */
import type {
  AccountExportResponse,
  PreKeyBundleResponse,
  PreKeyStatusResponse,
  PreKeyUploadRequest,
} from '@parley/protocol';
import { PostgresAttachmentStore } from './attachments-postgres.ts';
import {
  createAccount,
  deleteAccount,
  exportAccount,
  getAccount,
  getAccountByUsername,
  goneAccounts,
  setUsername,
} from './postgres-accounts.ts';
import { PgDatabase } from './postgres-db.ts';
import {
  addLinkingCode,
  getDevice,
  linkDevice,
  listDevices,
  removeDevice,
  touchDevice,
} from './postgres-devices.ts';
import { keyStatus, storeKeys, takeBundles } from './postgres-keys.ts';
import { PG_MIGRATIONS } from './postgres-migrations.ts';
import { PostgresQueues } from './postgres-queues.ts';
import { accessKeyHashes, sealedSenderKeys, setAccessKeyHash } from './postgres-sealed.ts';
import type {
  AccountRecord,
  DeviceRecord,
  EnqueueOptions,
  EnqueuePlanner,
  EnqueueResult,
  ExpiryResult,
  LinkResult,
  NewDevice,
  RelayStore,
  SealedSenderKeyRecord,
  StoredEnvelope,
  UsernameHold,
} from './types.ts';

/** Arbitrary constant: the advisory lock every node takes while migrating. */
const MIGRATION_LOCK = 7_341_002_117;

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database` */
  url: string;
  /** Pool size per relay node (default 10). */
  maxConnections?: number;
}

export class PostgresRelayStore implements RelayStore {
  readonly #pg: PgDatabase;
  readonly #queues: PostgresQueues;

  readonly attachments: PostgresAttachmentStore;

  private constructor(pg: PgDatabase) {
    this.#pg = pg;
    this.#queues = new PostgresQueues(pg);
    this.attachments = new PostgresAttachmentStore(pg.pool);
  }

  /** Connects, and applies pending migrations (once, even with several nodes starting). */
  static async open(options: PostgresStoreOptions): Promise<PostgresRelayStore> {
    const pg = new PgDatabase(options.url, options.maxConnections ?? 10);
    const store = new PostgresRelayStore(pg);
    try {
      await store.#migrate();
    } catch (err) {
      await pg.pool.end();
      throw err;
    }
    return store;
  }

  async #migrate(): Promise<void> {
    await this.#pg.tx(async (db) => {
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

  // ---- accounts -------------------------------------------------------------------------------

  createAccount(account: AccountRecord, device: NewDevice): Promise<'created' | 'username_taken'> {
    return createAccount(this.#pg, account, device);
  }

  getAccount(accountId: string): Promise<AccountRecord | undefined> {
    return getAccount(this.#pg, accountId);
  }

  getAccountByUsername(username: string): Promise<AccountRecord | undefined> {
    return getAccountByUsername(this.#pg, username);
  }

  setUsername(
    accountId: string,
    username: string,
    hold?: UsernameHold,
  ): Promise<'updated' | 'username_taken'> {
    return setUsername(this.#pg, accountId, username, hold);
  }

  deleteAccount(accountId: string, hold?: UsernameHold): Promise<boolean> {
    return deleteAccount(this.#pg, accountId, hold);
  }

  goneAccounts(accountIds: readonly string[]): Promise<string[]> {
    return goneAccounts(this.#pg, accountIds);
  }

  exportAccount(
    accountId: string,
    now: number,
    retentionMs: number,
  ): Promise<AccountExportResponse | undefined> {
    return exportAccount(this.#pg, accountId, now, retentionMs);
  }

  // ---- devices --------------------------------------------------------------------------------

  getDevice(accountId: string, deviceId: number): Promise<DeviceRecord | undefined> {
    return getDevice(this.#pg, accountId, deviceId);
  }

  listDevices(accountId: string): Promise<DeviceRecord[]> {
    return listDevices(this.#pg, accountId);
  }

  touchDevice(accountId: string, deviceId: number, day: number): Promise<void> {
    return touchDevice(this.#pg, accountId, deviceId, day);
  }

  addLinkingCode(accountId: string, codeHash: Uint8Array, expiresAt: number): Promise<void> {
    return addLinkingCode(this.#pg, accountId, codeHash, expiresAt);
  }

  linkDevice(
    codeHash: Uint8Array,
    now: number,
    maxDevices: number,
    device: NewDevice,
  ): Promise<LinkResult> {
    return linkDevice(this.#pg, codeHash, now, maxDevices, device);
  }

  removeDevice(accountId: string, deviceId: number): Promise<boolean> {
    return removeDevice(this.#pg, accountId, deviceId);
  }

  // ---- keys -----------------------------------------------------------------------------------

  storeKeys(
    accountId: string,
    deviceId: number,
    upload: PreKeyUploadRequest,
    now: number,
  ): Promise<boolean> {
    return storeKeys(this.#pg, accountId, deviceId, upload, now);
  }

  keyStatus(
    accountId: string,
    deviceId: number,
    retentionMs: number,
  ): Promise<PreKeyStatusResponse | undefined> {
    return keyStatus(this.#pg, accountId, deviceId, retentionMs);
  }

  takeBundles(
    accountId: string,
    deviceId: number | 'all',
  ): Promise<PreKeyBundleResponse | undefined> {
    return takeBundles(this.#pg, accountId, deviceId);
  }

  // ---- messages -------------------------------------------------------------------------------

  enqueue<R>(
    accountIds: readonly string[],
    plan: EnqueuePlanner<R>,
    options: EnqueueOptions = {},
  ): Promise<EnqueueResult<R>> {
    return this.#queues.enqueue(accountIds, plan, options);
  }

  fetchEnvelopes(
    accountId: string,
    deviceId: number,
    page: { afterSeq: number; limit: number; notBefore: number },
  ): Promise<StoredEnvelope[]> {
    return this.#queues.fetchEnvelopes(accountId, deviceId, page);
  }

  deleteEnvelope(accountId: string, deviceId: number, envelopeId: string): Promise<boolean> {
    return this.#queues.deleteEnvelope(accountId, deviceId, envelopeId);
  }

  deleteEnvelopes(
    accountId: string,
    deviceId: number,
    envelopeIds: readonly string[],
  ): Promise<string[]> {
    return this.#queues.deleteEnvelopes(accountId, deviceId, envelopeIds);
  }

  // ---- sealed sender --------------------------------------------------------------------------

  sealedSenderKeys(initial: SealedSenderKeyRecord): Promise<SealedSenderKeyRecord> {
    return sealedSenderKeys(this.#pg, initial);
  }

  setAccessKeyHash(accountId: string, keyHash: Uint8Array | null): Promise<boolean> {
    return setAccessKeyHash(this.#pg, accountId, keyHash);
  }

  accessKeyHashes(accountIds: readonly string[]): Promise<Map<string, Uint8Array>> {
    return accessKeyHashes(this.#pg, accountIds);
  }

  // ---- maintenance ----------------------------------------------------------------------------

  async expire(now: number, retentionMs: number): Promise<ExpiryResult> {
    const cutoff = now - retentionMs;
    return this.#pg.tx(async (db) => ({
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

  async ping(): Promise<void> {
    await this.#pg.query('SELECT 1', []);
  }

  close(): Promise<void> {
    return this.#pg.close();
  }
}
