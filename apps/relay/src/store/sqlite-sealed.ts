/**
 * The SQLite store's sealed-sender state: the relay's signing keys (one row, written on first
 * start) and accounts' unidentified-access key hashes.
 * @module
 */
import type { SqliteDatabase } from './sqlite-db.ts';
import type { SealedSenderKeyRecord } from './types.ts';

export async function sealedSenderKeys(
  db: SqliteDatabase,
  initial: SealedSenderKeyRecord,
): Promise<SealedSenderKeyRecord> {
  return db.write(() => {
    db.prepare(
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
    const row = db.prepare('SELECT * FROM sealed_sender_keys WHERE id = 1').get() as {
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

export async function setAccessKeyHash(
  db: SqliteDatabase,
  accountId: string,
  keyHash: Uint8Array | null,
): Promise<boolean> {
  return db.write(() => {
    if (db.prepare('SELECT 1 FROM accounts WHERE account_id = ?').get(accountId) === undefined)
      return false;
    if (keyHash === null) {
      db.prepare('DELETE FROM unidentified_access WHERE account_id = ?').run(accountId);
    } else {
      db.prepare(
        `INSERT INTO unidentified_access (account_id, key_hash) VALUES (?, ?)
             ON CONFLICT (account_id) DO UPDATE SET key_hash = excluded.key_hash`,
      ).run(accountId, Buffer.from(keyHash));
    }
    return true;
  });
}

export async function accessKeyHashes(
  db: SqliteDatabase,
  accountIds: readonly string[],
): Promise<Map<string, Uint8Array>> {
  const get = db.prepare('SELECT key_hash FROM unidentified_access WHERE account_id = ?');
  const out = new Map<string, Uint8Array>();
  for (const id of new Set(accountIds)) {
    const row = get.get(id) as { key_hash: Buffer } | undefined;
    if (row) out.set(id, new Uint8Array(row.key_hash));
  }
  return out;
}
