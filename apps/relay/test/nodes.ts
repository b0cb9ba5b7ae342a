/**
 * Relay nodes as real child processes (`src/server.ts`, as in production) on loopback, plus
 * small HTTP helpers to drive them with `fetch`.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { DeviceLogin } from '@parley/protocol';
import { ENV } from '../src/config.ts';
import { asDevice, registration, sendBody, uniqueUsername, type TestDevice } from './helpers.ts';
import { freePort } from './services.ts';

const SERVER = fileURLToPath(new URL('../src/server.ts', import.meta.url));
/** tsx resolves from the relay package (the test runner's cwd is the repository root). */
const RELAY_DIR = fileURLToPath(new URL('..', import.meta.url));

export interface RelayNode {
  http: string;
  ws: string;
  process: ChildProcess;
  exited: Promise<number | null>;
  /** SIGTERM (graceful) unless told otherwise; resolves once the process is gone. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export async function startNode(env: Record<string, string>): Promise<RelayNode> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ['--conditions=@parley/source', '--import', 'tsx', SERVER],
    {
      env: {
        ...process.env,
        [ENV.host]: '127.0.0.1',
        [ENV.port]: String(port),
        [ENV.logLevel]: 'warn',
        ...env,
      },
      cwd: RELAY_DIR,
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const http = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`relay node exited during start-up`);
    const ready = await fetch(`${http}/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('relay node did not become ready');
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    http,
    ws: `ws://127.0.0.1:${port}`,
    process: child,
    exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

export async function registerOver(http: string): Promise<{ status: number; device?: TestDevice }> {
  const body = registration(uniqueUsername('node'));
  const response = await fetch(`${http}/v1/accounts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (response.status !== 201) return { status: response.status };
  const login = (await response.json()) as DeviceLogin;
  return { status: 201, device: asDevice(login, body.registrationId) };
}

export async function mustRegister(http: string): Promise<TestDevice> {
  const { status, device } = await registerOver(http);
  if (!device) throw new Error(`register failed: ${status}`);
  return device;
}

/** Sends `content` to `to`'s devices through the node at `http`; the HTTP status (0: no answer). */
export async function sendOver(
  http: string,
  from: TestDevice,
  to: readonly TestDevice[],
  content: string,
): Promise<number> {
  try {
    const response = await fetch(`${http}/v1/messages/${to[0]?.accountId}`, {
      method: 'PUT',
      headers: { ...from.headers, 'content-type': 'application/json' },
      body: JSON.stringify(sendBody(to, content)),
    });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 0;
  }
}
