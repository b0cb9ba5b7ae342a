import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteRelayStore } from '../src/store/sqlite.ts';
import { registerStoreContract } from './store-contract.ts';

registerStoreContract('SQLite (better-sqlite3, WAL)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-store-'));
  const store = SqliteRelayStore.open({ path: join(dir, 'relay.db') });
  return {
    store,
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
