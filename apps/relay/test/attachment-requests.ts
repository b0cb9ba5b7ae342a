/** Shared by the attachment route tests: tus requests through `inject`. */
import type { FastifyInstance, LightMyRequestResponse as InjectResponse } from 'fastify';
import { ATTACHMENTS_PATH } from '@parley/protocol';
import { expect } from 'vitest';
import { defaultAttachmentsDir } from '../src/config.ts';
import type { TestDevice, TestRelay } from './helpers.ts';

export const TUS = { 'tus-resumable': '1.0.0' };
export const OCTETS = { 'content-type': 'application/offset+octet-stream' };

export async function create(
  app: FastifyInstance,
  device: TestDevice,
  size: number,
): Promise<InjectResponse> {
  return app.inject({
    method: 'POST',
    url: ATTACHMENTS_PATH,
    headers: { ...device.headers, ...TUS, 'upload-length': String(size) },
  });
}

export async function patch(
  app: FastifyInstance,
  device: TestDevice,
  location: string,
  offset: number,
  bytes: Uint8Array,
): Promise<InjectResponse> {
  return app.inject({
    method: 'PATCH',
    url: location,
    headers: { ...device.headers, ...TUS, ...OCTETS, 'upload-offset': String(offset) },
    payload: Buffer.from(bytes),
  });
}

/** Creates and completes an upload in `parts` PATCHes; returns its id. */
export async function upload(
  app: FastifyInstance,
  device: TestDevice,
  bytes: Uint8Array,
  parts = 1,
) {
  const created = await create(app, device, bytes.length);
  expect(created.statusCode).toBe(201);
  const location = created.headers.location as string;
  const step = Math.ceil(bytes.length / parts);
  for (let offset = 0; offset < bytes.length; offset += step) {
    const response = await patch(
      app,
      device,
      location,
      offset,
      bytes.subarray(offset, offset + step),
    );
    expect(response.statusCode).toBe(204);
    expect(Number(response.headers['upload-offset'])).toBe(Math.min(offset + step, bytes.length));
  }
  return location.split('/').pop() as string;
}

export const download = (
  app: FastifyInstance,
  id: string,
  range?: string,
): Promise<InjectResponse> =>
  app.inject({
    method: 'GET',
    url: `${ATTACHMENTS_PATH}/${id}`,
    headers: range === undefined ? {} : { range },
  });

export const blobDir = (r: TestRelay) => defaultAttachmentsDir(r.config.dbPath);
