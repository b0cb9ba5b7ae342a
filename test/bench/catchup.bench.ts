/**
 * `pnpm --filter @parley/client bench` (test/bench/catchup.bench.ts) (part of `pnpm bench`): how fast a device catches up, and
 * what steady chat costs the clients, against a real relay process (SQLite, loopback).
 *
 * Catch-up: a device comes online to `BENCH_MESSAGES` (10,000) queued messages from 20 contacts
 * (1:1) and 5 groups (sender keys; a quarter of the messages). The backlog is generated once; the
 * relay's database and the device's store (SQLite, encrypted at rest) are copied, and every round
 * starts from a fresh copy. A round measures from `start()` until the backlog is decrypted, stored
 * and acked (`start()` resolves at the relay's `queue_empty`, which the socket passes on only after
 * every earlier batch was committed and acked): wall time, messages/s, and the process's CPU time
 * (`process.cpuUsage`) per message. In the same round, the raw crypto cost of the same envelopes
 * is measured: @parley/crypto's ciphers on its in-memory reference stores, loaded with the same
 * keys, sessions and sender keys (no client, no storage). Ratios are per round; the summary is
 * the median with min–max over rounds.
 *
 * Steady chat: two clients (SQLite, encrypted at rest) take turns sending `BENCH_CHAT` (200)
 * texts, each waiting for the other's; CPU per message covers sending it, receiving it, and the
 * delivery receipt both ways. Beside it, in the same round, the raw crypto of the same traffic
 * (`raw-chat.ts`: text + receipt, sealed sender, ratchet turning, no client); `BENCH_CHAT_ROUNDS`
 * (3) rounds.
 *
 * `BENCH_ONLY=chat|catchup` runs one half; `BENCH_BACKEND=node|auto|noble` picks the curve
 * backend of the Node halves (default `node`, @parley/crypto-node, what the CLI runs; raw crypto
 * runs on the same one); `BENCH_SYNC=NORMAL` the client stores' SQLite `synchronous` (default
 * `FULL`, the client's default); `BENCH_FETCH=global` the relay HTTP client on Node's `fetch`
 * (default: `nodeFetch`, node:http).
 *
 *   BENCH_MESSAGES=10000 BENCH_ROUNDS=3 BENCH_CHAT=200 BENCH_PROFILE=/tmp/catchup.cpuprofile \
 *     pnpm --filter @parley/client bench
 *
 * `BENCH_PROFILE` writes a V8 CPU profile of the first round's catch-up (inspector, in-process),
 * `BENCH_CHAT_PROFILE` one of the steady chat; `BENCH_COUNT=1` prints the steady chat's storage
 * reads, commits, rows and bytes written and HTTP requests per message; `BENCH_ROW_CACHE=off`
 * runs the client stores without the row cache.
 * @module
 */
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import type { Envelope } from '@parley/protocol';
import { startRelay, type RelayProcess } from '../support/relay.ts';
import {
  ParleyClient,
  Storage,
  type ParleyClientOptions,
} from '../../packages/client/src/index.ts';
import { importAtRestKey } from '../../packages/client/src/storage/at-rest.ts';
import { MemoryBackend } from '../../packages/client/src/storage/memory.ts';
import { SqliteBackend } from '../../packages/client/src/storage/sqlite.ts';
import { nodeFetch } from '../../packages/client/src/relay/node-fetch.ts';
import type { WebSocketConstructor } from '../../packages/client/src/relay/index.ts';
import { decryptAll, loadStores } from './raw-crypto.ts';
import { rawChatCrypto } from './raw-chat.ts';
import { startBrowserBench, CHROMIUM, type BrowserRound } from './catchup-browser.ts';
import type { Row } from './catchup-page.ts';
import { decodeValue, encodeValue } from '../../packages/client/src/storage/codec.ts';
import type { StorageBackend, StorageValue } from '../../packages/client/src/storage/types.ts';
import { STORE_NAMES } from '../../packages/client/src/storage/types.ts';
import { fromBase64, toBase64 } from '../../packages/client/src/util/bytes.ts';
import { setCryptoBackend } from '../../packages/crypto/src/backend.ts';
import { nodeCryptoBackend } from '../../packages/crypto-node/src/index.ts';
import { Counts, countingBackend, countingFetch } from './counting.ts';

const int = (name: string, fallback: number) =>
  Math.max(1, Number(process.env[name] ?? fallback) || fallback);
