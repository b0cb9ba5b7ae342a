/**
 * Sealed sender on the relay: the trust root, sender certificates, access keys, and the two
 * sealed send routes, which take no login and never learn who sends.
 *
 * - `GET /v1/certificate/trust-root` (no login): the trust root's public key (clients pin it)
 *   and the current server certificate.
 * - `GET /v1/certificate/delivery` (login): a sender certificate for the calling device.
 * - `PUT /v1/accounts/me/unidentified-access` (login): the account's access key (stored as its
 *   SHA-256), or `null` to refuse sealed delivery.
 * - `PUT /v1/messages/sealed/:accountId` (no login; `Unidentified-Access-Key` header): sealed
 *   (v1) envelopes, one per device of the recipient.
 * - `PUT /v1/messages/sealed_multi_recipient` (no login; one access key per recipient account
 *   in the body): a sealed sender v2 SentMessage, split here into one envelope per device.
 *
 * Envelopes stored from these routes have no source; nothing here logs or stores anything
 * about the sender (request logs name the route pattern only). Abuse: per client IP first
 * (before validation), then the access key(s), then per recipient account, counting only sends
 * the IP limit allowed and that carried valid keys, so wrong keys never use up a recipient's
 * budget. When the recipient's ceiling binds, clients send with their login instead.
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { isProtocolError, SealedSenderMultiRecipientMessage } from '@parley/crypto';
import {
  AccountId,
  MAX_ENVELOPE_CONTENT_BYTES,
  MultiMismatchedDevicesResponse,
  MultiStaleDevicesResponse,
  MismatchedDevicesResponse,
  QueueFullResponse,
  SEALED_ENVELOPE_TYPE,
  SealedMultiRecipientRequest,
  SealedSendRequest,
  SendMessagesResponse,
  SenderCertificateResponse,
  SetUnidentifiedAccessRequest,
  StaleDevicesResponse,
  TrustRootResponse,
  UNIDENTIFIED_ACCESS_KEY_HEADER,
  UnidentifiedAccessKey,
} from '@parley/protocol';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { deviceOf } from '../context.ts';
import { duplicateIds } from '../delivery/device-match.ts';
import { badRequest, notFound, unauthorized } from '../errors.ts';
import { accessKeyMatches, hashAccessKey, wrongAccessKey } from '../sealed/access.ts';
import { planSealed, type SealedDelivery } from '../sealed/plan.ts';
import { SealedSenderSigner } from '../sealed/signer.ts';
import type { SendKey } from '../store/types.ts';
import { deviceAuth, errorResponses } from './schemas.ts';

const MULTI_PATH = '/v1/messages/sealed_multi_recipient';
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

const sealedRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { store, clock, config, hub } = app.relay;
  const signer = await SealedSenderSigner.load(store, clock.now());

  app.get(
    '/v1/certificate/trust-root',
    {
      schema: {
        summary: "The relay's sealed sender trust root (pin it) and server certificate",
        tags: ['sealed sender'],
        response: { 200: TrustRootResponse, ...errorResponses(429) },
      },
    },
    async () => ({
      publicKey: b64(signer.trustRoot.serialize()),
      serverCertificate: b64(signer.serverCertificate.serialize()),
    }),
  );

  app.get(
    '/v1/certificate/delivery',
    {
      onRequest: app.authenticate,
      schema: {
        summary: 'A short-lived sender certificate for this device (to seal messages with)',
        tags: ['sealed sender'],
        security: deviceAuth,
        response: { 200: SenderCertificateResponse, ...errorResponses(401, 429) },
      },
    },
    async (request) => {
      const { accountId, deviceId } = deviceOf(request);
      const account = await store.getAccount(accountId);
      if (!account) throw unauthorized();
      const expiresAt = clock.now() + config.senderCertificateTtlMs;
      const certificate = signer.issue(accountId, deviceId, account.identityKey, expiresAt);
      return { certificate: b64(certificate), expiresAt };
    },
  );

  app.put(
    '/v1/accounts/me/unidentified-access',
    {
      onRequest: app.authenticate,
      schema: {
        summary: "Set (or clear) this account's unidentified-access key",
        tags: ['sealed sender'],
        security: deviceAuth,
        body: SetUnidentifiedAccessRequest,
        response: { 204: Type.Null(), ...errorResponses(400, 401, 404, 429) },
      },
    },
    async (request, reply) => {
      const { accountId } = deviceOf(request);
      const key = request.body.unidentifiedAccessKey;
      const hash = key === null ? null : hashAccessKey(Buffer.from(key, 'base64'));
      if (!(await store.setAccessKeyHash(accountId, hash))) throw notFound('no such account');
      return reply.status(204).send(null);
    },
  );

  // Abuse limits (see the module comment). The recipient limit is called by the handlers once
  // the access keys have been checked.
  const perIp = app.rateLimitBy('sealed-ip', config.rateLimits.sealedPerIp, (r) => r.ip);
  const perRecipient = app.rateLimitBy(
    'sealed-recipient',
    config.rateLimits.sealedPerRecipient,
    (request: FastifyRequest) =>
      request.routeOptions.url === MULTI_PATH
        ? [
            ...new Set(
              (request.body as SealedMultiRecipientRequest).accessKeys.map((k) => k.accountId),
            ),
          ]
        : (request.params as { accountId: string }).accountId,
  );

  /** Records a sealed send's answer for retries; it names no sender (the id is random). */
  const sendKey = (sendId: string | undefined, serverTimestamp: number): SendKey | undefined =>
    sendId === undefined
      ? undefined
      : {
          sourceAccountId: '',
          sourceDeviceId: 0,
          sendId,
          serverTimestamp,
          notBefore: serverTimestamp - config.retentionMs,
        };

  const deliver = async (
    delivery: SealedDelivery,
    sendId: string | undefined,
    serverTimestamp: number,
  ) => {
    const key = sendKey(sendId, serverTimestamp);
    const result = await store.enqueue(
      [...delivery.keys()],
      (snapshot) =>
        planSealed(snapshot, delivery, config, (d) => ({
          id: randomUUID(),
          ...d,
          type: SEALED_ENVELOPE_TYPE,
          serverTimestamp,
        })),
      key ? { send: key } : {},
    );
    if ('rejected' in result) throw result.rejected;
    for (const [accountId, { devices }] of delivery) {
      for (const d of devices) hub.notify(accountId, d.deviceId);
    }
    if ('replayed' in result) return result.replayed;
    return { serverTimestamp, stored: result.stored.length };
  };

  app.put(
    '/v1/messages/sealed/:accountId',
    {
      onRequest: perIp,
      schema: {
        summary: 'Send sealed envelopes to every device of an account, without a login',
        tags: ['sealed sender'],
        params: Type.Object({ accountId: AccountId }),
        headers: Type.Object({ [UNIDENTIFIED_ACCESS_KEY_HEADER]: UnidentifiedAccessKey }),
        body: SealedSendRequest,
        response: {
          200: SendMessagesResponse,
          409: MismatchedDevicesResponse,
          410: StaleDevicesResponse,
          507: QueueFullResponse,
          ...errorResponses(400, 401, 413, 429),
        },
      },
    },
    async (request, reply) => {
      const destination = request.params.accountId;
      const presented = request.headers[UNIDENTIFIED_ACCESS_KEY_HEADER] as string;
      const hashes = await store.accessKeyHashes([destination]);
      if (!accessKeyMatches(presented, hashes.get(destination))) throw wrongAccessKey();
      await perRecipient(request, reply);
      const { messages, timestamp, sendId } = request.body;
      const duplicates = duplicateIds(messages.map((m) => String(m.destinationDeviceId)));
      if (duplicates.length > 0)
        throw badRequest(`destination devices listed twice: ${duplicates.join(', ')}`);
      const delivery: SealedDelivery = new Map();
      delivery.set(destination, {
        single: true,
        devices: messages.map((m) => ({
          deviceId: m.destinationDeviceId,
          registrationId: m.destinationRegistrationId,
          content: m.content,
          timestamp,
        })),
      });
      return deliver(delivery, sendId, clock.now());
    },
  );

  app.put(
    MULTI_PATH,
    {
      onRequest: perIp,
      schema: {
        summary: 'Send one sealed sender v2 message to many accounts, without a login',
        tags: ['sealed sender'],
        body: SealedMultiRecipientRequest,
        response: {
          200: SendMessagesResponse,
          409: MultiMismatchedDevicesResponse,
          410: MultiStaleDevicesResponse,
          507: QueueFullResponse,
          ...errorResponses(400, 401, 413, 429),
        },
      },
    },
    async (request, reply) => {
      const { content, accessKeys, timestamp, sendId } = request.body;
      let message: SealedSenderMultiRecipientMessage;
      try {
        message = SealedSenderMultiRecipientMessage.parse(Buffer.from(content, 'base64'));
      } catch (err) {
        if (isProtocolError(err)) throw badRequest('content is not a sealed sender v2 message');
        throw err;
      }
      const recipients = message.recipients();
      const keyed = accessKeys.map((k) => k.accountId);
      const twice = duplicateIds(keyed);
      if (twice.length > 0) throw badRequest(`access keys listed twice: ${twice.join(', ')}`);
      const sameAccounts =
        keyed.length === recipients.size && keyed.every((id) => recipients.has(id));
      if (!sameAccounts) {
        throw badRequest('accessKeys must name exactly the recipient accounts of the message');
      }
      // Every key is checked (no early exit), then the verdict.
      const hashes = await store.accessKeyHashes(keyed);
      const verdicts = accessKeys.map((k) =>
        accessKeyMatches(k.unidentifiedAccessKey, hashes.get(k.accountId)),
      );
      if (verdicts.includes(false)) throw wrongAccessKey();
      await perRecipient(request, reply);

      const delivery: SealedDelivery = new Map();
      for (const [accountId, devices] of recipients) {
        const received = b64(message.messageForRecipient(accountId));
        if (Buffer.byteLength(received, 'base64') > MAX_ENVELOPE_CONTENT_BYTES) {
          throw badRequest('a recipient’s envelope would exceed the largest envelope size');
        }
        delivery.set(accountId, {
          single: false,
          devices: devices.map((d) => ({ ...d, content: received, timestamp })),
        });
      }
      return deliver(delivery, sendId, clock.now());
    },
  );
};

export default sealedRoutes;
