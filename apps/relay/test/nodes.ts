/**
 * Relay nodes as real child processes (`src/server.ts`, as in production) on loopback, started
 * by the tests' one relay-spawn helper (@parley/e2e), plus small HTTP helpers to drive them with
 * `fetch`.
 * @module
 */
import type { DeviceLogin } from '@parley/protocol';
import { startRelay, type RelayProcess } from '@parley/e2e/relay.js';
import { asDevice, registration, sendBody, uniqueUsername, type TestDevice } from './helpers.ts';

export interface RelayNode extends RelayProcess {
  /** The node's HTTP base URL (the same as `url`). */
  http: string;
}

/** A node with `env` on top of the helper's defaults; resolves once it answers `/ready`. */
export async function startNode(env: Record<string, string>): Promise<RelayNode> {
  const relay = await startRelay(env);
  return Object.assign(relay, { http: relay.url });
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
