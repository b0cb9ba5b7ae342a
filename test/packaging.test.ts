/**
 * The libraries as a user gets them (issue 20): `pnpm pack` each package (its prepack builds
 * dist/), `npm install` the tarballs into a fresh project outside the workspace, then use them
 * from plain Node, from TypeScript (nodenext and bundler resolution, strict, skipLibCheck off),
 * and from a browser bundle in Chromium, with the READMEs' own examples, extracted here. publint
 * (strict) and are-the-types-wrong (ESM-only profile) check each tarball.
 */
import { mkdir, mkdtemp, readFile, readdir, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cleanEnv, exampleName, readmeExamples, run, serveScript } from './support/packaging.ts';
import { startRelay, type RelayProcess } from './support/relay.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PACKAGES = ['crypto', 'crypto-node', 'protocol', 'client'] as const;
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const bin = (name: string) => join(ROOT, 'node_modules', '.bin', name);
const SLOW = 600_000;

/**
 * What each README example is checked for once it has run: a line appended to the extracted
 * code (the example itself is untouched) that prints its results.
 */
const PROBES: Record<string, { code: string; expected: unknown }> = {
  'crypto#Two parties': {
    code: 'console.log("README:" + JSON.stringify([new TextDecoder().decode(received), new TextDecoder().decode(answered), digits.length, qrPayload.length > 0]));',
    expected: ['hi Bob', 'hi Alice', 60, true],
  },
  'crypto#A group': {
    code: 'console.log("README:" + JSON.stringify([new TextDecoder().decode(opened)]));',
    expected: ['hello group'],
  },
  'crypto#Sealed sender': {
    code: 'console.log("README:" + JSON.stringify([opened.sender.senderUuid, opened.type, new TextDecoder().decode(opened.contents())]));',
    expected: ['9d0652a3-dcc3-4d11-975f-74d61598733f', 'senderkey', 'inner message'],
  },
  'crypto#Backends': {
    code: 'console.log("README:" + JSON.stringify([await activeCryptoBackend()]));',
    expected: ['node'],
  },
  'crypto-node#': {
    code: 'const { activeCryptoBackend } = await import("@parley/crypto/backend.js");\nconsole.log("README:" + JSON.stringify([await activeCryptoBackend()]));',
    expected: ['node'],
  },
  'client#A bot in Node': {
    code: 'console.log("README:" + JSON.stringify([reply, typeof bot.account?.accountId]));',
    expected: ['echo: hello', 'string'],
  },
  'protocol#': {
    code: 'console.log("README:" + JSON.stringify([WS_SUBPROTOCOL, typeof parseServerFrame, basicAuthorization({ accountId: "a", deviceId: 1, credential: "p" }).startsWith("Basic ")]));',
    expected: ['parley.v1', 'function', true],
  },
};

function probeOutput(stdout: string): unknown {
  const line = stdout.split('\n').find((l) => l.startsWith('README:'));
  return line === undefined ? undefined : JSON.parse(line.slice('README:'.length));
}

interface Example {
  key: string;
  name: string;
  pkg: string;
}

