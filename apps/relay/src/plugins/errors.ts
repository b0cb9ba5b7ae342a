/**
 * One error handler for the whole app: bad input is always a 4xx with `{ error, message }`,
 * never a 5xx, and messages never echo what the client sent (no reflected payloads).
 * @module
 */
import { ErrorCode } from '@parley/protocol';
import type { FastifyError, FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { RelayError } from '../errors.ts';

/** Fixed messages for Fastify's own 4xx errors (their messages may quote the input). */
const FRAMEWORK_ERRORS: Record<number, { error: string; message: string }> = {
  400: { error: ErrorCode.BadRequest, message: 'malformed request' },
  404: { error: ErrorCode.NotFound, message: 'not found' },
  413: { error: ErrorCode.PayloadTooLarge, message: 'request body too large' },
  415: {
    error: ErrorCode.UnsupportedMediaType,
    message: 'unsupported content type; send application/json',
  },
};

const errorsPlugin: FastifyPluginAsync = async (app) => {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof RelayError) {
      return reply
        .status(error.statusCode)
        .send({ error: error.code, message: error.message, ...error.details });
    }
    if (error.validation) {
      const first = error.validation[0];
      const where = `${error.validationContext ?? 'request'}${first?.instancePath ?? ''}`;
      return reply.status(400).send({
        error: ErrorCode.BadRequest,
        message: `invalid ${where}: ${first?.message ?? 'does not match the schema'}`,
      });
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      const known = FRAMEWORK_ERRORS[status] ?? {
        error: ErrorCode.BadRequest,
        message: 'bad request',
      };
      return reply.status(status).send(known);
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.status(500).send({ error: ErrorCode.Internal, message: 'internal error' });
  });

  app.setNotFoundHandler((_request, reply) => {
    return reply.status(404).send({ error: ErrorCode.NotFound, message: 'no such route' });
  });
};

export default fp(errorsPlugin, { name: 'parley-errors' });
