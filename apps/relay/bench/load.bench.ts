/**
 * `pnpm bench:relay`: load on the relay with real WebSocket clients, three configurations side
 * by side, then an idle-connection test. Everything runs on loopback; servers are child processes.
 *
 *   (1) ceiling — a bare WebSocket forwarder with no storage (`forwarder.ts`)
 *   (2) sqlite  — one relay node on SQLite (WAL, synchronous=FULL)
 *   (3) pg+redis — two relay nodes on a throwaway PostgreSQL + Redis; clients spread over both
 *   (4) hot receiver — one device receiving from `BENCH_HOT_SENDERS` (32) senders, on the bare
 *       forwarder and on the SQLite relay (`hot-ceiling`, `hot-sqlite`)
 *
 * N devices each hold a delivery socket and ack what they get; the generator sends open-loop at
 * the target rate (HTTP `PUT /v1/messages/:accountId`, random sender → random other device,
 * through a random node) and measures send-start → envelope-received latency. Receivers ack in
 * batches (every envelope that arrived in one event-loop turn, `{type: 'ack', ids}`), as clients
 * should.
 *
 *   BENCH_DEVICES=200 BENCH_RATE=1000 BENCH_SECONDS=5 BENCH_IDLE=2000 pnpm bench:relay [--crypto]
 *
 * `--crypto` (or BENCH_CRYPTO=1) encrypts and authenticates every payload with AES-256-GCM and
 * decrypts it on receipt (symmetric per-message cost; not full Signal sessions).
 * `BENCH_CONFIGS=ceiling,sqlite,cluster,hot-ceiling,hot-sqlite` picks configurations; `BENCH_IDLE=0` skips the idle test.
 */
import { spawn } from 'node:child_process';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { basicAuthorization, WS_SUBPROTOCOL, type DeviceLogin } from '@parley/protocol';
import WebSocket from 'ws';
import { ENV } from '../src/config.ts';
import { freePort, startPostgres, startRedis } from '../test/services.ts';

const int = (name: string, fallback: number, max: number) =>
  Math.min(max, Math.max(0, Number(process.env[name] ?? fallback) || 0));
const DEVICES = Math.max(2, int('BENCH_DEVICES', 200, 5000));
const RATE = Math.max(1, int('BENCH_RATE', 1000, 100_000));
const SECONDS = Math.max(1, int('BENCH_SECONDS', 5, 120));
const IDLE = int('BENCH_IDLE', 2000, 5000);
const CONTENT_BYTES = int('BENCH_CONTENT_BYTES', 256, 16_384);
const CRYPTO = process.argv.includes('--crypto') || process.env.BENCH_CRYPTO === '1';
const CONFIGS = (
  process.env.BENCH_CONFIGS ?? 'ceiling,sqlite,cluster,hot-ceiling,hot-sqlite'
).split(',');
const HOT_SENDERS = Math.max(1, int('BENCH_HOT_SENDERS', 32, 1000));
/** Most ids in one ack frame (`MAX_ACK_IDS_PER_FRAME`). */
const ACK_BATCH = 100;
/** Sends in flight at once; beyond it a due send is skipped and counted as an error. */
const MAX_OUTSTANDING = 512;
const DRAIN_MS = 10_000;
const IDLE_TIME_LIMIT_MS = 180_000;

const RELAY_DIR = fileURLToPath(new URL('..', import.meta.url));
const UNLIMITED = '100000000/m';

interface Proc {
  pid: number;
  http: string;
  ws: string;
  stop(): Promise<void>;
}

