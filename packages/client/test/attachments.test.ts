/**
 * Attachments in the client core against the in-memory relay, with an in-memory blob store
 * standing in for the relay's tus routes (the real transport and relay: test/attachments.test.ts).
 */
import { describe, expect, it } from 'vitest';
import {
  AttachmentIntegrityError,
  AttachmentUploadError,
  ParleyClient,
  type AttachmentTransport,
} from '@parley/client';
import { FakeRelay } from './support/fake-relay.ts';
import { DataMessageSchema, create } from '../src/content/index.ts';
import { attachmentsOf } from '../src/attachments/pointer.ts';

class MemoryBlobs {
  readonly blobs = new Map<string, Uint8Array>();
  /** Every upload attempt's bytes, in order. */
  readonly attempts: Uint8Array[] = [];
  failNext: { code: string; retryable: boolean } | undefined;
  transport(): AttachmentTransport {
    return {
      upload: async (ciphertext, options) => {
        this.attempts.push(ciphertext.slice());
        if (this.failNext) {
          const f = this.failNext;
          this.failNext = undefined;
          throw Object.assign(new Error(`upload failed: ${f.code}`), f);
        }
        options?.onProgress?.(ciphertext.length, ciphertext.length);
        const id = crypto.randomUUID();
        this.blobs.set(id, ciphertext.slice());
        return id;
      },
      download: async (id, options) => {
        const b = this.blobs.get(id);
        if (!b)
          throw Object.assign(new Error('not found'), { code: 'not_found', retryable: false });
        options?.onProgress?.(b.length, b.length);
        return b.slice();
      },
    };
  }
}

function file(size: number, seed = 3): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (i * 13 + seed) & 0xff;
  return out;
}

async function pair() {
  const relay = new FakeRelay();
  const blobs = new MemoryBlobs();
  const extra = { attachmentTransport: () => blobs.transport() };
  const alice = await relay.client('alice', extra);
  const bob = await relay.client('bob', extra);
  await alice.addContact('bob');
  return { relay, blobs, alice, bob };
}

const direct = (c: ParleyClient) => `direct:${c.accountId}`;

