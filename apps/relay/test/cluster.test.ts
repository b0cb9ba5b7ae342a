/**
 * Several relay processes on one PostgreSQL + Redis: delivery across nodes at once, a newer
 * socket on another node replacing the old one, zero loss when a node is SIGKILLed mid-traffic,
 * and rate limits that hold across nodes.
 */
import { CloseCode, WS_SUBPROTOCOL, type Envelope } from '@parley/protocol';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '../src/config.ts';
import { connect, type TestDevice, type TestSocket } from './helpers.ts';
import { mustRegister, registerOver, sendOver, startNode, type RelayNode } from './nodes.ts';
import { RELAY_HOOK_LIMIT_MS } from '@parley/e2e/relay.js';
import { startPostgres, startRedis, type PostgresServer, type RedisServer } from './services.ts';

let postgres: PostgresServer;
let redis: RedisServer;
const nodes: RelayNode[] = [];
let redisDb = 0;
/** The Redis URL of the last `cluster()`. */
let clusterRedisUrl = '';

beforeAll(async () => {
  [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
}, RELAY_HOOK_LIMIT_MS);
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop('SIGKILL').then(() => n.dispose())));
  await Promise.all([postgres?.stop(), redis?.stop()]);
}, RELAY_HOOK_LIMIT_MS);

/** Waits until `condition()` holds, or `limitMs` passed (the assertion after it then fails). */
async function until(condition: () => boolean, limitMs: number): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!condition() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}

async function cluster(count: number, env: Record<string, string> = {}): Promise<RelayNode[]> {
  const common = {
    [ENV.databaseUrl]: await postgres.createDatabase(),
    // A Redis database of its own: rate-limit counters do not leak between tests.
    [ENV.redisUrl]: (clusterRedisUrl = `${redis.url}/${++redisDb}`),
    [ENV.rateLimitGlobal]: '100000/m',
    [ENV.rateLimitRegistration]: '100000/m',
    ...env,
  };
  // All start together on an empty database: exactly one migrates (advisory lock).
  const started = await Promise.all(Array.from({ length: count }, () => startNode(common)));
  nodes.push(...started);
  return started;
}

async function queued(http: string, device: TestDevice): Promise<Envelope[]> {
  const response = await fetch(`${http}/v1/messages`, { headers: device.headers });
  return ((await response.json()) as { envelopes: Envelope[] }).envelopes;
}

const text = (s: string) => Buffer.from(s).toString('base64');

