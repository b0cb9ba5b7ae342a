/**
 * A Redis store for @fastify/rate-limit that counts every check of one event-loop turn with one
 * script call. The plugin's own `RedisStore` runs one script per check, so a send (the global
 * per-IP limit, then the per-pair and per-sender limits) cost three, and Redis's CPU per script
 * call, not per counter, dominated.
 *
 * Semantics are the plugin's, unchanged: the same keys (`fastify-rate-limit-` plus the child's
 * route prefix), and the batch script applies the plugin's Lua to each key in arrival order —
 * INCR, set the expiry on the first hit (or per `continueExceeding` / `exponentialBackoff`),
 * answer the count and the remaining window — so a key checked twice in one batch counts twice,
 * exactly as two separate calls would. A script runs atomically, so counters stay exact across
 * nodes. If the call fails, every check in it gets the error (as each would have alone).
 *
 * The keys of one call may hash to different slots: this needs one Redis (or a primary with
 * replicas), not Redis Cluster — as the rest of the relay's Redis use does.
 * @module
 */
import type { FastifyRateLimitOptions, FastifyRateLimitStore } from '@fastify/rate-limit';
import type { Redis } from 'ioredis';

/** The plugin's per-key script (store/RedisStore.js), looped over the batch's keys. */
const BATCH_LUA = `
local MAX_SAFE_INTEGER = (2^53) - 1
local out = {}
for i = 1, #KEYS do
  local key = KEYS[i]
  local base = (i - 1) * 4
  local timeWindow = tonumber(ARGV[base + 1])
  local max = tonumber(ARGV[base + 2])
  local continueExceeding = ARGV[base + 3] == 'true'
  local exponentialBackoff = ARGV[base + 4] == 'true'
  local current = redis.call('INCR', key)
  if current == 1 or (continueExceeding and current > max) then
    redis.call('PEXPIRE', key, timeWindow)
  elseif exponentialBackoff and current > max then
    local backoffExponent = current - max - 1
    timeWindow = math.min(timeWindow * (2 ^ backoffExponent), MAX_SAFE_INTEGER)
    redis.call('PEXPIRE', key, timeWindow)
  else
    timeWindow = redis.call('PTTL', key)
  end
  out[2 * i - 1] = current
  out[2 * i] = timeWindow
end
return out
`;

const COMMAND = 'parleyRateLimitBatch';
/** Most checks in one script call (keeps each call short for Redis's single thread). */
const MAX_BATCH = 512;
/** The plugin's default key prefix (`nameSpace`), so counters are shared with older nodes. */
const KEY_PREFIX = 'fastify-rate-limit-';

/** What the plugin passes to a store's constructor and `child` (its merged options). */
interface StoreOptions {
  continueExceeding?: boolean;
  exponentialBackoff?: boolean;
  routeInfo?: { method?: string; url?: string };
}

type Callback = (error: Error | null, result?: { current: number; ttl: number }) => void;
type BatchCommand = (numKeys: number, ...args: (string | number)[]) => Promise<unknown>;

interface Check {
  key: string;
  timeWindow: number;
  max: number;
  continueExceeding: boolean;
  exponentialBackoff: boolean;
  callback: Callback;
}

/** Queues checks and sends each turn's as one script call. */
export class RateLimitBatcher {
  readonly #run: BatchCommand;
  #pending: Check[] = [];
  /** Script calls made (for tests). */
  calls = 0;

  constructor(redis: Redis) {
    const commands = redis as unknown as Record<string, BatchCommand | undefined>;
    if (commands[COMMAND] === undefined) redis.defineCommand(COMMAND, { lua: BATCH_LUA });
    const command = commands[COMMAND] as BatchCommand;
    this.#run = command.bind(redis);
  }

  add(check: Check): void {
    this.#pending.push(check);
    // setImmediate: after this turn's I/O callbacks, so the checks of every request that
    // arrived together go in one call.
    if (this.#pending.length === 1) setImmediate(() => this.#flush());
  }

  #flush(): void {
    const pending = this.#pending;
    this.#pending = [];
    for (let i = 0; i < pending.length; i += MAX_BATCH) {
      const batch = pending.slice(i, i + MAX_BATCH);
      const args: (string | number)[] = batch.map((c) => c.key);
      for (const c of batch) {
        args.push(c.timeWindow, c.max, String(c.continueExceeding), String(c.exponentialBackoff));
      }
      this.calls++;
      this.#run(batch.length, ...args).then(
        (reply) => {
          const values = reply as number[];
          batch.forEach((c, j) => {
            c.callback(null, {
              current: values[2 * j] as number,
              ttl: values[2 * j + 1] as number,
            });
          });
        },
        (err: unknown) => {
          const error = err instanceof Error ? err : new Error(String(err));
          for (const c of batch) c.callback(error);
        },
      );
    }
  }
}

/** One limit's store (the plugin makes a child per `createRateLimit`). */
class BatchedRedisStore implements FastifyRateLimitStore {
  constructor(
    readonly batcher: RateLimitBatcher,
    readonly continueExceeding: boolean,
    readonly exponentialBackoff: boolean,
    readonly prefix: string,
  ) {}

  incr(key: string, callback: Callback, timeWindow: number, max: number): void {
    this.batcher.add({
      key: this.prefix + key,
      timeWindow,
      max,
      continueExceeding: this.continueExceeding,
      exponentialBackoff: this.exponentialBackoff,
      callback,
    });
  }

  child(options: object): FastifyRateLimitStore {
    const routeOptions = options as StoreOptions;
    // As the plugin's RedisStore names a child's keys (`undefinedundefined` for createRateLimit).
    const info = routeOptions.routeInfo ?? {};
    return new BatchedRedisStore(
      this.batcher,
      routeOptions.continueExceeding === true,
      routeOptions.exponentialBackoff === true,
      `${this.prefix}${String(info.method)}${String(info.url)}-`,
    );
  }
}

/** The `store` option of @fastify/rate-limit: counters in `redis`, one script call per turn. */
export function batchedRedisStore(batcher: RateLimitBatcher) {
  return class extends BatchedRedisStore {
    constructor(options: FastifyRateLimitOptions) {
      const { continueExceeding, exponentialBackoff } = options as StoreOptions;
      super(batcher, continueExceeding === true, exponentialBackoff === true, KEY_PREFIX);
    }
  };
}
