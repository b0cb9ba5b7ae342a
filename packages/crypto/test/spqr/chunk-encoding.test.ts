import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { gfDiv, gfMul, interpolate, evaluate } from '../../src/spqr/gf16.ts';
import { PolyDecoder, PolyEncoder, type Chunk } from '../../src/spqr/chunk-encoding.ts';

const rand = (n: number) => crypto.getRandomValues(new Uint8Array(n));

describe('GF(2^16)', () => {
  it('multiplies with the reduction polynomial 0x1100b', () => {
    expect(gfMul(0x8000, 2)).toBe(0x100b); // x^16 ≡ x^12 + x^3 + x + 1
    expect(gfMul(3, 3)).toBe(5); // (x+1)^2 = x^2 + 1 in characteristic 2
    expect(gfMul(0x1234, 1)).toBe(0x1234);
    expect(gfMul(0x1234, 0)).toBe(0);
  });

  it('is a field: a·b/b = a, and multiplication distributes over XOR', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 1, max: 0xffff }),
        fc.integer({ min: 0, max: 0xffff }),
        (a, b, c) => {
          expect(gfDiv(gfMul(a, b), b)).toBe(a);
          expect(gfMul(a, b ^ c)).toBe(gfMul(a, b) ^ gfMul(a, c));
          expect(gfMul(a, b)).toBe(gfMul(b, a));
        },
      ),
    );
  });

  it('interpolates through its points', () => {
    const xs = [0, 1, 2, 7, 40, 1000];
    const ys = xs.map(() => gfMul(0xffff, Math.floor(Math.random() * 0x10000)));
    const coeffs = interpolate(xs, ys);
    expect(coeffs).toHaveLength(xs.length);
    xs.forEach((x, i) => expect(evaluate(coeffs, x)).toBe(ys[i]));
  });
});

describe('SPQR chunk encoding', () => {
  it('is systematic: the first chunks are the message', () => {
    const msg = rand(1088);
    const enc = PolyEncoder.encode(msg);
    for (let k = 0; k < 34; k++)
      expect(enc.chunkAt(k).data).toEqual(msg.subarray(32 * k, 32 * k + 32));
  });

  it('decodes "abcdefghij" from parity chunk 1 alone, and with chunk 2 (the Rust crate’s small case)', () => {
    const msg = new TextEncoder().encode('abcdefghij');
    const enc = PolyEncoder.encode(msg);
    const dec = PolyDecoder.forLength(10);
    expect(dec.decodedMessage()).toBeUndefined();
    dec.addChunk(enc.chunkAt(1)); // 5 values, one per polynomial: one chunk is enough
    expect(dec.decodedMessage()).toEqual(msg);
    dec.addChunk(enc.chunkAt(2));
    expect(dec.decodedMessage()).toEqual(msg);
  });

  it('any ⌈len/32⌉ distinct chunks rebuild the message, in any order', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 36 * 16 }).map((n) => n * 2),
        fc.array(fc.integer({ min: 0, max: 200 }), { minLength: 80, maxLength: 80 }),
        fc.integer(),
        (len, indexPool, seed) => {
          const msg = rand(len);
          const needed = Math.ceil(len / 32);
          const indices = [...new Set(indexPool)];
          fc.pre(indices.length >= needed);
          const enc = PolyEncoder.encode(msg);
          const chunks: Chunk[] = indices.map((i) => enc.chunkAt(i));
          // shuffle deterministically from the seed
          chunks.sort((a, b) => ((a.index * 2654435761) ^ seed) - ((b.index * 2654435761) ^ seed));
          const dec = PolyDecoder.forLength(len);
          for (let n = 0; n < needed; n++) {
            expect(dec.decodedMessage()).toBeUndefined();
            dec.addChunk(chunks[n]!);
          }
          expect(dec.decodedMessage()).toEqual(msg);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('survives repeated chunks and nextChunk walks the indices', () => {
    const msg = rand(64 + 1152);
    const enc = PolyEncoder.encode(msg);
    const dec = PolyDecoder.forLength(msg.length);
    let sent = 0;
    while (dec.decodedMessage() === undefined) {
      const chunk = enc.nextChunk();
      expect(chunk.index).toBe(sent++);
      if (chunk.index % 3 === 0) continue; // lose every third chunk
      dec.addChunk(chunk);
      dec.addChunk(chunk); // duplicates change nothing
    }
    expect(dec.decodedMessage()).toEqual(msg);
    expect(sent).toBeLessThanOrEqual(Math.ceil((msg.length / 32) * 1.5) + 1);
  });

  it('refuses odd lengths', () => {
    expect(() => PolyEncoder.encode(rand(3))).toThrow(/even/);
    expect(() => PolyDecoder.forLength(3)).toThrow(/even/);
  });
});
