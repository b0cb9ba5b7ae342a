/**
 * Attachment routes on the filesystem blob store: tus uploads with a device login, ranged
 * downloads by id only, the headers that keep a browser from ever rendering a blob, CORS for a
 * browser app, and resuming after a dropped connection. Limits: `attachment-limits.test.ts`.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { ATTACHMENTS_PATH, ErrorCode, basicAuthorization, isAttachmentId } from '@parley/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { blobDir, create, download, OCTETS, patch, TUS, upload } from './attachment-requests.ts';
import { listen, register, startRelay, type TestDevice, type TestRelay } from './helpers.ts';

let relay: TestRelay | undefined;
afterEach(async () => {
  await relay?.destroy();
  relay = undefined;
});

describe('attachments (filesystem store)', () => {
  it('uploads in several PATCHes and downloads the same bytes as an opaque file', async () => {
    relay = await startRelay();
    const alice = await register(relay.app);
    const bytes = randomBytes(300_000);
    const id = await upload(relay.app, alice, bytes, 3);
    expect(isAttachmentId(id)).toBe(true);

    const response = await download(relay.app, id);
    expect(response.statusCode).toBe(200);
    expect(Buffer.compare(response.rawPayload, bytes)).toBe(0);
    expect(response.headers['content-type']).toBe('application/octet-stream');
    expect(response.headers['content-disposition']).toBe('attachment');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['accept-ranges']).toBe('bytes');
    expect(response.headers['content-length']).toBe(String(bytes.length));
    // The relay's security headers apply to blobs too.
    expect(response.headers['content-security-policy']).toContain("default-src 'none'");
    expect(response.headers['cache-control']).toBe('no-store');
    // The id is the download capability: it never reaches the logs.
    expect(relay.logs.text()).not.toContain(id);
  });

  it('needs a device login to upload, and never to download', async () => {
    relay = await startRelay();
    const alice = await register(relay.app);
    const anonymous = await relay.app.inject({
      method: 'POST',
      url: ATTACHMENTS_PATH,
      headers: { ...TUS, 'upload-length': '10' },
    });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json()).toMatchObject({ error: ErrorCode.Unauthorized });
    const wrong = await relay.app.inject({
      method: 'POST',
      url: ATTACHMENTS_PATH,
      headers: {
        ...TUS,
        'upload-length': '10',
        authorization: basicAuthorization({ ...alice, credential: 'A'.repeat(43) }),
      },
    });
    expect(wrong.statusCode).toBe(401);
    const id = await upload(relay.app, alice, randomBytes(10));
    expect((await download(relay.app, id)).statusCode).toBe(200);
  });

  it('needs the uploading device login for HEAD and PATCH', async () => {
    relay = await startRelay();
    const alice = await register(relay.app);
    const created = await create(relay.app, alice, 10);
    const location = created.headers.location as string;
    const head = await relay.app.inject({ method: 'HEAD', url: location, headers: TUS });
    expect(head.statusCode).toBe(401);
    const patched = await relay.app.inject({
      method: 'PATCH',
      url: location,
      headers: { ...TUS, ...OCTETS, 'upload-offset': '0' },
      payload: randomBytes(10),
    });
    expect(patched.statusCode).toBe(401);
    expect(patched.json()).toMatchObject({ error: ErrorCode.Unauthorized });
  });

  it('lets a browser app on an allowed origin speak tus and read ranges (CORS)', async () => {
    const origin = 'https://chat.example.com';
    relay = await startRelay({ overrides: { corsOrigins: [origin] } });
    const alice = await register(relay.app);
    const preflight = await relay.app.inject({
      method: 'OPTIONS',
      url: `${ATTACHMENTS_PATH}/${'A'.repeat(22)}`,
      headers: {
        origin,
        'access-control-request-method': 'PATCH',
        'access-control-request-headers': 'authorization,tus-resumable,upload-offset,content-type',
      },
    });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe(origin);
    expect(preflight.headers['access-control-allow-methods']).toContain('PATCH');
    expect(preflight.headers['access-control-allow-headers']).toContain('upload-offset');
    const created = await relay.app.inject({
      method: 'POST',
      url: ATTACHMENTS_PATH,
      headers: { origin, ...alice.headers, ...TUS, 'upload-length': '10' },
    });
    expect(created.headers['access-control-allow-origin']).toBe(origin);
    const exposed = String(created.headers['access-control-expose-headers']).split(/, */);
    for (const header of ['location', 'upload-offset', 'tus-resumable', 'content-range'])
      expect(exposed).toContain(header);
    // Never tus's own permissive answer to other origins.
    const other = await relay.app.inject({
      method: 'POST',
      url: ATTACHMENTS_PATH,
      headers: { origin: 'https://evil.example', ...alice.headers, ...TUS, 'upload-length': '10' },
    });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('chooses random 128-bit ids itself and ignores any id a client suggests', async () => {
    relay = await startRelay();
    const alice = await register(relay.app);
    const ids = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const created = await relay.app.inject({
        method: 'POST',
        url: `${ATTACHMENTS_PATH}?id=chosen`,
        headers: { ...alice.headers, ...TUS, 'upload-length': '1' },
      });
      expect(created.statusCode).toBe(201);
      const id = (created.headers.location as string).split('/').pop() as string;
      expect(isAttachmentId(id)).toBe(true);
      ids.add(id);
    }
    expect(ids.size).toBe(20);
    // A guessed id is just unknown.
    expect((await download(relay.app, 'A'.repeat(22))).statusCode).toBe(404);
    expect((await download(relay.app, '..%2Frelay.db')).statusCode).toBe(400);
  });

  it('refuses metadata (it could be a file name) and deferred lengths', async () => {
    relay = await startRelay();
    const alice = await register(relay.app);
    for (const extra of [
      { 'upload-metadata': 'filename ' + Buffer.from('secret.pdf').toString('base64') },
      { 'upload-defer-length': '1' },
    ]) {
      const response = await relay.app.inject({
        method: 'POST',
        url: ATTACHMENTS_PATH,
        headers: { ...alice.headers, ...TUS, 'upload-length': '10', ...extra },
      });
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ error: ErrorCode.BadRequest });
    }
    expect((await relay.app.relay.store.attachments.usage(alice.accountId)).bytes).toBe(0);
  });

  it('serves ranges (206), and 416 for ranges outside the blob', async () => {
    relay = await startRelay();
    const alice = await register(relay.app);
    const bytes = randomBytes(1000);
    const id = await upload(relay.app, alice, bytes);
    const cases: [string, number, number][] = [
      ['bytes=0-99', 0, 99],
      ['bytes=900-', 900, 999],
      ['bytes=-10', 990, 999],
      ['bytes=500-5000', 500, 999],
    ];
    for (const [range, start, end] of cases) {
      const response = await download(relay.app, id, range);
      expect(response.statusCode).toBe(206);
      expect(response.headers['content-range']).toBe(`bytes ${start}-${end}/1000`);
      expect(response.headers['content-length']).toBe(String(end - start + 1));
      expect(response.headers['content-type']).toBe('application/octet-stream');
      expect(response.headers['content-disposition']).toBe('attachment');
      expect(Buffer.compare(response.rawPayload, bytes.subarray(start, end + 1))).toBe(0);
    }
    for (const range of ['bytes=1000-', 'bytes=5-2', 'bytes=0-1,5-6', 'items=0-1', 'bytes=-0']) {
      const response = await download(relay.app, id, range);
      expect(response.statusCode).toBe(416);
      expect(response.headers['content-range']).toBe('bytes */1000');
      expect(response.json()).toMatchObject({ error: ErrorCode.RangeNotSatisfiable });
    }
  });

  it('serves only complete uploads; HEAD and PATCH only to the uploading account', async () => {
    relay = await startRelay();
    const alice = await register(relay.app);
    const mallory = await register(relay.app);
    const bytes = randomBytes(2000);
    const created = await create(relay.app, alice, bytes.length);
    const location = created.headers.location as string;
    const id = location.split('/').pop() as string;
    expect((await patch(relay.app, alice, location, 0, bytes.subarray(0, 1000))).statusCode).toBe(
      204,
    );
    const incomplete = await download(relay.app, id);
    expect(incomplete.statusCode).toBe(404);
    expect(incomplete.json()).toMatchObject({ error: ErrorCode.NotFound });

    // Another account can neither learn the offset nor write.
    const head = (device: TestDevice) =>
      relay!.app.inject({ method: 'HEAD', url: location, headers: { ...device.headers, ...TUS } });
    expect((await head(mallory)).statusCode).toBe(404);
    expect((await patch(relay.app, mallory, location, 1000, bytes.subarray(1000))).statusCode).toBe(
      404,
    );
    const own = await head(alice);
    expect(own.statusCode).toBe(200);
    expect(own.headers['upload-offset']).toBe('1000');
    expect(own.headers['upload-length']).toBe('2000');
    // A PATCH at the wrong offset is refused (409), the right one completes it.
    expect((await patch(relay.app, alice, location, 0, bytes.subarray(1000))).statusCode).toBe(409);
    expect((await patch(relay.app, alice, location, 1000, bytes.subarray(1000))).statusCode).toBe(
      204,
    );
    expect(Buffer.compare((await download(relay.app, id)).rawPayload, bytes)).toBe(0);
  });

  it('keeps exactly the uploaded bytes in the blob folder, and no metadata', async () => {
    relay = await startRelay();
    const alice = await register(relay.app);
    const bytes = randomBytes(5000);
    const id = await upload(relay.app, alice, bytes, 2);
    const dir = blobDir(relay);
    expect(Buffer.compare(readFileSync(join(dir, id)), bytes)).toBe(0);
    // The upload state file holds the id and size: nothing a client chose.
    const state = JSON.parse(readFileSync(join(dir, `${id}.json`), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(state).toMatchObject({ id, size: 5000 });
    expect(state.metadata ?? {}).toEqual({});
  });

  it('resumes after the connection dropped mid-PATCH, from the offset the relay kept', async () => {
    relay = await startRelay();
    const alice = await register(relay.app);
    const { http } = await listen(relay.app);
    const bytes = randomBytes(256 * 1024);
    const created = await create(relay.app, alice, bytes.length);
    const location = created.headers.location as string;
    // Half the body, then the connection drops.
    await new Promise<void>((resolve) => {
      const request = httpRequest(new URL(location, http), {
        method: 'PATCH',
        headers: {
          ...alice.headers,
          ...TUS,
          ...OCTETS,
          'upload-offset': '0',
          'content-length': String(bytes.length),
        },
      });
      request.on('error', () => resolve());
      request.write(bytes.subarray(0, bytes.length / 2), () => {
        request.destroy();
        resolve();
      });
    });
    // The relay answers HEAD once the cut request let go of the upload.
    let offset = -1;
    await expect
      .poll(async () => {
        const head = await relay!.app.inject({
          method: 'HEAD',
          url: location,
          headers: { ...alice.headers, ...TUS },
        });
        offset = Number(head.headers['upload-offset']);
        return head.statusCode;
      })
      .toBe(200);
    expect(offset).toBeGreaterThanOrEqual(0);
    expect(offset).toBeLessThanOrEqual(bytes.length / 2);
    const rest = await patch(relay.app, alice, location, offset, bytes.subarray(offset));
    expect(rest.statusCode).toBe(204);
    const id = location.split('/').pop() as string;
    expect(Buffer.compare((await download(relay.app, id)).rawPayload, bytes)).toBe(0);
  });
});