async function spawnServer(script: string, env: Record<string, string>): Promise<Proc> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: RELAY_DIR,
    env: {
      ...process.env,
      PORT: String(port),
      [ENV.host]: '127.0.0.1',
      [ENV.port]: String(port),
      [ENV.logLevel]: 'warn',
      [ENV.rateLimitGlobal]: UNLIMITED,
      [ENV.rateLimitRegistration]: UNLIMITED,
      [ENV.queueCap]: '1000000',
      // Every client is on loopback: one IP holding every connection and sending every frame.
      [ENV.maxConnectionsPerIp]: '1000000',
      [ENV.socketFrameLimit]: UNLIMITED,
      [ENV.queueSenderShare]: '100',
      ...env,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const http = `http://127.0.0.1:${port}`;
  for (const deadline = Date.now() + 60_000; ;) {
    if (child.exitCode !== null) throw new Error(`${script} exited during start-up`);
    if (
      await fetch(`${http}/ready`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    if (Date.now() > deadline) throw new Error(`${script} did not start`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    pid: child.pid as number,
    http,
    ws: `ws://127.0.0.1:${port}`,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

interface Device extends DeviceLogin {
  registrationId: number;
  authorization: string;
}

async function registerDevice(http: string, i: number): Promise<Device> {
  const b64 = (n: number, prefix?: number) =>
    Buffer.concat([Buffer.from(prefix === undefined ? [] : [prefix]), randomBytes(n)]).toString(
      'base64',
    );
  const body = {
    username: `bench_${process.pid}_${i}_${randomBytes(3).toString('hex')}`,
    identityKey: b64(32, 0x05),
    registrationId: 1 + Math.floor(Math.random() * 16000),
    signedPreKey: { keyId: 1, publicKey: b64(32, 0x05), signature: b64(64) },
    pqLastResortPreKey: { keyId: 2, publicKey: b64(1568, 0x08), signature: b64(64) },
    preKeys: [],
    pqPreKeys: [],
  };
  const response = await fetch(`${http}/v1/accounts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (response.status !== 201) throw new Error(`register: ${response.status}`);
  const login = (await response.json()) as DeviceLogin;
  return {
    ...login,
    registrationId: body.registrationId,
    authorization: basicAuthorization(login),
  };
}

async function inBatches<T>(count: number, batch: number, fn: (i: number) => Promise<T>) {
  const out: T[] = [];
  for (let i = 0; i < count; i += batch) {
    out.push(
      ...(await Promise.all(
        Array.from({ length: Math.min(batch, count - i) }, (_, j) => fn(i + j)),
      )),
    );
  }
  return out;
}

function openSocket(
  wsBase: string,
  device: Device,
  onFrame?: (raw: string, ws: WebSocket) => void,
) {
  return new Promise<WebSocket>((resolve, reject) => {
    const ws = new WebSocket(`${wsBase}/v1/websocket`, [WS_SUBPROTOCOL], {
      headers: { authorization: device.authorization },
    });
    if (onFrame) ws.on('message', (data) => onFrame(data.toString(), ws));
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

// ---- payloads ---------------------------------------------------------------------------------

const KEY = randomBytes(32);
function seal(seq: number): string {
  const plain = Buffer.alloc(Math.max(8, CONTENT_BYTES));
  plain.writeUInt32BE(seq, 0);
  if (!CRYPTO) return plain.toString('base64');
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', KEY, iv);
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
}
function open(content: string): number {
  const bytes = Buffer.from(content, 'base64');
  if (!CRYPTO) return bytes.readUInt32BE(0);
  const decipher = createDecipheriv('aes-256-gcm', KEY, bytes.subarray(0, 12));
  decipher.setAuthTag(bytes.subarray(12, 28));
  const plain = Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]);
  return plain.readUInt32BE(0);
}

// ---- one configuration under load -------------------------------------------------------------

interface LoadResult {
  config: string;
  nodes: number;
  attempted: number;
  accepted: number;
  delivered: number;
  deliveredPerSecond: number;
  latencyMs: { p50: number; p95: number; p99: number };
  errors: number;
  /** Error counts by kind: HTTP status, `network`, `skipped` (client in-flight cap), `lost`. */
  errorKinds: Record<string, number>;
  rssMb: number;
}

/** Acks what arrived during this event-loop turn in one frame per socket. */
function batchedAcker(ws: WebSocket) {
  let pending: string[] = [];
  return (id: string) => {
    pending.push(id);
    if (pending.length > 1) return;
    setImmediate(() => {
      const ids = pending;
      pending = [];
      for (let i = 0; i < ids.length; i += ACK_BATCH) {
        ws.send(JSON.stringify({ type: 'ack', ids: ids.slice(i, i + ACK_BATCH) }));
      }
    });
  };
}

/** `hot`: every send goes to device 0, from one of the next `HOT_SENDERS` devices. */
async function load(config: string, nodes: Proc[], hot = false): Promise<LoadResult> {
  const devices = await inBatches(DEVICES, 20, (i) =>
    registerDevice((nodes[i % nodes.length] as Proc).http, i),
  );
  const sentAt = new Map<number, number>();
  const latencies: number[] = [];
  let delivered = 0;
  let lastDelivery = 0;
  const ackers = new Map<WebSocket, (id: string) => void>();
  const sockets = await inBatches(DEVICES, 50, (i) =>
    openSocket((nodes[i % nodes.length] as Proc).ws, devices[i] as Device, (raw, ws) => {
      const frame = JSON.parse(raw) as { type: string; envelope?: { id: string; content: string } };
      if (frame.type !== 'envelope' || !frame.envelope) return;
      let ack = ackers.get(ws);
      if (!ack) {
        ack = batchedAcker(ws);
        ackers.set(ws, ack);
      }
      ack(frame.envelope.id);
      const seq = open(frame.envelope.content);
      const start = sentAt.get(seq);
      if (start === undefined) return;
      sentAt.delete(seq);
      lastDelivery = performance.now();
      latencies.push(lastDelivery - start);
      delivered++;
    }),
  );

  let attempted = 0;
  let accepted = 0;
  let errors = 0;
  const errorKinds: Record<string, number> = {};
  const fail = (kind: string) => {
    errors++;
    errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
  };
  let outstanding = 0;
  let seq = 0;
  const send = async () => {
    const hotSenders = Math.min(HOT_SENDERS, devices.length - 1);
    const from = hot
      ? (devices[1 + Math.floor(Math.random() * hotSenders)] as Device)
      : (devices[Math.floor(Math.random() * devices.length)] as Device);
    let to = hot
      ? (devices[0] as Device)
      : (devices[Math.floor(Math.random() * devices.length)] as Device);
    if (to === from) to = devices[(devices.indexOf(from) + 1) % devices.length] as Device;
    const node = nodes[Math.floor(Math.random() * nodes.length)] as Proc;
    const id = ++seq;
    const content = seal(id);
    outstanding++;
    sentAt.set(id, performance.now());
    try {
      const response = await fetch(`${node.http}/v1/messages/${to.accountId}`, {
        method: 'PUT',
        headers: { authorization: from.authorization, 'content-type': 'application/json' },
        body: JSON.stringify({
          timestamp: Date.now(),
          messages: [
            {
              type: 'message',
              destinationDeviceId: 1,
              destinationRegistrationId: to.registrationId,
              content,
            },
          ],
        }),
      });
      await response.arrayBuffer();
      if (response.status === 200) accepted++;
      else {
        fail(String(response.status));
        sentAt.delete(id);
      }
    } catch {
      fail('network');
      sentAt.delete(id);
    } finally {
      outstanding--;
    }
  };

  // Warm-up (connections, JIT, caches), then the counters start from zero.
  await inBatches(Math.min(200, DEVICES * 2), 20, () => send());
  await new Promise((r) => setTimeout(r, 500));
  attempted = accepted = errors = delivered = 0;
  latencies.length = 0;
  sentAt.clear();
  for (const kind of Object.keys(errorKinds)) delete errorKinds[kind];

  const started = performance.now();
  const pending: Promise<void>[] = [];
  while (performance.now() - started < SECONDS * 1000) {
    const due = Math.floor(((performance.now() - started) / 1000) * RATE) - attempted;
    for (let i = 0; i < due; i++) {
      attempted++;
      if (outstanding >= MAX_OUTSTANDING) fail('skipped');
      else pending.push(send());
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  await Promise.all(pending);
  const drainUntil = performance.now() + DRAIN_MS;
  while (delivered < accepted && performance.now() < drainUntil) {
    await new Promise((r) => setTimeout(r, 10));
  }
  const rss = nodes.reduce((sum, n) => sum + rssMb(n.pid), 0);
  for (const ws of sockets) ws.close();
  latencies.sort((a, b) => a - b);
  const pct = (p: number) =>
    Math.round(
      (latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0) * 10,
    ) / 10;
  const elapsed = Math.max(SECONDS * 1000, lastDelivery - started) / 1000;
  return {
    config,
    nodes: nodes.length,
    attempted,
    accepted,
    delivered,
    deliveredPerSecond: Math.round(delivered / elapsed),
    latencyMs: { p50: pct(0.5), p95: pct(0.95), p99: pct(0.99) },
    // Refused or failed sends, sends skipped over the client's in-flight cap, and lost envelopes.
    errors: errors + (accepted - delivered),
    errorKinds: { ...errorKinds, ...(accepted > delivered ? { lost: accepted - delivered } : {}) },
    rssMb: Math.round(rss),
  };
}

// ---- idle connections -------------------------------------------------------------------------

async function idle(): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-idle-'));
  const node = await spawnServer('src/server.ts', { [ENV.dbPath]: join(dir, 'relay.db') });
  const deadline = Date.now() + IDLE_TIME_LIMIT_MS;
  try {
    const devices = await inBatches(IDLE, 50, (i) => registerDevice(node.http, i));
    await new Promise((r) => setTimeout(r, 500));
    const baseline = rssMb(node.pid);
    const sockets: WebSocket[] = [];
    let failed = 0;
    for (let i = 0; i < devices.length && Date.now() < deadline; i += 200) {
      const batch = await Promise.allSettled(
        devices.slice(i, i + 200).map((d) => openSocket(node.ws, d)),
      );
      for (const r of batch) {
        if (r.status === 'fulfilled') sockets.push(r.value);
        else failed++;
      }
    }
    await new Promise((r) => setTimeout(r, 1000));
    const open = sockets.filter((s) => s.readyState === WebSocket.OPEN).length;
    const rss = rssMb(node.pid);
    for (const s of sockets) s.terminate();
    return {
      requested: IDLE,
      open,
      failed,
      baselineRssMb: Math.round(baseline),
      rssMb: Math.round(rss),
      rssMbPer1000: open === 0 ? 0 : Math.round(((rss - baseline) / open) * 1000 * 10) / 10,
    };
  } finally {
    await node.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- main -------------------------------------------------------------------------------------

async function main(): Promise<void> {
  console.log(
    `relay load: ${DEVICES} devices, target ${RATE} msgs/s for ${SECONDS} s, ${CONTENT_BYTES}-byte payloads` +
      `${CRYPTO ? ' (AES-256-GCM per message)' : ''}; loopback, ${process.platform}, Node ${process.version}`,
  );
  const results: LoadResult[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  try {
    if (CONFIGS.includes('ceiling')) {
      const forwarder = await spawnServer('bench/forwarder.ts', {});
      cleanups.push(() => forwarder.stop());
      results.push(await load('ceiling (bare forwarder)', [forwarder]));
      await cleanups.pop()?.();
    }
    if (CONFIGS.includes('sqlite')) {
      const dir = mkdtempSync(join(tmpdir(), 'parley-bench-'));
      const relay = await spawnServer('src/server.ts', { [ENV.dbPath]: join(dir, 'relay.db') });
      cleanups.push(async () => {
        await relay.stop();
        rmSync(dir, { recursive: true, force: true });
      });
      results.push(await load('relay, SQLite (1 node)', [relay]));
      await cleanups.pop()?.();
    }
    if (CONFIGS.includes('cluster')) {
      const [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
      cleanups.push(async () => {
        await Promise.all([postgres.stop(), redis.stop()]);
      });
      const env = { [ENV.databaseUrl]: await postgres.createDatabase(), [ENV.redisUrl]: redis.url };
      const nodes = await Promise.all([
        spawnServer('src/server.ts', env),
        spawnServer('src/server.ts', env),
      ]);
      cleanups.push(async () => {
        await Promise.all(nodes.map((n) => n.stop()));
      });
      results.push(await load('relay, PostgreSQL + Redis (2 nodes)', nodes));
      await cleanups.pop()?.();
      await cleanups.pop()?.();
    }
    if (CONFIGS.includes('hot-ceiling')) {
      const forwarder = await spawnServer('bench/forwarder.ts', {});
      cleanups.push(() => forwarder.stop());
      results.push(
        await load(`hot receiver, ${HOT_SENDERS} senders: bare forwarder`, [forwarder], true),
      );
      await cleanups.pop()?.();
    }
    if (CONFIGS.includes('hot-sqlite')) {
      const dir = mkdtempSync(join(tmpdir(), 'parley-bench-'));
      const relay = await spawnServer('src/server.ts', { [ENV.dbPath]: join(dir, 'relay.db') });
      cleanups.push(async () => {
        await relay.stop();
        rmSync(dir, { recursive: true, force: true });
      });
      results.push(
        await load(`hot receiver, ${HOT_SENDERS} senders: relay, SQLite`, [relay], true),
      );
      await cleanups.pop()?.();
    }
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
  }

  const ceiling = results[0]?.deliveredPerSecond ?? 0;
  const rows = results.map((r) => [
    r.config,
    String(r.deliveredPerSecond),
    ceiling ? `${(r.deliveredPerSecond / ceiling).toFixed(2)}x` : '-',
    String(r.latencyMs.p50),
    String(r.latencyMs.p95),
    String(r.latencyMs.p99),
    String(r.errors),
    String(r.rssMb),
  ]);
  const header = [
    'configuration',
    'delivered/s',
    'vs first',
    'p50 ms',
    'p95 ms',
    'p99 ms',
    'errors',
    'RSS MB',
  ];
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => (r[i] as string).length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number)))
      .join('  ');
  console.log(line(header));
  for (const row of rows) console.log(line(row));

  let idleResult: Record<string, number> | undefined;
  if (IDLE > 0) {
    idleResult = await idle();
    console.log(
      `idle: ${idleResult.open}/${IDLE} authenticated WebSockets held by one node (SQLite), ` +
        `RSS ${idleResult.baselineRssMb} → ${idleResult.rssMb} MB, ${idleResult.rssMbPer1000} MB per 1,000`,
    );
  }
  console.log(
    JSON.stringify({
      bench: 'relay-load',
      devices: DEVICES,
      rate: RATE,
      seconds: SECONDS,
      crypto: CRYPTO,
      results,
      idle: idleResult,
    }),
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
