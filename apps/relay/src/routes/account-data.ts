/**
 * The account owner's data rights: export everything the relay stores about the account, and
 * delete the account (devices, keys, queues, credentials, linking codes) in one transaction.
 * @module
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AccountExportResponse, CloseCode, PRIMARY_DEVICE_ID } from '@parley/protocol';
import { Type } from 'typebox';
import { deviceOf } from '../context.ts';
import { forbidden, notFound } from '../errors.ts';
import { deviceAuth, errorResponses } from './schemas.ts';

const accountDataRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { store, clock, config, hub, audit } = app.relay;

  app.get(
    '/v1/accounts/me/export',
    {
      onRequest: app.authenticate,
      schema: {
        summary: 'Export everything the relay stores about this account (JSON)',
        tags: ['account data'],
        security: deviceAuth,
        response: { 200: AccountExportResponse, ...errorResponses(401, 404) },
      },
    },
    async (request) => {
      const { accountId, deviceId } = deviceOf(request);
      const data = await store.exportAccount(accountId, clock.now(), config.retentionMs);
      if (!data) throw notFound('account not found');
      audit('account.exported', { accountId, deviceId });
      return data;
    },
  );

  app.delete(
    '/v1/accounts/me',
    {
      onRequest: app.authenticate,
      schema: {
        summary: 'Delete the account and everything stored for it (primary device only)',
        tags: ['account data'],
        security: deviceAuth,
        response: { 204: Type.Null(), ...errorResponses(401, 403, 404) },
      },
    },
    async (request, reply) => {
      const { accountId, deviceId } = deviceOf(request);
      if (deviceId !== PRIMARY_DEVICE_ID)
        throw forbidden('only the primary device can delete the account');
      const devices = await store.listDevices(accountId);
      const now = clock.now();
      const hold = { now, until: now + config.usernameHoldMs };
      if (!(await store.deleteAccount(accountId, hold))) throw notFound('account not found');
      app.relay.devices.changed(accountId);
      hub.disconnect(
        accountId,
        devices.map((d) => d.deviceId),
        CloseCode.DeviceRemoved,
        'account deleted',
      );
      audit('account.deleted', { accountId });
      // Its attachments go now; any that fail to go are found by the next retention sweep.
      await app.relay.attachments.removeAccount(accountId);
      return reply.status(204).send(null);
    },
  );
};

export default accountDataRoutes;
