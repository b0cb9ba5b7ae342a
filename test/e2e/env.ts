/** Where the e2e relay (which also serves the web app) runs and keeps its files. */
import { fileURLToPath } from 'node:url';

const results = fileURLToPath(new URL('../../test-results/', import.meta.url));
const relayPort = Number(process.env.PARLEY_E2E_RELAY_PORT ?? 18_480);

export const E2E = {
  relayPort,
  relayUrl: `http://127.0.0.1:${relayPort}`,
  /** The relay serves the built app on its own origin, as in production. */
  webUrl: `http://127.0.0.1:${relayPort}`,
  relayDir: `${results}e2e-relay`,
  dbPath: `${results}e2e-relay/relay.sqlite`,
  webDir: `${results}e2e-web`,
  screenshots: `${results}e2e-screenshots`,
  /** Playwright's JSON report, which scripts/test-summary.mjs adds to the closing line. */
  report: `${results}playwright.json`,
} as const;