describe('attachments (client core)', () => {
  it('sends a file as a pointer in the message; the recipient downloads identical bytes', async () => {
    const { relay, blobs, alice, bob } = await pair();
    const bytes = file(70_000);
    const progress: number[] = [];
    alice.on('attachmentProgress', (p) => progress.push(p.done));
    const sent = await alice.sendAttachment(
      direct(bob),
      { bytes, fileName: '../../etc/report.pdf', contentType: 'application/pdf' },
      { caption: 'the report' },
    );
    expect(sent.status).toBe('sent');
    expect(sent.held).toBeUndefined();
    expect(sent.attachments?.[0]?.upload).toBe('uploaded');
    expect(progress.length).toBeGreaterThan(0);
    // The relay's blob is ciphertext, padded, not the file.
    const [blob] = [...blobs.blobs.values()];
    expect(blob!.length).toBeGreaterThan(bytes.length);
    expect(Buffer.from(blob!).includes(Buffer.from(bytes.subarray(0, 64)))).toBe(false);

    expect(await relay.deliver(bob)).toBe(1);
    const [got] = await bob.messages(direct(alice));
    expect(got!.text).toBe('the report');
    const a = got!.attachments![0]!;
    expect(a).toMatchObject({
      fileName: 'report.pdf', // no directories travel
      contentType: 'application/pdf',
      size: bytes.length,
      caption: 'the report',
    });
    expect(a.upload).toBeUndefined();
    const opened = await bob.downloadAttachment(direct(alice), got!.id);
    expect(Buffer.from(opened).equals(Buffer.from(bytes))).toBe(true);
    const [after] = await bob.messages(direct(alice));
    expect(after!.attachments![0]!.downloadedAt).toBeTypeOf('number');
  });

  it('a failed upload fails the message; retry uploads the same blob and sends once', async () => {
    const { relay, blobs, alice, bob } = await pair();
    blobs.failNext = { code: 'network', retryable: true };
    const bytes = file(5000);
    const error = await alice
      .sendAttachment(direct(bob), { bytes, fileName: 'a.bin', contentType: '' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AttachmentUploadError);
    expect((error as AttachmentUploadError).failure).toEqual({ code: 'network', retryable: true });
    const [failed] = await alice.messages(direct(bob));
    expect(failed!.status).toBe('failed');
    expect(failed!.failure).toEqual({ reason: 'upload_failed', retryable: true });
    expect(failed!.attachments![0]).toMatchObject({
      upload: 'failed',
      uploadFailure: { code: 'network' },
    });
    expect(await relay.deliver(bob)).toBe(0); // nothing went out

    const retried = await alice.retrySend(direct(bob), failed!.id);
    expect(retried.status).toBe('sent');
    // Encrypted once: both attempts carried the same bytes.
    expect(blobs.attempts.length).toBe(2);
    expect(Buffer.from(blobs.attempts[0]!).equals(Buffer.from(blobs.attempts[1]!))).toBe(true);
    // Sent once; a second retry is refused.
    await expect(alice.retrySend(direct(bob), failed!.id)).rejects.toMatchObject({
      code: 'not_retryable',
    });
    expect(await relay.deliver(bob)).toBe(1);
    const [got] = await bob.messages(direct(alice));
    expect(got!.attachments![0]!.contentType).toBe('application/octet-stream');
    const opened = await bob.downloadAttachment(direct(alice), got!.id);
    expect(Buffer.from(opened).equals(Buffer.from(bytes))).toBe(true);
  });

  it('an upload cut off by a restart fails for good instead of staying queued', async () => {
    const { relay, blobs, alice, bob } = await pair();
    blobs.failNext = { code: 'network', retryable: true };
    await expect(
      alice.sendAttachment(direct(bob), { bytes: file(100), fileName: 'x', contentType: '' }),
    ).rejects.toBeInstanceOf(AttachmentUploadError);
    // The same storage opened again, as after the app was closed: the blob is gone.
    const reopened = await ParleyClient.open(
      relay.options({ storage: alice.storage, attachmentTransport: () => blobs.transport() }),
    );
    const [m] = await reopened.messages(direct(bob));
    expect(m!.status).toBe('failed');
    expect(m!.failure).toEqual({ reason: 'upload_failed', retryable: false });
    expect(m!.attachments![0]!.uploadFailure).toEqual({ code: 'interrupted', retryable: false });
    await expect(reopened.retrySend(direct(bob), m!.id)).rejects.toMatchObject({
      code: 'not_retryable',
    });
    expect(blobs.attempts).toHaveLength(1);
    expect(await relay.deliver(bob)).toBe(0);
  });

  it('a cancelled upload fails with "cancelled" and can be retried', async () => {
    const { blobs, alice, bob } = await pair();
    const controller = new AbortController();
    controller.abort();
    blobs.failNext = { code: 'cancelled', retryable: true };
    await expect(
      alice.sendAttachment(
        direct(bob),
        { bytes: file(100), fileName: 'x', contentType: 'text/plain' },
        { signal: controller.signal },
      ),
    ).rejects.toMatchObject({ failure: { code: 'cancelled', retryable: true } });
    const [m] = await alice.messages(direct(bob));
    expect((await alice.retrySend(direct(bob), m!.id)).status).toBe('sent');
  });

  it('a tampered blob gives AttachmentIntegrityError and no bytes', async () => {
    const { relay, blobs, alice, bob } = await pair();
    await alice.sendAttachment(direct(bob), {
      bytes: file(3000),
      fileName: 'x.bin',
      contentType: 'application/octet-stream',
    });
    const [id, blob] = [...blobs.blobs.entries()][0]!;
    blob[blob.length - 40]! ^= 1;
    blobs.blobs.set(id, blob);
    await relay.deliver(bob);
    const [got] = await bob.messages(direct(alice));
    const err = await bob.downloadAttachment(direct(alice), got!.id).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AttachmentIntegrityError);
    expect((err as AttachmentIntegrityError).code).toBe('bad_digest');
    const [after] = await bob.messages(direct(alice));
    expect(after!.attachments![0]!.downloadedAt).toBeUndefined();
  });

  it('refuses files larger than the relay takes', async () => {
    const { alice, bob } = await pair();
    // Checked before any byte is read: a sparse array of the length is enough.
    const huge = new Uint8Array(100 * 1024 * 1024);
    await expect(
      alice.sendAttachment(direct(bob), { bytes: huge, fileName: 'big', contentType: '' }),
    ).rejects.toMatchObject({ code: 'too_large' });
    expect(await alice.messages(direct(bob))).toEqual([]);
  });
});

describe('received pointers', () => {
  const good = {
    relayId: 'abc',
    key: new Uint8Array(64),
    digest: new Uint8Array(32),
    size: 10n,
    contentType: 'image/png',
    fileName: 'a/b\\c.png',
    width: 4,
    height: 3,
  };
  it('keeps sound pointers and drops those that could never open a blob', () => {
    const data = create(DataMessageSchema, {
      attachments: [
        good,
        { ...good, key: new Uint8Array(32) },
        { ...good, digest: new Uint8Array(31) },
        { ...good, relayId: '' },
        { ...good, size: 1n << 40n },
        { ...good, width: 0, thumbnail: new Uint8Array(64 * 1024) },
      ],
    });
    const { attachments } = attachmentsOf(data);
    expect(attachments).toHaveLength(2);
    expect(attachments![0]).toMatchObject({ width: 4, height: 3, size: 10 });
    // No dimensions without both; an oversized thumbnail is dropped.
    expect(attachments![1]!.width).toBeUndefined();
    expect(attachments![1]!.thumbnail).toBeUndefined();
    expect(attachmentsOf(create(DataMessageSchema, { text: 'hi' }))).toEqual({});
  });
});
