/**
 * HTTP hardening: security headers (helmet + Permissions-Policy), the CORS allow-list, and rate
 * limits (a global per-IP limit on every request plus `app.rateLimitBy` for stricter per-route
 * limits keyed however the route needs: IP, requesting account, target account).
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import { ErrorCode, UNIDENTIFIED_ACCESS_KEY_HEADER } from '@parley/protocol';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import helmet, { type HelmetOptions } from 'helmet';
import type { RateLimit } from '../config.ts';
import type { RequestHook } from '../context.ts';
import { RelayError } from '../errors.ts';
import { batchedRedisStore, RateLimitBatcher } from './rate-limit-store.ts';

/** The API serves JSON only, so no browser feature is ever needed (the web app's pages get
 *  their own, `WEB_APP_PERMISSIONS_POLICY` in web-app.ts). */
export const PERMISSIONS_POLICY =
  'accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()';

/** Request headers of the tus upload protocol (what tus-js-client sends). */
const TUS_REQUEST_HEADERS = [
  'tus-resumable',
  'upload-length',
  'upload-offset',
  'upload-metadata',
  'upload-defer-length',
  'upload-concat',
  'x-http-method-override',
  'x-requested-with',
];
/** Response headers of the tus upload protocol. */
const TUS_RESPONSE_HEADERS = [
  'location',
  'upload-offset',
  'upload-length',
  'tus-resumable',
  'tus-version',
  'tus-max-size',
  'tus-extension',
];

/** One limit's counter key(s) for a request: several when one request counts against several
 *  counters of the same limit (a group send, once per recipient account); none to skip it. */
export type RateLimitKeys = string | readonly string[];

/**
 * @fastify/rate-limit derives the key from the request; to count one request under several keys,
 * each check gets a view of the request carrying one key (its prototype is the request, so the
 * plugin still sees the route's options).
 */
const kLimitKey = Symbol('parley.rateLimitKey');
type KeyCarrier = FastifyRequest & { [kLimitKey]: string };
const carrying = (request: FastifyRequest, key: string): KeyCarrier =>
  Object.create(request, { [kLimitKey]: { value: key } }) as KeyCarrier;

/** helmet's settings for the API. */
const HELMET_OPTIONS: Readonly<HelmetOptions> = {
  // An API never serves active content: nothing may load, frame, or be framed.
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'none'"],
      frameAncestors: ["'none'"],
      baseUri: ["'none'"],
      formAction: ["'none'"],
    },
  },
  strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: true },
  frameguard: { action: 'deny' },
  referrerPolicy: { policy: 'no-referrer' },
};

/** What helmet does to a response: headers it sets (name as helmet spells it) and removes. */
export interface HeaderEdits {
  set: readonly (readonly [string, string])[];
  remove: readonly string[];
}

/**
 * Runs helmet once, on a stand-in response, and records what it does. With static options
 * (no nonces, no per-request directive functions) its answer is the same for every request,
 * so it is computed at start-up instead of building and running the middleware per request.
 */
export function helmetEdits(options: Readonly<HelmetOptions>): HeaderEdits {
  const set = new Map<string, readonly [string, string]>();
  const remove = new Set<string>();
  const response = {
    setHeader(name: string, value: string | number | readonly string[]) {
      remove.delete(name.toLowerCase());
      set.set(name.toLowerCase(), [name, String(value)]);
      return response;
    },
    removeHeader(name: string) {
      set.delete(name.toLowerCase());
      remove.add(name.toLowerCase());
    },
  };
  let done = false;
  helmet(options)({} as IncomingMessage, response as unknown as ServerResponse, (err?: unknown) => {
    if (err) throw err;
    done = true;
  });
  if (!done) throw new Error('helmet did not finish synchronously');
  return { set: [...set.values()], remove: [...remove] };
}

const securityPlugin: FastifyPluginAsync = async (app) => {
  const { config } = app.relay;

  // helmet's headers, computed once; set on the raw response as @fastify/helmet did (so they
  // also reach responses written to it directly, e.g. tus uploads), then ours on the reply.
  const helmetHeaders = helmetEdits(HELMET_OPTIONS);
  app.addHook('onRequest', (_request, reply, done) => {
    const raw = reply.raw;
    for (const name of helmetHeaders.remove) raw.removeHeader(name);
    for (const [name, value] of helmetHeaders.set) raw.setHeader(name, value);
    reply.header('permissions-policy', PERMISSIONS_POLICY);
    reply.header('cache-control', 'no-store');
    done();
  });

  await app.register(cors, {
    // An empty allow-list turns CORS off: no Access-Control-Allow-Origin is ever sent.
    origin: config.corsOrigins.length > 0 ? config.corsOrigins : false,
    // HEAD and PATCH: tus attachment uploads (`attachments/plugin.ts`).
    methods: ['GET', 'HEAD', 'PUT', 'POST', 'PATCH', 'DELETE'],
    // `unidentified-access-key`: sealed sends from a browser on another origin; the rest are
    // the tus request headers and `range` for ranged attachment downloads.
    allowedHeaders: [
      'authorization',
      'content-type',
      UNIDENTIFIED_ACCESS_KEY_HEADER,
      ...TUS_REQUEST_HEADERS,
      'range',
    ],
    // A cross-origin web app reads how long a 429 asks it to wait, and the tus and range
    // headers of attachment transfers.
    exposedHeaders: ['retry-after', ...TUS_RESPONSE_HEADERS, 'content-range', 'accept-ranges'],
    maxAge: 600,
  });

  // Our own hooks call the limiter, so every limit answers the same way (429 + Retry-After +
  // an audit record) and several limits can apply to one route.
  // With Redis the counters are shared, so a limit holds across every relay node.
  // Every check of one event-loop turn is one script call (`rate-limit-store.ts`).
  const redis = app.relay.cluster?.redis;
  await app.register(rateLimit, {
    global: false,
    ...(redis ? { store: batchedRedisStore(new RateLimitBatcher(redis)) } : {}),
  });

  app.decorate(
    'rateLimitBy',
    (
      name: string,
      limit: RateLimit,
      key: (request: FastifyRequest) => RateLimitKeys,
    ): RequestHook => {
      const check = app.createRateLimit({
        max: limit.max,
        timeWindow: limit.windowMs,
        keyGenerator: (request) => `${name}:${(request as KeyCarrier)[kLimitKey]}`,
      });
      return async (request, reply) => {
        const keys = key(request);
        // One counter per key, all counted (with Redis, in one script call with the other
        // checks of this turn);
        // the request is refused if any of them is over, and told the longest wait.
        const results = await Promise.all(
          (typeof keys === 'string' ? [keys] : keys).map((k) => check(carrying(request, k))),
        );
        const over = results.filter((r) => !r.isAllowed && r.isExceeded);
        if (over.length === 0) return;
        const retryAfter = Math.max(...over.map((r) => (r.isAllowed ? 0 : r.ttlInSeconds)));
        reply.header('retry-after', String(retryAfter));
        app.relay.audit('rate_limit.exceeded', { limit: name, ip: request.ip });
        throw new RelayError(
          429,
          ErrorCode.RateLimited,
          `too many requests; retry in ${retryAfter} seconds`,
        );
      };
    },
  );

  // Per-IP limit on every request, matched or not, before authentication (so credential
  // guessing is throttled too). Routes opt out with `config: { rateLimit: false }` (health).
  const globalLimit = app.rateLimitBy('global', config.rateLimits.global, (request) => request.ip);
  app.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.config.rateLimit === false) return;
    await globalLimit(request, reply);
  });
};

export default fp(securityPlugin, { name: 'parley-security', dependencies: ['parley-context'] });
