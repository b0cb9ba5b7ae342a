/**
 * Device linking transport: the provisioning socket for the new device, and the endpoint an
 * existing device uses to send it its (end-to-end encrypted) provisioning message.
 * @module
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ProvisioningAddress, SendProvisioningMessageRequest, WS_PATHS } from '@parley/protocol';
import { Type } from 'typebox';
import { deviceOf } from '../context.ts';
import { notFound } from '../errors.ts';
import { requireSubprotocol } from './subprotocol.ts';
import { deviceAuth, errorResponses } from './schemas.ts';

const provisioningRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { clock, config, provisioning, keepalive, audit, socketGuard } = app.relay;

  app.get(
    WS_PATHS.provisioning,
    {
      websocket: true,
      onRequest: [
        requireSubprotocol,
        app.rateLimitBy('provisioning-socket', config.rateLimits.linking, (r) => r.ip),
      ],
    },
    (socket, request) => {
      if (!socketGuard.admit(socket, request.ip)) return;
      keepalive.track(socket);
      provisioning.open(socket, config.provisioningTtlMs, clock.now());
    },
  );

  app.put(
    '/v1/provisioning/:address',
    {
      onRequest: [
        app.authenticate,
        app.rateLimitBy(
          'provisioning-send',
          config.rateLimits.linking,
          (r) => deviceOf(r).accountId,
        ),
      ],
      schema: {
        summary: 'Send an encrypted provisioning message to a waiting new device',
        tags: ['devices'],
        security: deviceAuth,
        params: Type.Object({ address: ProvisioningAddress }),
        body: SendProvisioningMessageRequest,
        response: { 204: Type.Null(), ...errorResponses(400, 401, 404, 413, 429) },
      },
    },
    async (request, reply) => {
      if (!(await provisioning.deliverAnywhere(request.params.address, request.body.body))) {
        throw notFound('no device is waiting at this address');
      }
      audit('provisioning.delivered', { accountId: deviceOf(request).accountId });
      return reply.status(204).send(null);
    },
  );
};

export default provisioningRoutes;
