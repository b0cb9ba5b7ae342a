/**
 * The embedded `RelayStore`: SQLite through better-sqlite3.
 *
 * Why better-sqlite3: it is the most used and best maintained SQLite binding for Node, it is
 * synchronous (a transaction can never interleave with another request's statements, which makes
 * atomicity trivial to reason about), and it is fast. Node 20 has no `node:sqlite`.
 *
 * Durability: WAL mode with `synchronous = FULL`, so a write's promise settles only once its
 * transaction is on disk — the relay answers 200 to a send only after that. Writes arriving
 * together are group-committed (see `#write`), so concurrent requests share one fsync.
 * `secure_delete` overwrites deleted rows, so acked ciphertext and removed keys do not linger
 * in free pages.
 * @module
 */
import Database from 'better-sqlite3';
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
import { startOfUtcDay } from '../clock.ts';
import { SqliteAttachmentStore } from './attachments-sqlite.ts';
import { MIGRATIONS } from './migrations.ts';
import { envelopeFromRow, storedEnvelope } from './types.ts';
import type {
  AccountRecord,
  DeviceRecord,
  DeviceSnapshot,
  EnqueueOptions,
  EnqueuePlanner,
  EnqueueResult,
  ExpiryResult,
  LinkResult,
  NewDevice,
  RelayStore,
  SealedSenderKeyRecord,
  SendKey,
  SendRecord,
  StoredEnvelope,
  UsernameHold,
} from './types.ts';

type KeyKind = 'ec' | 'kyber';

interface AccountRow {
  account_id: string;
  username: string;
  identity_key: string;
  created_at: number;
  next_device_id: number;
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

interface PendingWrite {
  run: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

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
  return (err as { code?: unknown }).code === 'SQLITE_CONSTRAINT_UNIQUE';
}

export interface SqliteStoreOptions {
  /** Path of the database file; created if missing. */
  path: string;
}

export class SqliteRelayStore implements RelayStore {
  readonly #db: Database.Database;

  readonly attachments: SqliteAttachmentStore;

  private constructor(db: Database.Database) {
    this.#db = db;
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

  readonly #statements = new Map<string, Database.Statement>();

  /** Prepared statements are compiled once and reused (SQL parsing dominates small queries). */
  #prepare(sql: string): Database.Statement {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  readonly #pending: PendingWrite[] = [];
  #flushScheduled = false;

  /**
   * Runs `fn` as a write. Writes issued in the same event-loop turn share one transaction
   * (group commit): each runs in its own savepoint, so one failing write rolls back only
   * itself, and every promise settles after the shared COMMIT is on disk. With
   * `synchronous = FULL` that turns one fsync per request into one per batch.
   */
  #write<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#pending.push({ run: fn, resolve: resolve as (value: unknown) => void, reject });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#flushScheduled = false;
    const batch = this.#pending.splice(0);
    if (batch.length === 0) return;
    if (!this.#db.open) {
      for (const write of batch) write.reject(new Error('the store is closed'));
      return;
    }
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    try {
      // BEGIN IMMEDIATE: take the write lock up front (no upgrade deadlocks with readers).
      this.#db
        .transaction(() => {
          for (const write of batch) {
            try {
              // A transaction inside a transaction is a savepoint in better-sqlite3.
              outcomes.push({ ok: true, value: this.#db.transaction(write.run)() });
            } catch (error) {
              outcomes.push({ ok: false, error });
            }
          }
        })
        .immediate();
    } catch (error) {
      // The COMMIT itself failed: nothing in the batch is durable.
      for (const write of batch) write.reject(error);
      return;
    }
    batch.forEach((write, i) => {
      const outcome = outcomes[i];
      if (outcome?.ok) write.resolve(outcome.value);
      else write.reject(outcome?.error);
    });
  }

  #read<T>(fn: () => T): T {
    return this.#db.transaction(fn).deferred();
  }

  // ---- accounts -------------------------------------------------------------------------------

  async createAccount(
    account: AccountRecord,
    device: NewDevice,
  ): Promise<'created' | 'username_taken'> {
    try {
      return await this.#write(() => {
        if (this.#held(account.username, account.accountId, account.createdAt))
          return 'username_taken';
        this.#prepare(
          `INSERT INTO accounts (account_id, username, identity_key, created_at, next_device_id)
             VALUES (?, ?, ?, ?, 2)`,
        ).run(account.accountId, account.username, account.identityKey, account.createdAt);
        this.#insertDevice(account.accountId, 1, device);
        return 'created';
      });
    } catch (err) {
      if (isUniqueViolation(err)) return 'username_taken';
      throw err;
    }
  }

