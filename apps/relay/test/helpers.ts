/**
 * Test helpers: a relay on a temp-dir SQLite file with captured logs, key material of the right
 * sizes (random bytes: the relay cannot tell), registration, and a WebSocket client that
 * collects frames.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import {
  authSubprotocol,
  basicAuthorization,
  parseServerFrame,
  WS_SUBPROTOCOL,
  type DeviceLogin,
  type KyberPreKey,
  type PreKey,
  type RegisterRequest,
  type ServerFrame,
  type SignedPreKey,
} from '@parley/protocol';
import type { FastifyInstance } from 'fastify';
import WebSocket from 'ws';
import { buildApp } from '../src/app.ts';
import type { Clock } from '../src/clock.ts';
import { defaultConfig, type RelayConfig } from '../src/config.ts';

export const DAY = 86_400_000;

/** A clock tests move by hand. */
export class FakeClock implements Clock {
  constructor(public current = Date.UTC(2026, 0, 15, 12)) {}
  now(): number {
    return this.current;
  }
  advance(ms: number): void {
    this.current += ms;
  }
}

/** Collects everything the relay logs. */
export class LogCapture extends Writable {
  readonly chunks: string[] = [];
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.chunks.push(chunk.toString('utf8'));
    done();
  }
  text(): string {
    return this.chunks.join('');
  }
  records(): Record<string, unknown>[] {
    return this.text()
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }
}

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

/** Generous limits so only tests about limits hit them. */
export function testConfig(dir: string, overrides: DeepPartial<RelayConfig> = {}): RelayConfig {
  const base = defaultConfig();
  const generous = { max: 100_000, windowMs: 60_000 };
  return {
    ...base,
    dbPath: join(dir, 'relay.db'),
    logLevel: 'info',
    ...overrides,
    rateLimits: {
      global: generous,
      registration: generous,
      linking: generous,
      bundlePerPair: generous,
      bundlePerRequester: generous,
      bundlePerTarget: generous,
      usernameLookup: generous,
      usernameChange: generous,
      sendPerPair: generous,
      sendPerSender: generous,
      sealedPerIp: generous,
      sealedPerRecipient: generous,
      ...overrides.rateLimits,
    },
  } as RelayConfig;
}

export interface TestRelay {
  app: FastifyInstance;
  config: RelayConfig;
  clock: FakeClock;
  logs: LogCapture;
  dir: string;
  /** Closes the app (and its store). */
  close(): Promise<void>;
  /** Closes the app and removes the temp dir. */
  destroy(): Promise<void>;
}

