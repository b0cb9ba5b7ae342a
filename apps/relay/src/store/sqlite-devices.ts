/**
 * The SQLite store's devices: reads, linking (a linking code is consumed and the device added in
 * one write) and removal.
 * @module
 */
import { startOfUtcDay } from '../clock.ts';
import type { SqliteDatabase } from './sqlite-db.ts';
import { applyUpload } from './sqlite-keys.ts';
import { toDevice, type DeviceRow } from './sql-rows.ts';
import type { DeviceRecord, LinkResult, NewDevice } from './types.ts';

export async function getDevice(
  db: SqliteDatabase,
  accountId: string,
  deviceId: number,
): Promise<DeviceRecord | undefined> {
  const row = db
    .prepare('SELECT * FROM devices WHERE account_id = ? AND device_id = ?')
    .get(accountId, deviceId) as DeviceRow | undefined;
  return row && toDevice(row);
}

export async function listDevices(db: SqliteDatabase, accountId: string): Promise<DeviceRecord[]> {
  const rows = db
    .prepare('SELECT * FROM devices WHERE account_id = ? ORDER BY device_id')
    .all(accountId) as DeviceRow[];
  return rows.map(toDevice);
}

export async function touchDevice(
  db: SqliteDatabase,
  accountId: string,
  deviceId: number,
  day: number,
): Promise<void> {
  await db.write(() =>
    db
      .prepare(
        `UPDATE devices SET last_seen_at = ?
         WHERE account_id = ? AND device_id = ? AND last_seen_at < ?`,
      )
      .run(day, accountId, deviceId, day),
  );
}

export async function addLinkingCode(
  db: SqliteDatabase,
  accountId: string,
  codeHash: Uint8Array,
  expiresAt: number,
): Promise<void> {
  await db.write(() =>
    db
      .prepare('INSERT INTO linking_codes (code_hash, account_id, expires_at) VALUES (?, ?, ?)')
      .run(codeHash, accountId, expiresAt),
  );
}

export async function linkDevice(
  db: SqliteDatabase,
  codeHash: Uint8Array,
  now: number,
  maxDevices: number,
  device: NewDevice,
): Promise<LinkResult> {
  return db.write((): LinkResult => {
    const code = db
      .prepare('SELECT account_id, expires_at FROM linking_codes WHERE code_hash = ?')
      .get(codeHash) as { account_id: string; expires_at: number } | undefined;
    if (!code) return { ok: false, reason: 'invalid_code' };
    if (code.expires_at <= now) {
      db.prepare('DELETE FROM linking_codes WHERE code_hash = ?').run(codeHash);
      return { ok: false, reason: 'invalid_code' };
    }
    const { count } = db
      .prepare('SELECT COUNT(*) AS count FROM devices WHERE account_id = ?')
      .get(code.account_id) as { count: number };
    // The code stays valid, so the user can remove a device and try again.
    if (count >= maxDevices) return { ok: false, reason: 'too_many_devices' };
    db.prepare('DELETE FROM linking_codes WHERE code_hash = ?').run(codeHash);
    const { next_device_id: deviceId } = db
      .prepare(
        `UPDATE accounts SET next_device_id = next_device_id + 1 WHERE account_id = ?
           RETURNING next_device_id - 1 AS next_device_id`,
      )
      .get(code.account_id) as { next_device_id: number };
    insertDevice(db, code.account_id, deviceId, device);
    return { ok: true, accountId: code.account_id, deviceId };
  });
}

export async function removeDevice(
  db: SqliteDatabase,
  accountId: string,
  deviceId: number,
): Promise<boolean> {
  return db.write(() => {
    // Send records have no foreign key (see migration 2).
    db.prepare('DELETE FROM sends WHERE source_account_id = ? AND source_device_id = ?').run(
      accountId,
      deviceId,
    );
    return (
      db
        .prepare('DELETE FROM devices WHERE account_id = ? AND device_id = ?')
        .run(accountId, deviceId).changes > 0
    );
  });
}

export function insertDevice(
  db: SqliteDatabase,
  accountId: string,
  deviceId: number,
  device: NewDevice,
): void {
  const { keys } = device;
  db.prepare(
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
  applyUpload(
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
