/**
 * Picks the store from the configuration: PostgreSQL when `DATABASE_URL` is set, else the SQLite
 * file at `PARLEY_RELAY_DB_PATH`.
 * @module
 */
import type { RelayConfig } from '../config.ts';
import { PostgresRelayStore } from './postgres.ts';
import { SqliteRelayStore } from './sqlite.ts';
import type { RelayStore } from './types.ts';

export async function openStore(config: RelayConfig): Promise<RelayStore> {
  if (config.databaseUrl !== undefined) {
    return PostgresRelayStore.open({ url: config.databaseUrl });
  }
  return SqliteRelayStore.open({ path: config.dbPath });
}
