/**
 * The PostgreSQL store's devices: reads, linking (under the account's row lock, so concurrent
 * links and enqueues see a stable device list) and removal.
 * @module
 */
import { startOfUtcDay } from '../clock.ts';
import type { Db, PgDatabase } from './postgres-db.ts';
import { applyUpload } from './postgres-keys.ts';
import { toDevice, type DeviceRow } from './sql-rows.ts';
import type { DeviceRecord, LinkResult, NewDevice } from './types.ts';

export async function getDevice(
  pg: PgDatabase,
  accountId: string,
  deviceId: number,
): Promise<DeviceRecord | undefined> {
  const [row] = await pg.query<DeviceRow>(
    'SELECT * FROM devices WHERE account_id = $1 AND device_id = $2',
    [accountId, deviceId],
  );
  return row && toDevice(row);
}

export async function listDevices(pg: PgDatabase, accountId: string): Promise<DeviceRecord[]> {
  const rows = await pg.query<DeviceRow>(
    'SELECT * FROM devices WHERE account_id = $1 ORDER BY device_id',
    [accountId],
  );
  return rows.map(toDevice);
}

export async function touchDevice(
  pg: PgDatabase,
  accountId: string,
  deviceId: number,
  day: number,
): Promise<void> {
  await pg.query(
    `UPDATE devices SET last_seen_at = $1
       WHERE account_id = $2 AND device_id = $3 AND last_seen_at < $1`,
    [day, accountId, deviceId],
  );
}

export async function addLinkingCode(
  pg: PgDatabase,
  accountId: string,
  codeHash: Uint8Array,
  expiresAt: number,
): Promise<void> {
  await pg.query(
    'INSERT INTO linking_codes (code_hash, account_id, expires_at) VALUES ($1, $2, $3)',
    [Buffer.from(codeHash), accountId, expiresAt],
  );
}

export async function linkDevice(
  pg: PgDatabase,
  codeHash: Uint8Array,
  now: number,
  maxDevices: number,
  device: NewDevice,
): Promise<LinkResult> {
  const hash = Buffer.from(codeHash);
  return pg.tx(async (db): Promise<LinkResult> => {
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

export async function removeDevice(
  pg: PgDatabase,
  accountId: string,
  deviceId: number,
): Promise<boolean> {
  return pg.tx(async (db) => {
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

export async function insertDevice(
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