const MESSAGES = int('BENCH_MESSAGES', 10_000);
const ROUNDS = int('BENCH_ROUNDS', 3);
/** `BENCH_BROWSER_ROUNDS`: Chromium rounds (default: as many as `BENCH_ROUNDS`). */
const BROWSER_ROUNDS = int('BENCH_BROWSER_ROUNDS', ROUNDS);
const CHAT = int('BENCH_CHAT', 200);
const CHAT_ROUNDS = int('BENCH_CHAT_ROUNDS', 3);
const CONTACTS = 20;
const GROUPS = 5;
const PROFILE = process.env.BENCH_PROFILE;
const CHAT_PROFILE = process.env.BENCH_CHAT_PROFILE;
/** `BENCH_ONLY=chat` or `catchup`: run one half (default both). */
const ONLY = process.env.BENCH_ONLY;
/**
 * `BENCH_BACKEND`: the curve backend of the Node halves: `node` (default, @parley/crypto-node,
 * what the CLI runs), `auto` (WebCrypto in Node) or `noble`. Raw crypto runs on the same one.
 */
const BACKEND = process.env.BENCH_BACKEND ?? 'node';
if (BACKEND === 'node') setCryptoBackend(nodeCryptoBackend);
else if (BACKEND === 'noble' || BACKEND === 'webcrypto') setCryptoBackend(BACKEND);
/** `BENCH_SYNC=NORMAL`: the client stores' SQLite `synchronous` (default `FULL`, the client's). */
const SYNCHRONOUS = process.env.BENCH_SYNC === 'NORMAL' ? 'NORMAL' : 'FULL';
/** `BENCH_FETCH=global`: the relay HTTP client on Node's `fetch` instead of `nodeFetch`. */
const FETCH = process.env.BENCH_FETCH === 'global' ? 'global' : 'node';
/** `BENCH_COUNT=1`: the steady chat also prints storage and HTTP operations per message. */
const COUNT = process.env.BENCH_COUNT === '1';
/** `BENCH_ROW_CACHE=off`: client stores without the row cache (storage/row-cache.ts), for A/B. */
const ROW_CACHE = process.env.BENCH_ROW_CACHE !== 'off';
const WS = WebSocket as unknown as WebSocketConstructor;
const RELAY_ENV = { PARLEY_RELAY_QUEUE_CAP: '1000000' };

const work = mkdtempSync(join(tmpdir(), 'parley-catchup-bench-'));
/**
 * `BENCH_SNAPSHOT=<dir>`: keep the generated backlog there and reuse it in later runs (to compare
 * client versions on the same messages, or skip the generation). Its at-rest key is kept with it.
 */
const SNAPSHOT_DIR = process.env.BENCH_SNAPSHOT;
const SNAPSHOT_FILE = SNAPSHOT_DIR && join(SNAPSHOT_DIR, 'snapshot.json');
interface Snapshot {
  relayDb: string;
  readerDb: string;
  port: number;
  messages: number;
  key: string;
}
const saved: Snapshot | undefined =
  SNAPSHOT_FILE && existsSync(SNAPSHOT_FILE)
    ? (JSON.parse(readFileSync(SNAPSHOT_FILE, 'utf8')) as Snapshot)
    : undefined;
const rawKey = saved ? Buffer.from(saved.key, 'base64') : randomBytes(32);
const atRestKey = await importAtRestKey(rawKey);

function options(relayUrl: string, storage: Storage): ParleyClientOptions {
  return {
    storage,
    relayUrl,
    WebSocket: WS,
    preKeyBatch: 100,
    kyberPreKeyBatch: 10,
    ...(FETCH === 'node' ? { fetch: nodeFetch } : {}),
  };
}

/** A client store's backend: SQLite, with `synchronous` as asked (and no row cache if asked). */
function sqliteBackend(path: string): StorageBackend {
  const backend = new SqliteBackend(path, { synchronous: SYNCHRONOUS });
  if (ROW_CACHE) return backend;
  // Without `dataVersion`, Storage keeps no rows between transactions.
  return {
    get: (store, key) => backend.get(store, key),
    list: (store, prefix) => backend.list(store, prefix),
    commit: (ops) => backend.commit(ops),
    close: () => backend.close(),
    sealer: (key) => backend.sealer(key),
  };
}

async function sqliteStorage(path: string): Promise<Storage> {
  return new Storage(sqliteBackend(path), { key: atRestKey });
}

