/**
 * The batched Redis rate-limit store (`src/plugins/rate-limit-store.ts`): every check of one
 * event-loop turn goes to Redis as one script call, and each check gets the answer it would
 * have got alone (counts in arrival order, the window's remaining time, the plugin's keys).
 */
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchedRedisStore, RateLimitBatcher } from '../src/plugins/rate-limit-store.ts';
import { startRedis, type RedisServer } from './services.ts';

let server: RedisServer;
let redis: Redis;
let batcher: RateLimitBatcher;
let app: FastifyInstance;

beforeAll(async () => {
  server = await startRedis();
  redis = new Redis(server.url, { enableAutoPipelining: true });
  batcher = new RateLimitBatcher(redis);
  app = Fastify();
  await app.register(rateLimit, { global: false, store: batchedRedisStore(batcher) });
  await app.ready();
}, 120_000);
afterAll(async () => {
  await app?.close();
  redis?.disconnect();
  await server?.stop();
});

/** A limit keyed by the `key` property of a fake request. */
function limiter(max: number, timeWindow: number) {
  const check = app.createRateLimit({
    max,
    timeWindow,
    keyGenerator: (request) => (request as unknown as { key: string }).key,
  });
  return (key: string) =>
    check({ key, routeOptions: { config: {} } } as unknown as Parameters<typeof check>[0]);
}

describe('batched Redis rate-limit store', () => {
  it('counts the checks of one turn in one script call, in arrival order', async () => {
    const limit = limiter(3, 60_000);
    const before = batcher.calls;
    const results = await Promise.all(
      ['a', 'a', 'b', 'a', 'a', 'b'].map((key) => limit(`order-${key}`)),
    );
    expect(batcher.calls - before).toBe(1);
    expect(results.map((r) => (r.isAllowed ? -1 : r.remaining))).toEqual([2, 1, 2, 0, 0, 1]);
    expect(results.map((r) => !r.isAllowed && r.isExceeded)).toEqual([
      false,
      false,
      false,
      false,
      true,
      false,
    ]);
    for (const r of results) {
      if (r.isAllowed) throw new Error('no allow-list here');
      expect(r.ttl).toBeGreaterThan(0);
      expect(r.ttl).toBeLessThanOrEqual(60_000);
      expect(r.ttlInSeconds).toBe(Math.ceil(r.ttl / 1000));
    }
  });

  it('checks of later turns keep counting against the same window', async () => {
    const limit = limiter(2, 60_000);
    const first = await limit('later');
    const second = await limit('later');
    const third = await limit('later');
    expect([first, second, third].map((r) => !r.isAllowed && r.isExceeded)).toEqual([
      false,
      false,
      true,
    ]);
    // A new window starts once the key expires (Redis's PEXPIRE, as the plugin's store).
    await redis.del('fastify-rate-limit-undefinedundefined-later');
    const fresh = await limit('later');
    expect(!fresh.isAllowed && fresh.isExceeded).toBe(false);
    expect(fresh.isAllowed ? 0 : fresh.remaining).toBe(1);
  });

  it("uses the plugin's Redis keys, with expiry", async () => {
    await limiter(5, 60_000)('named');
    const key = 'fastify-rate-limit-undefinedundefined-named';
    expect(await redis.get(key)).toBe('1');
    const ttl = await redis.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('a turn with more checks than one call takes is split, every answer still exact', async () => {
    const limit = limiter(10_000, 60_000);
    const before = batcher.calls;
    const results = await Promise.all(Array.from({ length: 1200 }, () => limit('many')));
    expect(batcher.calls - before).toBe(3);
    const remaining = results.map((r) => (r.isAllowed ? -1 : r.remaining)).sort((a, b) => b - a);
    expect(remaining).toEqual(Array.from({ length: 1200 }, (_, i) => 10_000 - 1 - i));
  });
});
