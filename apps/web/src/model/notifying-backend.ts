/**
 * The web app's storage backend: IndexedDB, reporting every committed write batch (after it is
 * durable) so other tabs can re-read. Everything else the inner backend offers is passed on
 * as it is: `getMany` above all, which lets a catch-up read a batch's rows in one IndexedDB
 * round trip (without it every row is a transaction of its own).
 * @module
 */
import type { StorageBackend, StoreName, WriteOp } from '@parley/client/storage.js';

export class NotifyingBackend implements StorageBackend {
  readonly getMany?: StorageBackend['getMany'];
  readonly sealer?: StorageBackend['sealer'];

  constructor(
    private readonly inner: StorageBackend,
    private readonly onCommit: () => void,
  ) {
    if (inner.getMany) this.getMany = inner.getMany.bind(inner);
    if (inner.sealer) this.sealer = inner.sealer.bind(inner);
    // No `dataVersion`: other tabs commit to the same database, so no rows may be kept
    // between transactions (storage/row-cache.ts in @parley/client).
  }

  get(store: StoreName, key: string): Promise<Uint8Array | undefined> {
    return this.inner.get(store, key);
  }

  list(store: StoreName, prefix: string): Promise<Array<[string, Uint8Array]>> {
    return this.inner.list(store, prefix);
  }

  async commit(ops: WriteOp[]): Promise<void> {
    await this.inner.commit(ops);
    this.onCommit();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
