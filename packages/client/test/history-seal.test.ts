/**
 * Sealed history archives (history/seal.ts): they open with their key and digest, and every
 * kind of damage — a flipped bit, a cut, swapped chunks, the wrong key, an unknown version —
 * is a typed `HistoryTransferError`, never garbage.
 */
import { describe, expect, it } from 'vitest';
import { systemRandom } from '@parley/crypto/random.js';
import { HistoryTransferError } from '../src/history/errors.ts';
import { CHUNK_BYTES, openArchive, sealArchive, sha256 } from '../src/history/seal.ts';

function bytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + (i >> 8)) & 0xff;
  return out;
}

async function failure(p: Promise<unknown>): Promise<HistoryTransferError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HistoryTransferError);
  return err as HistoryTransferError;
}

describe('history seal', () => {
  it('round-trips empty, small and multi-chunk archives', async () => {
    for (const n of [0, 1, 1000, CHUNK_BYTES, 2 * CHUNK_BYTES + 5]) {
      const plain = bytes(n);
      const sealed = await sealArchive(plain, systemRandom);
      expect(sealed.key).toHaveLength(32);
      expect(sealed.digest).toEqual(await sha256(sealed.blob));
      const opened = await openArchive(sealed.blob, sealed.key, sealed.digest);
      // Compared as digests: a deep equal of megabytes is slow.
      expect(opened.length).toBe(n);
      expect(await sha256(opened)).toEqual(await sha256(plain));
    }
  });

  it('uses a fresh key each time', async () => {
    const a = await sealArchive(bytes(10), systemRandom);
    const b = await sealArchive(bytes(10), systemRandom);
    expect(a.key).not.toEqual(b.key);
    expect(a.blob).not.toEqual(b.blob);
  });

  it('rejects a tampered blob by its digest, before decrypting', async () => {
    const sealed = await sealArchive(bytes(5000), systemRandom);
    const blob = sealed.blob.slice();
    blob[100]! ^= 1;
    expect((await failure(openArchive(blob, sealed.key, sealed.digest))).code).toBe(
      'digest_mismatch',
    );
  });

  // The digest travels with the key; these check the cipher layer on its own (a digest that
  // matches the damaged blob, as if both were replaced).
  it('detects truncation at a chunk boundary, reordered chunks and flipped bits', async () => {
    const sealed = await sealArchive(bytes(3 * CHUNK_BYTES), systemRandom);
    const chunk = CHUNK_BYTES + 16;
    const cut = sealed.blob.slice(0, 1 + 2 * chunk);
    expect((await failure(openArchive(cut, sealed.key, await sha256(cut)))).code).toBe(
      'decrypt_failed',
    );

    const swapped = sealed.blob.slice();
    swapped.set(sealed.blob.subarray(1 + chunk, 1 + 2 * chunk), 1);
    swapped.set(sealed.blob.subarray(1, 1 + chunk), 1 + chunk);
    expect((await failure(openArchive(swapped, sealed.key, await sha256(swapped)))).code).toBe(
      'decrypt_failed',
    );

    const flipped = sealed.blob.slice();
    flipped[flipped.length - 1]! ^= 0x80;
    expect((await failure(openArchive(flipped, sealed.key, await sha256(flipped)))).code).toBe(
      'decrypt_failed',
    );

    const empty = sealed.blob.slice(0, 1);
    expect((await failure(openArchive(empty, sealed.key, await sha256(empty)))).code).toBe(
      'decrypt_failed',
    );
  });

  it('rejects the wrong key and an unknown format version', async () => {
    const sealed = await sealArchive(bytes(100), systemRandom);
    const wrongKey = systemRandom(32);
    expect((await failure(openArchive(sealed.blob, wrongKey, sealed.digest))).code).toBe(
      'decrypt_failed',
    );
    const v2 = sealed.blob.slice();
    v2[0] = 2;
    expect((await failure(openArchive(v2, sealed.key, await sha256(v2)))).code).toBe(
      'unsupported_version',
    );
  });
});
