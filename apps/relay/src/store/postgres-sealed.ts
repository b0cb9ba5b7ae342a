/**
 * The PostgreSQL store's sealed-sender state: the relay's signing keys (one row, the first node
 * to start writes it) and accounts' unidentified-access key hashes.
 * @module
 */
import type { PgDatabase } from './postgres-db.ts';
import type { SealedSenderKeyRecord } from './types.ts';

export async function sealedSenderKeys(
  pg: PgDatabase,
  initial: SealedSenderKeyRecord,
): Promise<SealedSenderKeyRecord> {
  return pg.tx(async (db) => {
    // Nodes starting together: the first insert wins, everyone reads the winner.
    await db.query(
      `INSERT INTO sealed_sender_keys
         (id, trust_root_private, server_key_id, server_private, server_certificate, created_at)
       VALUES (1, $1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING`,
      [
        Buffer.from(initial.trustRootPrivateKey),
        initial.serverKeyId,
        Buffer.from(initial.serverPrivateKey),
        Buffer.from(initial.serverCertificate),
        initial.createdAt,
      ],
    );
    const { rows } = await db.query<{
      trust_root_private: Buffer;
      server_key_id: number;
      server_private: Buffer;
      server_certificate: Buffer;
      created_at: number;
    }>('SELECT * FROM sealed_sender_keys WHERE id = 1', []);
    const row = rows[0];
    if (!row) throw new Error('sealed sender keys vanished');
    return {
      trustRootPrivateKey: new Uint8Array(row.trust_root_private),
      serverKeyId: Number(row.server_key_id),
      serverPrivateKey: new Uint8Array(row.server_private),
      serverCertificate: new Uint8Array(row.server_certificate),
      createdAt: Number(row.created_at),
    };
  });
}

export async function setAccessKeyHash(
  pg: PgDatabase,
  accountId: string,
  keyHash: Uint8Array | null,
): Promise<boolean> {
  return pg.tx(async (db) => {
    const { rowCount } = await db.query('SELECT 1 FROM accounts WHERE account_id = $1 FOR SHARE', [
      accountId,
    ]);
    if ((rowCount ?? 0) === 0) return false;
    if (keyHash === null) {
      await db.query('DELETE FROM unidentified_access WHERE account_id = $1', [accountId]);
    } else {
      await db.query(
        `INSERT INTO unidentified_access (account_id, key_hash) VALUES ($1, $2)
           ON CONFLICT (account_id) DO UPDATE SET key_hash = excluded.key_hash`,
        [accountId, Buffer.from(keyHash)],
      );
    }
    return true;
  });
}

export async function accessKeyHashes(
  pg: PgDatabase,
  accountIds: readonly string[],
): Promise<Map<string, Uint8Array>> {
  const rows = await pg.query<{ account_id: string; key_hash: Buffer }>(
    'SELECT account_id, key_hash FROM unidentified_access WHERE account_id = ANY($1::text[])',
    [[...new Set(accountIds)]],
  );
  return new Map(rows.map((r) => [r.account_id, new Uint8Array(r.key_hash)]));
}