let work = '';
let app = '';
let relay: RelayProcess | undefined;
const tarballs = new Map<string, string>();
const examples: Example[] = [];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'parley-packaging-'));
  const packs = join(work, 'packs');
  app = join(work, 'app');
  await mkdir(packs);
  await mkdir(join(app, 'examples'), { recursive: true });
  for (const pkg of PACKAGES) {
    const before = new Set(await readdir(packs));
    // The workspace's own environment: pnpm runs the package's prepack (the dist/ build).
    await run('pnpm', ['pack', '--pack-destination', packs], {
      cwd: join(ROOT, 'packages', pkg),
      env: process.env,
    });
    const [tgz] = (await readdir(packs)).filter((f) => !before.has(f));
    tarballs.set(pkg, join(packs, tgz!));
  }
  await writeFile(
    join(app, 'package.json'),
    JSON.stringify({ name: 'parley-consumer', private: true, type: 'module' }),
  );
  // What a bot on @parley/client installs beside it: ws (Node 20 has no global WebSocket) and
  // the optional peer better-sqlite3. The latter is the workspace's own build, linked, so the
  // test does not compile it a second time (the CLI install below compiles it from the registry).
  const sqlite = await realpath(join(ROOT, 'packages', 'client', 'node_modules', 'better-sqlite3'));
  await run(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      ...tarballs.values(),
      'ws@^8.18.0',
      '@types/ws@^8.18.0',
      '@types/node@^20.19.0',
      sqlite,
    ],
    { cwd: app },
  );
  relay = await startRelay();

  for (const pkg of PACKAGES) {
    const readme = await readFile(join(ROOT, 'packages', pkg, 'README.md'), 'utf8');
    for (const { section, code } of readmeExamples(readme)) {
      const key = `${pkg}#${section}`;
      const name = exampleName(pkg, section);
      const probe = PROBES[key]?.code ?? '';
      await writeFile(join(app, 'examples', `${name}.ts`), `${code}\n${probe}\nexport {};\n`);
      examples.push({ key, name, pkg });
    }
  }
  const options = {
    target: 'ES2022',
    lib: ['ES2023', 'DOM'],
    types: [],
    strict: true,
    skipLibCheck: false,
    rootDir: 'examples',
  };
  for (const [file, resolution] of [
    ['tsconfig.nodenext.json', { module: 'NodeNext', moduleResolution: 'NodeNext' }],
    ['tsconfig.bundler.json', { module: 'ESNext', moduleResolution: 'Bundler' }],
  ] as const) {
    const outDir = file.includes('nodenext') ? 'out-nodenext' : 'out-bundler';
    await writeFile(
      join(app, file),
      JSON.stringify({
        compilerOptions: { ...options, ...resolution, outDir },
        include: ['examples'],
      }),
    );
  }
}, SLOW);

