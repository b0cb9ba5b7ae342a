/**
 * Attachment limits and hygiene: the size cap, the per-account upload rate and storage quota
 * (the abuser is stopped, others still upload), deleting an upload, expiry by the retention
 * sweep and deletion with the account.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { ErrorCode } from '@parley/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultConfig } from '../src/config.ts';
import { blobDir, create, download, patch, TUS, upload } from './attachment-requests.ts';
import { register, startRelay, type TestDevice, type TestRelay } from './helpers.ts';

let relay: TestRelay | undefined;
afterEach(async () => {
  await relay?.destroy();
  relay = undefined;
});

describe('attachment limits and expiry (filesystem store)', () => {
  it('refuses uploads over the size cap with 413', async () => {
    relay = await startRelay({
      overrides: { attachments: { ...defaultConfig().attachments, maxBytes: 1000 } },
    });
    const alice = await register(relay.app);
    const response = await create(relay.app, alice, 1001);
    expect(response.statusCode).toBe(413);
    expect(response.json()).toMatchObject({ error: ErrorCode.PayloadTooLarge });
    expect((await create(relay.app, alice, 1000)).statusCode).toBe(201);
    // More bytes than declared are refused too.
    const created = await create(relay.app, alice, 10);
    const tooMany = await patch(
      relay.app,
      alice,
      created.headers.location as string,
      0,
      randomBytes(11),
    );
    expect(tooMany.statusCode).toBe(413);
  });

  it('stops an account at its quota (429) while others still upload', async () => {
    relay = await startRelay({
      overrides: {
        attachments: { ...defaultConfig().attachments, maxBytes: 1000, quotaBytesPerAccount: 2500 },
      },
    });
    const abuser = await register(relay.app);
    const victim = await register(relay.app);
    await upload(relay.app, abuser, randomBytes(1000));
    await upload(relay.app, abuser, randomBytes(1000));
    const over = await create(relay.app, abuser, 1000);
    expect(over.statusCode).toBe(429);
    expect(over.json()).toMatchObject({ error: ErrorCode.AttachmentQuotaExceeded });
    // Space frees when the oldest attachment expires: the retention from its upload.
    expect(Number(over.headers['retry-after'])).toBe(relay.config.retentionMs / 1000);
    // What still fits is allowed.
    expect((await create(relay.app, abuser, 500)).statusCode).toBe(201);
    await upload(relay.app, victim, randomBytes(1000));
    await upload(relay.app, victim, randomBytes(1000));
  });

  it('lets the uploader delete an upload (tus termination), freeing its quota at once', async () => {
    relay = await startRelay({
      overrides: {
        attachments: { ...defaultConfig().attachments, maxBytes: 1000, quotaBytesPerAccount: 1000 },
      },
    });
    const alice = await register(relay.app);
    const mallory = await register(relay.app);
    const created = await create(relay.app, alice, 1000);
    const location = created.headers.location as string;
    await patch(relay.app, alice, location, 0, randomBytes(400));
    expect((await create(relay.app, alice, 1000)).statusCode).toBe(429);
    const remove = (device: TestDevice) =>
      relay!.app.inject({
        method: 'DELETE',
        url: location,
        headers: { ...device.headers, ...TUS },
      });
    expect((await remove(mallory)).statusCode).toBe(404);
    const removed = await remove(alice);
    expect(removed.statusCode).toBe(204);
    expect(removed.headers['tus-resumable']).toBe('1.0.0');
    expect(readdirSync(blobDir(relay))).toEqual([]);
    expect((await remove(alice)).statusCode).toBe(404);
    expect((await create(relay.app, alice, 1000)).statusCode).toBe(201);
  });

  it('rate-limits upload creation per account (429) while others still upload', async () => {
    relay = await startRelay({
      overrides: {
        attachments: {
          ...defaultConfig().attachments,
          uploadRate: { max: 3, windowMs: 3_600_000 },
        },
      },
    });
    const abuser = await register(relay.app);
    const victim = await register(relay.app);
    for (let i = 0; i < 3; i++) expect((await create(relay.app, abuser, 10)).statusCode).toBe(201);
    const limited = await create(relay.app, abuser, 10);
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toMatchObject({ error: ErrorCode.RateLimited });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    await upload(relay.app, victim, randomBytes(100));
  });

  it('expires blobs after the retention and stale uploads after a day; the sweep deletes them', async () => {
    relay = await startRelay();
    const alice = await register(relay.app);
    const complete = await upload(relay.app, alice, randomBytes(100));
    const stale = await create(relay.app, alice, 100);
    const staleId = (stale.headers.location as string).split('/').pop() as string;
    const dir = blobDir(relay);
    expect(readdirSync(dir).sort()).toEqual(
      [complete, `${complete}.json`, staleId, `${staleId}.json`].sort(),
    );

    relay.clock.advance(relay.config.attachments.incompleteTtlMs + 1);
    expect((await relay.app.relay.sweep()).attachments).toBe(1);
    expect(readdirSync(dir).sort()).toEqual([complete, `${complete}.json`].sort());
    expect((await download(relay.app, complete)).statusCode).toBe(200);

    relay.clock.advance(relay.config.retentionMs);
    // Unservable at once, deleted by the next sweep.
    expect((await download(relay.app, complete)).statusCode).toBe(404);
    expect((await relay.app.relay.sweep()).attachments).toBe(1);
    expect(readdirSync(dir)).toEqual([]);
    expect((await relay.app.relay.store.attachments.usage(alice.accountId)).bytes).toBe(0);
  });

  it('deletes the blobs with the account', async () => {
    relay = await startRelay();
    const alice = await register(relay.app);
    const bob = await register(relay.app);
    const alices = [
      await upload(relay.app, alice, randomBytes(100)),
      await upload(relay.app, alice, randomBytes(100)),
    ];
    const bobs = await upload(relay.app, bob, randomBytes(100));
    const deleted = await relay.app.inject({
      method: 'DELETE',
      url: '/v1/accounts/me',
      headers: alice.headers,
    });
    expect(deleted.statusCode).toBe(204);
    for (const id of alices) expect((await download(relay.app, id)).statusCode).toBe(404);
    expect(readdirSync(blobDir(relay)).sort()).toEqual([bobs, `${bobs}.json`].sort());
    expect((await download(relay.app, bobs)).statusCode).toBe(200);
  });
});
