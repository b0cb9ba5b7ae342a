/**
 * Connection hygiene and the errors Fastify answers before any route or hook runs.
 *
 * - Timeouts (Node's HTTP server): a request must send its headers within `headersTimeoutMs`
 *   and finish within `requestTimeoutMs`; an idle keep-alive connection is closed after
 *   `keepAliveTimeoutMs`. Upgraded (WebSocket) connections leave this tracking; they have the
 *   keepalive pings and a frame rate limit instead.
 * - Concurrent connections per client IP are capped (`maxConnectionsPerIp`). Without a trusted
 *   proxy the TCP peer is the client: connections beyond the cap are dropped on accept. Behind a
 *   trusted proxy every connection comes from the proxy, so the cap applies per forwarded
 *   client IP to WebSockets (the long-lived connections), and the proxy limits the rest.
 * - Undecodable URLs and malformed HTTP get the relay's JSON error with the API's security
 *   headers, never Fastify's defaults, which echo the URL and carry no headers.
 * @module
 */
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { ErrorCode } from '@parley/protocol';
import type { FastifyError, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import type { RelayConfig } from '../config.ts';
import { PERMISSIONS_POLICY } from './security.ts';

/**
 * The headers helmet and the security plugin put on every API response (a test checks they
 * match), for the answers given before Fastify's hooks can run.
 */
export const API_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'none';frame-ancestors 'none';base-uri 'none';form-action 'none'",
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'origin-agent-cluster': '?1',
  'referrer-policy': 'no-referrer',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-frame-options': 'DENY',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0',
  'permissions-policy': PERMISSIONS_POLICY,
  'cache-control': 'no-store',
};

/** Fastify's `frameworkErrors`: a URL it cannot decode or route. */
function frameworkErrors(error: FastifyError, _request: FastifyRequest, reply: FastifyReply) {
  const tooLong = error.code === 'FST_ERR_MAX_PARAM_LENGTH';
  void reply
    .headers(API_SECURITY_HEADERS)
    .status(tooLong ? 414 : 400)
    .send({
      error: ErrorCode.BadRequest,
      message: tooLong ? 'URL parameter too long' : 'malformed URL',
    });
}

/** Malformed HTTP, oversized headers or a timed-out request, before Fastify sees a request. */
function clientErrorHandler(err: NodeJS.ErrnoException, socket: Duplex) {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, reason, message] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'Request Timeout', 'request timed out']
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large', 'request headers too large']
        : [400, 'Bad Request', 'malformed request'];
  const body = JSON.stringify({ error: ErrorCode.BadRequest, message });
  const headers = Object.entries({
    ...API_SECURITY_HEADERS,
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    connection: 'close',
  })
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  if (socket.writable) socket.write(`HTTP/1.1 ${status} ${reason}\r\n${headers}\r\n${body}`);
  socket.destroy();
}

/** The Fastify constructor options for timeouts and framework errors. */
export function connectionOptions(config: RelayConfig) {
  const timeouts = config.connections;
  const http = {
    headersTimeout: timeouts.headersTimeoutMs,
    requestTimeout: timeouts.requestTimeoutMs,
    keepAliveTimeout: timeouts.keepAliveTimeoutMs,
    connectionsCheckingInterval: timeouts.checkingIntervalMs,
  };
  return {
    requestTimeout: timeouts.requestTimeoutMs,
    keepAliveTimeout: timeouts.keepAliveTimeoutMs,
    http,
    frameworkErrors,
    clientErrorHandler,
  } satisfies Partial<FastifyServerOptions> & { http: object };
}

/** Counts open connections per key; `enter` is false once the key is at `max`. */
export class ConnectionCounter {
  readonly #open = new Map<string, number>();
  constructor(readonly max: number) {}

  enter(key: string): boolean {
    const open = this.#open.get(key) ?? 0;
    if (open >= this.max) return false;
    this.#open.set(key, open + 1);
    return true;
  }

  leave(key: string): void {
    const open = (this.#open.get(key) ?? 1) - 1;
    if (open <= 0) this.#open.delete(key);
    else this.#open.set(key, open);
  }
}

/** Without a trusted proxy: drops TCP connections beyond the per-IP cap on accept. */
export function capConnectionsPerIp(
  server: { on(event: 'connection', listener: (socket: Socket) => void): unknown },
  max: number,
  onRefused: (ip: string) => void,
): void {
  const counter = new ConnectionCounter(max);
  server.on('connection', (socket) => {
    const ip = socket.remoteAddress ?? '';
    if (!counter.enter(ip)) {
      onRefused(ip);
      socket.destroy();
      return;
    }
    socket.once('close', () => counter.leave(ip));
  });
}
