/**
 * The production build the relay serves (built by the e2e web server exactly as for release,
 * without PARLEY_WEB_SOURCEMAP) ships no source maps: no `.map` files, no `sourceMappingURL`
 * comments pointing at one, and the relay has none to serve.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { E2E } from './env.ts';

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

test('the production build contains no source maps', async ({ request }) => {
  const all = files(E2E.webDir);
  const scripts = all.filter((f) => /\.(m?js|css)$/.test(f));
  expect(scripts.length).toBeGreaterThan(0);
  expect(all.filter((f) => f.endsWith('.map'))).toEqual([]);
  for (const f of scripts) {
    expect(readFileSync(f, 'utf8'), f).not.toMatch(/[#@] sourceMappingURL=/);
  }
  // Nor does the page ask for one.
  const js = scripts.find((f) => f.endsWith('.js'))!;
  const url = `/${js.slice(E2E.webDir.length).replace(/^\/+/, '')}.map`;
  const res = await request.get(url);
  expect(await res.text()).not.toContain('"mappings"');
});
