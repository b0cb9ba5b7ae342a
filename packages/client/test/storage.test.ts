import 'fake-indexeddb/auto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  MemoryBackend,
  Storage,
  StorageCryptoError,
  generateAtRestKey,
  importAtRestKey,
  keyFromPassphrase,
} from '../src/storage/index.ts';
import { IndexedDbBackend, openOrCreateDeviceKey } from '../src/storage/indexeddb.ts';
import { SqliteBackend } from '../src/storage/sqlite.ts';
import { storageContract } from './support/storage-contract.ts';

const dir = mkdtempSync(join(tmpdir(), 'parley-storage-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

const backends = {
  memory: { create: async () => new MemoryBackend() },
  sqlite: { create: async () => new SqliteBackend(join(dir, `db-${n++}.sqlite`)) },
  indexeddb: { create: async () => IndexedDbBackend.open(`parley-test-${n++}`) },
};

for (const [name, factory] of Object.entries(backends)) {
  storageContract(name, factory);
  storageContract(`${name} + encryption at rest`, factory, generateAtRestKey);
}

describe('SQLite backend', () => {
  it('persists across reopen, in WAL mode', async () => {
    const path = join(dir, 'persist.sqlite');
    const key = await importAtRestKey(new Uint8Array(32).fill(7));
    const a = new Storage(new SqliteBackend(path), { key });
    await a.put('messages', 'conv/1', { text: 'kept' });
    await a.close();
    const b = new Storage(new SqliteBackend(path), { key });
    expect(await b.get('messages', 'conv/1')).toEqual({ text: 'kept' });
    await b.close();
    expect(readFileSync(path).subarray(18, 20)).toEqual(Buffer.from([2, 2])); // WAL format
  });

  it('stores nothing readable when encrypted, and a wrong key cannot read it', async () => {
    const path = join(dir, 'secret.sqlite');
    const s = new Storage(new SqliteBackend(path), {
      key: await importAtRestKey(new Uint8Array(32).fill(1)),
    });
    await s.put('meta', 'identity', { secret: 'TOP-SECRET-IDENTITY' });
    await s.close();
    const raw = new SqliteBackend(path);
    const bytes = await raw.get('meta', 'identity');
    await raw.close();
    expect(Buffer.from(bytes!).includes('TOP-SECRET')).toBe(false);
    const wrong = new Storage(new SqliteBackend(path), {
      key: await importAtRestKey(new Uint8Array(32).fill(2)),
    });
    await expect(wrong.get('meta', 'identity')).rejects.toBeInstanceOf(StorageCryptoError);
    await wrong.close();
  });

  it('binds a sealed value to its row', async () => {
    const backend = new MemoryBackend();
    const s = new Storage(backend, { key: await generateAtRestKey() });
    await s.put('sessions', 'alice.1', 'a');
    const sealed = await backend.get('sessions', 'alice.1');
    await backend.commit([{ store: 'sessions', key: 'mallory.1', value: sealed }]);
    await expect(s.get('sessions', 'mallory.1')).rejects.toBeInstanceOf(StorageCryptoError);
  });
});

describe('at-rest keys', () => {
  const fast = { N: 2 ** 10, r: 8, p: 1 };

  it('derives the same key from the same passphrase and salt', async () => {
    const salt = new Uint8Array(16).fill(3);
    const s1 = new Storage(new MemoryBackend(), { key: await keyFromPassphrase('pw', salt, fast) });
    await s1.put('meta', 'k', 'v');
    const k2 = await keyFromPassphrase('pw', salt, fast);
    const backend = s1._backend;
    expect(await new Storage(backend, { key: k2 }).get('meta', 'k')).toBe('v');
  });

  it('keeps a non-extractable device key in IndexedDB', async () => {
    const backend = await IndexedDbBackend.open('device-key-plain');
    const k1 = await openOrCreateDeviceKey(backend);
    expect(k1.extractable).toBe(false);
    const s = new Storage(backend, { key: k1 });
    await s.put('meta', 'x', 'y');
    const k2 = await openOrCreateDeviceKey(backend);
    expect(await new Storage(backend, { key: k2 }).get('meta', 'x')).toBe('y');
    await expect(crypto.subtle.exportKey('raw', k2)).rejects.toThrow();
  });

  it('wraps the device key with a passphrase', async () => {
    const backend = await IndexedDbBackend.open('device-key-pass');
    const k1 = await openOrCreateDeviceKey(backend, { passphrase: 'correct horse', scrypt: fast });
    await new Storage(backend, { key: k1 }).put('meta', 'x', 'y');
    await expect(openOrCreateDeviceKey(backend)).rejects.toThrow('locked');
    await expect(openOrCreateDeviceKey(backend, { passphrase: 'wrong' })).rejects.toThrow(
      'wrong passphrase',
    );
    const k2 = await openOrCreateDeviceKey(backend, { passphrase: 'correct horse' });
    expect(await new Storage(backend, { key: k2 }).get('meta', 'x')).toBe('y');
  });
});

describe('at-rest sealing in Node (synchronous AES-GCM)', () => {
  /** Every row of `from` copied into `to`, bytes unchanged. */
  async function copyRows(from: MemoryBackend | SqliteBackend, to: MemoryBackend | SqliteBackend) {
    const rows = await from.list('messages', '');
    await to.commit(rows.map(([key, value]) => ({ store: 'messages' as const, key, value })));
  }
  const value = { text: 'sealed one way, opened the other', bytes: new Uint8Array([1, 2, 3]) };

  it('opens rows sealed through WebCrypto (stores written before it), and WebCrypto opens its rows', async () => {
    const key = await generateAtRestKey();
    // Written by WebCrypto (a memory backend brings no sealer of its own) …
    const webBackend = new MemoryBackend();
    await new Storage(webBackend, { key }).put('messages', 'c/1', value);
    // … read through the SQLite backend's Node sealer.
    const sqlite = new SqliteBackend(join(dir, `mixed-${n++}.sqlite`));
    await copyRows(webBackend, sqlite);
    const nodeStorage = new Storage(sqlite, { key });
    expect(await nodeStorage.get('messages', 'c/1')).toEqual(value);
    // And the other way round.
    await nodeStorage.put('messages', 'c/2', value);
    const back = new MemoryBackend();
    await copyRows(sqlite, back);
    expect(await new Storage(back, { key }).get('messages', 'c/2')).toEqual(value);
    await nodeStorage.close();
  });

  it('refuses a tampered row, a moved row and a wrong key with StorageCryptoError', async () => {
    const key = await generateAtRestKey();
    const sqlite = new SqliteBackend(join(dir, `tamper-${n++}.sqlite`));
    const s = new Storage(sqlite, { key });
    await s.put('messages', 'c/1', value);
    const sealed = (await sqlite.get('messages', 'c/1'))!;
    for (const i of [0, 5, sealed.length - 1]) {
      const bad = sealed.slice();
      bad[i]! ^= 1;
      await sqlite.commit([{ store: 'messages', key: 'c/bad', value: bad }]);
      await expect(s.get('messages', 'c/bad')).rejects.toBeInstanceOf(StorageCryptoError);
    }
    await sqlite.commit([{ store: 'messages', key: 'c/moved', value: sealed }]);
    await expect(s.get('messages', 'c/moved')).rejects.toBeInstanceOf(StorageCryptoError);
    const wrong = new Storage(sqlite, { key: await generateAtRestKey() });
    await expect(wrong.get('messages', 'c/1')).rejects.toBeInstanceOf(StorageCryptoError);
    await s.close();
  });
});

describe('hot records in a transaction (getDecoded / putDecoded)', () => {
  const decode = (v: unknown) => ({ n: (v as { n: number }).n, decodedAt: Math.random() });

  it('decodes a row once per transaction and encodes a changed one once, at the commit', async () => {
    const s = new Storage(new MemoryBackend(), { key: await generateAtRestKey() });
    await s.put('sessions', 'alice.1', { n: 0 });
    let decodes = 0;
    let encodes = 0;
    const counted = (v: unknown) => (decodes++, decode(v));
    const encode = (o: { n: number }) => (encodes++, { n: o.n });
    await s.transaction(async (tx) => {
      for (let i = 1; i <= 5; i++) {
        const current = (await tx.getDecoded!('sessions', 'alice.1', counted))!;
        await tx.putDecoded!('sessions', 'alice.1', { n: current.n + 1 }, encode);
      }
      expect(encodes).toBe(0);
    });
    expect(decodes).toBe(1);
    expect(encodes).toBe(1);
    expect(await s.get('sessions', 'alice.1')).toEqual({ n: 5 });
  });

  it('reads a record written in the transaction as a value, and a savepoint undoes it', async () => {
    const s = new Storage(new MemoryBackend());
    await s.put('sessions', 'alice.1', { n: 1 });
    await s.transaction(async (tx) => {
      const before = await tx.getDecoded!('sessions', 'alice.1', decode);
      const rollback = tx.savepoint!();
      await tx.putDecoded!('sessions', 'alice.1', { n: 2 }, (o) => o);
      expect(await tx.get('sessions', 'alice.1')).toEqual({ n: 2 });
      expect(await tx.list('sessions')).toEqual([['alice.1', { n: 2 }]]);
      rollback();
      expect(await tx.getDecoded!('sessions', 'alice.1', decode)).toBe(before);
      expect(await tx.get('sessions', 'alice.1')).toEqual({ n: 1 });
    });
    expect(await s.get('sessions', 'alice.1')).toEqual({ n: 1 });
  });
});

describe('value encoding', () => {
  it('stores a bytes value raw (0x00 ‖ bytes) and still reads bytes stored as JSON before', async () => {
    const backend = new MemoryBackend();
    const s = new Storage(backend);
    const record = Uint8Array.from({ length: 600 }, (_, i) => i % 256);
    await s.put('sessions', 'alice.1', record);
    const raw = (await backend.get('sessions', 'alice.1'))!;
    expect(raw.length).toBe(record.length + 1);
    expect(raw[0]).toBe(0);
    expect(await s.get('sessions', 'alice.1')).toEqual(record);
    await s.put('sessions', 'empty.1', new Uint8Array(0));
    expect(await s.get('sessions', 'empty.1')).toEqual(new Uint8Array(0));
    // A row an earlier version wrote: JSON with the bytes in base64.
    const legacy = new TextEncoder().encode(
      JSON.stringify({ $b: Buffer.from(record).toString('base64') }),
    );
    await backend.commit([{ store: 'sessions', key: 'bob.1', value: legacy }]);
    expect(await s.get('sessions', 'bob.1')).toEqual(record);
    // Bytes inside other values stay JSON.
    await s.put('meta', 'x', { key: record });
    expect((await backend.get('meta', 'x'))![0]).toBe('{'.charCodeAt(0));
    expect(await s.get('meta', 'x')).toEqual({ key: record });
  });
});

describe('reading ahead (prefetch / getMany)', () => {
  it('serves a transaction from one IndexedDB round trip; its own writes and misses still hold', async () => {
    const backend = await IndexedDbBackend.open(`prefetch-${Math.random()}`);
    const s = new Storage(backend, { key: await generateAtRestKey() });
    await s.transaction(async (tx) => {
      await tx.put('contacts', 'bob', { accountId: 'bob' });
      await tx.put('sessions', 'bob.1', new Uint8Array([1, 2, 3]));
    });
    let singleGets = 0;
    let manyCalls = 0;
    const get = backend.get.bind(backend);
    const getMany = backend.getMany.bind(backend);
    backend.get = (store, key) => (singleGets++, get(store, key));
    backend.getMany = (rows) => (manyCalls++, getMany(rows));
    await s.transaction(async (tx) => {
      await tx.put('contacts', 'carol', { accountId: 'carol', written: true });
      await tx.prefetch!([
        ['contacts', 'bob'],
        ['contacts', 'carol'],
        ['sessions', 'bob.1'],
        ['processed', 'env:nothing-here'],
      ]);
      expect(await tx.get('contacts', 'bob')).toEqual({ accountId: 'bob' });
      expect(await tx.get('contacts', 'carol')).toEqual({ accountId: 'carol', written: true });
      expect(await tx.get('sessions', 'bob.1')).toEqual(new Uint8Array([1, 2, 3]));
      expect(await tx.get('processed', 'env:nothing-here')).toBeUndefined();
    });
    expect(manyCalls).toBe(1);
    expect(singleGets).toBe(0);
    // Backends without getMany (SQLite, memory) read as before.
    const plain = new Storage(new MemoryBackend());
    await plain.put('contacts', 'bob', { accountId: 'bob' });
    await plain.transaction(async (tx) => {
      await tx.prefetch!([['contacts', 'bob']]);
      expect(await tx.get('contacts', 'bob')).toEqual({ accountId: 'bob' });
    });
  });
});
