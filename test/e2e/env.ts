/** Where the e2e relay and web app run and keep their files (shared by config and specs). */
import { fileURLToPath } from 'node:url';

const results = fileURLToPath(new URL('../../test-results/', import.meta.url));
const relayPort = Number(process.env.PARLEY_E2E_RELAY_PORT ?? 18_480);
const webPort = Number(process.env.PARLEY_E2E_WEB_PORT ?? 18_473);

export const E2E = {
  relayPort,
  webPort,
  relayUrl: `http://127.0.0.1:${relayPort}`,
  webUrl: `http://127.0.0.1:${webPort}`,
  relayDir: `${results}e2e-relay`,
  dbPath: `${results}e2e-relay/relay.sqlite`,
  webDir: `${results}e2e-web`,
  screenshots: `${results}e2e-screenshots`,
} as const;
