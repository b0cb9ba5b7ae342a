/**
 * The SQLite store's prekeys: signed prekeys (current and retired) and one-time prekeys,
 * uploaded, counted and claimed (one `DELETE … RETURNING` per key, so no two bundle fetches get
 * the same key).
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
import type { SqliteDatabase } from './sqlite-db.ts';
import {
  retired,
  toKyberOneTime,
  toSignedPreKey,
  type KeyKind,
  type OneTimeKeyRow,
  type SignedKeyRow,
} from './sql-rows.ts';

export async function storeKeys(
  db: SqliteDatabase,
  accountId: string,
  deviceId: number,
  upload: PreKeyUploadRequest,
  now: number,
): Promise<boolean> {
  return db.write(() => {
    // Checked inside the write transaction: no removal can come in between.
    const exists = db
      .prepare('SELECT 1 FROM devices WHERE account_id = ? AND device_id = ?')
      .get(accountId, deviceId);
    if (exists === undefined) return false;
    applyUpload(db, accountId, deviceId, upload, now);
    return true;
  });
}

export async function keyStatus(
  db: SqliteDatabase,
  accountId: string,
  deviceId: number,
  retentionMs: number,
): Promise<PreKeyStatusResponse | undefined> {
  return db.read(() => {
    const signed = signedKeys(db, accountId, deviceId);
    const ec = signed.find((k) => k.kind === 'ec' && k.retired_at === null);
    const kyber = signed.find((k) => k.kind === 'kyber' && k.retired_at === null);
    if (!ec || !kyber) return undefined;
    const counts = db
      .prepare(
        `SELECT kind, COUNT(*) AS count FROM one_time_prekeys
           WHERE account_id = ? AND device_id = ? GROUP BY kind`,
      )
      .all(accountId, deviceId) as { kind: KeyKind; count: number }[];
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
  db: SqliteDatabase,
  accountId: string,
  deviceId: number | 'all',
): Promise<PreKeyBundleResponse | undefined> {
  return db.write(() => {
    const account = db
      .prepare('SELECT identity_key FROM accounts WHERE account_id = ?')
      .get(accountId) as { identity_key: string } | undefined;
    if (!account) return undefined;
    const devices = (
      deviceId === 'all'
        ? db
            .prepare(
              'SELECT device_id, registration_id FROM devices WHERE account_id = ? ORDER BY device_id',
            )
            .all(accountId)
        : db
            .prepare(
              'SELECT device_id, registration_id FROM devices WHERE account_id = ? AND device_id = ?',
            )
            .all(accountId, deviceId)
    ) as { device_id: number; registration_id: number }[];
    if (devices.length === 0) return undefined;
    // One statement claims the key, so no two callers can ever get the same one.
    const claim = db.prepare(
      `DELETE FROM one_time_prekeys
         WHERE account_id = :account AND device_id = :device AND kind = :kind
           AND key_id = (SELECT MIN(key_id) FROM one_time_prekeys
                         WHERE account_id = :account AND device_id = :device AND kind = :kind)
         RETURNING key_id, public_key, signature`,
    );
    const bundles = devices.map((device): DeviceBundle => {
      const id = device.device_id;
      const signed = signedKeys(db, accountId, id).filter((k) => k.retired_at === null);
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

export function applyUpload(
  db: SqliteDatabase,
  accountId: string,
  deviceId: number,
  upload: PreKeyUploadRequest,
  now: number,
): void {
  const replaceSigned = (kind: KeyKind, key: SignedPreKey | KyberPreKey) => {
    db.prepare(
      'DELETE FROM signed_prekeys WHERE account_id = ? AND device_id = ? AND kind = ? AND key_id = ?',
    ).run(accountId, deviceId, kind, key.keyId);
    // The previous key is retired, not deleted: see PreKeyStatusResponse.retiredSignedPreKeys.
    db.prepare(
      `UPDATE signed_prekeys SET retired_at = ?
           WHERE account_id = ? AND device_id = ? AND kind = ? AND retired_at IS NULL`,
    ).run(now, accountId, deviceId, kind);
    db.prepare(
      `INSERT INTO signed_prekeys (account_id, device_id, kind, key_id, public_key, signature, uploaded_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ).run(accountId, deviceId, kind, key.keyId, key.publicKey, key.signature, now);
  };
  const replaceOneTime = (kind: KeyKind, keys: readonly (PreKey | KyberPreKey)[]) => {
    db.prepare(
      'DELETE FROM one_time_prekeys WHERE account_id = ? AND device_id = ? AND kind = ?',
    ).run(accountId, deviceId, kind);
    const insert = db.prepare(
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

export function signedKeys(
  db: SqliteDatabase,
  accountId: string,
  deviceId: number,
): SignedKeyRow[] {
  return db
    .prepare(
      `SELECT kind, key_id, public_key, signature, uploaded_at, retired_at FROM signed_prekeys
         WHERE account_id = ? AND device_id = ? ORDER BY uploaded_at`,
    )
    .all(accountId, deviceId) as SignedKeyRow[];
}
