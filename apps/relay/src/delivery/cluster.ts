/**
 * What several relay nodes share through Redis (ioredis): delivery events for a device reach the
 * node that holds its socket, presence (`parley:presence:<account>.<device>` → node id), and the
 * rate-limit counters (`redis` for @fastify/rate-limit, see `plugins/security.ts`).
 *
 * Delivery uses one pub/sub channel per device, `parley:dev:<account>.<device>`: a node
 * subscribes while it holds the device's socket. Every event is published, even when the device
 * is connected locally (a newer socket may be opening on another node). Events carry no content —
 * only "look at your queue" (`notify`), "this envelope was acked over HTTP" (`forget`), "close"
 * (`disconnect`) and "a newer socket opened elsewhere" (`replaced`). The store stays the only
 * source of truth: a lost event delays a push until the next event or reconnection, it never
 * loses an envelope.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { FastifyBaseLogger } from 'fastify';
import type { DeviceChangeBus } from './device-directory.ts';

export type ClusterEvent =
  | { type: 'notify' }
  | { type: 'forget'; envelopeId: string }
  | { type: 'disconnect'; code: number; reason: string }
  /** A socket for the device opened at `since` (ms) on another node. */
  | { type: 'replaced'; since: number };

/** The hub's side of the cluster (see `DeliveryHub`). */
export interface ClusterFanout {
  readonly nodeId: string;
  /** Start receiving the device's events; resolves once subscribed. */
  attach(accountId: string, deviceId: number, since: number): Promise<void>;
  detach(accountId: string, deviceId: number): void;
  publish(accountId: string, deviceId: number, event: ClusterEvent): void;
  /** Called with events published by other nodes for devices attached here. */
  onEvent(
    handler: (accountId: string, deviceId: number, event: ClusterEvent, from: string) => void,
  ): void;
}

const CHANNEL_PREFIX = 'parley:dev:';
/** A waiting provisioning socket's address (the message body is the payload: it is E2E-encrypted). */
const PROVISIONING_PREFIX = 'parley:prov:';
const PRESENCE_PREFIX = 'parley:presence:';
/** Account ids whose device lists changed (device linked or removed, account deleted). */
const DEVICE_CHANGES = 'parley:device-changes';
const PRESENCE_TTL_S = 300;

const deviceKey = (accountId: string, deviceId: number) => `${accountId}.${deviceId}`;

export class RedisCluster implements ClusterFanout, DeviceChangeBus {
  readonly nodeId = randomUUID();
  /** Commands (publish, presence, rate limits). */
  readonly redis: Redis;
  /** Subscriptions only (a subscribed connection cannot run other commands). */
  readonly #sub: Redis;
  readonly #log: FastifyBaseLogger;
  readonly #attached = new Set<string>();
  readonly #provisioning = new Map<string, (body: string) => void>();
  #handler: (accountId: string, deviceId: number, event: ClusterEvent, from: string) => void = () =>
    undefined;
  readonly #presenceTimer: NodeJS.Timeout;
  #deviceChangeHandler: (accountId: string) => void = () => undefined;

  constructor(url: string, log: FastifyBaseLogger) {
    this.#log = log;
    const options = { lazyConnect: false, maxRetriesPerRequest: 3, enableAutoPipelining: true };
    this.redis = new Redis(url, options);
    this.#sub = new Redis(url, { ...options, enableAutoPipelining: false });
    for (const client of [this.redis, this.#sub]) {
      client.on('error', (err: unknown) => log.warn({ err }, 'redis error'));
    }
    this.#sub.on('message', (channel: string, message: string) =>
      this.#onMessage(channel, message),
    );
    // Presence keys expire unless refreshed, so a crashed node's entries vanish by themselves.
    this.#presenceTimer = setInterval(() => this.#refreshPresence(), (PRESENCE_TTL_S / 3) * 1000);
    this.#presenceTimer.unref();
  }

