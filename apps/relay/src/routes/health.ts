/** Liveness (`/health`: the process answers) and readiness (`/ready`: storage works, not closing). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { HealthResponse, ReadyResponse } from '@parley/protocol';

const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { relay } = app;

  app.get(
    '/health',
    {
      config: { rateLimit: false },
      schema: { summary: 'Liveness', tags: ['operations'], response: { 200: HealthResponse } },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/ready',
    {
      config: { rateLimit: false },
      schema: {
        summary: 'Readiness: 503 while storage is unavailable or the relay is shutting down',
        tags: ['operations'],
        response: { 200: ReadyResponse, 503: ReadyResponse },
      },
    },
    async (request, reply) => {
      let ready = !relay.closing;
      if (ready) {
        try {
          await relay.store.ping();
        } catch (err) {
          request.log.error({ err }, 'storage not ready');
          ready = false;
        }
      }
      return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready' });
    },
  );
};

export default healthRoutes;
