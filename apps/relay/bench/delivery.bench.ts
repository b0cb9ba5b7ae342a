/**
 * Sustained delivery throughput: N sender/receiver pairs on loopback. The relay runs as its own
 * process (`src/server.ts`, as in production) so clients and server do not share a CPU. Each
 * sender keeps a few sends in flight over HTTP (`PUT /v1/messages/:accountId`); each receiver
 * holds a real WebSocket and acks every envelope as it arrives. Storage is the real SQLite file
 * (WAL, synchronous=FULL): every counted envelope was durably stored, pushed and deleted on ack.
 *
 *   pnpm --filter @parley/relay bench            # 8 pairs, 5 s
 *   BENCH_PAIRS=16 BENCH_SECONDS=3 pnpm --filter @parley/relay bench
 *
 * Prints one JSON line at the end so a later comparison can parse it.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  basicAuthorization,
  parseServerFrame,
  WS_SUBPROTOCOL,
  type DeviceLogin,
} from '@parley/protocol';
import WebSocket from 'ws';
import { ENV } from '../src/config.ts';

const PAIRS = Number(process.env.BENCH_PAIRS ?? 8);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const IN_FLIGHT_PER_SENDER = Number(process.env.BENCH_IN_FLIGHT ?? 4);
const CONTENT_BYTES = Number(process.env.BENCH_CONTENT_BYTES ?? 512);
const DRAIN_TIMEOUT_MS = 10_000;

const b64 = (n: number, prefix?: number) =>
  Buffer.concat([Buffer.from(prefix === undefined ? [] : [prefix]), randomBytes(n)]).toString(
    'base64',
  );

function registrationBody(username: string) {
  return {
    username,
    identityKey: b64(32, 0x05),
    registrationId: 1 + Math.floor(Math.random() * 16000),
    signedPreKey: { keyId: 1, publicKey: b64(32, 0x05), signature: b64(64) },
    pqLastResortPreKey: { keyId: 2, publicKey: b64(1568, 0x08), signature: b64(64) },
    preKeys: [],
    pqPreKeys: [],
  };
}

interface Device extends DeviceLogin {
  registrationId: number;
}

/** A free loopback port (the relay then binds it; a race here only fails the bench). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-relay-bench-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const unlimited = '100000000/m';
  const serverPath = fileURLToPath(new URL('../src/server.ts', import.meta.url));
  const relay = spawn(process.execPath, ['--import', 'tsx', serverPath], {
    env: {
      ...process.env,
      [ENV.host]: '127.0.0.1',
      [ENV.port]: String(port),
      [ENV.dbPath]: join(dir, 'relay.db'),
      [ENV.logLevel]: 'warn',
      [ENV.rateLimitGlobal]: unlimited,
      [ENV.rateLimitRegistration]: unlimited,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => relay.once('exit', resolve));
  try {
    for (let ready = false; !ready;) {
      if (relay.exitCode !== null) throw new Error('relay exited during start-up');
      ready = await fetch(`${base}/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (!ready) await new Promise((r) => setTimeout(r, 100));
    }
    const register = async (username: string): Promise<Device> => {
      const body = registrationBody(username);
      const response = await fetch(`${base}/v1/accounts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (response.status !== 201)
        throw new Error(`register: ${response.status} ${await response.text()}`);
      return { ...((await response.json()) as DeviceLogin), registrationId: body.registrationId };
    };
    const pairs = await Promise.all(
      Array.from({ length: PAIRS }, async (_, i) => ({
        sender: await register(`bench_sender_${i}`),
        receiver: await register(`bench_receiver_${i}`),
      })),
    );

    let delivered = 0;
    let sent = 0;
    const latencies: number[] = [];
    const sockets = await Promise.all(
      pairs.map(
        ({ receiver }) =>
          new Promise<WebSocket>((resolve, reject) => {
            const ws = new WebSocket(
              `${base.replace(/^http/, 'ws')}/v1/websocket`,
              [WS_SUBPROTOCOL],
              {
                headers: { authorization: basicAuthorization(receiver) },
              },
            );
            ws.on('message', (data) => {
              const parsed = parseServerFrame(data.toString());
              if (!parsed.ok) throw new Error(parsed.error);
              if (parsed.frame.type !== 'envelope') return;
              delivered++;
              latencies.push(Date.now() - parsed.frame.envelope.timestamp);
              ws.send(JSON.stringify({ type: 'ack', id: parsed.frame.envelope.id }));
            });
            ws.once('open', () => resolve(ws));
            ws.once('error', reject);
          }),
      ),
    );

    const content = randomBytes(CONTENT_BYTES).toString('base64');
    const started = Date.now();
    const deadline = started + SECONDS * 1000;
    const senderLoop = async ({ sender, receiver }: (typeof pairs)[number]) => {
      const headers = {
        authorization: basicAuthorization(sender),
        'content-type': 'application/json',
      };
      while (Date.now() < deadline) {
        const response = await fetch(`${base}/v1/messages/${receiver.accountId}`, {
          method: 'PUT',
          headers,
          body: JSON.stringify({
            timestamp: Date.now(),
            messages: [
              {
                type: 'message',
                destinationDeviceId: 1,
                destinationRegistrationId: receiver.registrationId,
                content,
              },
            ],
          }),
        });
        await response.arrayBuffer();
        if (response.status !== 200) throw new Error(`send: ${response.status}`);
        sent++;
      }
    };
    await Promise.all(
      pairs.flatMap((pair) => Array.from({ length: IN_FLIGHT_PER_SENDER }, () => senderLoop(pair))),
    );
    const sendingMs = Date.now() - started;
    const drainDeadline = Date.now() + DRAIN_TIMEOUT_MS;
    while (delivered < sent && Date.now() < drainDeadline)
      await new Promise((r) => setTimeout(r, 10));
    const elapsedMs = Date.now() - started;

    latencies.sort((a, b) => a - b);
    const percentile = (p: number) =>
      latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0;
    const result = {
      pairs: PAIRS,
      inFlightPerSender: IN_FLIGHT_PER_SENDER,
      contentBytes: CONTENT_BYTES,
      sendingSeconds: +(sendingMs / 1000).toFixed(2),
      sent,
      delivered,
      deliveredPerSecond: Math.round(delivered / (elapsedMs / 1000)),
      latencyMs: { p50: percentile(0.5), p99: percentile(0.99), max: latencies.at(-1) ?? 0 },
    };
    console.log(
      `${PAIRS} pairs, ${result.sendingSeconds} s: sent ${sent}, delivered+acked ${delivered} ` +
        `→ ${result.deliveredPerSecond} envelopes/s (latency p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms)`,
    );
    console.log(JSON.stringify({ bench: 'relay-delivery', ...result }));
    for (const ws of sockets) ws.close();
    if (delivered < sent) throw new Error(`only ${delivered} of ${sent} envelopes were delivered`);
  } finally {
    relay.kill('SIGTERM'); // graceful shutdown: finishes in-flight writes, closes the database
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
