/**
 * The relay's pino logger. Request logs name the route pattern, not the URL: URLs carry
 * usernames, target account ids and provisioning addresses — who looks for whom is metadata the
 * relay should not keep. Redaction is a second line of defence: no code path logs headers,
 * credentials or envelope bodies, and if one ever did, these paths are censored.
 * @module
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config.ts';

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["sec-websocket-protocol"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["sec-websocket-protocol"]',
  'credential',
  '*.credential',
  'content',
  '*.content',
  'body',
  '*.body',
  'envelope',
  '*.envelope',
];

export function createLogger(level: LogLevel, stream?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'parley-relay' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      serializers: {
        req: (request: FastifyRequest) => ({
          id: request.id,
          method: request.method,
          route: request.routeOptions?.url ?? '(no route)',
        }),
        res: (reply: FastifyReply) => ({ statusCode: reply.statusCode }),
        err: pino.stdSerializers.err,
      },
    },
    stream ?? pino.destination({ dest: 1, sync: false }),
  );
}