afterAll(async () => {
  await relay?.dispose();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('the packed libraries', () => {
  test(
    'ship built code, declarations and sources, but no tests, fixtures, benches or tsconfig',
    async () => {
      for (const [pkg, tgz] of tarballs) {
        const { stdout } = await run('tar', ['tzf', tgz], { cwd: work });
        const files = stdout.trim().split('\n');
        expect(files, pkg).toContain('package/dist/index.js');
        expect(files, pkg).toContain('package/dist/index.d.ts');
        expect(files, pkg).toContain('package/dist/index.d.ts.map');
        expect(files, pkg).toContain('package/dist/index.js.map');
        const unwanted = files.filter((f) =>
          /(^|\/)(test|bench|fixtures)\/|tsconfig|tsbuildinfo/.test(f),
        );
        expect(unwanted, pkg).toEqual([]);
      }
    },
    SLOW,
  );

  test(
    'plain node imports every export, and internal modules are not exported',
    async () => {
      const script = `
import { readFileSync } from 'node:fs';
const exported = {};
for (const name of ${JSON.stringify(PACKAGES.map((p) => `@parley/${p}`))}) {
  const pkg = JSON.parse(readFileSync(new URL('./node_modules/' + name + '/package.json', import.meta.url), 'utf8'));
  for (const key of Object.keys(pkg.exports)) {
    if (key === './package.json') continue;
    const spec = key === '.' ? name : name + key.slice(1);
    exported[spec] = Object.keys(await import(spec));
  }
}
const internal = {};
for (const spec of process.argv.slice(2)) {
  try { await import(spec); internal[spec] = 'imported'; } catch (e) { internal[spec] = e.code; }
}
console.log(JSON.stringify({ exported, internal }));
`;
      await writeFile(join(app, 'import-all.mjs'), script);
      const internals = [
        '@parley/crypto/_bytes.js',
        '@parley/crypto/dist/_bytes.js',
        '@parley/crypto/dist/session/session-state.js',
        '@parley/crypto/src/session.ts',
        '@parley/crypto-node/dist/index.js',
        '@parley/protocol/dist/auth.js',
        '@parley/protocol/auth.js',
        '@parley/client/context.js',
        '@parley/client/dist/client.js',
        '@parley/client/storage/at-rest.js',
      ];
      const { stdout } = await run(process.execPath, ['import-all.mjs', ...internals], {
        cwd: app,
      });
      const { exported, internal } = JSON.parse(stdout) as {
        exported: Record<string, string[]>;
        internal: Record<string, string>;
      };
      // Every export the workspace declares, each with a non-empty API.
      const declared: string[] = [];
      for (const pkg of PACKAGES) {
        const manifest = JSON.parse(
          await readFile(join(ROOT, 'packages', pkg, 'package.json'), 'utf8'),
        ) as { exports: Record<string, unknown> };
        for (const key of Object.keys(manifest.exports)) {
          if (key !== './package.json')
            declared.push(key === '.' ? `@parley/${pkg}` : `@parley/${pkg}${key.slice(1)}`);
        }
      }
      expect(Object.keys(exported).sort()).toEqual(declared.sort());
      // Each root has an API (a subpath may hold types only, e.g. stores.js).
      for (const pkg of PACKAGES)
        expect(exported[`@parley/${pkg}`]!.length, pkg).toBeGreaterThan(0);
      // The root import has the whole public API of every subpath.
      const root = new Set(exported['@parley/crypto']);
      for (const [spec, names] of Object.entries(exported)) {
        if (!spec.startsWith('@parley/crypto/')) continue;
        expect(
          names.filter((n) => !root.has(n)),
          spec,
        ).toEqual([]);
      }
      for (const spec of internals)
        expect(internal[spec], spec).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED');
    },
    SLOW,
  );

  test(
    'the README examples compile under nodenext and bundler resolution and run in node',
    async () => {
      for (const key of Object.keys(PROBES)) {
        expect(
          examples.map((e) => e.key),
          `README section of probe ${key}`,
        ).toContain(key);
      }
      for (const config of ['tsconfig.nodenext.json', 'tsconfig.bundler.json']) {
        await run(process.execPath, [TSC, '-p', config], { cwd: app });
        const outDir = config.includes('nodenext') ? 'out-nodenext' : 'out-bundler';
        for (const { key, name } of examples) {
          const { stdout } = await run(process.execPath, [join(outDir, `${name}.js`)], {
            cwd: app,
            env: { ...cleanEnv(), PARLEY_RELAY_URL: relay!.url },
          });
          if (PROBES[key])
            expect(probeOutput(stdout), `${key} (${config})`).toEqual(PROBES[key].expected);
        }
      }
    },
    SLOW,
  );

  test(
    'the crypto README examples run bundled for the browser in Chromium',
    async () => {
      const browserExamples = examples.filter(
        (e) => e.pkg === 'crypto' && PROBES[e.key] && e.key !== 'crypto#Backends',
      );
      expect(browserExamples.length).toBeGreaterThan(0);
      const browser = await chromium.launch({
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
      });
      try {
        for (const { key, name } of browserExamples) {
          const bundle = await build({
            entryPoints: [join(app, 'examples', `${name}.ts`)],
            absWorkingDir: app,
            bundle: true,
            format: 'esm',
            platform: 'browser',
            target: 'es2022',
            write: false,
          });
          const { url, server } = await serveScript(bundle.outputFiles[0]!.text);
          try {
            const page = await browser.newPage();
            const failed = new Promise<never>((_, reject) =>
              page.on('pageerror', (err) => reject(new Error(`${key}: ${err.message}`))),
            );
            const printed = page.waitForEvent('console', {
              predicate: (msg) => msg.text().startsWith('README:'),
              timeout: SLOW,
            });
            await page.goto(url);
            const message = await Promise.race([printed, failed]);
            expect(probeOutput(message.text()), key).toEqual(PROBES[key]!.expected);
            await page.close();
          } finally {
            server.close();
          }
        }
      } finally {
        await browser.close();
      }
    },
    SLOW,
  );

  test(
    'publint (strict) and are-the-types-wrong (ESM-only) find nothing',
    async () => {
      for (const tgz of tarballs.values()) {
        await run(bin('publint'), ['run', tgz, '--strict'], { cwd: work });
        await run(bin('attw'), [tgz, '--profile', 'esm-only', '--format', 'ascii'], { cwd: work });
      }
    },
    SLOW,
  );
});