  /** Whether `username` is held at `now` for someone other than `accountId`. */
  #held(username: string, accountId: string, now: number): boolean {
    const row = this.#prepare(
      'SELECT held_for FROM username_holds WHERE username = ? AND hold_until > ?',
    ).get(username, now) as { held_for: string | null } | undefined;
    return row !== undefined && row.held_for !== accountId;
  }

  /** Holds the name `accountId` has now (before it is freed) until `hold.until`. */
  #hold(accountId: string, heldFor: string | null, hold: UsernameHold | undefined): void {
    if (!hold || hold.until <= hold.now) return;
    this.#prepare(
      `INSERT INTO username_holds (username, held_for, hold_until)
         SELECT username, ?, ? FROM accounts WHERE account_id = ?
         ON CONFLICT (username) DO UPDATE SET held_for = excluded.held_for,
           hold_until = excluded.hold_until`,
    ).run(heldFor, hold.until, accountId);
  }

  async getAccount(accountId: string): Promise<AccountRecord | undefined> {
    const row = this.#prepare('SELECT * FROM accounts WHERE account_id = ?').get(accountId) as
      AccountRow | undefined;
    return row && toAccount(row);
  }

  async getAccountByUsername(username: string): Promise<AccountRecord | undefined> {
    const row = this.#prepare('SELECT * FROM accounts WHERE username = ?').get(username) as
      AccountRow | undefined;
    return row && toAccount(row);
  }

  async setUsername(
    accountId: string,
    username: string,
    hold?: UsernameHold,
  ): Promise<'updated' | 'username_taken'> {
    try {
      return await this.#write(() => {
        if (hold && this.#held(username, accountId, hold.now)) return 'username_taken';
        const current = this.#prepare('SELECT username FROM accounts WHERE account_id = ?').get(
          accountId,
        ) as { username: string } | undefined;
        if (current && current.username !== username) this.#hold(accountId, accountId, hold);
        this.#prepare('UPDATE accounts SET username = ? WHERE account_id = ?').run(
          username,
          accountId,
        );
        // Taking back a name we held frees its hold.
        this.#prepare('DELETE FROM username_holds WHERE username = ? AND held_for = ?').run(
          username,
          accountId,
        );
        return 'updated';
      });
    } catch (err) {
      if (isUniqueViolation(err)) return 'username_taken';
      throw err;
    }
  }

  async deleteAccount(accountId: string, hold?: UsernameHold): Promise<boolean> {
    // ON DELETE CASCADE removes devices, keys, envelopes and linking codes in the same statement;
    // send records have no foreign key (see migration 2).
    return this.#write(() => {
      this.#prepare('DELETE FROM sends WHERE source_account_id = ?').run(accountId);
      this.#hold(accountId, null, hold);
      const deleted =
        this.#prepare('DELETE FROM accounts WHERE account_id = ?').run(accountId).changes > 0;
      if (deleted) {
        this.#prepare('INSERT OR IGNORE INTO deleted_accounts (account_id) VALUES (?)').run(
          accountId,
        );
      }
      return deleted;
    });
  }

  async goneAccounts(accountIds: readonly string[]): Promise<string[]> {
    const ids = [...new Set(accountIds)];
    if (ids.length === 0) return [];
    const rows = this.#prepare(
      `SELECT account_id FROM deleted_accounts WHERE account_id IN (SELECT value FROM json_each(?))`,
    ).all(JSON.stringify(ids)) as { account_id: string }[];
    return rows.map((r) => r.account_id);
  }

  async exportAccount(
    accountId: string,
    now: number,
    retentionMs: number,
  ): Promise<AccountExportResponse | undefined> {
    return this.#read(() => {
      const account = this.#prepare('SELECT * FROM accounts WHERE account_id = ?').get(
        accountId,
      ) as AccountRow | undefined;
      if (!account) return undefined;
      const devices = (
        this.#prepare('SELECT * FROM devices WHERE account_id = ? ORDER BY device_id').all(
          accountId,
        ) as DeviceRow[]
      ).map((device) => {
        const id = device.device_id;
        const signed = this.#signedKeys(accountId, id);
        const current = (kind: KeyKind) =>
          signed.find((k) => k.kind === kind && k.retired_at === null);
        const ec = current('ec');
        const kyber = current('kyber');
        if (!ec || !kyber) throw new Error(`device ${id} has no current signed keys`);
        const oneTime = (kind: KeyKind) =>
          this.#prepare(
            `SELECT key_id, public_key, signature FROM one_time_prekeys
               WHERE account_id = ? AND device_id = ? AND kind = ? ORDER BY key_id`,
          ).all(accountId, id, kind) as OneTimeKeyRow[];
        const queue = this.#prepare(
          `SELECT id, source_account_id, source_device_id, server_timestamp, length(content) AS bytes
             FROM envelopes WHERE account_id = ? AND device_id = ? ORDER BY seq`,
        ).all(accountId, id) as {
          id: string;
          source_account_id: string | null;
          source_device_id: number | null;
          server_timestamp: number;
          bytes: number;
        }[];
        return {
          deviceId: id,
          ...(device.name === null ? {} : { name: device.name }),
          registrationId: device.registration_id,
          createdAt: device.created_at,
          lastSeenAt: device.last_seen_at,
          signedPreKey: toSignedPreKey(ec),
          pqLastResortPreKey: toSignedPreKey(kyber),
          preKeys: oneTime('ec').map((k) => ({ keyId: k.key_id, publicKey: k.public_key })),
          pqPreKeys: oneTime('kyber').map(toKyberOneTime),
          retiredSignedPreKeys: retired(signed, retentionMs),
          queue: queue.map((e) => ({
            id: e.id,
            ...(e.source_account_id === null || e.source_device_id === null
              ? {}
              : { sourceAccountId: e.source_account_id, sourceDeviceId: e.source_device_id }),
            serverTimestamp: e.server_timestamp,
            contentBytes: e.bytes,
          })),
        };
      });
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
    const row = this.#prepare('SELECT * FROM devices WHERE account_id = ? AND device_id = ?').get(
      accountId,
      deviceId,
    ) as DeviceRow | undefined;
    return row && toDevice(row);
  }

  async listDevices(accountId: string): Promise<DeviceRecord[]> {
    const rows = this.#prepare('SELECT * FROM devices WHERE account_id = ? ORDER BY device_id').all(
      accountId,
    ) as DeviceRow[];
    return rows.map(toDevice);
  }

  async touchDevice(accountId: string, deviceId: number, day: number): Promise<void> {
    await this.#write(() =>
      this.#prepare(
        `UPDATE devices SET last_seen_at = ?
         WHERE account_id = ? AND device_id = ? AND last_seen_at < ?`,
      ).run(day, accountId, deviceId, day),
    );
  }

  async addLinkingCode(accountId: string, codeHash: Uint8Array, expiresAt: number): Promise<void> {
    await this.#write(() =>
      this.#prepare(
        'INSERT INTO linking_codes (code_hash, account_id, expires_at) VALUES (?, ?, ?)',
      ).run(codeHash, accountId, expiresAt),
    );
  }

  async linkDevice(
    codeHash: Uint8Array,
    now: number,
    maxDevices: number,
    device: NewDevice,
  ): Promise<LinkResult> {
    return this.#write((): LinkResult => {
      const code = this.#prepare(
        'SELECT account_id, expires_at FROM linking_codes WHERE code_hash = ?',
      ).get(codeHash) as { account_id: string; expires_at: number } | undefined;
      if (!code) return { ok: false, reason: 'invalid_code' };
      if (code.expires_at <= now) {
        this.#prepare('DELETE FROM linking_codes WHERE code_hash = ?').run(codeHash);
        return { ok: false, reason: 'invalid_code' };
      }
      const { count } = this.#prepare(
        'SELECT COUNT(*) AS count FROM devices WHERE account_id = ?',
      ).get(code.account_id) as { count: number };
      // The code stays valid, so the user can remove a device and try again.
      if (count >= maxDevices) return { ok: false, reason: 'too_many_devices' };
      this.#prepare('DELETE FROM linking_codes WHERE code_hash = ?').run(codeHash);
      const { next_device_id: deviceId } = this.#prepare(
        `UPDATE accounts SET next_device_id = next_device_id + 1 WHERE account_id = ?
           RETURNING next_device_id - 1 AS next_device_id`,
      ).get(code.account_id) as { next_device_id: number };
      this.#insertDevice(code.account_id, deviceId, device);
      return { ok: true, accountId: code.account_id, deviceId };
    });
  }

  async removeDevice(accountId: string, deviceId: number): Promise<boolean> {
    return this.#write(() => {
      // Send records have no foreign key (see migration 2).
      this.#prepare('DELETE FROM sends WHERE source_account_id = ? AND source_device_id = ?').run(
        accountId,
        deviceId,
      );
      return (
        this.#prepare('DELETE FROM devices WHERE account_id = ? AND device_id = ?').run(
          accountId,
          deviceId,
        ).changes > 0
      );
    });
  }

  #insertDevice(accountId: string, deviceId: number, device: NewDevice): void {
    const { keys } = device;
    this.#prepare(
      `INSERT INTO devices (account_id, device_id, registration_id, name, credential_hash, created_at, last_seen_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      accountId,
      deviceId,
      keys.registrationId,
      keys.name ?? null,
      device.credentialHash,
      device.createdAt,
      startOfUtcDay(device.createdAt),
    );
    this.#applyUpload(
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

  // ---- keys -----------------------------------------------------------------------------------

  async storeKeys(
    accountId: string,
    deviceId: number,
    upload: PreKeyUploadRequest,
    now: number,
  ): Promise<boolean> {
    return this.#write(() => {
      // Checked inside the write transaction: no removal can come in between.
      const exists = this.#prepare(
        'SELECT 1 FROM devices WHERE account_id = ? AND device_id = ?',
      ).get(accountId, deviceId);
      if (exists === undefined) return false;
      this.#applyUpload(accountId, deviceId, upload, now);
      return true;
    });
  }

  #applyUpload(
    accountId: string,
    deviceId: number,
    upload: PreKeyUploadRequest,
    now: number,
  ): void {
    const replaceSigned = (kind: KeyKind, key: SignedPreKey | KyberPreKey) => {
      this.#prepare(
        'DELETE FROM signed_prekeys WHERE account_id = ? AND device_id = ? AND kind = ? AND key_id = ?',
      ).run(accountId, deviceId, kind, key.keyId);
      // The previous key is retired, not deleted: see PreKeyStatusResponse.retiredSignedPreKeys.
      this.#prepare(
        `UPDATE signed_prekeys SET retired_at = ?
           WHERE account_id = ? AND device_id = ? AND kind = ? AND retired_at IS NULL`,
      ).run(now, accountId, deviceId, kind);
      this.#prepare(
        `INSERT INTO signed_prekeys (account_id, device_id, kind, key_id, public_key, signature, uploaded_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ).run(accountId, deviceId, kind, key.keyId, key.publicKey, key.signature, now);
    };
    const replaceOneTime = (kind: KeyKind, keys: readonly (PreKey | KyberPreKey)[]) => {
      this.#prepare(
        'DELETE FROM one_time_prekeys WHERE account_id = ? AND device_id = ? AND kind = ?',
      ).run(accountId, deviceId, kind);
      const insert = this.#prepare(
        `INSERT INTO one_time_prekeys (account_id, device_id, kind, key_id, public_key, signature)
         VALUES (?, ?, ?, ?, ?, ?)`,
      );
      for (const key of keys) {
        const signature = 'signature' in key ? key.signature : null;
        insert.run(accountId, deviceId, kind, key.keyId, key.publicKey, signature);
      }
    };
    if (upload.signedPreKey) replaceSigned('ec', upload.signedPreKey);
    if (upload.pqLastResortPreKey) replaceSigned('kyber', upload.pqLastResortPreKey);
    if (upload.preKeys) replaceOneTime('ec', upload.preKeys);
    if (upload.pqPreKeys) replaceOneTime('kyber', upload.pqPreKeys);
  }

  #signedKeys(accountId: string, deviceId: number): SignedKeyRow[] {
    return this.#prepare(
      `SELECT kind, key_id, public_key, signature, uploaded_at, retired_at FROM signed_prekeys
         WHERE account_id = ? AND device_id = ? ORDER BY uploaded_at`,
    ).all(accountId, deviceId) as SignedKeyRow[];
  }

  async keyStatus(
    accountId: string,
    deviceId: number,
    retentionMs: number,
  ): Promise<PreKeyStatusResponse | undefined> {
    return this.#read(() => {
      const signed = this.#signedKeys(accountId, deviceId);
      const ec = signed.find((k) => k.kind === 'ec' && k.retired_at === null);
      const kyber = signed.find((k) => k.kind === 'kyber' && k.retired_at === null);
      if (!ec || !kyber) return undefined;
      const counts = this.#prepare(
        `SELECT kind, COUNT(*) AS count FROM one_time_prekeys
           WHERE account_id = ? AND device_id = ? GROUP BY kind`,
      ).all(accountId, deviceId) as { kind: KeyKind; count: number }[];
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
    return this.#write(() => {
      const account = this.#prepare('SELECT identity_key FROM accounts WHERE account_id = ?').get(
        accountId,
      ) as { identity_key: string } | undefined;
      if (!account) return undefined;
      const devices = (
        deviceId === 'all'
          ? this.#prepare(
              'SELECT device_id, registration_id FROM devices WHERE account_id = ? ORDER BY device_id',
            ).all(accountId)
          : this.#prepare(
              'SELECT device_id, registration_id FROM devices WHERE account_id = ? AND device_id = ?',
            ).all(accountId, deviceId)
      ) as { device_id: number; registration_id: number }[];
      if (devices.length === 0) return undefined;
      // One statement claims the key, so no two callers can ever get the same one.
      const claim = this.#prepare(
        `DELETE FROM one_time_prekeys
         WHERE account_id = :account AND device_id = :device AND kind = :kind
           AND key_id = (SELECT MIN(key_id) FROM one_time_prekeys
                         WHERE account_id = :account AND device_id = :device AND kind = :kind)
         RETURNING key_id, public_key, signature`,
      );
      const bundles = devices.map((device): DeviceBundle => {
        const id = device.device_id;
        const signed = this.#signedKeys(accountId, id).filter((k) => k.retired_at === null);
        const ec = signed.find((k) => k.kind === 'ec');
        const lastResort = signed.find((k) => k.kind === 'kyber');
        if (!ec || !lastResort) throw new Error(`device ${id} has no current signed keys`);
        const preKey = claim.get({ account: accountId, device: id, kind: 'ec' }) as
          OneTimeKeyRow | undefined;
        const pqPreKey = claim.get({ account: accountId, device: id, kind: 'kyber' }) as
          OneTimeKeyRow | undefined;
        return {
          deviceId: id,
          registrationId: device.registration_id,
          signedPreKey: toSignedPreKey(ec),
          ...(preKey ? { preKey: { keyId: preKey.key_id, publicKey: preKey.public_key } } : {}),
          pqPreKey: pqPreKey ? toKyberOneTime(pqPreKey) : toSignedPreKey(lastResort),
          pqPreKeyIsLastResort: pqPreKey === undefined,
        };
      });
      return { identityKey: account.identity_key, devices: bundles };
    });
  }

  // ---- sealed sender --------------------------------------------------------------------------

  async sealedSenderKeys(initial: SealedSenderKeyRecord): Promise<SealedSenderKeyRecord> {
    return this.#write(() => {
      this.#prepare(
        `INSERT OR IGNORE INTO sealed_sender_keys
           (id, trust_root_private, server_key_id, server_private, server_certificate, created_at)
         VALUES (1, ?, ?, ?, ?, ?)`,
      ).run(
        Buffer.from(initial.trustRootPrivateKey),
        initial.serverKeyId,
        Buffer.from(initial.serverPrivateKey),
        Buffer.from(initial.serverCertificate),
        initial.createdAt,
      );
      const row = this.#prepare('SELECT * FROM sealed_sender_keys WHERE id = 1').get() as {
        trust_root_private: Buffer;
        server_key_id: number;
        server_private: Buffer;
        server_certificate: Buffer;
        created_at: number;
      };
      return {
        trustRootPrivateKey: new Uint8Array(row.trust_root_private),
        serverKeyId: row.server_key_id,
        serverPrivateKey: new Uint8Array(row.server_private),
        serverCertificate: new Uint8Array(row.server_certificate),
        createdAt: row.created_at,
      };
    });
  }

  async setAccessKeyHash(accountId: string, keyHash: Uint8Array | null): Promise<boolean> {
    return this.#write(() => {
      if (this.#prepare('SELECT 1 FROM accounts WHERE account_id = ?').get(accountId) === undefined)
        return false;
      if (keyHash === null) {
        this.#prepare('DELETE FROM unidentified_access WHERE account_id = ?').run(accountId);
      } else {
        this.#prepare(
          `INSERT INTO unidentified_access (account_id, key_hash) VALUES (?, ?)
             ON CONFLICT (account_id) DO UPDATE SET key_hash = excluded.key_hash`,
        ).run(accountId, Buffer.from(keyHash));
      }
      return true;
    });
  }

  async accessKeyHashes(accountIds: readonly string[]): Promise<Map<string, Uint8Array>> {
    const get = this.#prepare('SELECT key_hash FROM unidentified_access WHERE account_id = ?');
    const out = new Map<string, Uint8Array>();
    for (const id of new Set(accountIds)) {
      const row = get.get(id) as { key_hash: Buffer } | undefined;
      if (row) out.set(id, new Uint8Array(row.key_hash));
    }
    return out;
  }

  // ---- messages -------------------------------------------------------------------------------

  async enqueue<R>(
    accountIds: readonly string[],
    plan: EnqueuePlanner<R>,
    { sender = '', send }: EnqueueOptions = {},
  ): Promise<EnqueueResult<R>> {
    return this.#write((): EnqueueResult<R> => {
      // One writer at a time: nothing can record this key between this read and our insert.
      const earlier = send && this.#sendRecord(send);
      if (earlier) return { replayed: earlier };
      const snapshot = new Map<string, DeviceSnapshot[]>();
      const exists = this.#prepare('SELECT 1 FROM accounts WHERE account_id = ?');
      // length() of a BLOB reads its size from the record header, not the content.
      const devices = this.#prepare(
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
      const insert = this.#prepare(
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
        this.#prepare(
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

  #sendRecord(send: SendKey): SendRecord | undefined {
    return this.#prepare(
      `SELECT server_timestamp AS serverTimestamp, stored FROM sends
         WHERE source_account_id = ? AND source_device_id = ? AND send_id = ?
           AND server_timestamp >= ?`,
    ).get(send.sourceAccountId, send.sourceDeviceId, send.sendId, send.notBefore) as
      SendRecord | undefined;
  }

  async fetchEnvelopes(
    accountId: string,
    deviceId: number,
    page: { afterSeq: number; limit: number; notBefore: number },
  ): Promise<StoredEnvelope[]> {
    const rows = this.#prepare(
      `SELECT * FROM envelopes
         WHERE account_id = ? AND device_id = ? AND seq > ? AND server_timestamp >= ?
         ORDER BY seq LIMIT ?`,
    ).all(accountId, deviceId, page.afterSeq, page.notBefore, page.limit) as EnvelopeRow[];
    return rows.map(toEnvelope);
  }

  async deleteEnvelope(accountId: string, deviceId: number, envelopeId: string): Promise<boolean> {
    return this.#write(
      () =>
        this.#prepare(
          'DELETE FROM envelopes WHERE id = ? AND account_id = ? AND device_id = ?',
        ).run(envelopeId, accountId, deviceId).changes > 0,
    );
  }

  async deleteEnvelopes(
    accountId: string,
    deviceId: number,
    envelopeIds: readonly string[],
  ): Promise<string[]> {
    if (envelopeIds.length === 0) return [];
    return this.#write(() =>
      (
        this.#prepare(
          `DELETE FROM envelopes
             WHERE account_id = ? AND device_id = ? AND id IN (SELECT value FROM json_each(?))
           RETURNING id`,
        ).all(accountId, deviceId, JSON.stringify(envelopeIds)) as { id: string }[]
      ).map((row) => row.id),
    );
  }

  // ---- maintenance ----------------------------------------------------------------------------

  async expire(now: number, retentionMs: number): Promise<ExpiryResult> {
    const cutoff = now - retentionMs;
    return this.#write(() => ({
      envelopes: this.#prepare('DELETE FROM envelopes WHERE server_timestamp < ?').run(cutoff)
        .changes,
      linkingCodes: this.#prepare('DELETE FROM linking_codes WHERE expires_at <= ?').run(now)
        .changes,
      retiredSignedPreKeys: this.#prepare(
        'DELETE FROM signed_prekeys WHERE retired_at IS NOT NULL AND retired_at < ?',
      ).run(cutoff).changes,
      sendRecords: this.#prepare('DELETE FROM sends WHERE server_timestamp < ?').run(cutoff)
        .changes,
      usernameHolds: this.#prepare('DELETE FROM username_holds WHERE hold_until <= ?').run(now)
        .changes,
    }));
  }

  async ping(): Promise<void> {
    this.#prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    if (!this.#db.open) return;
    this.#flush(); // settle writes still waiting for their batch
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
