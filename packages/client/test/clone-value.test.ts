/** Transactions copy values in and out (`cloneValue`): deep, type-keeping, never shared. */
import { describe, expect, it } from 'vitest';
import { MemoryBackend, Storage } from '@parley/client';
import { cloneValue } from '../src/storage/codec.ts';

describe('cloneValue', () => {
  it('copies plain records deeply, bytes included', () => {
    const original = {
      name: 'alice',
      devices: [{ deviceId: 1, keys: new Uint8Array([1, 2, 3]) }],
      nested: { flag: true, none: null, count: 3 },
    };
    const copy = cloneValue(original);
    expect(copy).toEqual(original);
    copy.devices[0]!.keys[0] = 9;
    copy.devices.push({ deviceId: 2, keys: new Uint8Array() });
    copy.nested.count = 4;
    expect(original.devices).toHaveLength(1);
    expect([...original.devices[0]!.keys]).toEqual([1, 2, 3]);
    expect(original.nested.count).toBe(3);
    expect(copy.devices[0]!.keys).toBeInstanceOf(Uint8Array);
  });

  it('hands other objects to structuredClone (a Date stays a Date, a Map a Map)', () => {
    const when = new Date(1_700_000_000_000);
    const copy = cloneValue({ when, seen: new Map([['a', 1]]) });
    expect(copy.when).toBeInstanceOf(Date);
    expect(copy.when).not.toBe(when);
    expect(copy.when.getTime()).toBe(when.getTime());
    expect(copy.seen).toBeInstanceOf(Map);
    expect(copy.seen.get('a')).toBe(1);
  });

  it('keeps what a transaction stored apart from the caller’s object', async () => {
    const storage = new Storage(new MemoryBackend());
    const record = { text: 'hi', bytes: new Uint8Array([7]) };
    await storage.transaction(async (tx) => {
      await tx.put('meta', 'k', record);
      record.text = 'changed';
      record.bytes[0] = 0;
      const read = await tx.get<typeof record>('meta', 'k');
      expect(read).toEqual({ text: 'hi', bytes: new Uint8Array([7]) });
      read!.text = 'mutated';
      expect((await tx.get<typeof record>('meta', 'k'))!.text).toBe('hi');
    });
    expect(await storage.get('meta', 'k')).toEqual({ text: 'hi', bytes: new Uint8Array([7]) });
  });
});
