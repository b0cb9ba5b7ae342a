/**
 * Device authentication: `Authorization: Basic base64("<accountId>.<deviceId>:<credential>")`,
 * or on a WebSocket upgrade the `parley.auth.…` subprotocol (see @parley/protocol `auth.ts`).
 * The credential is checked against its stored SHA-256 in constant time; the device record comes
 * from the node's device cache (`delivery/device-directory.ts`), so a busy device costs no
 * database read per request. Failures are audited
 * without the credential, and answer 401 without saying which part was wrong.
 *
 * No `WWW-Authenticate` header is sent on 401: browsers would pop up a password dialog.
 * @module
 */
import { parseAuthSubprotocol, parseBasicAuthorization } from '@parley/protocol';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { startOfUtcDay } from '../clock.ts';
import { verifyCredential } from '../credentials.ts';
import { unauthorized } from '../errors.ts';

const authPlugin: FastifyPluginAsync = async (app) => {
  const { store, clock, audit, devices } = app.relay;
  app.decorateRequest('device', null);

  app.decorate('authenticate', async (request: FastifyRequest) => {
    const login =
      parseBasicAuthorization(request.headers.authorization) ??
      (request.ws ? parseAuthSubprotocol(request.headers['sec-websocket-protocol']) : undefined);
    if (!login) {
      audit('auth.failed', { reason: 'missing_or_malformed', ip: request.ip });
      throw unauthorized();
    }
    // From the node's device cache (invalidated on every node when a device is removed).
    const device = await devices.device(login.accountId, login.deviceId);
    if (!verifyCredential(login.credential, device?.credentialHash) || !device) {
      audit('auth.failed', {
        reason: 'bad_credential',
        accountId: login.accountId,
        deviceId: login.deviceId,
        ip: request.ip,
      });
      throw unauthorized();
    }
    request.device = { accountId: device.accountId, deviceId: device.deviceId };
    const today = startOfUtcDay(clock.now());
    if (device.lastSeenAt < today) {
      await store.touchDevice(device.accountId, device.deviceId, today);
      devices.touched(device.accountId, device.deviceId, today);
    }
  });
};

export default fp(authPlugin, { name: 'parley-auth', dependencies: ['parley-context'] });
