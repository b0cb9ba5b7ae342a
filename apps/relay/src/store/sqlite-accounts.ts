/**
 * The SQLite store's accounts: registration, usernames (and the holds that keep a freed name
 * from being taken at once), deletion and the account export.
 * @module
 */
import type { AccountExportResponse } from '@parley/protocol';
import { isUniqueViolation, type SqliteDatabase } from './sqlite-db.ts';
import { insertDevice } from './sqlite-devices.ts';
import { signedKeys } from './sqlite-keys.ts';
import {
  currentSignedKeys,
  toAccount,
  toAccountExport,
  toExportedDevice,
  type AccountRow,
  type DeviceRow,
  type KeyKind,
  type OneTimeKeyRow,
  type QueuedEnvelopeRow,
} from './sql-rows.ts';
import type { AccountRecord, NewDevice, UsernameHold } from './types.ts';

export async function createAccount(
  db: SqliteDatabase,
  account: AccountRecord,
  device: NewDevice,
): Promise<'created' | 'username_taken'> {
  try {
    return await db.write(() => {
      if (held(db, account.username, account.accountId, account.createdAt)) return 'username_taken';
      db.prepare(
        `INSERT INTO accounts (account_id, username, identity_key, created_at, next_device_id)
             VALUES (?, ?, ?, ?, 2)`,
      ).run(account.accountId, account.username, account.identityKey, account.createdAt);
      insertDevice(db, account.accountId, 1, device);
      return 'created';
    });
  } catch (err) {
    if (isUniqueViolation(err)) return 'username_taken';
    throw err;
  }
}

export async function getAccount(
  db: SqliteDatabase,
  accountId: string,
): Promise<AccountRecord | undefined> {
  const row = db.prepare('SELECT * FROM accounts WHERE account_id = ?').get(accountId) as
    AccountRow | undefined;
  return row && toAccount(row);
}

export async function getAccountByUsername(
  db: SqliteDatabase,
  username: string,
): Promise<AccountRecord | undefined> {
  const row = db.prepare('SELECT * FROM accounts WHERE username = ?').get(username) as
    AccountRow | undefined;
  return row && toAccount(row);
}

export async function setUsername(
  db: SqliteDatabase,
  accountId: string,
  username: string,
  hold?: UsernameHold,
): Promise<'updated' | 'username_taken'> {
  try {
    return await db.write(() => {
      if (hold && held(db, username, accountId, hold.now)) return 'username_taken';
      const current = db
        .prepare('SELECT username FROM accounts WHERE account_id = ?')
        .get(accountId) as { username: string } | undefined;
      if (current && current.username !== username) holdName(db, accountId, accountId, hold);
      db.prepare('UPDATE accounts SET username = ? WHERE account_id = ?').run(username, accountId);
      // Taking back a name we held frees its hold.
      db.prepare('DELETE FROM username_holds WHERE username = ? AND held_for = ?').run(
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

export async function deleteAccount(
  db: SqliteDatabase,
  accountId: string,
  hold?: UsernameHold,
): Promise<boolean> {
  // ON DELETE CASCADE removes devices, keys, envelopes and linking codes in the same statement;
  // send records have no foreign key (see migration 2).
  return db.write(() => {
    db.prepare('DELETE FROM sends WHERE source_account_id = ?').run(accountId);
    holdName(db, accountId, null, hold);
    const deleted =
      db.prepare('DELETE FROM accounts WHERE account_id = ?').run(accountId).changes > 0;
    if (deleted) {
      db.prepare('INSERT OR IGNORE INTO deleted_accounts (account_id) VALUES (?)').run(accountId);
    }
    return deleted;
  });
}

export async function goneAccounts(
  db: SqliteDatabase,
  accountIds: readonly string[],
): Promise<string[]> {
  const ids = [...new Set(accountIds)];
  if (ids.length === 0) return [];
  const rows = db
    .prepare(
      `SELECT account_id FROM deleted_accounts WHERE account_id IN (SELECT value FROM json_each(?))`,
    )
    .all(JSON.stringify(ids)) as { account_id: string }[];
  return rows.map((r) => r.account_id);
}

export async function exportAccount(
  db: SqliteDatabase,
  accountId: string,
  now: number,
  retentionMs: number,
): Promise<AccountExportResponse | undefined> {
  return db.read(() => {
    const account = db.prepare('SELECT * FROM accounts WHERE account_id = ?').get(accountId) as
      AccountRow | undefined;
    if (!account) return undefined;
    const devices = (
      db
        .prepare('SELECT * FROM devices WHERE account_id = ? ORDER BY device_id')
        .all(accountId) as DeviceRow[]
    ).map((device) => {
      const id = device.device_id;
      const signed = signedKeys(db, accountId, id);
      currentSignedKeys(signed, id); // a device without both is a broken store: fail early
      const oneTime = (kind: KeyKind) =>
        db
          .prepare(
            `SELECT key_id, public_key, signature FROM one_time_prekeys
               WHERE account_id = ? AND device_id = ? AND kind = ? ORDER BY key_id`,
          )
          .all(accountId, id, kind) as OneTimeKeyRow[];
      const queue = db
        .prepare(
          `SELECT id, source_account_id, source_device_id, server_timestamp, length(content) AS bytes
             FROM envelopes WHERE account_id = ? AND device_id = ? ORDER BY seq`,
        )
        .all(accountId, id) as QueuedEnvelopeRow[];
      return toExportedDevice(
        { device, signed, oneTimeEc: oneTime('ec'), oneTimeKyber: oneTime('kyber'), queue },
        retentionMs,
      );
    });
    return toAccountExport(account, devices, now);
  });
}

/** Whether `username` is held at `now` for someone other than `accountId`. */
function held(db: SqliteDatabase, username: string, accountId: string, now: number): boolean {
  const row = db
    .prepare('SELECT held_for FROM username_holds WHERE username = ? AND hold_until > ?')
    .get(username, now) as { held_for: string | null } | undefined;
  return row !== undefined && row.held_for !== accountId;
}

/** Holds the name `accountId` has now (before it is freed) until `hold.until`. */
function holdName(
  db: SqliteDatabase,
  accountId: string,
  heldFor: string | null,
  hold: UsernameHold | undefined,
): void {
  if (!hold || hold.until <= hold.now) return;
  db.prepare(
    `INSERT INTO username_holds (username, held_for, hold_until)
         SELECT username, ?, ? FROM accounts WHERE account_id = ?
         ON CONFLICT (username) DO UPDATE SET held_for = excluded.held_for,
           hold_until = excluded.hold_until`,
  ).run(heldFor, hold.until, accountId);
}
