/** The in-memory backend: for tests, bots and ephemeral sessions. @module */
import { STORE_NAMES, type StorageBackend, type StoreName, type WriteOp } from './types.ts';

export class MemoryBackend implements StorageBackend {
  readonly #stores = new Map<StoreName, Map<string, Uint8Array>>(
    STORE_NAMES.map((n) => [n, new Map()]),
  );

  #store(name: StoreName): Map<string, Uint8Array> {
    const s = this.#stores.get(name);
    if (!s) throw new TypeError(`unknown store ${String(name)}`);
    return s;
  }

  async get(store: StoreName, key: string): Promise<Uint8Array | undefined> {
    return this.#store(store).get(key)?.slice();
  }

  async list(store: StoreName, prefix: string): Promise<Array<[string, Uint8Array]>> {
    return [...this.#store(store).entries()]
      .filter(([k]) => k.startsWith(prefix))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => [k, v.slice()]);
  }

  async commit(ops: WriteOp[]): Promise<void> {
    for (const op of ops) this.#store(op.store); // validate all before applying any
    for (const op of ops) {
      if (op.value === undefined) this.#store(op.store).delete(op.key);
      else this.#store(op.store).set(op.key, op.value.slice());
    }
  }

  async close(): Promise<void> {}
}
