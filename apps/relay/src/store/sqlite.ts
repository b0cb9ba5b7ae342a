/**
 * The embedded `RelayStore`: SQLite through better-sqlite3.
 *
 * Why better-sqlite3: it is the most used and best maintained SQLite binding for Node, it is
 * synchronous (a transaction can never interleave with another request's statements, which makes
 * atomicity trivial to reason about), and it is fast. Node 20 has no `node:sqlite`.
 *
 * Durability: WAL mode with `synchronous = FULL`, so a write's promise settles only once its
 * transaction is on disk — the relay answers 200 to a send only after that. Writes arriving
 * together are group-committed (see `SqliteDatabase.write` in `sqlite-db.ts`), so concurrent
 * requests share one fsync. `secure_delete` overwrites deleted rows, so acked ciphertext and
 * removed keys do not linger in free pages.
 *
 * The parts live in `sqlite-accounts.ts`, `sqlite-devices.ts`, `sqlite-keys.ts`, `sqlite-queues.ts`
 * and `sqlite-sealed.ts`, on the connection of `sqlite-db.ts`; this class opens and migrates the
 * file and puts them together as one `RelayStore`.
 * @module
 */
import Database from 'better-sqlite3';
import type {
  AccountExportResponse,
  PreKeyBundleResponse,
  PreKeyStatusResponse,
  PreKeyUploadRequest,
} from '@parley/protocol';
import { SqliteAttachmentStore } from './attachments-sqlite.ts';
import { MIGRATIONS } from './migrations.ts';
import {
  createAccount,
  deleteAccount,
  exportAccount,
  getAccount,
  getAccountByUsername,
  goneAccounts,
  setUsername,
} from './sqlite-accounts.ts';
import { SqliteDatabase } from './sqlite-db.ts';
import {
  addLinkingCode,
  getDevice,
  linkDevice,
  listDevices,
  removeDevice,
  touchDevice,
} from './sqlite-devices.ts';
import { keyStatus, storeKeys, takeBundles } from './sqlite-keys.ts';
import { deleteEnvelope, deleteEnvelopes, enqueue, fetchEnvelopes } from './sqlite-queues.ts';
import { accessKeyHashes, sealedSenderKeys, setAccessKeyHash } from './sqlite-sealed.ts';
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

export interface SqliteStoreOptions {
  /** Path of the database file; created if missing. */
  path: string;
}

export class SqliteRelayStore implements RelayStore {
  readonly #db: SqliteDatabase;

  readonly attachments: SqliteAttachmentStore;

  private constructor(db: Database.Database) {
    this.#db = new SqliteDatabase(db);
    this.attachments = new SqliteAttachmentStore(db);
  }

