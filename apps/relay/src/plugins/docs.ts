/**
 * OpenAPI 3 document generated from the route schemas (the same TypeBox schemas that validate
 * requests), served at `GET /docs/openapi.json`. Registered before the routes so it sees them.
 * @module
 */
import swagger from '@fastify/swagger';
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';

const docsPlugin: FastifyPluginAsync = async (app) => {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Parley relay',
        version: '1',
        description:
          'Stores public keys and end-to-end encrypted envelopes. WebSocket endpoints ' +
          '(/v1/websocket, /v1/provisioning) are described in @parley/protocol frames.ts.',
      },
      components: {
        securitySchemes: {
          device: {
            type: 'http',
            scheme: 'basic',
            description: 'username "<accountId>.<deviceId>", password: the device credential',
          },
        },
      },
    },
  });
  app.get('/docs/openapi.json', { schema: { hide: true } }, async () => app.swagger());
};

export default fp(docsPlugin, { name: 'parley-docs' });
