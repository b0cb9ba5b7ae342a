/**
 * Throwaway PostgreSQL and Redis servers on loopback for the tests that need them: `initdb` into
 * a temp dir, `pg_ctl start` on 127.0.0.1 and an unused port with `fsync=off`, and a
 * `redis-server` without persistence. Missing binaries fail loudly (never a silent skip).
 * @module
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

const INSTALL_HINT =
  'install them with `apt-get install -y postgresql redis-server` (scripts/bootstrap.sh does)';

function findPgBin(name: string): string {
  const candidates = ['/usr/local/bin', '/usr/bin'];
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    for (const version of readdirSync(root).sort().reverse())
      candidates.unshift(join(root, version, 'bin'));
  }
  for (const dir of candidates) {
    const path = join(dir, name);
    if (existsSync(path)) return path;
  }
  throw new Error(`PostgreSQL's ${name} was not found: ${INSTALL_HINT}`);
}

function findRedis(): string {
  for (const path of ['/usr/bin/redis-server', '/usr/local/bin/redis-server']) {
    if (existsSync(path)) return path;
  }
  throw new Error(`redis-server was not found: ${INSTALL_HINT}`);
}

/** A port nobody listens on right now (the OS picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** initdb refuses to run as root: run the PostgreSQL tools as `postgres` then. */
function runPg(bin: string, args: string[]): void {
  const [cmd, argv] = isRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
  const result = spawnSync(cmd, argv, { encoding: 'utf8', timeout: 180_000 });
  if (result.status !== 0) {
    throw new Error(
      `${bin} ${args.join(' ')} failed (${result.status ?? result.signal}): ${result.stderr}`,
    );
  }
}

export interface PostgresServer {
  /** `postgres://…` of the `postgres` database (superuser, trust auth on loopback). */
  url: string;
  /** Creates an empty database and returns its URL. */
  createDatabase(): Promise<string>;
  /** The postmaster's process id (its backends are its children). */
  pid(): number;
  stop(): Promise<void>;
}

let dbCounter = 0;

export async function startPostgres(): Promise<PostgresServer> {
  const initdb = findPgBin('initdb');
  const pgCtl = findPgBin('pg_ctl');
  const dir = mkdtempSync(join(tmpdir(), 'parley-pg-'));
  chmodSync(dir, 0o777);
  if (isRoot) execFileSync('chown', ['postgres:postgres', dir]);
  const data = join(dir, 'data');
  const port = await freePort();
  runPg(initdb, ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8']);
  const options = [
    `-c listen_addresses=127.0.0.1`,
    `-c port=${port}`,
    `-c unix_socket_directories=${dir}`,
    `-c fsync=off`,
    `-c synchronous_commit=off`,
    `-c full_page_writes=off`,
    `-c max_connections=300`,
  ].join(' ');
  runPg(pgCtl, ['-D', data, '-l', join(dir, 'log'), '-o', options, '-w', '-t', '120', 'start']);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  return {
    url,
    async createDatabase() {
      const name = `t${process.pid}_${++dbCounter}_${Math.floor(Math.random() * 1e6)}`;
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    pid() {
      // postmaster.pid: the first line is the postmaster's process id.
      return Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    },
    async stop() {
      try {
        runPg(pgCtl, ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

export interface RedisServer {
  url: string;
  /** redis-server's process id. */
  pid(): number;
  stop(): Promise<void>;
}

export async function startRedis(): Promise<RedisServer> {
  const bin = findRedis();
  const dir = mkdtempSync(join(tmpdir(), 'parley-redis-'));
  const port = await freePort();
  const pidfile = join(dir, 'redis.pid');
  execFileSync(bin, [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--daemonize',
    'yes',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
    '--pidfile',
    pidfile,
  ]);
  const url = `redis://127.0.0.1:${port}`;
  // Wait until it answers (generous: a busy machine can be slow to start it).
  const deadline = Date.now() + 120_000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => probe(port, resolve));
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`redis-server did not start on port ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    pid() {
      return Number(readFileSync(pidfile, 'utf8').trim());
    },
    async stop() {
      const deadline2 = Date.now() + 60_000;
      while (!existsSync(pidfile) && Date.now() < deadline2) {
        await new Promise((r) => setTimeout(r, 20));
      }
      if (existsSync(pidfile)) {
        const pid = Number(readFileSync(pidfile, 'utf8').trim());
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function probe(port: number, done: (ok: boolean) => void): void {
  const socket = connect(port, '127.0.0.1');
  socket.once('connect', () => {
    socket.end();
    done(true);
  });
  socket.once('error', () => done(false));
}
