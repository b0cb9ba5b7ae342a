/**
 * Browser end-to-end tests: the real relay (its own process, a fresh SQLite file) and the
 * production build of apps/web served by `vite preview`, driven in Debian's Chromium.
 *
 *   pnpm test:e2e            (from the repository root)
 *
 * Ports are fixed loopback ports (the CSP is generated at build time from the relay URL, so
 * the web build must know it). Artifacts (screenshots, the relay's database) go to
 * test-results/, which git ignores.
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
  reporter: [['list']],
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
  webServer: [
    {
      // A fresh database per run; generous limits because every test registers accounts.
      command: `rm -rf "${E2E.relayDir}" && mkdir -p "${E2E.relayDir}" && exec pnpm --filter @parley/relay start`,
      url: `${E2E.relayUrl}/health`,
      cwd: '..',
      env: {
        PARLEY_RELAY_HOST: '127.0.0.1',
        PARLEY_RELAY_PORT: String(E2E.relayPort),
        PARLEY_RELAY_DB_PATH: E2E.dbPath,
        PARLEY_RELAY_CORS_ORIGINS: E2E.webUrl,
        PARLEY_RELAY_LOG_LEVEL: 'warn',
        PARLEY_RELAY_RATE_LIMIT_REGISTRATION: '1000/h',
        PARLEY_RELAY_RATE_LIMIT_LINKING: '1000/h',
        PARLEY_RELAY_RATE_LIMIT_GLOBAL: '100000/m',
      },
      reuseExistingServer: false,
      timeout: 60_000,
      gracefulShutdown: { signal: 'SIGTERM', timeout: 10_000 },
      stdout: 'ignore',
      stderr: 'pipe',
    },
    {
      command: `pnpm --dir apps/web exec vite build --outDir "${E2E.webDir}" --emptyOutDir && exec pnpm --dir apps/web exec vite preview --outDir "${E2E.webDir}" --host 127.0.0.1 --port ${E2E.webPort} --strictPort`,
      url: E2E.webUrl,
      cwd: '..',
      env: { PARLEY_RELAY_URL: E2E.relayUrl },
      reuseExistingServer: false,
      timeout: 120_000,
      stdout: 'ignore',
      stderr: 'pipe',
    },
  ],
});
