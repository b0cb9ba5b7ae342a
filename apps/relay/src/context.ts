/**
 * What every route plugin can reach through `app.relay`, and the Fastify type augmentations
 * (decorators) the relay adds.
 * @module
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from './clock.ts';
import type { RateLimit, RelayConfig } from './config.ts';
import type { RedisCluster } from './delivery/cluster.ts';
import type { DeliveryHub } from './delivery/hub.ts';
import type { DeviceDirectory } from './delivery/device-directory.ts';
import type { Keepalive } from './delivery/keepalive.ts';
import type { SocketGuard } from './delivery/socket-guard.ts';
import type { ProvisioningHub } from './delivery/provisioning.ts';
import type { AttachmentJanitor } from './attachments/janitor.ts';
import type { ExpiryResult, RelayStore } from './store/types.ts';

/** What a retention sweep removed. */
export interface SweepResult extends ExpiryResult {
  /** Attachments (blob and record). */
  attachments: number;
}

/** Security-relevant events, logged as `{ audit: <event>, ... }` at info level. */
export type AuditEvent =
  | 'account.registered'
  | 'account.deleted'
  | 'account.exported'
  | 'username.changed'
  | 'auth.failed'
  | 'device.linking_code_issued'
  | 'device.linked'
  | 'device.link_failed'
  | 'device.removed'
  | 'provisioning.delivered'
  | 'rate_limit.exceeded'
  | 'attachment.quota_exceeded';

export interface RelayContext {
  readonly config: RelayConfig;
  readonly store: RelayStore;
  readonly clock: Clock;
  readonly hub: DeliveryHub;
  /** Cached device lists (authentication, send planning); call `changed` after changing them. */
  readonly devices: DeviceDirectory;
  /** Set when `REDIS_URL` is: what several relay nodes share. */
  readonly cluster?: RedisCluster;
  readonly provisioning: ProvisioningHub;
  readonly keepalive: Keepalive;
  /** Frame budget and per-IP cap for every WebSocket. */
  readonly socketGuard: SocketGuard;
  /** Writes a structured audit record. Never pass credentials or envelope content. */
  audit(event: AuditEvent, fields?: Record<string, unknown>): void;
  /** Attachment removal (expiry, account deletion). */
  readonly attachments: AttachmentJanitor;
  /** Runs retention expiry now (also runs on a timer). */
  sweep(): Promise<SweepResult>;
  /** True once shutdown started; `/ready` then answers 503. */
  readonly closing: boolean;
}

/** The device a request authenticated as. */
export interface AuthenticatedDevice {
  accountId: string;
  deviceId: number;
}

export type RequestHook = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

declare module 'fastify' {
  interface FastifyInstance {
    relay: RelayContext;
    /** onRequest hook: requires a valid device login, sets `request.device`. */
    authenticate: RequestHook;
    /**
     * onRequest hook: at most `limit.max` requests per `limit.windowMs` per `key(request)`;
     * beyond that, 429 with `Retry-After`. `name` separates the counters of different limits.
     * `key` may return several keys (each counted once; over on any is refused) or none.
     * Usable as an onRequest hook, or as a preHandler when the key needs the validated body.
     * Create one hook per limit and share it between the routes it covers: without Redis each
     * created hook counts in its own memory.
     */
    rateLimitBy(
      name: string,
      limit: RateLimit,
      key: (request: FastifyRequest) => string | readonly string[],
    ): RequestHook;
  }
  interface FastifyRequest {
    device: AuthenticatedDevice | null;
  }
}

/** The authenticated device of a request whose route has `onRequest: app.authenticate`. */
export function deviceOf(request: FastifyRequest): AuthenticatedDevice {
  if (request.device === null) throw new Error('route is missing the authenticate hook');
  return request.device;
}
