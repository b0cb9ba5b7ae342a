/**
 * The PostgreSQL store's prekeys: signed prekeys (current and retired) and one-time prekeys,
 * uploaded, counted and claimed (`DELETE … FOR UPDATE SKIP LOCKED`, so concurrent bundle
 * fetches never get the same key and never block on each other).
 * @module
 */
import type {
  DeviceBundle,
  KyberPreKey,
  PreKey,
  PreKeyBundleResponse,
  PreKeyStatusResponse,
  PreKeyUploadRequest,
  SignedPreKey,
} from '@parley/protocol';
import type { Db, PgDatabase } from './postgres-db.ts';
import {
  retired,
  toKyberOneTime,
  toSignedPreKey,
  type KeyKind,
  type OneTimeKeyRow,
  type SignedKeyRow,
} from './sql-rows.ts';

export async function storeKeys(
  pg: PgDatabase,
  accountId: string,
  deviceId: number,
  upload: PreKeyUploadRequest,
  now: number,
): Promise<boolean> {
  return pg.tx(async (db) => {
    // FOR KEY SHARE: a concurrent removal waits for this upload (or this sees the device gone).
    const { rows } = await db.query(
      'SELECT 1 FROM devices WHERE account_id = $1 AND device_id = $2 FOR KEY SHARE',
      [accountId, deviceId],
    );
    if (rows.length === 0) return false;
    await applyUpload(db, accountId, deviceId, upload, now);
    return true;
  });
}

export async function keyStatus(
  pg: PgDatabase,
  accountId: string,
  deviceId: number,
  retentionMs: number,
): Promise<PreKeyStatusResponse | undefined> {
  return pg.tx(async (db) => {
    await db.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const signed = await signedKeys(db, accountId, deviceId);
    const ec = signed.find((k) => k.kind === 'ec' && k.retired_at === null);
    const kyber = signed.find((k) => k.kind === 'kyber' && k.retired_at === null);
    if (!ec || !kyber) return undefined;
    const { rows: counts } = await db.query<{ kind: KeyKind; count: number }>(
      `SELECT kind, COUNT(*) AS count FROM one_time_prekeys
         WHERE account_id = $1 AND device_id = $2 GROUP BY kind`,
      [accountId, deviceId],
    );
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

export async function takeBundles(
  pg: PgDatabase,
  accountId: string,
  deviceId: number | 'all',
): Promise<PreKeyBundleResponse | undefined> {
  return pg.tx(async (db) => {
    const {
      rows: [account],
    } = await db.query<{ identity_key: string }>(
      'SELECT identity_key FROM accounts WHERE account_id = $1',
      [accountId],
    );
    if (!account) return undefined;
    const { rows: devices } =
      deviceId === 'all'
        ? await db.query<{ device_id: number; registration_id: number }>(
            'SELECT device_id, registration_id FROM devices WHERE account_id = $1 ORDER BY device_id',
            [accountId],
          )
        : await db.query<{ device_id: number; registration_id: number }>(
            'SELECT device_id, registration_id FROM devices WHERE account_id = $1 AND device_id = $2',
            [accountId, deviceId],
          );
    if (devices.length === 0) return undefined;
    // SKIP LOCKED: a key another transaction is claiming is skipped, never handed out twice.
    const claim = async (id: number, kind: KeyKind) =>
      (
        await db.query<OneTimeKeyRow>(
          `DELETE FROM one_time_prekeys
             WHERE (account_id, device_id, kind, key_id) = (
               SELECT account_id, device_id, kind, key_id FROM one_time_prekeys
                 WHERE account_id = $1 AND device_id = $2 AND kind = $3
                 ORDER BY key_id LIMIT 1 FOR UPDATE SKIP LOCKED)
           RETURNING key_id, public_key, signature`,
          [accountId, id, kind],
        )
      ).rows[0];
    const bundles: DeviceBundle[] = [];
    for (const device of devices) {
      const id = device.device_id;
      const signed = (await signedKeys(db, accountId, id)).filter((k) => k.retired_at === null);
      const ec = signed.find((k) => k.kind === 'ec');
      const lastResort = signed.find((k) => k.kind === 'kyber');
      if (!ec || !lastResort) throw new Error(`device ${id} has no current signed keys`);
      const preKey = await claim(id, 'ec');
      const pqPreKey = await claim(id, 'kyber');
      bundles.push({
        deviceId: id,
        registrationId: device.registration_id,
        signedPreKey: toSignedPreKey(ec),
        ...(preKey ? { preKey: { keyId: preKey.key_id, publicKey: preKey.public_key } } : {}),
        pqPreKey: pqPreKey ? toKyberOneTime(pqPreKey) : toSignedPreKey(lastResort),
        pqPreKeyIsLastResort: pqPreKey === undefined,
      });
    }
    return { identityKey: account.identity_key, devices: bundles };
  });
}

export async function applyUpload(
  db: Db,
  accountId: string,
  deviceId: number,
  upload: PreKeyUploadRequest,
  now: number,
): Promise<void> {
  const replaceSigned = async (kind: KeyKind, key: SignedPreKey | KyberPreKey) => {
    await db.query(
      'DELETE FROM signed_prekeys WHERE account_id = $1 AND device_id = $2 AND kind = $3 AND key_id = $4',
      [accountId, deviceId, kind, key.keyId],
    );
    // The previous key is retired, not deleted: see PreKeyStatusResponse.retiredSignedPreKeys.
    await db.query(
      `UPDATE signed_prekeys SET retired_at = $1
         WHERE account_id = $2 AND device_id = $3 AND kind = $4 AND retired_at IS NULL`,
      [now, accountId, deviceId, kind],
    );
    await db.query(
      `INSERT INTO signed_prekeys (account_id, device_id, kind, key_id, public_key, signature, uploaded_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [accountId, deviceId, kind, key.keyId, key.publicKey, key.signature, now],
    );
  };
  const replaceOneTime = async (kind: KeyKind, keys: readonly (PreKey | KyberPreKey)[]) => {
    await db.query(
      'DELETE FROM one_time_prekeys WHERE account_id = $1 AND device_id = $2 AND kind = $3',
      [accountId, deviceId, kind],
    );
    if (keys.length === 0) return;
    await db.query(
      `INSERT INTO one_time_prekeys (account_id, device_id, kind, key_id, public_key, signature)
         SELECT $1, $2, $3, * FROM unnest($4::int[], $5::text[], $6::text[])`,
      [
        accountId,
        deviceId,
        kind,
        keys.map((k) => k.keyId),
        keys.map((k) => k.publicKey),
        keys.map((k) => ('signature' in k ? k.signature : null)),
      ],
    );
  };
  if (upload.signedPreKey) await replaceSigned('ec', upload.signedPreKey);
  if (upload.pqLastResortPreKey) await replaceSigned('kyber', upload.pqLastResortPreKey);
  if (upload.preKeys) await replaceOneTime('ec', upload.preKeys);
  if (upload.pqPreKeys) await replaceOneTime('kyber', upload.pqPreKeys);
}

export async function signedKeys(
  db: Db,
  accountId: string,
  deviceId: number,
): Promise<SignedKeyRow[]> {
  return (
    await db.query<SignedKeyRow>(
      `SELECT kind, key_id, public_key, signature, uploaded_at, retired_at FROM signed_prekeys
         WHERE account_id = $1 AND device_id = $2 ORDER BY uploaded_at, key_id`,
      [accountId, deviceId],
    )
  ).rows;
}