// Each case starts its own nodes and drives traffic until a condition holds: limits for a busy machine.
describe('relay cluster (PostgreSQL + Redis, real processes)', { timeout: 600_000 }, () => {
  it('delivers at once across nodes; a newer socket on another node replaces the old one; linking works across nodes', async () => {
    const [a, b] = (await cluster(2)) as [RelayNode, RelayNode];
    const alice = await mustRegister(a.http);
    const bob = await mustRegister(b.http);
    const onA = await connect(a.ws, bob);
    await onA.waitFor((f) => f.type === 'queue_empty');
    // Sent through B, pushed by A without any reconnection.
    for (let i = 0; i < 5; i++)
      expect(await sendOver(b.http, alice, [bob], text(`m${i}`))).toBe(200);
    await onA.waitFor((f) => f.type === 'envelope', 5, 30_000);
    expect(onA.envelopes().map((e) => Buffer.from(e.content, 'base64').toString())).toEqual([
      'm0',
      'm1',
      'm2',
      'm3',
      'm4',
    ]);
    for (const e of onA.envelopes()) onA.ack(e.id);
    await expect.poll(async () => (await queued(b.http, bob)).length).toBe(0);

    // Bob opens a socket on B: A's socket is closed as replaced, B delivers from now on.
    const onB = await connect(b.ws, bob);
    expect((await onA.closed).code).toBe(CloseCode.Replaced);
    await onB.waitFor((f) => f.type === 'queue_empty');
    expect(await sendOver(a.http, alice, [bob], text('after'))).toBe(200);
    await onB.waitFor((f) => f.type === 'envelope', 1, 30_000);
    expect(onB.envelopes().map((e) => Buffer.from(e.content, 'base64').toString())).toEqual([
      'after',
    ]);
    // Presence: the device is held by one node while its socket is open, by none after.
    const presenceKey = `parley:presence:${bob.accountId}.${bob.deviceId}`;
    const client = new Redis(clusterRedisUrl);
    try {
      await expect.poll(() => client.get(presenceKey)).toMatch(/^[0-9a-f-]{36}$/);
      await onB.close();
      await expect.poll(() => client.get(presenceKey)).toBeNull();
    } finally {
      client.disconnect();
    }

    // Device linking across nodes: the new device waits on A, the primary delivers through B.
    const waiting = new WebSocket(`${a.ws}/v1/provisioning`, [WS_SUBPROTOCOL]);
    const frames: { type: string; address?: string; body?: string }[] = [];
    waiting.on('message', (data) => frames.push(JSON.parse(data.toString()) as (typeof frames)[0]));
    await expect.poll(() => frames.length).toBe(1);
    const address = frames[0]?.address as string;
    const body = text('sealed provisioning message');
    const delivered = await fetch(`${b.http}/v1/provisioning/${address}`, {
      method: 'PUT',
      headers: { ...alice.headers, 'content-type': 'application/json' },
      body: JSON.stringify({ body }),
    });
    expect(delivered.status).toBe(204);
    await expect.poll(() => frames[1]).toEqual({ type: 'provisioning_message', body });
    const nobody = await fetch(`${b.http}/v1/provisioning/${address}`, {
      method: 'PUT',
      headers: { ...alice.headers, 'content-type': 'application/json' },
      body: JSON.stringify({ body }),
    });
    expect(nobody.status).toBe(404);
  });

  it('a node killed with SIGKILL mid-traffic loses nothing that was accepted (200)', async () => {
    const [a, b] = (await cluster(2)) as [RelayNode, RelayNode];
    const senders = await Promise.all([mustRegister(a.http), mustRegister(b.http)]);
    const receivers = await Promise.all(Array.from({ length: 4 }, () => mustRegister(a.http)));
    const received = new Map<string, Set<string>>(receivers.map((r) => [r.accountId, new Set()]));
    const accepted = new Map<string, Set<string>>(receivers.map((r) => [r.accountId, new Set()]));

    // Each receiver stays connected: on losing its node it reconnects to the other one.
    let stopping = false;
    const live = new Set<TestSocket>();
    const hold = async (receiver: (typeof receivers)[number], urls: string[]) => {
      let attempt = 0;
      while (!stopping) {
        const url = urls[attempt++ % urls.length] as string;
        let socket: TestSocket;
        try {
          socket = await connect(url, receiver);
        } catch {
          await new Promise((r) => setTimeout(r, 50));
          continue;
        }
        live.add(socket);
        // Frames that came with the upgrade response arrived before this code ran: take them
        // first, then each new one (TestSocket's own listener runs first: it is the last frame).
        let seen = 0;
        const take = () => {
          for (const frame of socket.frames.slice(seen)) {
            if (frame.type !== 'envelope') continue;
            (received.get(receiver.accountId) as Set<string>).add(frame.envelope.content);
            socket.ack(frame.envelope.id);
          }
          seen = socket.frames.length;
        };
        take();
        socket.ws.on('message', take);
        await socket.closed;
        live.delete(socket);
      }
    };
    const holders = receivers.map((r) => hold(r, [a.ws, b.ws]));

    let n = 0;
    const pump = async (sender: (typeof senders)[number], urls: () => string[]) => {
      while (!stopping) {
        const receiver = receivers[n % receivers.length] as (typeof receivers)[number];
        const content = text(`msg-${n++}`);
        const url = urls()[n % urls().length] as string;
        const status = await sendOver(url, sender, [receiver], content);
        if (status === 200) (accepted.get(receiver.accountId) as Set<string>).add(content);
      }
    };
    let killed = false;
    const targets = () => (killed ? [b.http] : [a.http, b.http]);
    const pumps = [pump(senders[0], targets), pump(senders[1], targets), pump(senders[0], targets)];

    // Traffic runs until enough was accepted, however slow the machine: the kill lands
    // mid-traffic, and traffic goes on through B until it too has accepted messages.
    const acceptedCount = () => [...accepted.values()].reduce((sum, s) => sum + s.size, 0);
    await until(() => acceptedCount() > 50, 120_000);
    a.process.kill('SIGKILL');
    killed = true;
    await a.exited;
    const beforeKill = acceptedCount();
    await until(() => acceptedCount() >= beforeKill + 20, 120_000);
    stopping = true;
    await Promise.all(pumps);

    const total = acceptedCount();
    expect(total).toBeGreaterThan(50);
    // Everything accepted reaches its receiver (through B, after reconnecting).
    const missing = () =>
      [...accepted].flatMap(([id, set]) =>
        [...set].filter((c) => received.get(id)?.has(c) !== true),
      );
    await until(() => missing().length === 0, 120_000);
    expect({ missing: missing().length, of: total, live: live.size }).toEqual({
      missing: 0,
      of: total,
      live: receivers.length,
    });
    for (const socket of live) socket.ws.close();
    await Promise.all(holders);
  });

  it('rate limits hold across nodes (shared counters in Redis)', async () => {
    const [a, b] = (await cluster(2, { [ENV.rateLimitRegistration]: '3/h' })) as [
      RelayNode,
      RelayNode,
    ];
    expect((await registerOver(a.http)).status).toBe(201);
    expect((await registerOver(b.http)).status).toBe(201);
    expect((await registerOver(a.http)).status).toBe(201);
    // A fourth registration from the same IP is refused by either node.
    expect((await registerOver(b.http)).status).toBe(429);
    expect((await registerOver(a.http)).status).toBe(429);
  });
});
