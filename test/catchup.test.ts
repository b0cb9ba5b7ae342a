/**
 * Catching up in batches against the real relay: a device that stored a batch but crashed before
 * its ack gets it again and stores nothing twice; a batch whose commit fails is acked never and
 * delivered again, and then lands once. Nothing is lost, nothing duplicated.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import {
  ParleyClient,
  Storage,
  type MessageRecord,
  type WebSocketConstructor,
} from '@parley/client';
import { SqliteBackend } from '@parley/client/storage/sqlite.js';
import { generateAtRestKey, type WriteOp } from '@parley/client/storage.js';
import { clientOptions, registeredClient } from './support/clients.ts';
import { useRelay } from './support/use-relay.ts';
import type { Envelope } from '@parley/protocol';

const { relay, clients } = useRelay<ParleyClient>();

/** A store on disk whose next batch of envelopes fails to commit (as if the process died). */
class FlakySqlite extends SqliteBackend {
  failNextCommit = false;
  override async commit(ops: WriteOp[]): Promise<void> {
    if (this.failNextCommit && ops.some((op) => op.store === 'processed')) {
      this.failNextCommit = false;
      throw new TypeError('simulated crash during the commit');
    }
    return super.commit(ops);
  }
}

/** The `ws` WebSocket, except that acks never leave (the process "dies" before sending them). */
class AckLosingWebSocket extends WebSocket {
  override send(data: unknown): void {
    if (typeof data === 'string' && data.includes('"ack"')) return;
    super.send(data as string);
  }
}

/** Starts a client on `storage` and records what it sees until it is stopped. */
async function online(storage: Storage, WS?: WebSocketConstructor) {
  const client = await ParleyClient.open(
    clientOptions(relay.url, storage, WS ? { WebSocket: WS } : {}),
  );
  clients.push(client);
  const envelopes: Envelope[] = [];
  const stored: MessageRecord[] = [];
  client.on('envelope', (e) => envelopes.push(e));
  client.on('message', (m) => stored.push(m));
  await client.start(); // resolves once the relay's backlog has been handled
  return { client, envelopes, stored };
}

const texts = async (client: ParleyClient, from: string) =>
  (await client.messages(`direct:${from}`)).filter((m) => m.direction === 'in').map((m) => m.text);

describe('catching up in batches', () => {
  it('a crash before the ack or inside the commit re-delivers; nothing is duplicated or lost', async () => {
    const alice = await registeredClient(relay.url, 'alice');
    clients.push(alice);
    const backend = new FlakySqlite(join(mkdtempSync(join(tmpdir(), 'parley-catchup-')), 'db'));
    const storage = new Storage(backend, { key: await generateAtRestKey() });
    const bob = await registeredClient(relay.url, 'bob', { storage });
    await bob.stop();

    const first = Array.from({ length: 30 }, (_, i) => `first ${i}`);
    for (const t of first) await alice.sendText(bob.accountId, t);

    // Online: everything is stored, but the acks never reach the relay.
    const a = await online(storage, AckLosingWebSocket as unknown as WebSocketConstructor);
    expect(a.stored.map((m) => m.text)).toEqual(first);
    await a.client.stop();

    // Online again, and the first commit fails: the relay delivers everything again (twice
    // over), dedupe drops it all, nothing is stored a second time.
    backend.failNextCommit = true;
    const b = await online(storage);
    expect(new Set(b.envelopes.map((e) => e.id))).toEqual(new Set(a.envelopes.map((e) => e.id)));
    expect(b.stored).toEqual([]);
    await b.client.stop();

    // New messages while offline, and again the first batch's commit fails: they land once.
    const second = Array.from({ length: 20 }, (_, i) => `second ${i}`);
    for (const t of second) await alice.sendText(bob.accountId, t);
    backend.failNextCommit = true;
    const c = await online(storage);
    expect(c.stored.map((m) => m.text)).toEqual(second);
    expect(c.envelopes.length).toBeGreaterThan(second.length); // the failed batch came again
    expect(await texts(c.client, alice.accountId)).toEqual([...first, ...second]);
    await c.client.stop();

    // Everything was acked: the relay has nothing left for Bob.
    const d = await online(storage);
    expect(d.envelopes).toEqual([]);
    expect(await texts(d.client, alice.accountId)).toEqual([...first, ...second]);
  });

  it('holds delivery receipts while catching up: a few per sender, none lost to a stop', async () => {
    const alice = await registeredClient(relay.url, 'rcpt_alice');
    clients.push(alice);
    const dir = mkdtempSync(join(tmpdir(), 'parley-receipts-'));
    const storage = new Storage(new SqliteBackend(join(dir, 'db')), {
      key: await generateAtRestKey(),
    });
    const bob = await registeredClient(relay.url, 'rcpt_bob', { storage });
    await bob.stop();
    const count = 600;
    const sent: string[] = [];
    for (let i = 0; i < count; i += 100) {
      const batch = await Promise.all(
        Array.from({ length: 100 }, (_, j) => alice.sendText(bob.accountId, `m${i + j}`)),
      );
      sent.push(...batch.map((m) => m.id));
    }
    const fromBob: Envelope[] = [];
    alice.on('envelope', (e) => {
      if (e.sourceAccountId === bob.accountId) fromBob.push(e);
    });

    // Bob comes online and is stopped part-way: what he stored has its receipts held, stored.
    const first = await ParleyClient.open(clientOptions(relay.url, storage));
    clients.push(first);
    let processed = 0;
    const partway = new Promise<void>((resolve) =>
      first.on('processed', () => {
        if (++processed === 100) resolve();
      }),
    );
    void first.start();
    await partway;
    await first.stop();
    const held = await storage.list<string[]>('meta', 'heldReceipts/');
    expect(held.flatMap(([, ids]) => ids).length).toBeGreaterThan(0);

    // Online again: the rest of the backlog, then every receipt, held ones included — sent
    // before stop() returns, even right after the drain.
    const second = await online(storage);
    await second.client.stop();
    const delivered = async () =>
      (await alice.messages(`direct:${bob.accountId}`)).filter((m) => m.status === 'delivered')
        .length === count;
    await expect.poll(delivered, { timeout: 120_000 }).toBe(true);
    expect(await storage.list('meta', 'heldReceipts/')).toEqual([]);
    // One receipt per 256 messages, not one per sender per batch of 50 (which made 12 or more).
    expect(fromBob.length).toBeLessThanOrEqual(Math.ceil(count / 256) + 1);
    expect((await second.client.messages(`direct:${alice.accountId}`)).length).toBe(count);
  });
});
