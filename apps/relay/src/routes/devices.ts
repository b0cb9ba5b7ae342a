/**
 * Devices: list, remove, and linking a new device with a one-time code.
 *
 * Only the primary device (1) issues linking codes and removes other devices; a linked device
 * may remove itself. The primary device is removed only by deleting the account.
 * @module
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  CloseCode,
  DeviceId,
  DeviceListResponse,
  ErrorCode,
  LinkDeviceRequest,
  LinkDeviceResponse,
  LinkingCodeResponse,
  PRIMARY_DEVICE_ID,
} from '@parley/protocol';
import { Type } from 'typebox';
import { deviceOf } from '../context.ts';
import { generateCredential, generateLinkingCode, hashSecret } from '../credentials.ts';
import { forbidden, notFound, RelayError } from '../errors.ts';
import { assertUniqueKeyIds } from './keys-validation.ts';
import { deviceAuth, errorResponses } from './schemas.ts';

const devicesRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { store, clock, config, hub, audit, devices: directory } = app.relay;

  app.get(
    '/v1/devices',
    {
      onRequest: app.authenticate,
      schema: {
        summary: "List the account's devices",
        tags: ['devices'],
        security: deviceAuth,
        response: { 200: DeviceListResponse, ...errorResponses(401) },
      },
    },
    async (request) => {
      const devices = await store.listDevices(deviceOf(request).accountId);
      return {
        devices: devices.map((d) => ({
          deviceId: d.deviceId,
          ...(d.name === undefined ? {} : { name: d.name }),
          createdAt: d.createdAt,
          lastSeenAt: d.lastSeenAt,
        })),
      };
    },
  );

  app.delete(
    '/v1/devices/:deviceId',
    {
      onRequest: app.authenticate,
      schema: {
        summary: 'Remove a device with its keys and queue',
        tags: ['devices'],
        security: deviceAuth,
        params: Type.Object({ deviceId: DeviceId }),
        response: { 204: Type.Null(), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const me = deviceOf(request);
      const target = request.params.deviceId;
      if (target === PRIMARY_DEVICE_ID) {
        throw forbidden('the primary device cannot be removed; delete the account instead');
      }
      if (me.deviceId !== PRIMARY_DEVICE_ID && me.deviceId !== target) {
        throw forbidden('a linked device can only remove itself');
      }
      // Scoped to the caller's account: another account's device id matches nothing here.
      if (!(await store.removeDevice(me.accountId, target))) throw notFound('no such device');
      directory.changed(me.accountId);
      hub.disconnect(me.accountId, [target], CloseCode.DeviceRemoved, 'device removed');
      audit('device.removed', { accountId: me.accountId, deviceId: target, by: me.deviceId });
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/v1/devices/linking-code',
    {
      onRequest: [
        app.authenticate,
        app.rateLimitBy('linking', config.rateLimits.linking, (r) => deviceOf(r).accountId),
      ],
      schema: {
        summary: 'Issue a one-time code that lets a new device join this account (primary only)',
        tags: ['devices'],
        security: deviceAuth,
        response: { 200: LinkingCodeResponse, ...errorResponses(401, 403, 429) },
      },
    },
    async (request) => {
      const me = deviceOf(request);
      if (me.deviceId !== PRIMARY_DEVICE_ID)
        throw forbidden('only the primary device can link devices');
      const code = generateLinkingCode();
      const expiresAt = clock.now() + config.linkingCodeTtlMs;
      await store.addLinkingCode(me.accountId, hashSecret(code), expiresAt);
      audit('device.linking_code_issued', { accountId: me.accountId });
      return { code, expiresAt };
    },
  );

  app.post(
    '/v1/devices/link',
    {
      onRequest: app.rateLimitBy('linking', config.rateLimits.linking, (r) => r.ip),
      schema: {
        summary: 'Register a new device into an account with a linking code',
        tags: ['devices'],
        body: LinkDeviceRequest,
        response: { 201: LinkDeviceResponse, ...errorResponses(400, 403, 409, 413, 429) },
      },
    },
    async (request, reply) => {
      const { linkingCode, ...keys } = request.body;
      assertUniqueKeyIds('preKeys', keys.preKeys);
      assertUniqueKeyIds('pqPreKeys', keys.pqPreKeys);
      const credential = generateCredential();
      const now = clock.now();
      const result = await store.linkDevice(
        hashSecret(linkingCode),
        now,
        config.maxDevicesPerAccount,
        {
          credentialHash: hashSecret(credential),
          createdAt: now,
          keys,
        },
      );
      if (!result.ok) {
        audit('device.link_failed', { reason: result.reason, ip: request.ip });
        if (result.reason === 'too_many_devices') {
          throw new RelayError(
            409,
            ErrorCode.TooManyDevices,
            `the account already has ${config.maxDevicesPerAccount} devices`,
          );
        }
        throw new RelayError(
          403,
          ErrorCode.InvalidLinkingCode,
          'linking code is invalid or expired',
        );
      }
      directory.changed(result.accountId);
      audit('device.linked', {
        accountId: result.accountId,
        deviceId: result.deviceId,
        ip: request.ip,
      });
      return reply
        .status(201)
        .send({ accountId: result.accountId, deviceId: result.deviceId, credential });
    },
  );
};

export default devicesRoutes;
