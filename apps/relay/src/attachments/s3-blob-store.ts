/**
 * Attachments in an S3-compatible bucket (`@tus/s3-store` with `@aws-sdk/client-s3`), so every
 * relay node reads and writes the same blobs without a shared disk. An upload is an S3 multipart
 * upload (`<id>`), with its tus state in `<id>.info` and a not-yet-full part in `<id>.part`;
 * downloads are ranged `GetObject`s.
 * @module
 */
import type { Readable } from 'node:stream';
import { S3, type S3ClientConfig } from '@aws-sdk/client-s3';
import { S3Store } from '@tus/s3-store';
import type { S3Config } from '../config.ts';
import type { BlobStore } from './blob-store.ts';

/** S3 requires parts of at least 5 MiB (but the last). */
const PART_BYTES = 8 * 1024 * 1024;

export function s3ClientConfig(config: S3Config): S3ClientConfig {
  return {
    region: config.region,
    credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey },
    forcePathStyle: config.forcePathStyle,
    ...(config.endpoint === undefined ? {} : { endpoint: config.endpoint }),
    // Checksums only where S3 requires them: the SDK's default (streaming trailers with
    // `aws-chunked` bodies) is not understood by many S3-compatible servers.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
}

export class S3BlobStore implements BlobStore {
  readonly datastore: S3Store;
  readonly #client: S3;
  readonly #bucket: string;

  constructor(config: S3Config) {
    const clientConfig = s3ClientConfig(config);
    this.datastore = new S3Store({
      partSize: PART_BYTES,
      s3ClientConfig: { ...clientConfig, bucket: config.bucket },
    });
    this.#client = new S3(clientConfig);
    this.#bucket = config.bucket;
  }

  async read(id: string, start: number, end: number): Promise<Readable> {
    const object = await this.#client.getObject({
      Bucket: this.#bucket,
      Key: id,
      Range: `bytes=${start}-${end}`,
    });
    return object.Body as Readable;
  }

  async remove(id: string): Promise<void> {
    // An unfinished multipart upload holds parts that deleting objects would not free.
    const info = await this.#client
      .headObject({ Bucket: this.#bucket, Key: `${id}.info` })
      .catch(() => undefined);
    const uploadId = info?.Metadata?.['upload-id'];
    if (uploadId !== undefined) {
      await this.#client
        .abortMultipartUpload({ Bucket: this.#bucket, Key: id, UploadId: uploadId })
        .catch(() => undefined); // already completed or aborted
    }
    await this.#client.deleteObjects({
      Bucket: this.#bucket,
      Delete: { Objects: [{ Key: id }, { Key: `${id}.info` }, { Key: `${id}.part` }], Quiet: true },
    });
  }

  async close(): Promise<void> {
    this.#client.destroy();
  }
}
