/**
 * Sending and (HTTP fallback) receiving envelopes.
 *
 * A send is checked against the destination's devices and stored in one store transaction, and
 * answered 200 only after the envelopes are durably stored; connected devices are then pushed
 * to at once. The relay stamps the sender from the credential, never from the body.
 *
 * Idempotent retries: a send carrying a `sendId` is recorded with its answer in the same
 * transaction as its envelopes, per (sender device, send id), for the retention window. A retry
 * with that id gets the first answer again (same `serverTimestamp` and `stored`) and stores
 * nothing, whatever its body says: the relay does not compare bodies, so a client must not reuse
 * a send id for a different send. Rejected sends (404, 409, 410, 507) record nothing, so a retry
 * after fixing the device list is a new attempt.
 *
 * Abuse: sends are rate-limited per (sender, recipient account) and per sender, keyed on the
 * sending account only, so a flood stops the abuser and never the recipient's other contacts;
 * a group send counts once per recipient account and once per sender, never per device. Queue
 * shares (`delivery/queue-limits.ts`) then stop one sender from filling a device's queue.
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import {
  AccountGoneResponse,
  AccountId,
  EnvelopeId,
  ErrorCode,
  FetchMessagesQuery,
  FetchMessagesResponse,
  MismatchedDevicesResponse,
  MultiMismatchedDevicesResponse,
  MultiRecipientSendRequest,
  MultiStaleDevicesResponse,
  QueueFullResponse,
  SendMessagesRequest,
  SendMessagesResponse,
  StaleDevicesResponse,
} from '@parley/protocol';
import { Type } from 'typebox';
import { deviceOf } from '../context.ts';
import { duplicateIds, matchDevices } from '../delivery/device-match.ts';
import {
  checkQueues,
  contentBytes,
  queueBounds,
  type Addressed,
  type QueueLimits,
} from '../delivery/queue-limits.ts';
import { accountGone, badRequest, notFound, RelayError } from '../errors.ts';
import type {
  DeviceSnapshot,
  KnownDevice,
  NewEnvelope,
  QueueBound,
  SendKey,
} from '../store/types.ts';
import { deviceAuth, errorResponses } from './schemas.ts';

const queueFull = (accountId: string, deviceIds: number[]) =>
  new RelayError(507, ErrorCode.QueueFull, "a recipient device's queue is full; retry later", {
    accountId,
    deviceIds,
  });

const overShare = () =>
  new RelayError(
    429,
    ErrorCode.RateLimited,
    'you have too much queued for a recipient device; retry once it has caught up',
  );

/** The queue limits' rejection for one destination account, if any. */
function queueRejection(
  accountId: string,
  devices: readonly DeviceSnapshot[],
  addressed: readonly Addressed[],
  limits: QueueLimits,
  ownAccount: boolean,
): RelayError | undefined {
  const verdict = checkQueues(devices, addressed, limits, ownAccount);
  if (verdict.kind === 'sender_over_share') return overShare();
  if (verdict.kind === 'full') return queueFull(accountId, verdict.deviceIds);
  return undefined;
}

const MULTI_RECIPIENT_PATH = '/v1/messages/multi_recipient';

/** The single-recipient planner's rejection of an absent account (gone or never there). */
const NO_SUCH_ACCOUNT = notFound('no such account');

/** The accounts a validated send addresses (with repeats), for the send limits. */
function recipientAccounts(request: FastifyRequest): string[] {
  if (request.routeOptions.url === MULTI_RECIPIENT_PATH) {
    return (request.body as MultiRecipientSendRequest).recipients.map((r) => r.accountId);
  }
  return [(request.params as { accountId: string }).accountId];
}

const messagesRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { store, clock, config, hub, devices: directory } = app.relay;

  /**
   * The destinations' device lists from the node's cache, for the store to plan on without a
   * locked read (it verifies them atomically with the insert); none if any account has none.
   */
  const hintFor = async (
    accountIds: readonly string[],
  ): Promise<Map<string, KnownDevice[]> | undefined> => {
    if (config.deviceCacheTtlMs === 0) return undefined;
    const lists = await Promise.all(accountIds.map((id) => directory.devices(id)));
    if (lists.some((list) => list.length === 0)) return undefined;
    return new Map(
      accountIds.map((id, i) => [
        id,
        (lists[i] ?? []).map((d) => ({ deviceId: d.deviceId, registrationId: d.registrationId })),
      ]),
    );
  };
  const queueLimits: QueueLimits = {
    envelopes: config.queueCapPerDevice,
    bytes: config.queueCapBytesPerDevice,
    senderSharePercent: config.queueSenderSharePercent,
  };

  const sendKey = (
    sender: { accountId: string; deviceId: number },
    sendId: string | undefined,
    serverTimestamp: number,
  ): SendKey | undefined =>
    sendId === undefined
      ? undefined
      : {
          sourceAccountId: sender.accountId,
          sourceDeviceId: sender.deviceId,
          sendId,
          serverTimestamp,
          notBefore: serverTimestamp - config.retentionMs,
        };

  // Send limits (see `RelayConfig.rateLimits`): per (sender, recipient account), then per
  // sender. They run after validation, so they key on the parsed body, and count a request
  // once per recipient account and once per sender, however many devices it reaches. One pair
  // of hooks serves both send routes, so both count against the same counters.
  const sendLimits = [
    app.rateLimitBy('send-pair', config.rateLimits.sendPerPair, (request) => {
      const sender = deviceOf(request).accountId;
      const pairs = new Set<string>();
      for (const accountId of recipientAccounts(request)) {
        // Sync messages to the sender's own devices: nobody else to protect.
        if (accountId !== sender) pairs.add(`${sender}:${accountId}`);
      }
      return [...pairs];
    }),
    app.rateLimitBy(
      'send-sender',
      config.rateLimits.sendPerSender,
      (request) => deviceOf(request).accountId,
    ),
  ];

  /** Test hook (see `RelayConfig.testCrashAfterStoringSendId`): stored, never answered. */
  const crashIfAsked = (sendId: string | undefined) => {
    if (sendId !== undefined && sendId === config.testCrashAfterStoringSendId) {
      process.kill(process.pid, 'SIGKILL');
    }
  };

  app.put(
    '/v1/messages/:accountId',
    {
      onRequest: app.authenticate,
      preHandler: sendLimits,
      schema: {
        summary: 'Send one envelope to every device of an account',
        tags: ['messages'],
        security: deviceAuth,
        params: Type.Object({ accountId: AccountId }),
        body: SendMessagesRequest,
        response: {
          200: SendMessagesResponse,
          409: MismatchedDevicesResponse,
          410: Type.Union([StaleDevicesResponse, AccountGoneResponse]),
          507: QueueFullResponse,
          ...errorResponses(400, 401, 404, 413, 429),
        },
      },
    },
    async (request) => {
      const sender = deviceOf(request);
      const destination = request.params.accountId;
      const { messages, timestamp, sendId } = request.body;
      const duplicates = duplicateIds(messages.map((m) => String(m.destinationDeviceId)));
      if (duplicates.length > 0)
        throw badRequest(`destination devices listed twice: ${duplicates.join(', ')}`);
      const serverTimestamp = clock.now();
      const toSelf = destination === sender.accountId;

      const key = sendKey(sender, sendId, serverTimestamp);
      const result = await store.enqueue(
        [destination],
        (snapshot) => {
          const devices = snapshot.get(destination);
          if (!devices) return { reject: NO_SUCH_ACCOUNT };
          const addressed = messages.map((m) => ({
            deviceId: m.destinationDeviceId,
            registrationId: m.destinationRegistrationId,
          }));
          const match = matchDevices(devices, addressed, toSelf ? sender.deviceId : undefined);
          if (match.kind === 'mismatched') {
            return {
              reject: new RelayError(
                409,
                ErrorCode.MismatchedDevices,
                'device list does not match',
                {
                  missingDevices: match.missingDevices,
                  extraDevices: match.extraDevices,
                },
              ),
            };
          }
          if (match.kind === 'stale') {
            return {
              reject: new RelayError(
                410,
                ErrorCode.StaleDevices,
                'some devices have re-registered',
                {
                  staleDevices: match.staleDevices,
                },
              ),
            };
          }
          const sizes = messages.map((m) => ({
            deviceId: m.destinationDeviceId,
            bytes: contentBytes(m.content),
          }));
          const rejection = queueRejection(destination, devices, sizes, queueLimits, toSelf);
          if (rejection) return { reject: rejection };
          return {
            bounds: queueBounds(destination, sizes, queueLimits, toSelf),
            envelopes: messages.map((m): NewEnvelope => ({
              id: randomUUID(),
              destinationAccountId: destination,
              destinationDeviceId: m.destinationDeviceId,
              type: m.type,
              sourceAccountId: sender.accountId,
              sourceDeviceId: sender.deviceId,
              timestamp,
              serverTimestamp,
              content: m.content,
            })),
          };
        },
        {
          sender: sender.accountId,
          send: key,
          hint: key ? undefined : await hintFor([destination]),
        },
      );
      if ('rejected' in result) {
        // Absent: deleted (a tombstone says so) or never there.
        if (result.rejected === NO_SUCH_ACCOUNT) {
          if ((await store.goneAccounts([destination])).length > 0) throw accountGone();
          throw notFound('no such account');
        }
        throw result.rejected;
      }
      if ('stored' in result) crashIfAsked(sendId);
      // Also on a replay: the first attempt may have died before it notified anyone.
      for (const m of messages) hub.notify(destination, m.destinationDeviceId);
      if ('replayed' in result) return result.replayed;
      return { serverTimestamp, stored: result.stored.length };
    },
  );

  app.put(
    MULTI_RECIPIENT_PATH,
    {
      onRequest: app.authenticate,
      preHandler: sendLimits,
      schema: {
        summary: 'Send one (sender-key) ciphertext to many devices of many accounts',
        tags: ['messages'],
        security: deviceAuth,
        body: MultiRecipientSendRequest,
        response: {
          200: SendMessagesResponse,
          409: MultiMismatchedDevicesResponse,
          410: Type.Union([MultiStaleDevicesResponse, AccountGoneResponse]),
          507: QueueFullResponse,
          ...errorResponses(400, 401, 404, 413, 429),
        },
      },
    },
    async (request) => {
      const sender = deviceOf(request);
      const { recipients, content, type, timestamp, sendId } = request.body;
      const duplicates = duplicateIds(recipients.map((r) => `${r.accountId}.${r.deviceId}`));
      if (duplicates.length > 0)
        throw badRequest(`recipients listed twice: ${duplicates.join(', ')}`);
      const byAccount = new Map<string, { deviceId: number; registrationId: number }[]>();
      for (const r of recipients) {
        const list = byAccount.get(r.accountId) ?? [];
        list.push({ deviceId: r.deviceId, registrationId: r.registrationId });
        byAccount.set(r.accountId, list);
      }
      const serverTimestamp = clock.now();

      const key = sendKey(sender, sendId, serverTimestamp);
      const result = await store.enqueue<RelayError | { unknown: string[] }>(
        [...byAccount.keys()],
        (snapshot) => {
          const unknown = [...byAccount.keys()].filter((id) => !snapshot.has(id));
          if (unknown.length > 0) return { reject: { unknown } };
          const mismatched = [];
          const stale = [];
          for (const [accountId, addressed] of byAccount) {
            const devices = snapshot.get(accountId) ?? [];
            const exclude = accountId === sender.accountId ? sender.deviceId : undefined;
            const match = matchDevices(devices, addressed, exclude);
            if (match.kind === 'mismatched') {
              mismatched.push({
                accountId,
                missingDevices: match.missingDevices,
                extraDevices: match.extraDevices,
              });
            } else if (match.kind === 'stale') {
              stale.push({ accountId, staleDevices: match.staleDevices });
            }
          }
          if (mismatched.length > 0) {
            return {
              reject: new RelayError(
                409,
                ErrorCode.MismatchedDevices,
                'device lists do not match',
                {
                  accounts: mismatched,
                },
              ),
            };
          }
          if (stale.length > 0) {
            return {
              reject: new RelayError(
                410,
                ErrorCode.StaleDevices,
                'some devices have re-registered',
                {
                  accounts: stale,
                },
              ),
            };
          }
          const bytes = contentBytes(content);
          const bounds: QueueBound[] = [];
          for (const [accountId, addressed] of byAccount) {
            const sizes = addressed.map((d) => ({ deviceId: d.deviceId, bytes }));
            const own = accountId === sender.accountId;
            const devices = snapshot.get(accountId) ?? [];
            const rejection = queueRejection(accountId, devices, sizes, queueLimits, own);
            if (rejection) return { reject: rejection };
            bounds.push(...queueBounds(accountId, sizes, queueLimits, own));
          }
          return {
            bounds,
            envelopes: recipients.map((r): NewEnvelope => ({
              id: randomUUID(),
              destinationAccountId: r.accountId,
              destinationDeviceId: r.deviceId,
              type,
              sourceAccountId: sender.accountId,
              sourceDeviceId: sender.deviceId,
              timestamp,
              serverTimestamp,
              content,
            })),
          };
        },
        {
          sender: sender.accountId,
          send: key,
          hint: key ? undefined : await hintFor([...byAccount.keys()]),
        },
      );
      if ('rejected' in result) {
        const rejected = result.rejected;
        if (rejected instanceof RelayError) throw rejected;
        // Deleted accounts are named (the sender drops them and sends again); any other
        // absent account never existed.
        const gone = await store.goneAccounts(rejected.unknown);
        if (gone.length === rejected.unknown.length) throw accountGone(gone);
        throw new RelayError(
          404,
          ErrorCode.UnknownAccount,
          `${rejected.unknown.length - gone.length} recipient account(s) do not exist`,
        );
      }
      if ('stored' in result) crashIfAsked(sendId);
      for (const r of recipients) hub.notify(r.accountId, r.deviceId);
      if ('replayed' in result) return result.replayed;
      return { serverTimestamp, stored: result.stored.length };
    },
  );

  app.get(
    '/v1/messages',
    {
      onRequest: app.authenticate,
      schema: {
        summary: "Fetch a page of this device's queue (HTTP fallback to the WebSocket)",
        tags: ['messages'],
        security: deviceAuth,
        querystring: FetchMessagesQuery,
        response: { 200: FetchMessagesResponse, ...errorResponses(400, 401) },
      },
    },
    async (request) => {
      const { accountId, deviceId } = deviceOf(request);
      const limit = request.query.limit ?? 100;
      const page = await store.fetchEnvelopes(accountId, deviceId, {
        afterSeq: 0,
        limit: limit + 1,
        notBefore: clock.now() - config.retentionMs,
      });
      return {
        envelopes: page.slice(0, limit).map(({ seq: _seq, ...e }) => e),
        more: page.length > limit,
      };
    },
  );

  app.delete(
    '/v1/messages/:envelopeId',
    {
      onRequest: app.authenticate,
      schema: {
        summary: 'Acknowledge (delete) an envelope from this device’s queue',
        tags: ['messages'],
        security: deviceAuth,
        params: Type.Object({ envelopeId: EnvelopeId }),
        response: { 204: Type.Null(), ...errorResponses(400, 401, 404) },
      },
    },
    async (request, reply) => {
      const { accountId, deviceId } = deviceOf(request);
      const { envelopeId } = request.params;
      // Scoped to the caller's own queue: another device's envelope id matches nothing.
      if (!(await store.deleteEnvelope(accountId, deviceId, envelopeId))) {
        throw notFound('no such envelope in this device’s queue');
      }
      hub.forget(accountId, deviceId, envelopeId);
      return reply.status(204).send(null);
    },
  );
};

export default messagesRoutes;
