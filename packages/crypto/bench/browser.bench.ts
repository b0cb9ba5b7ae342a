/**
 * Runs `browser-entry.ts` in headless Chromium: bundles it with esbuild, serves it from
 * http://127.0.0.1 (a secure context, so `crypto.subtle` exists) and prints the page's table.
 *
 *   pnpm --filter @parley/crypto bench:browser   (CHROMIUM=/path/to/chromium, BENCH_ROUNDS=N)
 */
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
if (!existsSync(executablePath)) {
  console.log(`\nbrowser half skipped: no Chromium at ${executablePath} (set CHROMIUM)`);
  process.exit(0);
}

const bundle = await build({
  entryPoints: [fileURLToPath(new URL('./browser-entry.ts', import.meta.url))],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  write: false,
});
const js = bundle.outputFiles[0]!.text;
const html = '<!doctype html><meta charset="utf-8"><script type="module" src="/bench.js"></script>';
const server = createServer((req, res) => {
  const isJs = req.url === '/bench.js';
  res.writeHead(200, { 'content-type': isJs ? 'text/javascript' : 'text/html' });
  res.end(isJs ? js : html);
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as AddressInfo;

const browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
try {
  const page = await browser.newPage();
  page.on('pageerror', (err) => console.error('page error:', err));
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.waitForFunction(() => typeof window.runBench === 'function');
  const version = browser.version();
  const table = await page.evaluate((rounds) => window.runBench(rounds), ROUNDS);
  console.log(
    `\n@parley/crypto in headless Chromium ${version} (bundle ${(js.length / 1024).toFixed(0)} KiB) — ${table}`,
  );
} finally {
  await browser.close();
  server.close();
}
