import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { Storage } from '@parley/client';
import { IndexedDbBackend } from '@parley/client/storage/indexeddb.js';
import { NotifyingBackend } from './notifying-backend.ts';

describe('NotifyingBackend', () => {
  it('tells of each commit once it is stored, and keeps reading ahead in one round trip', async () => {
    const inner = await IndexedDbBackend.open(`notifying-${crypto.randomUUID()}`);
    const batches: number[] = [];
    let many = 0;
    const getMany = inner.getMany.bind(inner);
    inner.getMany = (rows) => {
      many++;
      return getMany(rows);
    };
    const storage = new Storage(new NotifyingBackend(inner, () => batches.push(batches.length)));
    await storage.transaction(async (tx) => {
      await tx.put('contacts', 'bob', { name: 'Bob' });
      await tx.put('contacts', 'carol', { name: 'Carol' });
    });
    expect(batches).toEqual([0]);
    expect(await inner.get('contacts', 'bob')).toBeDefined(); // stored before being told

    const read = await storage.transaction(async (tx) => {
      await tx.prefetch!([
        ['contacts', 'bob'],
        ['contacts', 'carol'],
      ]);
      return [await tx.get('contacts', 'bob'), await tx.get('contacts', 'carol')];
    });
    expect(read).toEqual([{ name: 'Bob' }, { name: 'Carol' }]);
    expect(many).toBe(1);
    expect(batches).toEqual([0]); // reads commit nothing
    await storage.close();
  });
});
