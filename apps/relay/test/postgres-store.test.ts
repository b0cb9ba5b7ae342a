import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { PostgresRelayStore } from '../src/store/postgres.ts';
import { PG_MIGRATIONS } from '../src/store/postgres-migrations.ts';
import { startPostgres, type PostgresServer } from './services.ts';
import { registerStoreContract } from './store-contract.ts';

let server: PostgresServer;
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await server?.stop();
});

registerStoreContract('PostgreSQL (pg)', async () => {
  const store = await PostgresRelayStore.open({ url: await server.createDatabase() });
  return { store, cleanup: () => store.close() };
});

describe('PostgresRelayStore migrations', () => {
  it('several nodes opening one empty database at once migrate it exactly once', async () => {
    const url = await server.createDatabase();
    const stores = await Promise.all(
      Array.from({ length: 4 }, () => PostgresRelayStore.open({ url })),
    );
    await Promise.all(stores.map((s) => s.close()));
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query<{ version: number }>(
        'SELECT version FROM parley_schema_migrations ORDER BY version',
      );
      expect(rows.map((r) => r.version)).toEqual(PG_MIGRATIONS.map((_, i) => i + 1));
      // A newer schema than the code knows is refused.
      await client.query('INSERT INTO parley_schema_migrations (version) VALUES (999)');
    } finally {
      await client.end();
    }
    await expect(PostgresRelayStore.open({ url })).rejects.toThrow(/newer than this relay/);
  });
});
