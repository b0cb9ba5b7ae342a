/**
 * `GET /v1/websocket`: the delivery socket of an authenticated device (see `DeviceConnection`).
 * Authentication and the protocol-version check run as HTTP hooks before the upgrade, so a bad
 * login is a plain 401 response and no socket is ever opened for it.
 * @module
 */
import type { FastifyPluginAsync } from 'fastify';
import { WS_PATHS } from '@parley/protocol';
import { deviceOf } from '../context.ts';
import { DeviceConnection } from '../delivery/connection.ts';
import { requireSubprotocol } from './subprotocol.ts';

const websocketRoutes: FastifyPluginAsync = async (app) => {
  const { store, clock, config, hub, keepalive, socketGuard } = app.relay;

  app.get(
    WS_PATHS.messages,
    { websocket: true, onRequest: [requireSubprotocol, app.authenticate] },
    (socket, request) => {
      if (!socketGuard.admit(socket, request.ip)) return;
      const { accountId, deviceId } = deviceOf(request);
      const connection = new DeviceConnection(socket, accountId, deviceId, {
        store,
        clock,
        log: request.log,
        maxInflight: config.maxInflightPerSocket,
        retentionMs: config.retentionMs,
      });
      keepalive.track(socket);
      socket.once('close', () => hub.remove(connection));
      hub.add(connection);
      connection.pump();
    },
  );
};

export default websocketRoutes;
