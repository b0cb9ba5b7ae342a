/**
 * Prekeys: upload, status, and bundle fetches. Fetching a bundle consumes one-time prekeys, so
 * fetches are limited per (requester, target) pair, per requesting account, and per target
 * account, in that order. Only a fetch the requester's own limits allowed counts against the
 * target, and the per-target ceiling is far above one pair's limit (checked by `loadConfig`):
 * one abuser runs into its own limits and never locks others out of the target, while many
 * colluding accounts still cannot drain the target's keys faster than the ceiling.
 * @module
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  AccountGoneResponse,
  AccountId,
  MAX_DEVICE_ID,
  PreKeyBundleResponse,
  PreKeyStatusResponse,
  PreKeyUploadRequest,
} from '@parley/protocol';
import { Type } from 'typebox';
import { deviceOf } from '../context.ts';
import { accountGone, notFound } from '../errors.ts';
import { assertUniqueKeyIds } from './keys-validation.ts';
import { decimalUpTo, deviceAuth, errorResponses } from './schemas.ts';

/** `*` for every device of the account, or one device id (1..MAX_DEVICE_ID). */
export const DeviceSelector = Type.String({
  pattern: `^(\\*|${decimalUpTo(MAX_DEVICE_ID)})$`,
  description: `A device id (1–${MAX_DEVICE_ID}), or * for all devices`,
});

const keysRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { store, clock, config } = app.relay;

  app.put(
    '/v1/keys',
    {
      onRequest: app.authenticate,
      schema: {
        summary: "Upload or replace the device's prekeys",
        tags: ['keys'],
        security: deviceAuth,
        body: PreKeyUploadRequest,
        response: { 204: Type.Null(), ...errorResponses(400, 401, 404, 413) },
      },
    },
    async (request, reply) => {
      const { accountId, deviceId } = deviceOf(request);
      assertUniqueKeyIds('preKeys', request.body.preKeys);
      assertUniqueKeyIds('pqPreKeys', request.body.pqPreKeys);
      // The device may have been removed since it authenticated: a 404, not a 500.
      if (!(await store.storeKeys(accountId, deviceId, request.body, clock.now())))
        throw notFound('no such device');
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/v1/keys/status',
    {
      onRequest: app.authenticate,
      schema: {
        summary: 'Remaining one-time prekeys and current signed keys of this device',
        tags: ['keys'],
        security: deviceAuth,
        response: { 200: PreKeyStatusResponse, ...errorResponses(401, 404) },
      },
    },
    async (request) => {
      const { accountId, deviceId } = deviceOf(request);
      const status = await store.keyStatus(accountId, deviceId, config.retentionMs);
      if (!status) throw notFound('no keys for this device');
      return status;
    },
  );

  app.get(
    '/v1/keys/:accountId/:deviceId',
    {
      onRequest: [
        app.authenticate,
        app.rateLimitBy(
          'bundle-pair',
          config.rateLimits.bundlePerPair,
          (r) => `${deviceOf(r).accountId}:${targetOf(r.params)}`,
        ),
        app.rateLimitBy(
          'bundle-requester',
          config.rateLimits.bundlePerRequester,
          (r) => deviceOf(r).accountId,
        ),
        app.rateLimitBy('bundle-target', config.rateLimits.bundlePerTarget, (r) =>
          targetOf(r.params),
        ),
      ],
      schema: {
        summary: 'Fetch prekey bundles (consumes one-time prekeys)',
        tags: ['keys'],
        security: deviceAuth,
        params: Type.Object({ accountId: AccountId, deviceId: DeviceSelector }),
        response: {
          200: PreKeyBundleResponse,
          410: AccountGoneResponse,
          ...errorResponses(400, 401, 404, 429),
        },
      },
    },
    async (request) => {
      const { accountId, deviceId } = request.params;
      const bundle = await store.takeBundles(
        accountId,
        deviceId === '*' ? 'all' : Number(deviceId),
      );
      if (!bundle) {
        if ((await store.goneAccounts([accountId])).length > 0) throw accountGone();
        throw notFound('no such account or device');
      }
      return bundle;
    },
  );
};

/**
 * The per-target limit runs in onRequest, before params are validated, so it keys on the raw
 * parameter. A malformed id only burns its own (useless) counter and then fails validation.
 */
function targetOf(params: unknown): string {
  const accountId = (params as { accountId?: unknown }).accountId;
  return typeof accountId === 'string' ? accountId.toLowerCase().slice(0, 64) : '';
}

export default keysRoutes;
