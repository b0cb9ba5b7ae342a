/**
 * The catch-up bench's page (bundled by esbuild, run in headless Chromium by catchup-browser.ts):
 * the client core on IndexedDB, encrypted at rest with a fresh non-extractable key, loaded with
 * the device's state before the catch-up, then started against the relay holding its backlog.
 * Long tasks on the main thread are recorded with a PerformanceObserver ('longtask').
 *
 * The storage is the web app's (apps/web/src/model): IndexedDB behind its `NotifyingBackend`
 * (each commit announced to other tabs), transactions and the client serialised by Web Locks,
 * as several tabs of one profile need. `bare` (`BENCH_WEB_STACK=bare`) runs the client on
 * IndexedDB alone, with the in-process lock.
 * @module
 */
import type { Envelope } from '@parley/protocol';
import { ParleyClient } from '../../packages/client/src/client.ts';
import { decodeValue } from '../../packages/client/src/storage/codec.ts';
import { generateAtRestKey } from '../../packages/client/src/storage/at-rest.ts';
import { IndexedDbBackend } from '../../packages/client/src/storage/indexeddb.ts';
import { MemoryBackend } from '../../packages/client/src/storage/memory.ts';
import { Storage } from '../../packages/client/src/storage/storage.ts';
import type { StoreName } from '../../packages/client/src/storage/types.ts';
import { fromBase64 } from '../../packages/client/src/util/bytes.ts';
import { WebLocksKeyedLock } from '../../packages/client/src/web-locks.ts';
import { NotifyingBackend } from '../../apps/web/src/model/notifying-backend.ts';
import { decryptAll, loadStores } from './raw-crypto.ts';

/** A stored row: store, key, and the value encoded by `codec.ts`, base64. */
export type Row = [StoreName, string, string];

export interface PageResult {
  ms: number;
  /** From drained to stopped: the held delivery receipts going out. */
  tailMs: number;
  processed: number;
  longTasks: number[];
}

async function fill(storage: Storage, rows: Row[]): Promise<void> {
  await storage.transaction(async (tx) => {
    for (const [store, key, value] of rows)
      await tx.put(store, key, decodeValue(fromBase64(value)));
  });
}

let storage: Storage | undefined;
let lock: WebLocksKeyedLock | undefined;

/** A fresh IndexedDB database, encrypted at rest, holding the device's state (`rows`). */
async function prepare(rows: Row[], dbName: string, bare = false): Promise<void> {
  const key = await generateAtRestKey();
  const db = await IndexedDbBackend.open(dbName);
  if (bare) {
    lock = undefined;
    storage = new Storage(db, { key });
  } else {
    // As the app does (client-model.ts): commits announced, at most one post per 20 ms.
    const channel = new BroadcastChannel(`parley:${dbName}`);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const committed = () => {
      timer ??= setTimeout(() => {
        timer = undefined;
        channel.postMessage({ type: 'changed' });
      }, 20);
    };
    lock = new WebLocksKeyedLock(`parley:${dbName}:`);
    storage = new Storage(new NotifyingBackend(db, committed), { key, lock });
  }
  await fill(storage, rows);
}

async function catchUp(relayUrl: string): Promise<PageResult> {
  if (!storage) throw new TypeError('prepare() first');
  const client = await ParleyClient.open({ storage, relayUrl, ...(lock ? { lock } : {}) });
  let processed = 0;
  client.on('processed', () => processed++);
  const longTasks: number[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) longTasks.push(entry.duration);
  });
  observer.observe({ type: 'longtask' });
  const t0 = performance.now();
  await client.start(); // resolves once the backlog was decrypted, stored and acked
  const ms = performance.now() - t0;
  const t1 = performance.now();
  await client.stop(); // the held delivery receipts go out before it returns
  const tailMs = performance.now() - t1;
  // Long tasks are reported asynchronously: one more turn so the last ones arrive.
  await new Promise((r) => setTimeout(r, 50));
  observer.disconnect();
  await storage.close();
  return { ms, tailMs, processed, longTasks };
}

async function rawCrypto(rows: Row[], envelopes: Envelope[]): Promise<number> {
  const storage = new Storage(new MemoryBackend());
  await fill(storage, rows);
  const stores = await loadStores(storage);
  const t0 = performance.now();
  await decryptAll(stores, envelopes);
  return performance.now() - t0;
}

declare global {
  interface Window {
    prepare: typeof prepare;
    catchUp: typeof catchUp;
    rawCrypto: typeof rawCrypto;
  }
}
window.prepare = prepare;
window.catchUp = catchUp;
window.rawCrypto = rawCrypto;
