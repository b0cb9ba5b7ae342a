/**
 * Row shapes and their mappers shared by the two SQL stores. better-sqlite3 (`sqlite-*.ts`) and
 * node-postgres (`postgres-*.ts`, with BIGINT parsed to numbers in `postgres-db.ts`) hand back
 * the same columns as the same JavaScript values, so one mapper serves both.
 * @module
 */
import type {
  AccountExportResponse,
  KyberPreKey,
  RetiredSignedPreKey,
  SignedPreKey,
} from '@parley/protocol';
import { envelopeFromRow } from './types.ts';
import type { AccountRecord, DeviceRecord, StoredEnvelope } from './types.ts';

export type KeyKind = 'ec' | 'kyber';

export interface AccountRow {
  account_id: string;
  username: string;
  identity_key: string;
  created_at: number;
}

export interface DeviceRow {
  account_id: string;
  device_id: number;
  registration_id: number;
  name: string | null;
  credential_hash: Buffer;
  created_at: number;
  last_seen_at: number;
}

export interface SignedKeyRow {
  kind: KeyKind;
  key_id: number;
  public_key: string;
  signature: string;
  uploaded_at: number;
  retired_at: number | null;
}

export interface OneTimeKeyRow {
  key_id: number;
  public_key: string;
  signature: string | null;
}

export interface EnvelopeRow {
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

export function toAccount(row: AccountRow): AccountRecord {
  return {
    accountId: row.account_id,
    username: row.username,
    identityKey: row.identity_key,
    createdAt: row.created_at,
  };
}

export function toDevice(row: DeviceRow): DeviceRecord {
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

export function toEnvelope(row: EnvelopeRow): StoredEnvelope {
  return envelopeFromRow({ ...row, content: row.content.toString('base64') });
}

export function toSignedPreKey(row: SignedKeyRow): SignedPreKey & KyberPreKey {
  return { keyId: row.key_id, publicKey: row.public_key, signature: row.signature };
}

export function toKyberOneTime(row: OneTimeKeyRow): KyberPreKey {
  if (row.signature === null) throw new Error(`Kyber prekey ${row.key_id} has no signature`);
  return { keyId: row.key_id, publicKey: row.public_key, signature: row.signature };
}

/** The retired signed prekeys among `signed`, with the time each is kept until. */
export function retired(
  signed: readonly SignedKeyRow[],
  retentionMs: number,
): RetiredSignedPreKey[] {
  return signed
    .filter((k): k is SignedKeyRow & { retired_at: number } => k.retired_at !== null)
    .map((k) => ({
      kind: k.kind,
      keyId: k.key_id,
      retiredAt: k.retired_at,
      keepUntil: k.retired_at + retentionMs,
    }));
}

/** A queued envelope as an account export lists it (its size, not its content). */
export interface QueuedEnvelopeRow {
  id: string;
  source_account_id: string | null;
  source_device_id: number | null;
  server_timestamp: number;
  bytes: number;
}

type ExportedDevice = AccountExportResponse['devices'][number];

/** The device's current signed prekeys among `signed`; every device has both. */
export function currentSignedKeys(
  signed: readonly SignedKeyRow[],
  deviceId: number,
): { ec: SignedKeyRow; kyber: SignedKeyRow } {
  const current = (kind: KeyKind) => signed.find((k) => k.kind === kind && k.retired_at === null);
  const ec = current('ec');
  const kyber = current('kyber');
  if (!ec || !kyber) throw new Error(`device ${deviceId} has no current signed keys`);
  return { ec, kyber };
}

/** One device of an account export, from what the store read for it. */
export function toExportedDevice(
  rows: {
    device: DeviceRow;
    signed: readonly SignedKeyRow[];
    oneTimeEc: readonly OneTimeKeyRow[];
    oneTimeKyber: readonly OneTimeKeyRow[];
    queue: readonly QueuedEnvelopeRow[];
  },
  retentionMs: number,
): ExportedDevice {
  const { device, signed } = rows;
  const { ec, kyber } = currentSignedKeys(signed, device.device_id);
  return {
    deviceId: device.device_id,
    ...(device.name === null ? {} : { name: device.name }),
    registrationId: device.registration_id,
    createdAt: device.created_at,
    lastSeenAt: device.last_seen_at,
    signedPreKey: toSignedPreKey(ec),
    pqLastResortPreKey: toSignedPreKey(kyber),
    preKeys: rows.oneTimeEc.map((k) => ({ keyId: k.key_id, publicKey: k.public_key })),
    pqPreKeys: rows.oneTimeKyber.map(toKyberOneTime),
    retiredSignedPreKeys: retired(signed, retentionMs),
    queue: rows.queue.map((e) => ({
      id: e.id,
      ...(e.source_account_id === null || e.source_device_id === null
        ? {}
        : { sourceAccountId: e.source_account_id, sourceDeviceId: e.source_device_id }),
      serverTimestamp: e.server_timestamp,
      contentBytes: e.bytes,
    })),
  };
}

/** The account export around its devices. */
export function toAccountExport(
  account: AccountRow,
  devices: ExportedDevice[],
  now: number,
): AccountExportResponse {
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
}
