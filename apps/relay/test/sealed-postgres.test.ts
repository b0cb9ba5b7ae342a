/** The sealed sender routes on the PostgreSQL store (see `sealed-routes.ts`). */
import { afterAll, beforeAll } from 'vitest';
import { startRelay } from './helpers.ts';
import { registerSealedRouteTests } from './sealed-routes.ts';
import { startPostgres, type PostgresServer } from './services.ts';

let postgres: PostgresServer;
beforeAll(async () => {
  postgres = await startPostgres();
});
afterAll(async () => postgres?.stop());

registerSealedRouteTests(
  async () => startRelay({ overrides: { databaseUrl: await postgres.createDatabase() } }),
  'PostgreSQL',
);
