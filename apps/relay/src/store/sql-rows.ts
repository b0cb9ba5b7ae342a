/**
 * Row shapes and their mappers shared by the two SQL stores. better-sqlite3 (`sqlite-*.ts`) and
 * node-postgres (`postgres-*.ts`, with BIGINT parsed to numbers in `postgres-db.ts`) hand back
 * the same columns as the same JavaScript values, so one mapper serves both.
 * @module
 */
import type { KyberPreKey, RetiredSignedPreKey, SignedPreKey } from '@parley/protocol';
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