export async function startRelay(
  options: {
    overrides?: DeepPartial<RelayConfig>;
    dir?: string;
    clock?: FakeClock;
    logs?: LogCapture;
  } = {},
): Promise<TestRelay> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'parley-relay-'));
  const config = testConfig(dir, options.overrides);
  const clock = options.clock ?? new FakeClock();
  const logs = options.logs ?? new LogCapture();
  const app = await buildApp(config, { clock, logStream: logs });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await app.close();
  };
  return {
    app,
    config,
    clock,
    logs,
    dir,
    close,
    destroy: async () => {
      await close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Listens on an ephemeral loopback port; returns the base URLs. */
export async function listen(app: FastifyInstance): Promise<{ http: string; ws: string }> {
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  return { http: address, ws: address.replace(/^http/, 'ws') };
}

// ---- key material ----------------------------------------------------------------------------

const b64 = (bytes: Buffer) => bytes.toString('base64');
export const ecPublicKey = () => b64(Buffer.concat([Buffer.from([0x05]), randomBytes(32)]));
export const kyberPublicKey = () => b64(Buffer.concat([Buffer.from([0x08]), randomBytes(1568)]));
export const signature = () => b64(randomBytes(64));

export const preKeys = (count: number, firstId = 1): PreKey[] =>
  Array.from({ length: count }, (_, i) => ({ keyId: firstId + i, publicKey: ecPublicKey() }));
export const kyberPreKeys = (count: number, firstId = 1): KyberPreKey[] =>
  Array.from({ length: count }, (_, i) => ({
    keyId: firstId + i,
    publicKey: kyberPublicKey(),
    signature: signature(),
  }));
export const signedPreKey = (keyId = 1): SignedPreKey => ({
  keyId,
  publicKey: ecPublicKey(),
  signature: signature(),
});

let registrationCounter = 1;

export function deviceKeys(options: { preKeys?: number; pqPreKeys?: number } = {}) {
  return {
    registrationId: (registrationCounter++ % 16000) + 1,
    signedPreKey: signedPreKey(1),
    pqLastResortPreKey: kyberPreKeys(1, 1000)[0] as KyberPreKey,
    preKeys: preKeys(options.preKeys ?? 5),
    pqPreKeys: kyberPreKeys(options.pqPreKeys ?? 2),
  };
}

export function registration(
  username: string,
  options: { preKeys?: number; pqPreKeys?: number } = {},
): RegisterRequest {
  return { username, identityKey: ecPublicKey(), ...deviceKeys(options) };
}

export interface TestDevice extends DeviceLogin {
  registrationId: number;
  headers: { authorization: string };
}

let usernameCounter = 0;
export const uniqueUsername = (prefix = 'user') => `${prefix}_${process.pid}_${++usernameCounter}`;

/** Registers an account; returns its device 1. */
export async function register(
  app: FastifyInstance,
  options: { username?: string; preKeys?: number; pqPreKeys?: number } = {},
): Promise<TestDevice> {
  const body = registration(options.username ?? uniqueUsername(), options);
  const response = await app.inject({ method: 'POST', url: '/v1/accounts', payload: body });
  if (response.statusCode !== 201)
    throw new Error(`register failed: ${response.statusCode} ${response.body}`);
  const { accountId, deviceId, credential } = response.json<{
    accountId: string;
    deviceId: number;
    credential: string;
  }>();
  return asDevice({ accountId, deviceId, credential }, body.registrationId);
}

/** The Authorization header for an arbitrary (possibly wrong) login. */
export const basicAuthorizationFor = (login: DeviceLogin) => basicAuthorization(login);

export function asDevice(login: DeviceLogin, registrationId: number): TestDevice {
  return { ...login, registrationId, headers: { authorization: basicAuthorization(login) } };
}

/** Links a second device to `primary`'s account through the HTTP linking flow. */
export async function link(app: FastifyInstance, primary: TestDevice): Promise<TestDevice> {
  const codeResponse = await app.inject({
    method: 'POST',
    url: '/v1/devices/linking-code',
    headers: primary.headers,
  });
  const { code } = codeResponse.json<{ code: string }>();
  const keys = deviceKeys();
  const response = await app.inject({
    method: 'POST',
    url: '/v1/devices/link',
    payload: { linkingCode: code, ...keys },
  });
  if (response.statusCode !== 201)
    throw new Error(`link failed: ${response.statusCode} ${response.body}`);
  const login = response.json<DeviceLogin>();
  return asDevice(login, keys.registrationId);
}

/** A send body addressing `devices` with `content` (base64). */
export function sendBody(
  devices: readonly TestDevice[],
  content = b64(randomBytes(48)),
  timestamp = 1_700_000_000_000,
) {
  return {
    timestamp,
    messages: devices.map((d) => ({
      type: 'message' as const,
      destinationDeviceId: d.deviceId,
      destinationRegistrationId: d.registrationId,
      content,
    })),
  };
}

export async function send(
  app: FastifyInstance,
  from: TestDevice,
  to: readonly TestDevice[],
  content?: string,
) {
  const accountId = to[0]?.accountId;
  const response = await app.inject({
    method: 'PUT',
    url: `/v1/messages/${accountId}`,
    headers: from.headers,
    payload: sendBody(to, content),
  });
  if (response.statusCode !== 200)
    throw new Error(`send failed: ${response.statusCode} ${response.body}`);
  return response.json<{ serverTimestamp: number; stored: number }>();
}

// ---- WebSocket client ------------------------------------------------------------------------

/** A ws client that validates and queues every frame, with awaitable reads. */
export class TestSocket {
  readonly frames: ServerFrame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly #waiters: (() => void)[] = [];

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const parsed = parseServerFrame(data.toString());
      if (!parsed.ok) throw new Error(`relay sent an invalid frame: ${parsed.error}`);
      this.frames.push(parsed.frame);
      this.#waiters.splice(0).forEach((wake) => wake());
    });
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        resolve({ code, reason: reason.toString() });
        this.#waiters.splice(0).forEach((wake) => wake());
      });
    });
  }

  /** Resolves once `count` frames matching `predicate` have arrived (from the start). */
  async waitFor(
    predicate: (f: ServerFrame) => boolean,
    count = 1,
    timeoutMs = 30_000,
  ): Promise<ServerFrame[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const matching = this.frames.filter(predicate);
      if (matching.length >= count) return matching;
      if (this.ws.readyState === WebSocket.CLOSED) {
        throw new Error(`socket closed with ${matching.length}/${count} frames`);
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`timed out with ${matching.length}/${count} frames`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  envelopes() {
    return this.frames.flatMap((f) => (f.type === 'envelope' ? [f.envelope] : []));
  }

  ack(id: string): void {
    this.ws.send(JSON.stringify({ type: 'ack', id }));
  }

  close(): Promise<{ code: number; reason: string }> {
    this.ws.close();
    return this.closed;
  }
}

/** Opens the delivery socket for `device`; `auth: 'subprotocol'` authenticates like a browser. */
export function connect(
  wsBase: string,
  device: DeviceLogin | undefined,
  options: { auth?: 'header' | 'subprotocol'; protocols?: string[] } = {},
): Promise<TestSocket> {
  const protocols = options.protocols ?? [WS_SUBPROTOCOL];
  const headers: Record<string, string> = {};
  if (device && options.auth !== 'subprotocol') headers.authorization = basicAuthorization(device);
  if (device && options.auth === 'subprotocol') protocols.push(authSubprotocol(device));
  const ws = new WebSocket(`${wsBase}/v1/websocket`, protocols, { headers });
  const socket = new TestSocket(ws);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(socket));
    ws.once('unexpected-response', (_req, res) =>
      reject(new Error(`upgrade refused: ${res.statusCode}`)),
    );
    ws.once('error', reject);
  });
}
