/**
 * Attachment routes: tus 1.0.0 resumable uploads (`@tus/server`) and ranged downloads. The relay
 * sees only ciphertext; the id, chosen here from the CSPRNG, is the download capability.
 *
 * Fastify stays in charge of every reply: each tus request is handed to `Server.handleWeb`, and
 * its answer copied back (the tus headers only, errors turned into the relay's JSON format), so
 * the security headers, CORS allow-list and error format are the same as on every other route.
 * Everything the relay must refuse is checked before tus sees the request: the device login,
 * the per-account upload rate, the size cap, the account's quota and upload ownership.
 * @module
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  ATTACHMENTS_PATH,
  AttachmentParams,
  ErrorCode,
  TUS_VERSION,
  type AttachmentId,
} from '@parley/protocol';
import { Server } from '@tus/server';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { NodeRequest } from 'srvx/node';
import { Type } from 'typebox';
import { deviceOf } from '../context.ts';
import { badRequest, notFound, RelayError } from '../errors.ts';
import { deviceAuth, errorResponses } from '../routes/schemas.ts';
import type { AttachmentRecord } from '../store/attachments.ts';
import type { BlobStore } from './blob-store.ts';
import { newAttachmentId } from './ids.ts';
import { parseRange } from './range.ts';

export interface AttachmentsPluginOptions {
  blobs: BlobStore;
}

/** The tus response headers a client needs; tus's own CORS headers are dropped (ours apply). */
const TUS_RESPONSE_HEADERS = [
  'tus-resumable',
  'tus-version',
  'tus-extension',
  'tus-max-size',
  'location',
  'upload-offset',
  'upload-length',
  'cache-control',
];

/** tus error statuses in the relay's format; messages are fixed (never tus's, never input). */
const TUS_ERRORS: Record<
  number,
  { code: (typeof ErrorCode)[keyof typeof ErrorCode]; message: string }
> = {
  400: { code: ErrorCode.BadRequest, message: 'invalid tus request' },
  403: { code: ErrorCode.Forbidden, message: 'not allowed on this upload' },
  404: { code: ErrorCode.NotFound, message: 'no such upload' },
  409: { code: ErrorCode.BadRequest, message: 'Upload-Offset does not match the upload' },
  410: { code: ErrorCode.NotFound, message: 'no such upload' },
  412: { code: ErrorCode.BadRequest, message: 'unsupported tus version' },
  413: { code: ErrorCode.PayloadTooLarge, message: 'more bytes than the upload declared' },
  415: {
    code: ErrorCode.UnsupportedMediaType,
    message: 'send Content-Type: application/offset+octet-stream',
  },
};

const TusHeaders = Type.Object({ 'tus-resumable': Type.Literal(TUS_VERSION) });
const CreateHeaders = Type.Object({
  'tus-resumable': Type.Literal(TUS_VERSION),
  'upload-length': Type.String({ pattern: '^[1-9][0-9]{0,15}$' }),
});
const DownloadHeaders = Type.Object({ range: Type.Optional(Type.String({ maxLength: 200 })) });

