/** Headless clients for integration tests: real storage, real relay, `ws` for WebSockets. @module */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import {
  MemoryBackend,
  ParleyClient,
  Storage,
  type ClientEvents,
  type MessageRecord,
  type ParleyClientOptions,
  type WebSocketConstructor,
} from '@parley/client';
import { SqliteBackend } from '@parley/client/storage/sqlite.js';
import { generateAtRestKey } from '@parley/client/storage.js';

export const WS: WebSocketConstructor = WebSocket;

export interface ClientOptions extends Partial<ParleyClientOptions> {
  /** Use an encrypted SQLite file instead of memory. */
  sqlite?: boolean;
}

export async function newStorage(sqlite = false): Promise<Storage> {
  if (!sqlite) return new Storage(new MemoryBackend());
  const dir = mkdtempSync(join(tmpdir(), 'parley-client-'));
  return new Storage(new SqliteBackend(join(dir, 'client.sqlite')), {
    key: await generateAtRestKey(),
  });
}

export function clientOptions(
  relayUrl: string,
  storage: Storage,
  extra: Partial<ParleyClientOptions> = {},
): ParleyClientOptions {
  return {
    storage,
    relayUrl,
    WebSocket: WS,
    preKeyBatch: 5,
    kyberPreKeyBatch: 2,
    preKeyLowWater: 2,
    backoff: { initialMs: 50, maxMs: 500 },
    ...extra,
  };
}

/** A registered, started client. */
export async function registeredClient(
  relayUrl: string,
  username: string,
  options: ClientOptions = {},
): Promise<ParleyClient> {
  const storage = options.storage ?? (await newStorage(options.sqlite));
  const client = await ParleyClient.open(clientOptions(relayUrl, storage, options));
  await client.register(username);
  await client.start();
  return client;
}

/** Collects the text messages a client stores, for assertions. */
export function inbox(client: ParleyClient) {
  const messages: MessageRecord[] = [];
  client.on('message', (m) => messages.push(m));
  return {
    messages,
    texts: () => messages.map((m) => m.text),
    /** Resolves when `n` messages matching `pred` have arrived. */
    async waitFor(n: number, pred: (m: MessageRecord) => boolean = () => true) {
      for (;;) {
        const got = messages.filter(pred);
        if (got.length >= n) return got;
        await client.waitFor('message');
      }
    },
  };
}

/** Links a new device to `primary`'s account; returns the new, started client. */
export async function linkDevice(
  relayUrl: string,
  primary: ParleyClient,
  options: ClientOptions & { deviceName?: string } = {},
): Promise<ParleyClient> {
  const storage = options.storage ?? (await newStorage(options.sqlite));
  let approval: Promise<void> | undefined;
  const device = await ParleyClient.link(
    {
      ...clientOptions(relayUrl, storage, options),
      relayUrl,
      ...(options.deviceName ? { deviceName: options.deviceName } : {}),
    },
    (uri) => {
      approval = primary.approveLink(uri);
    },
  );
  await approval;
  await device.start();
  await device.announceToOwnDevices();
  return device;
}

/** Resolves once `check()` holds, re-checking after each `event` (no polling, no races). */
export async function until<K extends keyof ClientEvents>(
  client: ParleyClient,
  event: K,
  check: () => Promise<boolean>,
): Promise<void> {
  for (;;) {
    const next = client.waitFor(event);
    if (await check()) return;
    await next;
  }
}
