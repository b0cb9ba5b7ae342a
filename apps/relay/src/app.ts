/**
 * `buildApp(config, deps)`: the whole relay as a Fastify instance, ready for `inject()` or
 * `listen()` (see `server.ts`). Each feature is one plugin; cross-cutting state lives on
 * `app.relay` (see `context.ts`).
 *
 * Plugin order matters: context → errors → security (headers, CORS, global rate limit) → auth →
 * docs (must precede routes to see them) → websocket → routes → the web app, if configured.
 * @module
 */
import { readFileSync } from 'node:fs';
import websocket from '@fastify/websocket';
import { TypeBoxValidatorCompiler, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { CloseCode, MAX_CLIENT_FRAME_BYTES } from '@parley/protocol';
import Fastify, { type FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { DestinationStream } from 'pino';
import { systemClock, type Clock } from './clock.ts';
import type { RelayConfig } from './config.ts';
import type { AuditEvent, RelayContext } from './context.ts';
import { RedisCluster } from './delivery/cluster.ts';
import { DeliveryHub } from './delivery/hub.ts';
import { DeviceDirectory } from './delivery/device-directory.ts';
import { Keepalive } from './delivery/keepalive.ts';
import { ProvisioningHub } from './delivery/provisioning.ts';
import { SocketGuard } from './delivery/socket-guard.ts';
import { createLogger } from './logging.ts';
import { openBlobStore } from './attachments/open.ts';
import { AttachmentJanitor } from './attachments/janitor.ts';
import attachmentsPlugin from './attachments/plugin.ts';
import authPlugin from './plugins/auth.ts';
import { capConnectionsPerIp, connectionOptions } from './plugins/connections.ts';
import docsPlugin from './plugins/docs.ts';
import errorsPlugin from './plugins/errors.ts';
import securityPlugin from './plugins/security.ts';
import webAppPlugin from './plugins/web-app.ts';
import accountDataRoutes from './routes/account-data.ts';
import accountsRoutes from './routes/accounts.ts';
import devicesRoutes from './routes/devices.ts';
import healthRoutes from './routes/health.ts';
import keysRoutes from './routes/keys.ts';
import messagesRoutes from './routes/messages.ts';
import provisioningRoutes from './routes/provisioning.ts';
import sealedRoutes from './routes/sealed.ts';
import { selectSubprotocol } from './routes/subprotocol.ts';
import websocketRoutes from './routes/websocket.ts';
import { openStore } from './store/open.ts';
import type { RelayStore } from './store/types.ts';

export interface RelayDeps {
  /**
   * Storage; by default PostgreSQL at `config.databaseUrl` if set, else the SQLite file at
   * `config.dbPath`. The app closes it on shutdown.
   */
  store?: RelayStore;
  /** Time source for retention, expiry and timestamps. */
  clock?: Clock;
  /** Where logs go (default stdout); tests pass a stream to inspect them. */
  logStream?: DestinationStream;
}

export async function buildApp(
  config: RelayConfig,
  deps: RelayDeps = {},
): Promise<FastifyInstance> {
  const logger = createLogger(config.logLevel, deps.logStream);
  const https = config.tls && {
    // Paths come from the operator's configuration, read once at start-up.
    // eslint-disable-next-line security/detect-non-literal-fs-filename
    cert: readFileSync(config.tls.certPath),
    // eslint-disable-next-line security/detect-non-literal-fs-filename
    key: readFileSync(config.tls.keyPath),
  };
  // With `https` set Fastify's types switch to an https server; the relay only uses the API
  // common to both, so it is typed as the default (http) instance.
  const { http, ...connections } = connectionOptions(config);
  const app = Fastify({
    loggerInstance: logger,
    bodyLimit: config.bodyLimitBytes,
    trustProxy: config.trustProxy,
    // Request ids are ours: a client-chosen id could forge log correlation.
    requestIdHeader: false,
    ...connections,
    // The HTTP server's own timeouts go to whichever server Fastify creates.
    ...(https ? { https: { ...https, ...http } } : { http }),
  }) as unknown as FastifyInstance;
  if (!config.trustProxy) {
    capConnectionsPerIp(app.server, config.connections.maxPerIp, (ip) =>
      logger.info({ audit: 'connection.refused', ip }, 'connection.refused'),
    );
  }
  app.setValidatorCompiler(TypeBoxValidatorCompiler);
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();

  const store = deps.store ?? (await openStore(config));
  // Several relay nodes share delivery events, presence and rate limits through Redis.
  const cluster =
    config.redisUrl === undefined ? undefined : new RedisCluster(config.redisUrl, logger);
  await cluster?.ready();
  const clock = deps.clock ?? systemClock;
  const keepalive = new Keepalive(config.keepaliveIntervalMs);
  const blobs = await openBlobStore(config);
  const attachments = new AttachmentJanitor(store.attachments, blobs, config, clock, logger);
  let closing = false;
  const audit = (event: AuditEvent, fields: Record<string, unknown> = {}) => {
    logger.info({ audit: event, ...fields }, event);
  };
  const relay: RelayContext = {
    config,
    store,
    clock,
    hub: new DeliveryHub(cluster),
    devices: new DeviceDirectory(store, config.deviceCacheTtlMs, cluster),
    ...(cluster ? { cluster } : {}),
    provisioning: new ProvisioningHub(cluster),
    keepalive,
    socketGuard: new SocketGuard(config),
    audit,
    attachments,
    sweep: async () => ({
      ...(await store.expire(clock.now(), config.retentionMs)),
      attachments: await attachments.sweep(),
    }),
    get closing() {
      return closing;
    },
  };

  await typed.register(
    fp(
      async (instance) => {
        instance.decorate('relay', relay);
      },
      { name: 'parley-context' },
    ),
  );

  const sweepTimer = setInterval(() => {
    relay.sweep().then(
      (expired) => logger.info({ expired }, 'retention sweep'),
      (err: unknown) => logger.error({ err }, 'retention sweep failed'),
    );
  }, config.expirySweepIntervalMs);
  sweepTimer.unref();

  // Shutdown: stop taking work and tell clients before Fastify closes the sockets itself
  // (this hook runs before @fastify/websocket's, which closes without a code).
  typed.addHook('preClose', async () => {
    closing = true;
    clearInterval(sweepTimer);
    keepalive.stop();
    await relay.hub.closeAll(CloseCode.GoingAway, 'relay shutting down');
    relay.provisioning.closeAll(CloseCode.GoingAway, 'relay shutting down');
  });
  // Runs after the HTTP server stopped and in-flight requests finished: then close storage.
  typed.addHook('onClose', async () => {
    await store.close();
    await blobs.close();
    await cluster?.close();
  });

  await typed.register(errorsPlugin);
  await typed.register(securityPlugin);
  await typed.register(authPlugin);
  await typed.register(docsPlugin);
  await typed.register(websocket, {
    options: { maxPayload: MAX_CLIENT_FRAME_BYTES, handleProtocols: selectSubprotocol },
  });

  await typed.register(healthRoutes);
  await typed.register(accountsRoutes);
  await typed.register(devicesRoutes);
  await typed.register(keysRoutes);
  await typed.register(messagesRoutes);
  await typed.register(sealedRoutes);
  await typed.register(websocketRoutes);
  await typed.register(provisioningRoutes);
  await typed.register(accountDataRoutes);
  await typed.register(attachmentsPlugin, { blobs });
  // Optional: the built web app on the same origin (after the API, which keeps its headers).
  if (config.webRoot !== undefined) await typed.register(webAppPlugin, { root: config.webRoot });

  await typed.ready();
  return app;
}
