/**
 * The CLI's data directory: `parley.sqlite` (the client storage, WAL) and the at-rest key.
 * The key is 32 random bytes in `at-rest.key` (mode 0600), or — with PARLEY_PASSPHRASE set —
 * derived from the passphrase with scrypt and a salt kept in `at-rest.salt`.
 * @module
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Storage, importAtRestKey, keyFromPassphrase } from '@parley/client/storage.js';
import { SqliteBackend } from '@parley/client/storage/sqlite.js';

export async function openDataDir(dir: string, passphrase?: string): Promise<Storage> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  let key: CryptoKey;
  if (passphrase) {
    const saltPath = join(dir, 'at-rest.salt');
    if (!existsSync(saltPath)) {
      writeFileSync(saltPath, crypto.getRandomValues(new Uint8Array(16)), { mode: 0o600 });
    }
    key = await keyFromPassphrase(passphrase, new Uint8Array(readFileSync(saltPath)));
  } else {
    const keyPath = join(dir, 'at-rest.key');
    if (!existsSync(keyPath)) {
      writeFileSync(keyPath, crypto.getRandomValues(new Uint8Array(32)), { mode: 0o600 });
    }
    chmodSync(keyPath, 0o600);
    key = await importAtRestKey(new Uint8Array(readFileSync(keyPath)));
  }
  return new Storage(new SqliteBackend(join(dir, 'parley.sqlite')), { key });
}
