// Bundles the CLI and the workspace libraries it uses (from their sources, so nothing else
// needs building first) into one ESM file, dist/parley.js: one file to load keeps start-up
// short. Packages with native or optional native parts (better-sqlite3, ws) and commander stay
// ordinary dependencies.
import { rm } from 'node:fs/promises';
import { build } from 'esbuild';

await rm(new URL('../dist', import.meta.url), { recursive: true, force: true });
await build({
  entryPoints: [new URL('../src/bin.ts', import.meta.url).pathname],
  outfile: new URL('../dist/parley.js', import.meta.url).pathname,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  conditions: ['@parley/source'],
  external: ['better-sqlite3', 'ws', 'commander'],
  minify: true,
  sourcemap: 'linked',
  legalComments: 'linked',
  // CommonJS code in the bundle may call require() for Node's built-ins.
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __parleyRequire } from 'node:module';\nconst require = __parleyRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
