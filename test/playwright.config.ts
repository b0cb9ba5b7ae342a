/**
 * Browser end-to-end tests, one process as in production: the relay (a fresh SQLite file per
 * run) serving the production build of apps/web on its own origin (PARLEY_RELAY_WEB_ROOT),
 * driven in Debian's Chromium (/usr/bin/chromium; no browser download).
 *
 *   pnpm test:e2e            (from the repository root)
 *
 * The app is built without PARLEY_RELAY_URL, so it talks to the origin it is loaded from and
 * its CSP allows only that origin. Artifacts (screenshots, the relay's database, the JSON
 * report) go to test-results/, which git ignores.
 */
import { defineConfig } from '@playwright/test';
import { E2E } from './e2e/env.ts';

export default defineConfig({
  testDir: './e2e',
  outputDir: '../test-results/e2e-artifacts',
  workers: 1,
  fullyParallel: false,
  forbidOnly: true,
  retries: 0,
  timeout: 180_000,
  expect: { timeout: 30_000 },
  reporter: [['list'], ['json', { outputFile: E2E.report }]],
  use: {
    baseURL: E2E.webUrl,
    browserName: 'chromium',
    headless: true,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  webServer: {
    // Build the app for same-origin serving, then start the relay on a fresh database with
    // generous limits (every test registers accounts).
    command: [
      `rm -rf "${E2E.relayDir}" && mkdir -p "${E2E.relayDir}"`,
      `pnpm --dir apps/web exec vite build --logLevel warn --outDir "${E2E.webDir}" --emptyOutDir`,
      'exec pnpm --filter @parley/relay start',
    ].join(' && '),
    url: `${E2E.relayUrl}/health`,
    cwd: '..',
    env: {
      PARLEY_RELAY_URL: '',
      PARLEY_RELAY_HOST: '127.0.0.1',
      PARLEY_RELAY_PORT: String(E2E.relayPort),
      PARLEY_RELAY_DB_PATH: E2E.dbPath,
      PARLEY_RELAY_WEB_ROOT: E2E.webDir,
      PARLEY_RELAY_CORS_ORIGINS: '',
      PARLEY_RELAY_LOG_LEVEL: 'warn',
      PARLEY_RELAY_RATE_LIMIT_REGISTRATION: '1000/h',
      PARLEY_RELAY_RATE_LIMIT_LINKING: '1000/h',
      PARLEY_RELAY_RATE_LIMIT_GLOBAL: '100000/m',
      PARLEY_RELAY_RATE_LIMIT_SEND_PAIR: '100000/m',
      PARLEY_RELAY_RATE_LIMIT_SEND_SENDER: '100000/m',
      // A deleted account's username is free at once, so lifecycle.spec.ts can show what a
      // newcomer who takes it looks like (the relay holds it for 30 days by default).
      PARLEY_RELAY_USERNAME_HOLD_SECONDS: '0',
    },
    reuseExistingServer: false,
    timeout: 180_000,
    gracefulShutdown: { signal: 'SIGTERM', timeout: 10_000 },
    stdout: 'ignore',
    stderr: 'pipe',
  },
});
