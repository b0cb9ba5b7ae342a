/**
 * The CLI as a user installs it (issue 20): `pnpm pack` apps/cli (its prepack bundles
 * dist/parley.js), `npm install -g` the tarball into a fresh prefix outside the workspace (npm
 * fetches and builds its dependencies, better-sqlite3 included, from the registry), then run
 * `parley` from that prefix's bin directory on PATH: built JavaScript, no tsx, and a real
 * conversation through a relay.
 */
import { access, mkdir, mkdtemp, readFile, readdir, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cleanEnv, run } from './support/packaging.ts';
import { startRelay, type RelayProcess } from './support/relay.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI_DIR = join(ROOT, 'apps', 'cli');
const SLOW = 900_000;

let work = '';
let prefix = '';
let relay: RelayProcess | undefined;

/** A user's shell: PATH starts with the global prefix's bin, nothing of the workspace. */
function shellEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = cleanEnv();
  return { ...env, PATH: `${join(prefix, 'bin')}:${env.PATH ?? ''}`, ...extra };
}

async function parley(user: string, ...args: string[]) {
  const { stdout } = await run('parley', ['--data-dir', join(work, 'homes', user), ...args], {
    cwd: work,
    env: shellEnv({ PARLEY_RELAY_URL: relay!.url }),
  });
  return stdout;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'parley-cli-install-'));
  prefix = join(work, 'global');
  const packs = join(work, 'packs');
  await mkdir(packs);
  await mkdir(join(work, 'homes'));
  await run('pnpm', ['pack', '--pack-destination', packs], { cwd: CLI_DIR, env: process.env });
  const [tgz] = await readdir(packs);
  await run(
    'npm',
    ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', join(packs, tgz!)],
    {
      cwd: work,
      // better-sqlite3 has no prebuilt binary reachable here, so npm builds it with node-gyp:
      // against the local Node headers (as scripts/bootstrap.sh does), not downloaded ones.
      env: { ...cleanEnv(), npm_config_nodedir: process.env.npm_config_nodedir ?? '/usr' },
    },
  );
  relay = await startRelay();
}, SLOW);

afterAll(async () => {
  await relay?.dispose();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('npm install -g of the packed CLI', () => {
  test(
    'puts parley on PATH, running built JavaScript without tsx',
    async () => {
      const installed = join(prefix, 'lib', 'node_modules', '@parley', 'cli');
      const manifest = JSON.parse(await readFile(join(installed, 'package.json'), 'utf8')) as {
        version: string;
        dependencies: Record<string, string>;
      };
      // The command on PATH is the bundle (publishConfig.bin), not the workspace's tsx entry.
      expect(await realpath(join(prefix, 'bin', 'parley'))).toBe(
        join(await realpath(installed), 'dist', 'parley.js'),
      );
      expect(Object.keys(manifest.dependencies).sort()).toEqual([
        'better-sqlite3',
        'commander',
        'ws',
      ]);
      const shipped = await readdir(installed);
      expect(shipped).not.toContain('src');
      expect(shipped).not.toContain('test');
      await expect(access(join(installed, 'node_modules', 'tsx'))).rejects.toThrow();
      await expect(access(join(prefix, 'lib', 'node_modules', 'tsx'))).rejects.toThrow();

      const { stdout: version } = await run('parley', ['--version'], {
        cwd: work,
        env: shellEnv(),
      });
      expect(version.trim()).toBe(manifest.version);
      const { stdout: help } = await run('parley', ['--help'], { cwd: work, env: shellEnv() });
      expect(help).toMatch(/^Usage: parley/);
      expect(help).toContain('register');
    },
    SLOW,
  );

  test(
    'the installed parley registers, sends and receives through a relay',
    async () => {
      const alice = `alice_${process.pid}`;
      const bob = `bob_${process.pid}`;
      expect(await parley('alice', 'register', alice)).toContain(`registered ${alice}`);
      expect(await parley('bob', 'register', bob)).toContain(`registered ${bob}`);
      expect(await parley('alice', 'contacts', 'add', bob)).toContain(`added ${bob}`);
      expect(await parley('alice', 'send', bob, 'hello', 'from', 'npm')).toMatch(/^sent /);
      const received = (await parley('bob', 'receive', '--json'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { text?: string });
      expect(received.map((m) => m.text)).toEqual(['hello from npm']);
    },
    SLOW,
  );
});
