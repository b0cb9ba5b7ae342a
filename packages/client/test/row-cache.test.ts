/**
 * Rows kept decoded between transactions (storage/row-cache.ts), on SQLite: what another
 * connection commits is seen, a read that raced a commit leaves nothing stale, what a caller
 * gets is its own copy, and a failed commit caches nothing. The storage contract
 * (storage.test.ts) runs over the cache too.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateAtRestKey, Storage } from '../src/storage/index.ts';
import { SqliteBackend } from '../src/storage/sqlite.ts';
import type { StorageBackend } from '../src/storage/types.ts';

const dir = mkdtempSync(join(tmpdir(), 'parley-row-cache-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = () => join(dir, `db-${n++}.sqlite`);

/** `backend`, with its reads held until `release()` and its commits failing while `failing`. */
function controlled(backend: SqliteBackend) {
  let held: Array<() => void> | undefined;
  const control = {
    failing: false,
    hold: () => void (held = []),
    release: () => {
      const waiting = held ?? [];
      held = undefined;
      for (const go of waiting) go();
    },
  };
  const wrapped: StorageBackend = {
    get: async (store, key) => {
      const bytes = await backend.get(store, key);
      if (held) await new Promise<void>((go) => held!.push(go));
      return bytes;
    },
    list: (store, prefix) => backend.list(store, prefix),
    commit: async (ops) => {
      if (control.failing) throw new Error('disk full');
      return backend.commit(ops);
    },
    close: () => backend.close(),
    dataVersion: () => backend.dataVersion(),
    sealer: (key) => backend.sealer(key),
  };
  return { wrapped, control };
}

describe('row cache (SQLite)', () => {
  it("sees another connection's commits, in and out of transactions", async () => {
    const path = file();
    const key = await generateAtRestKey();
    const a = new Storage(new SqliteBackend(path), { key });
    const b = new Storage(new SqliteBackend(path), { key });
    await a.put('contacts', 'bob', { name: 'Bob' });
    expect(await a.get('contacts', 'bob')).toEqual({ name: 'Bob' }); // cached now
    await b.put('contacts', 'bob', { name: 'Robert' });
    expect(await a.get('contacts', 'bob')).toEqual({ name: 'Robert' });
    await b.delete('contacts', 'bob');
    expect(await a.transaction((tx) => tx.get('contacts', 'bob'))).toBeUndefined();
    await a.close();
    await b.close();
  });

  it('our own commits update and drop the rows they wrote', async () => {
    const s = new Storage(new SqliteBackend(file()));
    await s.put('sessions', 'bob.1', new Uint8Array([1]));
    expect(await s.get('sessions', 'bob.1')).toEqual(new Uint8Array([1])); // cached now
    await s.transaction((tx) => tx.put('sessions', 'bob.1', new Uint8Array([2])));
    expect(await s.get('sessions', 'bob.1')).toEqual(new Uint8Array([2]));
    expect(await s.transaction((tx) => tx.get('sessions', 'bob.1'))).toEqual(new Uint8Array([2]));
    await s.delete('sessions', 'bob.1');
    expect(await s.get('sessions', 'bob.1')).toBeUndefined();
    await s.close();
  });

  it('a read begun before a commit does not leave the old value cached', async () => {
    const path = file();
    const { wrapped, control } = controlled(new SqliteBackend(path));
    const s = new Storage(wrapped);
    // Written by another connection: not in this one's cache, so the read goes to SQLite.
    const other = new Storage(new SqliteBackend(path));
    await other.put('meta', 'seq', 1);
    await other.close();
    control.hold();
    const early = s.get('meta', 'seq'); // reads 1, then waits
    await s.put('meta', 'seq', 2);
    control.release();
    expect(await early).toBe(1);
    expect(await s.get('meta', 'seq')).toBe(2);
    expect(await s.transaction((tx) => tx.get('meta', 'seq'))).toBe(2);
    await s.close();
  });

  it('hands out copies: changing what was read changes nothing stored', async () => {
    const s = new Storage(new SqliteBackend(file()));
    await s.put('contacts', 'bob', { name: 'Bob', devices: { '1': 7 } });
    const read = await s.get<{ name: string; devices: Record<string, number> }>('contacts', 'bob');
    read!.name = 'Mallory';
    read!.devices['2'] = 9;
    const inTx = await s.transaction((tx) =>
      tx.get<{ name: string; devices: Record<string, number> }>('contacts', 'bob'),
    );
    inTx!.devices['3'] = 1;
    expect(await s.get('contacts', 'bob')).toEqual({ name: 'Bob', devices: { '1': 7 } });
    await s.close();
  });

  it('a failed commit caches nothing it wrote', async () => {
    const { wrapped, control } = controlled(new SqliteBackend(file()));
    const s = new Storage(wrapped);
    await s.put('contacts', 'bob', { name: 'Bob' });
    control.failing = true;
    await expect(
      s.transaction(async (tx) => {
        await tx.put('contacts', 'bob', { name: 'Robert' });
        await tx.put('contacts', 'carol', { name: 'Carol' });
      }),
    ).rejects.toThrow('disk full');
    control.failing = false;
    expect(await s.get('contacts', 'bob')).toEqual({ name: 'Bob' });
    expect(await s.get('contacts', 'carol')).toBeUndefined();
    await s.close();
  });
});
