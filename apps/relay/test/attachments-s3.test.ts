/**
 * Attachments on an S3-compatible object store shared by two relay nodes (one PostgreSQL
 * database, one bucket): an upload in several PATCHes on node A (a multipart upload with a
 * partial part in between) is downloaded, whole and in ranges, from node B; expiry and account
 * deletion remove every object of the blob. The S3 server is a separate process (see
 * `s3-service.ts`; any S3 endpoint can be used instead).
 */
import { randomBytes } from 'node:crypto';
import { ATTACHMENTS_PATH } from '@parley/protocol';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig, type RelayConfig } from '../src/config.ts';
import { FakeClock, register, startRelay, type TestDevice, type TestRelay } from './helpers.ts';
import { startS3, type S3Server } from './s3-service.ts';
import { startPostgres, type PostgresServer } from './services.ts';

const MiB = 1024 * 1024;
const TUS = { 'tus-resumable': '1.0.0' };

let s3: S3Server;
let postgres: PostgresServer;
beforeAll(async () => {
  [s3, postgres] = await Promise.all([startS3(), startPostgres()]);
}, 240_000);
afterAll(async () => {
  await s3?.stop();
  await postgres?.stop();
}, 240_000);

/** Two relay nodes on one database and one bucket, sharing a clock. */
async function twoNodes(): Promise<{ a: TestRelay; b: TestRelay; bucket: string }> {
  const s3Config = await s3.bucket();
  const overrides = {
    databaseUrl: await postgres.createDatabase(),
    attachments: { ...defaultConfig().attachments, s3: s3Config },
  } satisfies Partial<RelayConfig>;
  const clock = new FakeClock();
  const a = await startRelay({ overrides, clock });
  const b = await startRelay({ overrides, clock });
  return { a, b, bucket: s3Config.bucket };
}

async function uploadInParts(
  app: FastifyInstance,
  device: TestDevice,
  bytes: Buffer,
  parts: number[],
) {
  const created = await app.inject({
    method: 'POST',
    url: ATTACHMENTS_PATH,
    headers: { ...device.headers, ...TUS, 'upload-length': String(bytes.length) },
  });
  expect(created.statusCode).toBe(201);
  const location = created.headers.location as string;
  let offset = 0;
  for (const size of parts) {
    const response = await app.inject({
      method: 'PATCH',
      url: location,
      headers: {
        ...device.headers,
        ...TUS,
        'content-type': 'application/offset+octet-stream',
        'upload-offset': String(offset),
      },
      payload: bytes.subarray(offset, offset + size),
    });
    expect(response.statusCode, response.body).toBe(204);
    offset += size;
    expect(response.headers['upload-offset']).toBe(String(offset));
  }
  return location.split('/').pop() as string;
}

const download = (app: FastifyInstance, id: string, range?: string) =>
  app.inject({
    method: 'GET',
    url: `${ATTACHMENTS_PATH}/${id}`,
    headers: range === undefined ? {} : { range },
  });

describe('attachments on S3, two relay nodes', () => {
  it('uploads on node A in several PATCHes, downloads whole and in ranges from node B', async () => {
    const { a, b, bucket } = await twoNodes();
    try {
      const alice = await register(a.app);
      // 6 MiB + 3 MiB + 3 MiB + 1 byte: full parts, a partial part, and the last short one.
      const bytes = randomBytes(12 * MiB + 1);
      const id = await uploadInParts(a.app, alice, bytes, [6 * MiB, 3 * MiB, 3 * MiB, 1]);

      // Node B resumes knowledge of the upload from the database and the bucket.
      const head = await b.app.inject({
        method: 'HEAD',
        url: `${ATTACHMENTS_PATH}/${id}`,
        headers: { ...alice.headers, ...TUS },
      });
      expect(head.statusCode).toBe(200);
      expect(head.headers['upload-offset']).toBe(String(bytes.length));

      const whole = await download(b.app, id);
      expect(whole.statusCode).toBe(200);
      expect(whole.headers['content-type']).toBe('application/octet-stream');
      expect(whole.headers['content-disposition']).toBe('attachment');
      expect(whole.headers['x-content-type-options']).toBe('nosniff');
      expect(Buffer.compare(whole.rawPayload, bytes)).toBe(0);
      const start = 8 * MiB - 5;
      const part = await download(b.app, id, `bytes=${start}-${start + MiB - 1}`);
      expect(part.statusCode).toBe(206);
      expect(part.headers['content-range']).toBe(
        `bytes ${start}-${start + MiB - 1}/${bytes.length}`,
      );
      expect(Buffer.compare(part.rawPayload, bytes.subarray(start, start + MiB))).toBe(0);
      const tail = await download(b.app, id, 'bytes=-1');
      expect(Buffer.compare(tail.rawPayload, bytes.subarray(-1))).toBe(0);

      // The bucket holds the blob (exactly the uploaded bytes) and tus's state object.
      expect(await s3.keys(bucket)).toEqual([id, `${id}.info`].sort());
      expect(Buffer.compare(Buffer.from(await s3.object(bucket, id)), bytes)).toBe(0);
    } finally {
      await a.destroy();
      await b.destroy();
    }
  });

  it('an unfinished upload is not served; expiry and account deletion remove all its objects', async () => {
    const { a, b, bucket } = await twoNodes();
    try {
      const alice = await register(a.app);
      const bob = await register(a.app);
      const kept = await uploadInParts(a.app, bob, randomBytes(1000), [1000]);
      const gone = await uploadInParts(a.app, alice, randomBytes(1000), [1000]);
      // Unfinished: a partial part waits in `<id>.part`.
      const bytes = randomBytes(2 * MiB);
      const created = await a.app.inject({
        method: 'POST',
        url: ATTACHMENTS_PATH,
        headers: { ...alice.headers, ...TUS, 'upload-length': String(bytes.length) },
      });
      const unfinished = (created.headers.location as string).split('/').pop() as string;
      const first = await a.app.inject({
        method: 'PATCH',
        url: created.headers.location as string,
        headers: {
          ...alice.headers,
          ...TUS,
          'content-type': 'application/offset+octet-stream',
          'upload-offset': '0',
        },
        payload: bytes.subarray(0, MiB),
      });
      expect(first.statusCode).toBe(204);
      expect((await download(b.app, unfinished)).statusCode).toBe(404);
      expect(await s3.keys(bucket)).toEqual(expect.arrayContaining([`${unfinished}.info`]));

      // A day later the unfinished upload goes (swept on either node).
      a.clock.advance(a.config.attachments.incompleteTtlMs + 1);
      expect((await b.app.relay.sweep()).attachments).toBe(1);
      expect((await s3.keys(bucket)).filter((k) => k.startsWith(unfinished))).toEqual([]);

      // Deleting Alice's account deletes her blob; Bob's stays.
      const deleted = await b.app.inject({
        method: 'DELETE',
        url: '/v1/accounts/me',
        headers: alice.headers,
      });
      expect(deleted.statusCode).toBe(204);
      expect((await download(a.app, gone)).statusCode).toBe(404);
      expect(await s3.keys(bucket)).toEqual([kept, `${kept}.info`].sort());

      // After the retention, Bob's goes too.
      a.clock.advance(a.config.retentionMs);
      expect((await download(b.app, kept)).statusCode).toBe(404);
      expect((await a.app.relay.sweep()).attachments).toBe(1);
      expect(await s3.keys(bucket)).toEqual([]);
    } finally {
      await a.destroy();
      await b.destroy();
    }
  });
});