function copyDb(from: string, to: string): void {
  for (const suffix of ['', '-wal', '-shm']) {
    if (existsSync(from + suffix)) copyFileSync(from + suffix, to + suffix);
  }
}

const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;
const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const fmt = (xs: number[], digits = 2) =>
  `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)})`;

/**
 * Points the device's stored account at `url`: every round's relay listens on a free port, so
 * two benches (or a bench beside the tests) can share a machine and a snapshot.
 */
async function repoint(readerDb: string, url: string): Promise<void> {
  const storage = await sqliteStorage(readerDb);
  const account = await storage.get<Record<string, unknown>>('meta', 'account');
  await storage.put('meta', 'account', { ...account, relayUrl: url });
  await storage.close();
}
function repointRows(rows: Row[], url: string): Row[] {
  return rows.map((row) => {
    if (row[0] !== 'meta' || row[1] !== 'account') return row;
    const account = decodeValue(fromBase64(row[2])) as Record<string, StorageValue>;
    return [row[0], row[1], toBase64(encodeValue({ ...account, relayUrl: url }))];
  });
}

// ---- the backlog ------------------------------------------------------------------------------

async function generate(): Promise<{ relayDb: string; readerDb: string; port: number }> {
  const relay = await startRelay(RELAY_ENV);
  const readerDb = join(work, 'reader.sqlite');
  const reader = await ParleyClient.open(options(relay.url, await sqliteStorage(readerDb)));
  await reader.register('reader');
  const senders: ParleyClient[] = [];
  for (let i = 0; i < CONTACTS; i++) {
    const c = await ParleyClient.open(options(relay.url, new Storage(new MemoryBackend())));
    await c.register(`contact${i}`);
    await c.start();
    senders.push(c);
  }
  const groups: Array<{ id: string; by: ParleyClient }> = [];
  for (let g = 0; g < GROUPS; g++) {
    const by = senders[g]!;
    const others = [1, 2, 3].map((k) => senders[(g + k) % CONTACTS]!.accountId);
    const group = await by.createGroup(`group ${g}`, [reader.accountId, ...others]);
    groups.push({ id: group.groupId, by });
  }
  // Three 1:1 messages for each group message; each sender sends its own share in order.
  const plan = new Map<ParleyClient, Array<() => Promise<unknown>>>();
  for (let i = 0; i < MESSAGES; i++) {
    const text = `message ${i} ${'x'.repeat(40 + (i % 60))}`;
    const [by, send] =
      i % 4 === 3
        ? (() => {
            const g = groups[(i >> 2) % GROUPS]!;
            return [g.by, () => g.by.sendGroupText(g.id, text)] as const;
          })()
        : (() => {
            const c = senders[i % CONTACTS]!;
            return [c, () => c.sendText(reader.accountId, text)] as const;
          })();
    (plan.get(by) ?? plan.set(by, []).get(by)!).push(send);
  }
  const t0 = performance.now();
  await Promise.all(
    [...plan.values()].map(async (sends) => {
      for (const send of sends) await send();
    }),
  );
  console.log(
    `backlog: ${MESSAGES} messages (${GROUPS} groups, ${CONTACTS} contacts) generated in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  for (const c of senders) await c.stop();
  await reader.storage.close();
  await relay.stop();
  const relayDb = join(work, 'relay.sqlite');
  copyDb(relay.dbPath, relayDb);
  const port = relay.port;
  await relay.dispose();
  return { relayDb, readerDb, port };
}

// ---- raw crypto: the same envelopes on @parley/crypto's reference stores ---------------------

async function rawCrypto(readerDb: string, envelopes: Envelope[]): Promise<number> {
  const storage = await sqliteStorage(readerDb);
  const stores = await loadStores(storage);
  await storage.close();
  const cpu0 = process.cpuUsage();
  const failures = await decryptAll(stores, envelopes);
  const ms = cpuMs(process.cpuUsage(cpu0));
  if (failures > 0) console.log(`  raw crypto: ${failures} envelopes failed to decrypt`);
  return ms;
}

// ---- one catch-up round ---------------------------------------------------------------------

interface Round {
  seconds: number;
  /** From drained to stopped: the held delivery receipts going out. */
  tailSeconds: number;
  perSecond: number;
  cpuPerMessage: number;
  cryptoPerMessage: number;
  heapMb: number;
}

async function round(
  n: number,
  snapshot: { relayDb: string; readerDb: string; port: number },
  capture: Envelope[] | undefined,
): Promise<Round> {
  const dir = mkdtempSync(join(work, `round${n}-`));
  const relayDb = join(dir, 'relay.sqlite');
  const readerDb = join(dir, 'reader.sqlite');
  copyDb(snapshot.relayDb, relayDb);
  copyDb(snapshot.readerDb, readerDb);
  const rawDb = join(dir, 'raw.sqlite');
  copyDb(snapshot.readerDb, rawDb);
  const relay: RelayProcess = await startRelay({
    ...RELAY_ENV,
    PARLEY_RELAY_DB_PATH: relayDb,
  });
  await repoint(readerDb, relay.url);
  const client = await ParleyClient.open(options(relay.url, await sqliteStorage(readerDb)));
  const seen = new Set<string>();
  let stored = 0;
  client.on('envelope', (e) => {
    if (capture && !seen.has(e.id)) capture.push(e);
    seen.add(e.id);
  });
  client.on('processed', () => stored++);
  let heap = 0;
  const sampler = setInterval(() => (heap = Math.max(heap, process.memoryUsage().heapUsed)), 100);
  const profiler = PROFILE && n === 1 ? new Session() : undefined;
  if (profiler) {
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.start');
  }
  global.gc?.();
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  await client.start();
  const seconds = (performance.now() - t0) / 1000;
  // What the catch-up still owes once drained (the delivery receipts held while it ran) is
  // sent by the time stop() returns: its CPU counts, and its wall time is reported apart.
  const t1 = performance.now();
  await client.stop();
  const tailSeconds = (performance.now() - t1) / 1000;
  const cpu = cpuMs(process.cpuUsage(cpu0));
  if (profiler) {
    const { profile } = await profiler.post('Profiler.stop');
    writeFileSync(PROFILE!, JSON.stringify(profile));
    profiler.disconnect();
  }
  clearInterval(sampler);
  await client.storage.close();
  await relay.dispose();
  if (seen.size < MESSAGES) console.log(`  round ${n}: only ${seen.size} envelopes arrived`);
  const count = seen.size;
  const crypto = await rawCrypto(rawDb, capture ?? lastCapture);
  rmSync(dir, { recursive: true, force: true });
  const r: Round = {
    seconds,
    tailSeconds,
    perSecond: count / seconds,
    cpuPerMessage: cpu / count,
    cryptoPerMessage: crypto / count,
    heapMb: heap / 2 ** 20,
  };
  console.log(
    `  round ${n}: ${count} envelopes (${stored} stored) in ${seconds.toFixed(2)} s (+ ${tailSeconds.toFixed(2)} s to send the receipts and stop), ${r.perSecond.toFixed(0)}/s; client CPU ${r.cpuPerMessage.toFixed(3)} ms/msg, raw crypto ${r.cryptoPerMessage.toFixed(3)} ms/msg (${(r.cpuPerMessage / r.cryptoPerMessage).toFixed(1)}x); peak heap ${r.heapMb.toFixed(0)} MB`,
  );
  return r;
}
let lastCapture: Envelope[] = [];

// ---- Chromium --------------------------------------------------------------------------------

async function chromiumRounds(snapshot: { relayDb: string; readerDb: string; port: number }) {
  const bench = await startBrowserBench();
  if (!bench) {
    console.log(`\nChromium half skipped: no Chromium at ${CHROMIUM} (set CHROMIUM)`);
    return;
  }
  try {
    // The device's state before the catch-up, as rows for the page's IndexedDB.
    const copy = join(work, 'rows.sqlite');
    copyDb(snapshot.readerDb, copy);
    const storage = await sqliteStorage(copy);
    const rows: Row[] = [];
    for (const store of STORE_NAMES) {
      for (const [key, value] of await storage.list(store)) {
        rows.push([store, key, toBase64(encodeValue(value))]);
      }
    }
    await storage.close();
    const rounds: BrowserRound[] = [];
    for (let n = 1; n <= BROWSER_ROUNDS; n++) {
      const dir = mkdtempSync(join(work, `chromium${n}-`));
      const relayDb = join(dir, 'relay.sqlite');
      copyDb(snapshot.relayDb, relayDb);
      const relay = await startRelay({
        ...RELAY_ENV,
        PARLEY_RELAY_DB_PATH: relayDb,
        PARLEY_RELAY_CORS_ORIGINS: bench.origin,
      });
      try {
        const r = await bench.round(n, relay.url, repointRows(rows, relay.url), lastCapture);
        rounds.push(r);
        const over = r.longTasks.filter((d) => d > 200).length;
        console.log(
          `  round ${n}: ${r.processed} envelopes in ${r.seconds.toFixed(2)} s (+ ${r.tailSeconds.toFixed(2)} s receipts), ${(r.processed / r.seconds).toFixed(0)}/s; renderer busy ${r.busyMsPerMessage.toFixed(3)} ms/msg, raw crypto ${r.cryptoMsPerMessage.toFixed(3)} ms/msg (${(r.busyMsPerMessage / r.cryptoMsPerMessage).toFixed(1)}x); long tasks ${r.longTasks.length}, longest ${Math.max(0, ...r.longTasks).toFixed(0)} ms, ${over} over 200 ms`,
        );
      } finally {
        await relay.dispose();
        rmSync(dir, { recursive: true, force: true });
      }
    }
    console.log(
      `\ncatch-up, headless Chromium, IndexedDB encrypted at rest (${MESSAGES} messages, ${BROWSER_ROUNDS} rounds; median (min–max)):`,
    );
    console.log(`  time            ${fmt(rounds.map((r) => r.seconds))} s   (goal < 20 s)`);
    console.log(
      `  then receipts   ${fmt(rounds.map((r) => r.tailSeconds))} s   (held delivery receipts sent, client stopped; in renderer busy)`,
    );
    console.log(
      `  messages/s      ${fmt(
        rounds.map((r) => r.processed / r.seconds),
        0,
      )}`,
    );
    console.log(
      `  renderer busy   ${fmt(
        rounds.map((r) => r.busyMsPerMessage),
        3,
      )} ms/msg`,
    );
    console.log(
      `  raw crypto      ${fmt(
        rounds.map((r) => r.cryptoMsPerMessage),
        3,
      )} ms/msg`,
    );
    console.log(
      `  client/crypto   ${fmt(
        rounds.map((r) => r.busyMsPerMessage / r.cryptoMsPerMessage),
        1,
      )}x   (goal < 3x)`,
    );
    console.log(
      `  longest task    ${fmt(
        rounds.map((r) => Math.max(0, ...r.longTasks)),
        0,
      )} ms   (goal ≤ 200 ms); long tasks (> 50 ms) per round ${fmt(
        rounds.map((r) => r.longTasks.length),
        0,
      )}`,
    );
  } finally {
    await bench.close();
  }
}

// ---- steady chat ------------------------------------------------------------------------------

async function steadyChat(profile: boolean): Promise<number> {
  const relay = await startRelay(RELAY_ENV);
  const counts = new Counts();
  const open = async (name: string) => {
    const path = join(mkdtempSync(join(work, 'chat-')), `${name}.sqlite`);
    const backend = sqliteBackend(path);
    const storage = new Storage(COUNT ? countingBackend(backend, counts) : backend, {
      key: atRestKey,
    });
    const base = options(relay.url, storage);
    const fetch = base.fetch ?? globalThis.fetch;
    const c = await ParleyClient.open(
      COUNT ? { ...base, fetch: countingFetch(fetch, counts) } : base,
    );
    await c.register(name);
    await c.start();
    return c;
  };
  const a = await open('chat_a');
  const b = await open('chat_b');
  // Warm up: sessions exist both ways before measuring.
  const got = (c: ParleyClient) => c.waitFor('message');
  let next = got(b);
  await a.sendText(b.accountId, 'warm up');
  await next;
  next = got(a);
  await b.sendText(a.accountId, 'warm up');
  await next;
  await a.flushOutbox();
  await b.flushOutbox();
  const profiler = CHAT_PROFILE && profile ? new Session() : undefined;
  if (profiler) {
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.start');
  }
  const counted = counts.snapshot();
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < CHAT; i++) {
    const [from, to] = i % 2 === 0 ? [a, b] : [b, a];
    const arrived = got(to);
    await from.sendText(to.accountId, `chat ${i}`);
    await arrived;
  }
  await a.flushOutbox();
  await b.flushOutbox();
  const used = process.cpuUsage(cpu0);
  const perMessage = cpuMs(used) / CHAT;
  if (COUNT) console.log(`  per message (both clients): ${counts.since(counted, CHAT).join(', ')}`);
  console.log(
    `  steady chat: user ${(used.user / 1000 / CHAT).toFixed(2)} ms + system ${(used.system / 1000 / CHAT).toFixed(2)} ms per message`,
  );
  if (profiler) {
    const { profile } = await profiler.post('Profiler.stop');
    writeFileSync(CHAT_PROFILE!, JSON.stringify(profile));
    profiler.disconnect();
  }
  await a.stop();
  await b.stop();
  await relay.dispose();
  return perMessage;
}

// ---- main -------------------------------------------------------------------------------------

try {
  console.log(
    `curve backend (Node halves): ${BACKEND}; SQLite synchronous = ${SYNCHRONOUS}; relay HTTP: ${FETCH === 'node' ? 'nodeFetch' : 'global fetch'}; row cache: ${ROW_CACHE ? 'on' : 'off'}`,
  );
  if (ONLY !== 'chat') await catchUp();
  if (ONLY !== 'catchup') {
    const chats: number[] = [];
    const raws: number[] = [];
    for (let n = 1; n <= CHAT_ROUNDS; n++) {
      chats.push(await steadyChat(n === 1));
      raws.push(await rawChatCrypto(CHAT));
      console.log(
        `  round ${n}: client ${chats.at(-1)!.toFixed(2)} ms/msg, raw crypto ${raws.at(-1)!.toFixed(2)} ms/msg (${(chats.at(-1)! / raws.at(-1)!).toFixed(1)}x)`,
      );
    }
    console.log(
      `\nsteady chat, SQLite encrypted at rest (${CHAT} messages, ${CHAT_ROUNDS} rounds; median (min–max)):`,
    );
    console.log(`  client CPU      ${fmt(chats)} ms per sent + received message (goal ≤ 2.5 ms)`);
    console.log(`  raw crypto      ${fmt(raws)} ms per message (text + receipt, sealed)`);
    console.log(
      `  client/crypto   ${fmt(
        chats.map((c, i) => c / raws[i]!),
        1,
      )}x`,
    );
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

async function catchUp(): Promise<void> {
  let snapshot: { relayDb: string; readerDb: string; port: number };
  if (saved) {
    if (saved.messages !== MESSAGES)
      throw new TypeError(`the snapshot holds ${saved.messages} messages`);
    console.log(`backlog: ${saved.messages} messages from ${SNAPSHOT_DIR}`);
    snapshot = saved;
  } else {
    snapshot = await generate();
    if (SNAPSHOT_DIR) {
      mkdirSync(SNAPSHOT_DIR, { recursive: true });
      const keep = {
        ...snapshot,
        relayDb: join(SNAPSHOT_DIR, 'relay.sqlite'),
        readerDb: join(SNAPSHOT_DIR, 'reader.sqlite'),
      };
      copyDb(snapshot.relayDb, keep.relayDb);
      copyDb(snapshot.readerDb, keep.readerDb);
      writeFileSync(
        SNAPSHOT_FILE!,
        JSON.stringify({ ...keep, messages: MESSAGES, key: rawKey.toString('base64') }),
      );
    }
  }
  const rounds: Round[] = [];
  for (let n = 1; n <= ROUNDS; n++) {
    const capture = n === 1 ? [] : undefined;
    rounds.push(await round(n, snapshot, capture));
    if (capture) lastCapture = capture;
  }
  console.log(
    `\ncatch-up, Node, SQLite encrypted at rest (${MESSAGES} messages, ${ROUNDS} rounds; median (min–max)):`,
  );
  console.log(`  time            ${fmt(rounds.map((r) => r.seconds))} s   (goal < 10 s)`);
  console.log(
    `  then receipts   ${fmt(rounds.map((r) => r.tailSeconds))} s   (held delivery receipts sent, client stopped; in the CPU figures)`,
  );
  console.log(
    `  messages/s      ${fmt(
      rounds.map((r) => r.perSecond),
      0,
    )}`,
  );
  console.log(
    `  client CPU      ${fmt(
      rounds.map((r) => r.cpuPerMessage),
      3,
    )} ms/msg`,
  );
  console.log(
    `  raw crypto      ${fmt(
      rounds.map((r) => r.cryptoPerMessage),
      3,
    )} ms/msg`,
  );
  console.log(
    `  client/crypto   ${fmt(
      rounds.map((r) => r.cpuPerMessage / r.cryptoPerMessage),
      1,
    )}x   (goal < 3x)`,
  );
  console.log(
    `  peak heap       ${fmt(
      rounds.map((r) => r.heapMb),
      0,
    )} MB`,
  );
  if (process.env.BENCH_CHROMIUM !== '0') await chromiumRounds(snapshot);
}