  /** Opens (and migrates) the database file. */
  static open(options: SqliteStoreOptions): SqliteRelayStore {
    const db = new Database(options.path);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      db.pragma('secure_delete = ON');
      db.pragma('busy_timeout = 5000');
      migrate(db);
    } catch (err) {
      db.close();
      throw err;
    }
    return new SqliteRelayStore(db);
  }

  // ---- accounts -------------------------------------------------------------------------------

  createAccount(account: AccountRecord, device: NewDevice): Promise<'created' | 'username_taken'> {
    return createAccount(this.#db, account, device);
  }

  getAccount(accountId: string): Promise<AccountRecord | undefined> {
    return getAccount(this.#db, accountId);
  }

  getAccountByUsername(username: string): Promise<AccountRecord | undefined> {
    return getAccountByUsername(this.#db, username);
  }

  setUsername(
    accountId: string,
    username: string,
    hold?: UsernameHold,
  ): Promise<'updated' | 'username_taken'> {
    return setUsername(this.#db, accountId, username, hold);
  }

  deleteAccount(accountId: string, hold?: UsernameHold): Promise<boolean> {
    return deleteAccount(this.#db, accountId, hold);
  }

  goneAccounts(accountIds: readonly string[]): Promise<string[]> {
    return goneAccounts(this.#db, accountIds);
  }

  exportAccount(
    accountId: string,
    now: number,
    retentionMs: number,
  ): Promise<AccountExportResponse | undefined> {
    return exportAccount(this.#db, accountId, now, retentionMs);
  }

  // ---- devices --------------------------------------------------------------------------------

  getDevice(accountId: string, deviceId: number): Promise<DeviceRecord | undefined> {
    return getDevice(this.#db, accountId, deviceId);
  }

  listDevices(accountId: string): Promise<DeviceRecord[]> {
    return listDevices(this.#db, accountId);
  }

  touchDevice(accountId: string, deviceId: number, day: number): Promise<void> {
    return touchDevice(this.#db, accountId, deviceId, day);
  }

  addLinkingCode(accountId: string, codeHash: Uint8Array, expiresAt: number): Promise<void> {
    return addLinkingCode(this.#db, accountId, codeHash, expiresAt);
  }

  linkDevice(
    codeHash: Uint8Array,
    now: number,
    maxDevices: number,
    device: NewDevice,
  ): Promise<LinkResult> {
    return linkDevice(this.#db, codeHash, now, maxDevices, device);
  }

  removeDevice(accountId: string, deviceId: number): Promise<boolean> {
    return removeDevice(this.#db, accountId, deviceId);
  }

  // ---- keys -----------------------------------------------------------------------------------

  storeKeys(
    accountId: string,
    deviceId: number,
    upload: PreKeyUploadRequest,
    now: number,
  ): Promise<boolean> {
    return storeKeys(this.#db, accountId, deviceId, upload, now);
  }

  keyStatus(
    accountId: string,
    deviceId: number,
    retentionMs: number,
  ): Promise<PreKeyStatusResponse | undefined> {
    return keyStatus(this.#db, accountId, deviceId, retentionMs);
  }

  takeBundles(
    accountId: string,
    deviceId: number | 'all',
  ): Promise<PreKeyBundleResponse | undefined> {
    return takeBundles(this.#db, accountId, deviceId);
  }

  // ---- sealed sender --------------------------------------------------------------------------

  sealedSenderKeys(initial: SealedSenderKeyRecord): Promise<SealedSenderKeyRecord> {
    return sealedSenderKeys(this.#db, initial);
  }

  setAccessKeyHash(accountId: string, keyHash: Uint8Array | null): Promise<boolean> {
    return setAccessKeyHash(this.#db, accountId, keyHash);
  }

  accessKeyHashes(accountIds: readonly string[]): Promise<Map<string, Uint8Array>> {
    return accessKeyHashes(this.#db, accountIds);
  }

  // ---- messages -------------------------------------------------------------------------------

  enqueue<R>(
    accountIds: readonly string[],
    plan: EnqueuePlanner<R>,
    options: EnqueueOptions = {},
  ): Promise<EnqueueResult<R>> {
    return enqueue(this.#db, accountIds, plan, options);
  }

  fetchEnvelopes(
    accountId: string,
    deviceId: number,
    page: { afterSeq: number; limit: number; notBefore: number },
  ): Promise<StoredEnvelope[]> {
    return fetchEnvelopes(this.#db, accountId, deviceId, page);
  }

  deleteEnvelope(accountId: string, deviceId: number, envelopeId: string): Promise<boolean> {
    return deleteEnvelope(this.#db, accountId, deviceId, envelopeId);
  }

  deleteEnvelopes(
    accountId: string,
    deviceId: number,
    envelopeIds: readonly string[],
  ): Promise<string[]> {
    return deleteEnvelopes(this.#db, accountId, deviceId, envelopeIds);
  }

  // ---- maintenance ----------------------------------------------------------------------------

  async expire(now: number, retentionMs: number): Promise<ExpiryResult> {
    const cutoff = now - retentionMs;
    return this.#db.write(() => ({
      envelopes: this.#db.prepare('DELETE FROM envelopes WHERE server_timestamp < ?').run(cutoff)
        .changes,
      linkingCodes: this.#db.prepare('DELETE FROM linking_codes WHERE expires_at <= ?').run(now)
        .changes,
      retiredSignedPreKeys: this.#db
        .prepare('DELETE FROM signed_prekeys WHERE retired_at IS NOT NULL AND retired_at < ?')
        .run(cutoff).changes,
      sendRecords: this.#db.prepare('DELETE FROM sends WHERE server_timestamp < ?').run(cutoff)
        .changes,
      usernameHolds: this.#db.prepare('DELETE FROM username_holds WHERE hold_until <= ?').run(now)
        .changes,
    }));
  }

  async ping(): Promise<void> {
    this.#db.prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    this.#db.close();
  }
}

function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(
      `database schema version ${current} is newer than this relay understands (${MIGRATIONS.length})`,
    );
  }
  MIGRATIONS.forEach((sql, index) => {
    const version = index + 1;
    if (version <= current) return;
    db.transaction(() => {
      db.exec(sql);
      db.pragma(`user_version = ${version}`);
    }).immediate();
  });
}
