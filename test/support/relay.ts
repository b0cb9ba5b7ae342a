/**
 * Starts the real relay (apps/relay) as a child process on 127.0.0.1 with a temp-dir SQLite
 * database, for integration tests. `restart()` stops it (SIGTERM, graceful) and starts it again
 * on the same port and database.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const relayDir = join(root, 'apps', 'relay');

export interface RelayProcess {
  url: string;
  port: number;
  dbPath: string;
  /** Everything the relay printed (for failure messages). */
  output(): string;
  stop(): Promise<void>;
  restart(): Promise<void>;
  /** Stops the relay and removes its data. */
  dispose(): Promise<void>;
}

const generous = '100000/1m';

function launch(port: number, dbPath: string, env: Record<string, string>) {
  // One process (node --import tsx), so signals reach the relay itself.
  const child = spawn(
    process.execPath,
    ['--conditions=@parley/source', '--import', 'tsx', 'src/server.ts'],
    {
      cwd: relayDir,
      env: {
        ...process.env,
        PARLEY_RELAY_HOST: '127.0.0.1',
        PARLEY_RELAY_PORT: String(port),
        PARLEY_RELAY_DB_PATH: dbPath,
        PARLEY_RELAY_LOG_LEVEL: 'info',
        PARLEY_RELAY_RATE_LIMIT_GLOBAL: generous,
        PARLEY_RELAY_RATE_LIMIT_REGISTRATION: generous,
        PARLEY_RELAY_RATE_LIMIT_LINKING: generous,
        PARLEY_RELAY_RATE_LIMIT_BUNDLE_REQUESTER: generous,
        PARLEY_RELAY_RATE_LIMIT_BUNDLE_TARGET: generous,
        PARLEY_RELAY_RATE_LIMIT_USERNAME_LOOKUP: generous,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  return child;
}

function waitForListening(child: ChildProcess, log: string[]): Promise<number> {
  return new Promise((resolvePort, reject) => {
    let buffer = '';
    const onData = (chunk: Buffer) => {
      const s = chunk.toString();
      log.push(s);
      buffer += s;
      const m = /listening at http:\/\/127\.0\.0\.1:(\d+)/i.exec(buffer);
      if (m) resolvePort(Number(m[1]));
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (c: Buffer) => log.push(c.toString()));
    child.once('exit', (code) =>
      reject(new Error(`relay exited with ${code} before listening:\n${log.join('')}`)),
    );
    setTimeout(() => reject(new Error(`relay did not start:\n${log.join('')}`)), 30_000).unref();
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((res) => {
    child.once('exit', () => res());
    child.kill('SIGTERM');
  });
}

export async function startRelay(env: Record<string, string> = {}): Promise<RelayProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-relay-'));
  const dbPath = join(dir, 'relay.sqlite');
  const log: string[] = [];
  let child = launch(0, dbPath, env);
  const port = await waitForListening(child, log);
  const relay: RelayProcess = {
    url: `http://127.0.0.1:${port}`,
    port,
    dbPath,
    output: () => log.join(''),
    stop: () => stopChild(child),
    async restart() {
      await stopChild(child);
      child = launch(port, dbPath, env);
      await waitForListening(child, log);
    },
    async dispose() {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return relay;
}
