/**
 * The new abuse limits and idempotent sends on two relay nodes sharing PostgreSQL and Redis: the
 * counters are shared through Redis, and a send retried through another node is stored once.
 */
import { randomBytes } from 'node:crypto';
import type { Envelope } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '../src/config.ts';
import { sendBody, type TestDevice } from './helpers.ts';
import { mustRegister, startNode, type RelayNode } from './nodes.ts';
import { startPostgres, startRedis, type PostgresServer, type RedisServer } from './services.ts';

let postgres: PostgresServer;
let redis: RedisServer;
let a: RelayNode;
let b: RelayNode;

beforeAll(async () => {
  [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
  const env = {
    [ENV.databaseUrl]: await postgres.createDatabase(),
    [ENV.redisUrl]: `${redis.url}/9`,
    [ENV.rateLimitGlobal]: '100000/m',
    [ENV.rateLimitRegistration]: '100000/m',
    [ENV.rateLimitBundlePair]: '2/m',
    [ENV.rateLimitBundleTarget]: '1000/m',
    [ENV.rateLimitUsernameChange]: '2/m',
  };
  [a, b] = await Promise.all([startNode(env), startNode(env)]);
}, 120_000);
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await Promise.all([postgres?.stop(), redis?.stop()]);
});

const get = (node: RelayNode, path: string, by: TestDevice) =>
  fetch(`${node.http}${path}`, { headers: by.headers }).then(async (r) => {
    await r.arrayBuffer();
    return r.status;
  });

describe('abuse limits across nodes (Redis)', () => {
  it('the per-pair bundle limit holds across nodes; others still fetch the target', async () => {
    const [target, abuser, friend] = [
      await mustRegister(a.http),
      await mustRegister(a.http),
      await mustRegister(b.http),
    ];
    const path = `/v1/keys/${target.accountId}/*`;
    expect(await get(a, path, abuser)).toBe(200);
    expect(await get(b, path, abuser)).toBe(200);
    expect(await get(a, path, abuser)).toBe(429);
    expect(await get(b, path, abuser)).toBe(429);
    expect(await get(b, path, friend)).toBe(200);
  });

  it('the username change limit holds across nodes', async () => {
    const prober = await mustRegister(a.http);
    const change = async (node: RelayNode, username: string) => {
      const response = await fetch(`${node.http}/v1/accounts/me/username`, {
        method: 'PUT',
        headers: { ...prober.headers, 'content-type': 'application/json' },
        body: JSON.stringify({ username }),
      });
      await response.arrayBuffer();
      return response.status;
    };
    const name = () => `n_${randomBytes(6).toString('hex')}`;
    expect(await change(a, name())).toBe(200);
    expect(await change(b, name())).toBe(200);
    expect(await change(a, name())).toBe(429);
    expect(await change(b, name())).toBe(429);
  });
});

describe('idempotent sends across nodes (PostgreSQL)', () => {
  it('a retry through another node gets the first answer and stores nothing', async () => {
    const alice = await mustRegister(a.http);
    const bob = await mustRegister(b.http);
    const body = JSON.stringify({
      ...sendBody([bob]),
      sendId: randomBytes(16).toString('base64url'),
    });
    const put = async (node: RelayNode) => {
      const response = await fetch(`${node.http}/v1/messages/${bob.accountId}`, {
        method: 'PUT',
        headers: { ...alice.headers, 'content-type': 'application/json' },
        body,
      });
      return { status: response.status, body: (await response.json()) as unknown };
    };
    // Concurrently through both nodes, then once more: one stored send, one answer.
    const answers = [...(await Promise.all([put(a), put(b)])), await put(a)];
    for (const answer of answers) expect(answer).toEqual(answers[0]);
    expect(answers[0]?.status).toBe(200);
    const response = await fetch(`${b.http}/v1/messages`, { headers: bob.headers });
    const { envelopes } = (await response.json()) as { envelopes: Envelope[] };
    expect(envelopes).toHaveLength(1);
  });
});
