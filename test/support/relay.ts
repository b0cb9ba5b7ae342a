/**
 * The one way tests start the real relay (apps/relay `src/server.ts`, as in production) as a
 * child process on 127.0.0.1: the top-level tests, the CLI's and the web app's relay tests and
 * the relay's own cluster test all use it. By default it gets a temp-dir SQLite database and
 * generous rate limits (only tests about limits pass their own); `env` overrides anything.
 *
 * Start-up waits for readiness (the port the relay reports, then `/ready` answering 200), never
 * a fixed time, with a limit generous enough for a busy machine. `restart()` stops it (SIGTERM,
 * graceful) and starts it again on the same port and database.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const relayDir = join(root, 'apps', 'relay');

/** How long a relay may take to become ready: a loaded 2-core machine can take a minute. */
export const RELAY_START_LIMIT_MS = 120_000;
/** Generous hook limits for suites that start relays: a start plus a graceful stop. */
export const RELAY_HOOK_LIMIT_MS = 2 * RELAY_START_LIMIT_MS;

export interface RelayProcess {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** `ws://127.0.0.1:<port>` */
  ws: string;
  port: number;
  /** The SQLite file (unused when `env` points the relay at PostgreSQL). */
  dbPath: string;
  /** The current child process (a new one after `restart()`). */
  readonly process: ChildProcess;
  /** Resolves with the current process's exit code once it is gone. */
  readonly exited: Promise<number | null>;
  /** Everything the relay printed (for failure messages). */
  output(): string;
  /** SIGTERM (graceful) unless told otherwise; resolves once the process is gone. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  restart(): Promise<void>;
  /** Stops the relay and removes its data. */
  dispose(): Promise<void>;
}

const generous = '100000/1m';

function launch(port: number, dbPath: string, env: Record<string, string>): ChildProcess {
  // One process (node --import tsx), so signals reach the relay itself.
  return spawn(
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
        PARLEY_RELAY_RATE_LIMIT_BUNDLE_PAIR: '10000/1m',
        PARLEY_RELAY_RATE_LIMIT_BUNDLE_REQUESTER: generous,
        PARLEY_RELAY_RATE_LIMIT_BUNDLE_TARGET: generous,
        PARLEY_RELAY_RATE_LIMIT_USERNAME_LOOKUP: generous,
        PARLEY_RELAY_RATE_LIMIT_USERNAME_CHANGE: generous,
        PARLEY_RELAY_RATE_LIMIT_SEND_PAIR: generous,
        PARLEY_RELAY_RATE_LIMIT_SEND_SENDER: generous,
        PARLEY_RELAY_RATE_LIMIT_SEALED_IP: generous,
        PARLEY_RELAY_RATE_LIMIT_SEALED_RECIPIENT: generous,
        // Freed usernames are free at once (tests of the hold set it; see the relay README).
        PARLEY_RELAY_USERNAME_HOLD_SECONDS: '0',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The port the relay reports listening on, read from its log: asking the OS for a free port
 * first would race with the other test files starting relays at the same time.
 */
function listeningPort(child: ChildProcess, log: string[]): Promise<number> {
  return new Promise((resolvePort, reject) => {
    // Searched only until found: the relay logs every request, and scanning all of it again for
    // each line made a long run's log quadratic (percents of the chat bench's CPU, and growing).
    let buffer: string | undefined = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      const s = chunk.toString();
      log.push(s);
      if (buffer === undefined) return;
      buffer += s;
      const m = /listening at http:\/\/127\.0\.0\.1:(\d+)/i.exec(buffer);
      if (m) {
        buffer = undefined;
        resolvePort(Number(m[1]));
      }
    });
    child.stderr!.on('data', (c: Buffer) => log.push(c.toString()));
    child.once('exit', (code, signal) =>
      reject(new Error(`relay exited (${code ?? signal}) before listening:\n${log.join('')}`)),
    );
  });
}

/** Waits until the relay answers `/ready` with 200 (storage works), or fails with its log. */
async function waitUntilReady(child: ChildProcess, log: string[]): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new Error(`relay not ready within ${RELAY_START_LIMIT_MS} ms:\n${log.join('')}`)),
      RELAY_START_LIMIT_MS,
    );
  });
  const ready = (async () => {
    const port = await listeningPort(child, log);
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`relay exited during start-up:\n${log.join('')}`);
      const ok = await fetch(`http://127.0.0.1:${port}/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return port;
      await sleep(50);
    }
  })();
  try {
    return await Promise.race([ready, limit]);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((res) => child.once('exit', (code) => res(code)));
}

/** Starts a relay process and waits until it is ready. `env` overrides the defaults above. */
export async function startRelay(env: Record<string, string> = {}): Promise<RelayProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-relay-'));
  const dbPath = join(dir, 'relay.sqlite');
  const log: string[] = [];
  let child = launch(0, dbPath, env);
  let exited = exitOf(child);
  let port: number;
  try {
    port = await waitUntilReady(child, log);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return {
    url: `http://127.0.0.1:${port}`,
    ws: `ws://127.0.0.1:${port}`,
    port,
    dbPath,
    get process() {
      return child;
    },
    get exited() {
      return exited;
    },
    output: () => log.join(''),
    stop,
    async restart() {
      await stop();
      child = launch(port, dbPath, env);
      exited = exitOf(child);
      await waitUntilReady(child, log);
    },
    async dispose() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
