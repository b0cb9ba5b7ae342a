/** The storage contract: every backend, with and without encryption, must pass it. */
import { describe, expect, it } from 'vitest';
import { Storage, type StorageBackend } from '../../src/storage/index.ts';

export interface BackendFactory {
  /** A fresh, empty backend. */
  create(): Promise<StorageBackend>;
}

export function storageContract(
  name: string,
  factory: BackendFactory,
  key?: () => Promise<CryptoKey>,
) {
  const make = async () => new Storage(await factory.create(), key ? { key: await key() } : {});

  describe(`storage contract: ${name}`, () => {
    it('[S1] round-trips JSON-like values with bytes anywhere', async () => {
      const s = await make();
      const value = {
        a: 1,
        b: 'two',
        c: [true, null, new Uint8Array([1, 2, 3])],
        d: { nested: new Uint8Array(0), $b: 'literal' },
      };
      await s.put('meta', 'x', value);
      expect(await s.get('meta', 'x')).toEqual(value);
      expect(await s.get('meta', 'missing')).toBeUndefined();
      await s.close();
    });

    it('[S2] keyspaces are separate', async () => {
      const s = await make();
      await s.put('sessions', 'k', 'session');
      await s.put('messages', 'k', 'message');
      expect(await s.get('sessions', 'k')).toBe('session');
      expect(await s.get('messages', 'k')).toBe('message');
      await s.delete('sessions', 'k');
      expect(await s.get('sessions', 'k')).toBeUndefined();
      expect(await s.get('messages', 'k')).toBe('message');
      await s.close();
    });

    it('[S3] list returns a prefix in key order', async () => {
      const s = await make();
      for (const k of ['c/3', 'a/1', 'c/1', 'b/9', 'c/2', 'cc/0']) await s.put('messages', k, k);
      expect((await s.list('messages', 'c/')).map(([k]) => k)).toEqual(['c/1', 'c/2', 'c/3']);
      expect((await s.list('messages')).map(([k]) => k)).toEqual([
        'a/1',
        'b/9',
        'c/1',
        'c/2',
        'c/3',
        'cc/0',
      ]);
      await s.close();
    });

    it('[S4] a transaction commits all its writes together and sees its own writes', async () => {
      const s = await make();
      await s.put('sessions', 'old', 1);
      await s.transaction(async (tx) => {
        await tx.put('sessions', 'alice.1', { state: 2 });
        await tx.put('messages', 'conv/1', 'hello');
        await tx.delete('sessions', 'old');
        expect(await tx.get('sessions', 'alice.1')).toEqual({ state: 2 });
        expect(await tx.get('sessions', 'old')).toBeUndefined();
        expect((await tx.list('messages', 'conv/')).length).toBe(1);
        // Not visible outside before commit.
        expect(await s.get('messages', 'conv/1')).toBeUndefined();
      });
      expect(await s.get('sessions', 'alice.1')).toEqual({ state: 2 });
      expect(await s.get('messages', 'conv/1')).toBe('hello');
      expect(await s.get('sessions', 'old')).toBeUndefined();
      await s.close();
    });

    it('[S5] a failed transaction writes nothing', async () => {
      const s = await make();
      await s.put('sessions', 'alice.1', 'before');
      await expect(
        s.transaction(async (tx) => {
          await tx.put('sessions', 'alice.1', 'after');
          await tx.put('messages', 'conv/1', 'hello');
          throw new Error('crash between the two writes');
        }),
      ).rejects.toThrow('crash');
      expect(await s.get('sessions', 'alice.1')).toBe('before');
      expect(await s.get('messages', 'conv/1')).toBeUndefined();
      await s.close();
    });

    it('[S6] transactions are serialised', async () => {
      const s = await make();
      await s.put('meta', 'counter', 0);
      await Promise.all(
        Array.from({ length: 20 }, () =>
          s.transaction(async (tx) => {
            const n = (await tx.get<number>('meta', 'counter')) ?? 0;
            await new Promise((r) => setTimeout(r, 0));
            await tx.put('meta', 'counter', n + 1);
          }),
        ),
      );
      expect(await s.get('meta', 'counter')).toBe(20);
      await s.close();
    });

    it('[S7] values are copies, not shared references', async () => {
      const s = await make();
      const v = { list: [1, 2] };
      await s.put('contacts', 'a', v);
      v.list.push(3);
      const got = await s.get<{ list: number[] }>('contacts', 'a');
      expect(got).toEqual({ list: [1, 2] });
      got!.list.push(4);
      expect(await s.get('contacts', 'a')).toEqual({ list: [1, 2] });
      await s.close();
    });

    it('[S8] handles non-ASCII keys and large values', async () => {
      const s = await make();
      const big = new Uint8Array(256 * 1024).map((_, i) => i & 0xff);
      await s.put('messages', 'ünïcødé/😀', big);
      const got = await s.get<Uint8Array>('messages', 'ünïcødé/😀');
      expect(got).toBeInstanceOf(Uint8Array);
      expect(Buffer.compare(got!, big)).toBe(0);
      expect((await s.list('messages', 'ünïcødé/')).length).toBe(1);
      await s.close();
    });
  });
}
