/**
 * What the steady chat asks of storage and the relay, counted (`BENCH_COUNT=1`): a storage
 * backend and a fetch that pass everything through and count it, so the bench can print reads,
 * commits, rows and bytes written and HTTP requests per message. Counts, not timings: the same
 * on any machine for the same code.
 * @module
 */
import type { FetchLike } from '../../packages/client/src/relay/http.ts';
import type {
  StorageBackend,
  StoreName,
  WriteOp,
} from '../../packages/client/src/storage/types.ts';

/** Running totals, keyed by what was counted (`read:sessions`, `commit`, `http:PUT`, …). */
export class Counts {
  readonly #n = new Map<string, number>();
  add(what: string, by = 1): void {
    this.#n.set(what, (this.#n.get(what) ?? 0) + by);
  }
  snapshot(): Map<string, number> {
    return new Map(this.#n);
  }
  /** Per `per` units since `before`, as `name value` lines, largest first. */
  since(before: Map<string, number>, per: number): string[] {
    return [...this.#n]
      .map(([k, v]) => [k, (v - (before.get(k) ?? 0)) / per] as const)
      .filter(([, v]) => v > 0)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k} ${v.toFixed(2)}`);
  }
}

/** `backend`, with every read, list and commit counted in `counts`. */
export function countingBackend(backend: StorageBackend, counts: Counts): StorageBackend {
  const counted: StorageBackend = {
    get(store: StoreName, key: string) {
      counts.add(`read:${store}`);
      return backend.get(store, key);
    },
    list(store: StoreName, prefix: string) {
      counts.add(`list:${store}`);
      return backend.list(store, prefix);
    },
    commit(ops: WriteOp[]) {
      counts.add('commit');
      for (const op of ops) {
        counts.add(`write:${op.store}`);
        counts.add('bytes written', op.value?.length ?? 0);
      }
      return backend.commit(ops);
    },
    close: () => backend.close(),
  };
  if (backend.getMany) {
    const many = backend.getMany.bind(backend);
    counted.getMany = (rows) => {
      for (const [store] of rows) counts.add(`read:${store}`);
      return many(rows);
    };
  }
  if (backend.sealer) counted.sealer = backend.sealer.bind(backend);
  if (backend.dataVersion) counted.dataVersion = backend.dataVersion.bind(backend);
  return counted;
}

/** `fetch`, with every request counted by method in `counts`. */
export function countingFetch(fetch: FetchLike, counts: Counts): FetchLike {
  return (input, init) => {
    counts.add(`http:${init?.method ?? 'GET'}`);
    return fetch(input, init);
  };
}
