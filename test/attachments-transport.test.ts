/**
 * The client's attachment transport against a real relay process: tus upload with progress,
 * ranged download, resume after a dropped connection (a proxy that cuts one connection
 * mid-transfer), and cancellation.
 */
import { randomBytes } from 'node:crypto';
import {
  AttachmentTransferError,
  ParleyClient,
  createAttachmentTransport,
  type AttachmentTransport,
} from '@parley/client';
import { RelayHttp } from '@parley/client/relay.js';
import type { DeviceLogin } from '@parley/protocol';
import { beforeAll, describe, expect, it } from 'vitest';
import { clientOptions, newStorage } from './support/clients.ts';
import { startCuttingProxy } from './support/cutting-proxy.ts';
import { useRelay } from './support/use-relay.ts';

const MiB = 1024 * 1024;
const { relay } = useRelay();

let login: DeviceLogin;
beforeAll(async () => {
  const client = await ParleyClient.open(clientOptions(relay.url, await newStorage()));
  await client.register(`attach_${process.pid}`);
  const account = client.account!;
  login = {
    accountId: account.accountId,
    deviceId: account.deviceId,
    credential: account.credential,
  };
  await client.stop();
});

const transportVia = (url: string): AttachmentTransport =>
  createAttachmentTransport({ http: new RelayHttp(url, login), options: {} });

async function rejection(promise: Promise<unknown>): Promise<AttachmentTransferError> {
  const error = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(AttachmentTransferError);
  return error as AttachmentTransferError;
}

describe('attachment transport', () => {
  it('uploads 3 MiB with progress and downloads it back in ranges', async () => {
    const transport = transportVia(relay.url);
    const bytes = new Uint8Array(randomBytes(3 * MiB));
    const uploaded: number[] = [];
    const id = await transport.upload(bytes, { onProgress: (done) => uploaded.push(done) });
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(uploaded.at(-1)).toBe(bytes.length);
    expect(uploaded).toEqual([...uploaded].sort((a, b) => a - b));

    const downloaded: [number, number][] = [];
    const copy = await transport.download(id, {
      onProgress: (done, total) => downloaded.push([done, total]),
    });
    expect(Buffer.compare(copy, bytes)).toBe(0);
    // Several 1 MiB ranges, each reported.
    expect(downloaded).toEqual([
      [MiB, 3 * MiB],
      [2 * MiB, 3 * MiB],
      [3 * MiB, 3 * MiB],
    ]);
  });

  it('resumes an upload after its connection is dropped mid-way (one POST, then HEAD + PATCH)', async () => {
    const proxy = await startCuttingProxy(relay.port, { direction: 'up', afterBytes: MiB });
    try {
      const bytes = new Uint8Array(randomBytes(3 * MiB));
      const id = await transportVia(proxy.url).upload(bytes);
      expect(proxy.cuts).toBe(1);
      expect(proxy.methods.filter((m) => m === 'POST')).toHaveLength(1);
      expect(proxy.methods).toContain('HEAD');
      const copy = await transportVia(relay.url).download(id);
      expect(Buffer.compare(copy, bytes)).toBe(0);
    } finally {
      await proxy.close();
    }
  });

  it('resumes a download after its connection is dropped mid-range', async () => {
    const bytes = new Uint8Array(randomBytes(3 * MiB));
    const id = await transportVia(relay.url).upload(bytes);
    const proxy = await startCuttingProxy(relay.port, {
      direction: 'down',
      afterBytes: MiB + MiB / 2,
    });
    try {
      const copy = await transportVia(proxy.url).download(id);
      expect(proxy.cuts).toBe(1);
      expect(Buffer.compare(copy, bytes)).toBe(0);
    } finally {
      await proxy.close();
    }
  });

  it('cancels an upload (deleting it on the relay) and a download with a typed error', async () => {
    // A proxy that never cuts: it only shows what the transport sends.
    const proxy = await startCuttingProxy(relay.port, { direction: 'up', afterBytes: Infinity });
    const transport = transportVia(proxy.url);
    const upload = new AbortController();
    const uploadError = await rejection(
      transport.upload(new Uint8Array(randomBytes(3 * MiB)), {
        signal: upload.signal,
        onProgress: (done) => {
          if (done > 0) upload.abort();
        },
      }),
    );
    expect(uploadError.code).toBe('cancelled');
    // The cancelled upload is terminated, so it stops counting against the account's quota.
    await expect.poll(() => proxy.methods.includes('DELETE')).toBe(true);
    await proxy.close();

    const direct = transportVia(relay.url);
    const id = await direct.upload(new Uint8Array(randomBytes(3 * MiB)));
    const download = new AbortController();
    const downloadError = await rejection(
      direct.download(id, {
        signal: download.signal,
        onProgress: () => download.abort(),
      }),
    );
    expect(downloadError.code).toBe('cancelled');
  });

  it('reports an unknown id as not_found (not retryable)', async () => {
    const error = await rejection(transportVia(relay.url).download('A'.repeat(22)));
    expect(error.code).toBe('not_found');
    expect(error.retryable).toBe(false);
  });
});
