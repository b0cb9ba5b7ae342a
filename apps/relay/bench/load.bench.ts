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
 * Every configuration runs `BENCH_ROUNDS` times (default 3), the configurations interleaved and
 * their order alternating between rounds, so drift in machine load hits all alike. Ratios are per
 * round against the reference measured in that round (the bare forwarder; for the hot-receiver
 * cases the hot forwarder), reported as the median with min–max over rounds. Beside wall time the
 * bench prints CPU time: the relay processes' (from /proc) per delivered message, PostgreSQL's
 * (postmaster and backends) and Redis's beside it, and the load generator's own
 * (`process.cpuUsage`).
 *
 *   BENCH_DEVICES=200 BENCH_RATE=1000 BENCH_SECONDS=5 BENCH_ROUNDS=3 BENCH_IDLE=2000 pnpm bench:relay [--crypto]
 *
 * `--crypto` (or BENCH_CRYPTO=1) encrypts and authenticates every payload with AES-256-GCM and
 * decrypts it on receipt (symmetric per-message cost; not full Signal sessions).
 * `BENCH_CONFIGS=ceiling,sqlite,cluster,hot-ceiling,hot-sqlite` picks configurations; `BENCH_IDLE=0` skips the idle test.
 */
import { spawn } from 'node:child_process';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
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
const ROUNDS = Math.max(1, int('BENCH_ROUNDS', 3, 20));
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
  // BENCH_NODE_ARGS: extra node flags for the servers, e.g. "--cpu-prof --cpu-prof-dir=/tmp/p".
  const extra = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const args = [...extra, '--conditions=@parley/source', '--import', 'tsx', script];
  const child = spawn(process.execPath, args, {
    cwd: RELAY_DIR,
    env: {
      ...process.env,
      PORT: String(port),
      [ENV.host]: '127.0.0.1',
      [ENV.port]: String(port),
      [ENV.logLevel]: 'warn',
      [ENV.rateLimitGlobal]: UNLIMITED,
      [ENV.rateLimitRegistration]: UNLIMITED,
      // The generator's senders are far busier than people (the hot case: 1,000/s to one device).
      [ENV.rateLimitSendPair]: UNLIMITED,
      [ENV.rateLimitSendSender]: UNLIMITED,
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

/** CPU time (user + system) a process has used so far, in seconds (Linux /proc). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at ") ".
  const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
  return ticks / CLOCK_TICKS;
}
/** USER_HZ: 100 on every Linux this runs on. */
const CLOCK_TICKS = 100;

/**
 * CPU time (user + system) of a process and all its children so far, in seconds: for
 * PostgreSQL, the postmaster with its live backends, plus the children it already reaped
 * (cutime, cstime), so a backend that exits mid-run still counts. 0 once it is gone.
 */
function treeCpuSeconds(pid: number): number {
  const fieldsOf = (p: number | string) => {
    const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
  };
  let ticks = 0;
  try {
    const own = fieldsOf(pid);
    // utime, stime, cutime, cstime (fields 14–17)
    ticks += Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14]);
  } catch {
    return 0;
  }
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const fields = fieldsOf(entry);
      if (Number(fields[1]) === pid) ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // exited meanwhile
    }
  }
  return ticks / CLOCK_TICKS;
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
  /** Wall time of the measured part (sending, then draining), seconds. */
  wallS: number;
  /** CPU time of the server processes over the measured part, seconds. */
  serverCpuS: number;
  /** CPU time of the services they use (PostgreSQL with its backends, Redis), same part. */
  servicesCpuS: number;
  /** CPU time of this load generator over the measured part, seconds. */
  generatorCpuS: number;
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
async function load(
  config: string,
  nodes: Proc[],
  hot = false,
  /** Process ids of the services (each counted with its children). */
  services: readonly number[] = [],
): Promise<LoadResult> {
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
  const generatorCpu = process.cpuUsage();
  const serverCpu = nodes.reduce((sum, n) => sum + cpuSeconds(n.pid), 0);
  const servicesCpu = services.reduce((sum, pid) => sum + treeCpuSeconds(pid), 0);
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
  const wallS = (performance.now() - started) / 1000;
  const generatorUsage = process.cpuUsage(generatorCpu);
  const serverCpuS = nodes.reduce((sum, n) => sum + cpuSeconds(n.pid), 0) - serverCpu;
  const servicesCpuS = services.reduce((sum, pid) => sum + treeCpuSeconds(pid), 0) - servicesCpu;
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
    wallS,
    serverCpuS,
    servicesCpuS,
    generatorCpuS: (generatorUsage.user + generatorUsage.system) / 1e6,
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

interface Setup {
  name: string;
  /** The configuration this one's ratio is taken against (itself for a reference). */
  reference: string;
  nodes: Proc[];
  hot: boolean;
  /** Process ids of PostgreSQL (the postmaster) and Redis, for their CPU time. */
  services?: number[];
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

async function main(): Promise<void> {
  console.log(
    `relay load: ${DEVICES} devices, target ${RATE} msgs/s for ${SECONDS} s, ${CONTENT_BYTES}-byte payloads` +
      `${CRYPTO ? ' (AES-256-GCM per message)' : ''}, ${ROUNDS} rounds; loopback, ${process.platform}, ` +
      `Node ${process.version}`,
  );
  const cleanups: (() => Promise<void>)[] = [];
  const setups: Setup[] = [];
  const byRound = new Map<string, LoadResult[]>();
  try {
    const wants = (...names: string[]) => names.some((n) => CONFIGS.includes(n));
    const CEILING = 'ceiling (bare forwarder)';
    const HOT_CEILING = `hot receiver, ${HOT_SENDERS} senders: bare forwarder`;
    if (wants('ceiling', 'hot-ceiling', 'cluster', 'sqlite', 'hot-sqlite')) {
      // The reference is always measured: every ratio is against it, in the same round.
      const forwarder = await spawnServer('bench/forwarder.ts', {});
      cleanups.push(() => forwarder.stop());
      if (wants('ceiling', 'sqlite', 'cluster'))
        setups.push({ name: CEILING, reference: CEILING, nodes: [forwarder], hot: false });
      if (wants('hot-ceiling', 'hot-sqlite'))
        setups.push({ name: HOT_CEILING, reference: HOT_CEILING, nodes: [forwarder], hot: true });
    }
    if (wants('sqlite', 'hot-sqlite')) {
      const dir = mkdtempSync(join(tmpdir(), 'parley-bench-'));
      const relay = await spawnServer('src/server.ts', { [ENV.dbPath]: join(dir, 'relay.db') });
      cleanups.push(async () => {
        await relay.stop();
        rmSync(dir, { recursive: true, force: true });
      });
      if (wants('sqlite'))
        setups.push({
          name: 'relay, SQLite (1 node)',
          reference: CEILING,
          nodes: [relay],
          hot: false,
        });
      if (wants('hot-sqlite'))
        setups.push({
          name: `hot receiver, ${HOT_SENDERS} senders: relay, SQLite`,
          reference: HOT_CEILING,
          nodes: [relay],
          hot: true,
        });
    }
    if (wants('cluster')) {
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
      setups.push({
        name: 'relay, PostgreSQL + Redis (2 nodes)',
        reference: CEILING,
        nodes,
        hot: false,
        services: [postgres.pid(), redis.pid()],
      });
    }
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate the order, so a configuration is not always measured first or last.
      const order = round % 2 === 0 ? setups : [...setups].reverse();
      for (const setup of order) {
        const result = await load(setup.name, setup.nodes, setup.hot, setup.services);
        byRound.set(setup.name, [...(byRound.get(setup.name) ?? []), result]);
        console.log(
          `  round ${round + 1}: ${setup.name}: ${result.deliveredPerSecond}/s delivered, ` +
            `${result.errors} errors, relay CPU ${result.serverCpuS.toFixed(2)} s` +
            (setup.services ? `, PostgreSQL + Redis CPU ${result.servicesCpuS.toFixed(2)} s` : '') +
            ` in ${result.wallS.toFixed(1)} s`,
        );
      }
    }
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
  }

  const fixed = (n: number, digits = 2) => n.toFixed(digits);
  const rows = setups.map((setup) => {
    const runs = byRound.get(setup.name) ?? [];
    const refs = byRound.get(setup.reference) ?? [];
    const ratios = runs.map((r, i) => r.deliveredPerSecond / (refs[i]?.deliveredPerSecond || NaN));
    const delivered = runs.reduce((sum, r) => sum + r.delivered, 0);
    const cpuMsPerMessage = (r: LoadResult) =>
      r.delivered ? (r.serverCpuS * 1000) / r.delivered : 0;
    const servicesMsPerMessage = (r: LoadResult) =>
      r.delivered ? (r.servicesCpuS * 1000) / r.delivered : 0;
    return [
      setup.name,
      String(Math.round(median(runs.map((r) => r.deliveredPerSecond)))),
      `${fixed(median(ratios))}x (${fixed(Math.min(...ratios))}–${fixed(Math.max(...ratios))})`,
      String(median(runs.map((r) => r.latencyMs.p50))),
      String(median(runs.map((r) => r.latencyMs.p95))),
      String(median(runs.map((r) => r.latencyMs.p99))),
      `${runs.reduce((sum, r) => sum + r.errors, 0)}/${runs.reduce((sum, r) => sum + (r.errorKinds.lost ?? 0), 0)}`,
      fixed(median(runs.map(cpuMsPerMessage)), 3),
      setup.services ? fixed(median(runs.map(servicesMsPerMessage)), 3) : '-',
      `${fixed(median(runs.map((r) => r.serverCpuS)), 1)}/${fixed(median(runs.map((r) => r.wallS)), 1)}`,
      fixed(median(runs.map((r) => r.generatorCpuS)), 1),
      String(Math.round(median(runs.map((r) => r.rssMb)))),
      String(delivered),
    ];
  });
  const header = [
    'configuration',
    'delivered/s',
    'x reference (min–max)',
    'p50 ms',
    'p95 ms',
    'p99 ms',
    'errors/lost',
    'relay CPU ms/msg',
    'PG+Redis CPU ms/msg',
    'relay CPU/wall s',
    'gen CPU s',
    'RSS MB',
    'delivered',
  ];
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => (r[i] as string).length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number)))
      .join('  ');
  console.log(
    `medians over ${ROUNDS} rounds; ratios per round against the reference of that round`,
  );
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
      rounds: ROUNDS,
      crypto: CRYPTO,
      results: Object.fromEntries(byRound),
      idle: idleResult,
    }),
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