  /** Resolves once both connections are ready (throws if Redis cannot be reached). */
  async ready(): Promise<void> {
    await Promise.all([this.redis.ping(), this.#sub.ping()]);
    await this.#sub.subscribe(DEVICE_CHANGES);
  }

  publishDeviceChange(accountId: string): void {
    this.redis
      .publish(DEVICE_CHANGES, JSON.stringify({ from: this.nodeId, accountId }))
      .catch((err: unknown) => this.#log.warn({ err }, 'redis publish failed'));
  }

  onDeviceChange(handler: (accountId: string) => void): void {
    this.#deviceChangeHandler = handler;
  }

  onEvent(
    handler: (accountId: string, deviceId: number, event: ClusterEvent, from: string) => void,
  ): void {
    this.#handler = handler;
  }

  async attach(accountId: string, deviceId: number, since: number): Promise<void> {
    const key = deviceKey(accountId, deviceId);
    this.#attached.add(key);
    try {
      await this.#sub.subscribe(CHANNEL_PREFIX + key);
      await this.redis.set(PRESENCE_PREFIX + key, this.nodeId, 'EX', PRESENCE_TTL_S);
    } catch (err) {
      this.#log.warn({ err }, 'redis subscribe failed');
    }
    this.publish(accountId, deviceId, { type: 'replaced', since });
  }

  detach(accountId: string, deviceId: number): void {
    const key = deviceKey(accountId, deviceId);
    if (!this.#attached.delete(key)) return;
    this.#sub.unsubscribe(CHANNEL_PREFIX + key).catch(() => undefined);
    // Only our own presence entry: another node may hold the device now.
    this.redis
      .eval(
        "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0",
        1,
        PRESENCE_PREFIX + key,
        this.nodeId,
      )
      .catch(() => undefined);
  }

  publish(accountId: string, deviceId: number, event: ClusterEvent): void {
    const message = JSON.stringify({ from: this.nodeId, event });
    this.redis
      .publish(CHANNEL_PREFIX + deviceKey(accountId, deviceId), message)
      .catch((err: unknown) => this.#log.warn({ err }, 'redis publish failed'));
  }

  /** A provisioning socket waits here at `address`: deliveries from any node reach `onBody`. */
  async watchProvisioning(address: string, onBody: (body: string) => void): Promise<void> {
    this.#provisioning.set(address, onBody);
    await this.#sub.subscribe(PROVISIONING_PREFIX + address);
  }

  unwatchProvisioning(address: string): void {
    if (this.#provisioning.delete(address)) {
      this.#sub.unsubscribe(PROVISIONING_PREFIX + address).catch(() => undefined);
    }
  }

  /** Delivers to a provisioning socket on another node; false if no node has one there. */
  async deliverProvisioning(address: string, body: string): Promise<boolean> {
    return (await this.redis.publish(PROVISIONING_PREFIX + address, body)) > 0;
  }

  /** The node holding the device's socket, if any (presence). */
  async presence(accountId: string, deviceId: number): Promise<string | null> {
    return this.redis.get(PRESENCE_PREFIX + deviceKey(accountId, deviceId));
  }

  #onMessage(channel: string, message: string): void {
    if (channel === DEVICE_CHANGES) {
      try {
        const { from, accountId } = JSON.parse(message) as { from: string; accountId: string };
        if (from !== this.nodeId && typeof accountId === 'string')
          this.#deviceChangeHandler(accountId);
      } catch {
        // not ours
      }
      return;
    }
    if (channel.startsWith(PROVISIONING_PREFIX)) {
      this.#provisioning.get(channel.slice(PROVISIONING_PREFIX.length))?.(message);
      return;
    }
    if (!channel.startsWith(CHANNEL_PREFIX)) return;
    const key = channel.slice(CHANNEL_PREFIX.length);
    const dot = key.lastIndexOf('.');
    const accountId = key.slice(0, dot);
    const deviceId = Number(key.slice(dot + 1));
    let parsed: { from: string; event: ClusterEvent };
    try {
      parsed = JSON.parse(message) as { from: string; event: ClusterEvent };
    } catch {
      return;
    }
    if (parsed.from === this.nodeId) return;
    this.#handler(accountId, deviceId, parsed.event, parsed.from);
  }

  #refreshPresence(): void {
    if (this.#attached.size === 0) return;
    const pipeline = this.redis.pipeline();
    for (const key of this.#attached) {
      pipeline.set(PRESENCE_PREFIX + key, this.nodeId, 'EX', PRESENCE_TTL_S);
    }
    pipeline.exec().catch(() => undefined);
  }

  async close(): Promise<void> {
    clearInterval(this.#presenceTimer);
    this.#attached.clear(); // presence entries expire by themselves
    this.#sub.disconnect();
    await this.redis.quit().catch(() => undefined);
  }
}
