/**
 * The Chromium half of the catch-up bench: the page (`catchup-page.ts`, bundled with esbuild)
 * runs the client core on IndexedDB in headless Chromium (Debian's, `/usr/bin/chromium` or
 * `CHROMIUM`), served from its own origin (allowed by the relay's CORS setting). Each round
 * loads the device's state before the catch-up into a fresh IndexedDB database and catches up
 * from a fresh copy of the relay's database. Renderer busy time comes from the DevTools
 * protocol (`Performance.getMetrics` TaskDuration); the raw crypto cost is measured in the page.
 * @module
 */
import { existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type Page } from 'playwright-core';
import type { Envelope } from '@parley/protocol';
import type { Row } from './catchup-page.ts';

export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
/** `BENCH_BROWSER_PROFILE=<file>`: a CPU profile of the page during the first round's catch-up. */
const PROFILE = process.env.BENCH_BROWSER_PROFILE;
/** `BENCH_WEB_STACK=bare`: the page's client on IndexedDB alone, not the web app's storage stack. */
const BARE = process.env.BENCH_WEB_STACK === 'bare';

export interface BrowserRound {
  seconds: number;
  tailSeconds: number;
  processed: number;
  busyMsPerMessage: number;
  cryptoMsPerMessage: number;
  longTasks: number[];
}

export interface BrowserBench {
  origin: string;
  round(n: number, relayUrl: string, rows: Row[], envelopes: Envelope[]): Promise<BrowserRound>;
  close(): Promise<void>;
}

type Cdp = Awaited<ReturnType<ReturnType<Page['context']>['newCDPSession']>>;

async function taskSeconds(cdp: Cdp): Promise<number> {
  const { metrics } = (await cdp.send('Performance.getMetrics')) as {
    metrics: Array<{ name: string; value: number }>;
  };
  return metrics.find((m) => m.name === 'TaskDuration')?.value ?? 0;
}

/** Starts the page server and the browser; undefined when there is no Chromium. */
export async function startBrowserBench(): Promise<BrowserBench | undefined> {
  if (!existsSync(CHROMIUM)) return undefined;
  const bundle = await build({
    entryPoints: [fileURLToPath(new URL('./catchup-page.ts', import.meta.url))],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['@parley/source'],
    minify: !PROFILE, // names in the profile
    write: false,
  });
  const js = bundle.outputFiles[0]!.text;
  const html =
    '<!doctype html><meta charset="utf-8"><script type="module" src="/page.js"></script>';
  const server = createServer((req, res) => {
    const isJs = req.url === '/page.js';
    res.writeHead(200, { 'content-type': isJs ? 'text/javascript' : 'text/html' });
    res.end(isJs ? js : html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  return {
    origin,
    async round(n, relayUrl, rows, envelopes) {
      const page = await browser.newPage();
      page.on('pageerror', (err) => console.error('page error:', err));
      await page.goto(`${origin}/`);
      await page.waitForFunction(() => typeof window.catchUp === 'function');
      const cdp = await page.context().newCDPSession(page);
      await cdp.send('Performance.enable');
      await page.evaluate(([rs, db, bare]) => window.prepare(rs, db, bare), [
        rows,
        `catchup-${n}`,
        BARE,
      ] as const);
      if (PROFILE && n === 1) {
        await cdp.send('Profiler.enable');
        await cdp.send('Profiler.start');
      }
      const busy0 = await taskSeconds(cdp);
      const r = await page.evaluate((url) => window.catchUp(url), relayUrl);
      const busy = (await taskSeconds(cdp)) - busy0;
      if (PROFILE && n === 1) {
        const { profile } = (await cdp.send('Profiler.stop')) as { profile: unknown };
        writeFileSync(PROFILE, JSON.stringify(profile));
      }
      const cryptoMs = await page.evaluate(([rs, envs]) => window.rawCrypto(rs, envs), [
        rows,
        envelopes,
      ] as const);
      await page.close();
      return {
        seconds: r.ms / 1000,
        tailSeconds: r.tailMs / 1000,
        processed: r.processed,
        busyMsPerMessage: (busy * 1000) / r.processed,
        cryptoMsPerMessage: cryptoMs / envelopes.length,
        longTasks: r.longTasks,
      };
    },
    async close() {
      await browser.close();
      server.close();
    },
  };
}