const attachmentsPlugin: FastifyPluginAsyncTypebox<AttachmentsPluginOptions> = async (
  app,
  { blobs },
) => {
  const { config, store, clock, audit } = app.relay;
  const limits = config.attachments;
  const records = store.attachments;
  /** The id the relay chose for a creation request (tus asks `namingFunction` for it). */
  const chosenIds = new WeakMap<object, string>();

  const tus = new Server({
    path: ATTACHMENTS_PATH,
    datastore: blobs.datastore,
    relativeLocation: true,
    maxSize: limits.maxBytes,
    namingFunction: (request) => {
      const id = chosenIds.get(request);
      if (id === undefined) throw new Error('upload creation without a relay-chosen id');
      return id;
    },
    onUploadFinish: async (_request, upload) => {
      await records.complete(upload.id, clock.now());
      return {};
    },
  });

  // Upload bodies stream straight to the blob store: Fastify must not read (or limit) them.
  app.addContentTypeParser('application/offset+octet-stream', (_request, _payload, done) => {
    done(null);
  });

  /** Runs the request through tus and answers with its status and tus headers. */
  const viaTus = async (
    request: FastifyRequest,
    reply: FastifyReply,
    options: { newId?: string; onAnswer?: (response: Response) => Promise<void> } = {},
  ) => {
    const web = new NodeRequest({ req: request.raw, res: reply.raw });
    if (options.newId !== undefined) chosenIds.set(web, options.newId);
    const response = await tus.handleWeb(web);
    await options.onAnswer?.(response);
    for (const name of TUS_RESPONSE_HEADERS) {
      const value = response.headers.get(name);
      if (value !== null) reply.header(name, value);
    }
    if (response.status >= 400) {
      const known = TUS_ERRORS[response.status];
      if (known) throw new RelayError(response.status, known.code, known.message);
      request.log.error({ status: response.status }, 'attachment store failed');
      throw new RelayError(500, ErrorCode.Internal, 'internal error');
    }
    return reply.status(response.status).send();
  };

  /** The caller's own upload, or 404 (never telling whether someone else's exists). */
  const ownUpload = async (request: FastifyRequest, id: AttachmentId) => {
    const record = await records.get(id);
    if (record?.accountId !== deviceOf(request).accountId || isStale(record, clock.now()))
      throw notFound('no such upload');
    return record;
  };
  const isStale = (record: AttachmentRecord, now: number) =>
    record.completedAt === undefined
      ? record.createdAt < now - limits.incompleteTtlMs
      : record.createdAt < now - config.retentionMs;

  const uploadRate = app.rateLimitBy(
    'attachment-upload',
    limits.uploadRate,
    (request) => deviceOf(request).accountId,
  );

  app.post(
    ATTACHMENTS_PATH,
    {
      onRequest: app.authenticate,
      preHandler: uploadRate,
      schema: {
        summary: 'Create an attachment upload (tus 1.0.0 creation; creation-with-upload allowed)',
        tags: ['attachments'],
        security: deviceAuth,
        headers: CreateHeaders,
        response: { 201: Type.Null(), ...errorResponses(400, 401, 413, 429) },
      },
    },
    async (request, reply) => {
      const { accountId } = deviceOf(request);
      // Nothing but ciphertext is stored: no metadata (it could be a file name), and no
      // deferred or concatenated uploads (the size is what the quota reserves).
      for (const header of ['upload-metadata', 'upload-defer-length', 'upload-concat']) {
        if (request.headers[header] !== undefined) throw badRequest(`${header} is not supported`);
      }
      const size = Number(request.headers['upload-length']);
      if (size > limits.maxBytes) {
        throw new RelayError(
          413,
          ErrorCode.PayloadTooLarge,
          `attachments are limited to ${limits.maxBytes} bytes`,
        );
      }
      const now = clock.now();
      const id = newAttachmentId();
      const created = await records.create(
        { id, accountId, size, createdAt: now },
        limits.quotaBytesPerAccount,
      );
      if (created === 'unknown_account') throw notFound('account not found');
      if (created === 'over_quota') {
        // Space frees when the first of the account's attachments expires.
        const usage = await records.usage(accountId);
        const freesAt = Math.min(
          (usage.oldestComplete ?? Infinity) + config.retentionMs,
          (usage.oldestIncomplete ?? Infinity) + limits.incompleteTtlMs,
        );
        const retryAfter = Number.isFinite(freesAt)
          ? Math.max(1, Math.ceil((freesAt - now) / 1000))
          : 1;
        reply.header('retry-after', String(retryAfter));
        audit('attachment.quota_exceeded', { accountId, size });
        throw new RelayError(
          429,
          ErrorCode.AttachmentQuotaExceeded,
          `the account's attachments would exceed its quota of ${limits.quotaBytesPerAccount} bytes`,
        );
      }
      try {
        return await viaTus(request, reply, { newId: id });
      } catch (err) {
        // Nothing half-created stays behind to count against the quota.
        await blobs.remove(id).catch(() => undefined);
        await records.remove([id]);
        throw err;
      }
    },
  );

  const uploadRoute = {
    onRequest: app.authenticate,
    schema: {
      tags: ['attachments'],
      security: deviceAuth,
      params: AttachmentParams,
      headers: TusHeaders,
    },
  };
  app.route({
    method: 'HEAD',
    url: `${ATTACHMENTS_PATH}/:id`,
    ...uploadRoute,
    schema: { ...uploadRoute.schema, summary: 'Upload offset (tus); own uploads only' },
    handler: async (request, reply) => {
      const record = await ownUpload(request, request.params.id);
      return viaTus(request, reply, {
        // Every byte is there but the completion was not recorded (the database failed right
        // then): record it now, or the client, told it is done, would share a dead id.
        onAnswer: async (response) => {
          const offset = response.headers.get('upload-offset');
          if (record.completedAt === undefined && offset === String(record.size))
            await records.complete(record.id, clock.now());
        },
      });
    },
  });
  app.delete(
    `${ATTACHMENTS_PATH}/:id`,
    {
      ...uploadRoute,
      schema: {
        ...uploadRoute.schema,
        summary: 'Delete an upload (tus termination), e.g. a cancelled one; own uploads only',
        response: { 204: Type.Null(), ...errorResponses(401, 404) },
      },
    },
    async (request, reply) => {
      const { id } = await ownUpload(request, request.params.id);
      // Frees the account's quota at once instead of when the upload would go stale.
      if (!(await app.relay.attachments.remove(id)))
        throw new RelayError(500, ErrorCode.Internal, 'internal error');
      return reply.header('tus-resumable', TUS_VERSION).status(204).send(null);
    },
  );
  app.route({
    method: 'PATCH',
    url: `${ATTACHMENTS_PATH}/:id`,
    ...uploadRoute,
    schema: { ...uploadRoute.schema, summary: 'Append to an upload (tus); own uploads only' },
    handler: async (request, reply) => {
      await ownUpload(request, request.params.id);
      return viaTus(request, reply);
    },
  });

  app.get(
    `${ATTACHMENTS_PATH}/:id`,
    {
      // HEAD is the tus offset request above, for the uploader only.
      exposeHeadRoute: false,
      schema: {
        summary: 'Download an attachment (no login: the id is the capability); Range supported',
        tags: ['attachments'],
        params: AttachmentParams,
        headers: DownloadHeaders,
        response: {
          200: Type.Unknown({ description: 'The blob (application/octet-stream)' }),
          206: Type.Unknown({ description: 'The requested range of the blob' }),
          ...errorResponses(400, 404, 416),
        },
      },
    },
    async (request, reply) => {
      const record = await records.get(request.params.id);
      if (!record || record.completedAt === undefined || isStale(record, clock.now()))
        throw notFound('no such attachment');
      const range = parseRange(request.headers.range, record.size);
      if (range === 'unsatisfiable') {
        reply.header('content-range', `bytes */${record.size}`);
        throw new RelayError(
          416,
          ErrorCode.RangeNotSatisfiable,
          `the range is not satisfiable (one range within ${record.size} bytes)`,
        );
      }
      const { start, end } = range ?? { start: 0, end: record.size - 1 };
      let body;
      try {
        body = await blobs.read(record.id, start, end);
      } catch (err) {
        // Never the id in logs: it is the download capability.
        request.log.warn({ err }, 'attachment blob unreadable');
        throw notFound('no such attachment');
      }
      // Never content a browser would render or sniff: always an opaque download.
      reply
        .header('content-type', 'application/octet-stream')
        .header('content-disposition', 'attachment')
        .header('x-content-type-options', 'nosniff')
        .header('accept-ranges', 'bytes')
        .header('content-length', String(end - start + 1));
      if (range) {
        reply.status(206).header('content-range', `bytes ${start}-${end}/${record.size}`);
      }
      return reply.send(body);
    },
  );
};

export default attachmentsPlugin;
