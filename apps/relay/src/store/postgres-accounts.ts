/**
 * The PostgreSQL store's accounts: registration, usernames (and the holds that keep a freed name
 * from being taken at once), deletion and the account export.
 * @module
 */
import type { AccountExportResponse } from '@parley/protocol';
import { isUniqueViolation, type Db, type PgDatabase } from './postgres-db.ts';
import { insertDevice } from './postgres-devices.ts';
import { signedKeys } from './postgres-keys.ts';
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
  pg: PgDatabase,
  account: AccountRecord,
  device: NewDevice,
): Promise<'created' | 'username_taken'> {
  try {
    return await pg.tx(async (db) => {
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

export async function getAccount(
  pg: PgDatabase,
  accountId: string,
): Promise<AccountRecord | undefined> {
  const [row] = await pg.query<AccountRow>('SELECT * FROM accounts WHERE account_id = $1', [
    accountId,
  ]);
  return row && toAccount(row);
}

export async function getAccountByUsername(
  pg: PgDatabase,
  username: string,
): Promise<AccountRecord | undefined> {
  const [row] = await pg.query<AccountRow>('SELECT * FROM accounts WHERE username = $1', [
    username,
  ]);
  return row && toAccount(row);
}

export async function setUsername(
  pg: PgDatabase,
  accountId: string,
  username: string,
  hold?: UsernameHold,
): Promise<'updated' | 'username_taken'> {
  try {
    return await pg.tx(async (db) => {
      if (hold && (await held(db, username, accountId, hold.now))) return 'username_taken';
      const { rows } = await db.query<{ username: string }>(
        'SELECT username FROM accounts WHERE account_id = $1 FOR UPDATE',
        [accountId],
      );
      if (rows[0] && rows[0].username !== username) await holdName(db, accountId, accountId, hold);
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

export async function deleteAccount(
  pg: PgDatabase,
  accountId: string,
  hold?: UsernameHold,
): Promise<boolean> {
  return pg.tx(async (db) => {
    // Send records have no foreign key (see migration 2); ON DELETE CASCADE removes devices,
    // keys, envelopes and linking codes.
    await db.query('DELETE FROM sends WHERE source_account_id = $1', [accountId]);
    await holdName(db, accountId, null, hold);
    const { rowCount } = await db.query('DELETE FROM accounts WHERE account_id = $1', [accountId]);
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

export async function goneAccounts(
  pg: PgDatabase,
  accountIds: readonly string[],
): Promise<string[]> {
  const ids = [...new Set(accountIds)];
  if (ids.length === 0) return [];
  const rows = await pg.query<{ account_id: string }>(
    'SELECT account_id FROM deleted_accounts WHERE account_id = ANY($1::text[])',
    [ids],
  );
  return rows.map((r) => r.account_id);
}

export async function exportAccount(
  pg: PgDatabase,
  accountId: string,
  now: number,
  retentionMs: number,
): Promise<AccountExportResponse | undefined> {
  return pg.tx(async (db) => {
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
      currentSignedKeys(signed, id); // a device without both is a broken store: fail early
      const oneTime = async (kind: KeyKind) =>
        (
          await db.query<OneTimeKeyRow>(
            `SELECT key_id, public_key, signature FROM one_time_prekeys
               WHERE account_id = $1 AND device_id = $2 AND kind = $3 ORDER BY key_id`,
            [accountId, id, kind],
          )
        ).rows;
      const { rows: queue } = await db.query<QueuedEnvelopeRow>(
        `SELECT id, source_account_id, source_device_id, server_timestamp, octet_length(content) AS bytes
           FROM envelopes WHERE account_id = $1 AND device_id = $2 ORDER BY seq`,
        [accountId, id],
      );
      const oneTimeEc = await oneTime('ec');
      const oneTimeKyber = await oneTime('kyber');
      devices.push(
        toExportedDevice({ device, signed, oneTimeEc, oneTimeKyber, queue }, retentionMs),
      );
    }
    return toAccountExport(account, devices, now);
  });
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
