/**
 * Where attachment bytes live. A `BlobStore` pairs the tus `DataStore` that receives uploads with
 * what tus leaves out: ranged reads for downloads and removal of any blob, finished or not.
 *
 * - `FileBlobStore`: `@tus/file-store` in a local folder (the default, one relay node).
 * - `S3BlobStore` (`s3-blob-store.ts`): `@tus/s3-store` on an S3-compatible bucket shared by
 *   every relay node.
 * @module
 */
import { createReadStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { FileStore } from '@tus/file-store';
import type { DataStore } from '@tus/utils';

export interface BlobStore {
  /** Receives tus uploads (creation, offset, append). */
  readonly datastore: DataStore;
  /** Bytes `start..end` (inclusive) of a complete blob. */
  read(id: string, start: number, end: number): Promise<Readable>;
  /** Deletes the blob and whatever the upload left beside it; a missing blob is no error. */
  remove(id: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * `@tus/file-store` without its constructor's unawaited `mkdir`, whose callback throws (an
 * uncaught exception: the whole relay down) if the folder is gone by then. `FileBlobStore.open`
 * creates the folder, awaited, before the store exists.
 */
class FolderStore extends FileStore {}
Object.defineProperty(FolderStore.prototype, 'checkOrCreateDirectory', { value: () => undefined });

/** `@tus/file-store`: the blob `<dir>/<id>` with its upload state in `<dir>/<id>.json`. */
export class FileBlobStore implements BlobStore {
  readonly datastore: FileStore;
  readonly #dir: string;

  private constructor(dir: string) {
    this.#dir = dir;
    this.datastore = new FolderStore({ directory: dir });
  }

  static async open(dir: string): Promise<FileBlobStore> {
    // The folder comes from the operator's configuration.
    // eslint-disable-next-line security/detect-non-literal-fs-filename
    await mkdir(dir, { recursive: true, mode: 0o700 });
    return new FileBlobStore(dir);
  }

  // Ids reaching these methods matched ATTACHMENT_ID_PATTERN (no path separators).
  /* eslint-disable security/detect-non-literal-fs-filename */
  async read(id: string, start: number, end: number): Promise<Readable> {
    const stream = createReadStream(join(this.#dir, id), { start, end });
    // Surface a missing file as a rejection here, not as a broken response later.
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => resolve());
      stream.once('error', reject);
    });
    return stream;
  }

  async remove(id: string): Promise<void> {
    await rm(join(this.#dir, id), { force: true });
    await rm(join(this.#dir, `${id}.json`), { force: true });
  }
  /* eslint-enable security/detect-non-literal-fs-filename */

  async close(): Promise<void> {}
}
