/**
 * SPQR's erasure code (SparsePostQuantumRatchet src/encoding/polynomial.rs): a message of
 * even length is cut into big-endian 16-bit values; value i belongs to polynomial i mod 16 at
 * x = ⌊i/16⌋. Each of the 16 polynomials is the unique one of lowest degree through its
 * values, so the code is systematic: chunk k (32 bytes) holds the 16 polynomials evaluated at
 * x = k. Chunks 0…⌈len/32⌉−1 are the message itself; any ⌈len/32⌉ distinct chunks rebuild it.
 * @module
 */
import { ProtocolError } from '../errors.ts';
import { evaluate, interpolate } from './gf16.ts';

export const CHUNK_SIZE = 32;
export const NUM_POLYS = 16;
/** Largest message the 16-bit x coordinates allow. */
export const MAX_MESSAGE_LENGTH = (1 << 16) * NUM_POLYS;

export interface Chunk {
  index: number;
  data: Uint8Array;
}

/** Encoder state: the message values per polynomial, or (once a parity chunk was asked for) coefficients. */
export class PolyEncoder {
  /** Next chunk index `nextChunk` hands out (u32 in the stored state, u16 on the wire). */
  idx: number;
  /** Either `points[p][x]` (systematic values) … */
  points: number[][] | undefined;
  /** … or `polys[p]` coefficients, constant term first. */
  polys: number[][] | undefined;

  constructor(idx: number, points: number[][] | undefined, polys: number[][] | undefined) {
    this.idx = idx;
    this.points = points;
    this.polys = polys;
  }

  static encode(message: Uint8Array): PolyEncoder {
    if (message.length % 2 !== 0) {
      throw new ProtocolError('InvalidArgument', 'SPQR message length must be even');
    }
    if (message.length > MAX_MESSAGE_LENGTH) {
      throw new ProtocolError('InvalidArgument', 'SPQR message too long');
    }
    const points: number[][] = Array.from({ length: NUM_POLYS }, () => []);
    for (let i = 0; i < message.length / 2; i++) {
      points[i % NUM_POLYS]!.push((message[2 * i]! << 8) | message[2 * i + 1]!);
    }
    return new PolyEncoder(0, points, undefined);
  }

  private pointAt(poly: number, x: number): number {
    if (this.points !== undefined) {
      const values = this.points[poly]!;
      if (x < values.length) return values[x]!;
      // The first parity value: switch every polynomial to coefficients, as libsignal does
      // (its stored encoder state then holds polys instead of pts).
      this.polys = this.points.map((ys) =>
        interpolate(
          ys.map((_, k) => k),
          ys,
        ),
      );
      this.points = undefined;
    }
    return evaluate(this.polys![poly]!, x);
  }

  chunkAt(index: number): Chunk {
    const data = new Uint8Array(CHUNK_SIZE);
    for (let p = 0; p < NUM_POLYS; p++) {
      const y = this.pointAt(p, index);
      data[2 * p] = y >> 8;
      data[2 * p + 1] = y & 0xff;
    }
    return { index, data };
  }

  nextChunk(): Chunk {
    const chunk = this.chunkAt(this.idx & 0xffff);
    this.idx = (this.idx + 1) >>> 0;
    return chunk;
  }
}

/** Decoder state: up to the needed number of points per polynomial, kept sorted by x. */
export class PolyDecoder {
  /** Number of 16-bit values in the message (its length / 2). */
  readonly ptsNeeded: number;
  /** pts[p] maps x → y, iterated in ascending x. */
  readonly pts: Map<number, number>[];
  isComplete: boolean;

  constructor(ptsNeeded: number, pts?: Map<number, number>[], isComplete = false) {
    this.ptsNeeded = ptsNeeded;
    this.pts = pts ?? Array.from({ length: NUM_POLYS }, () => new Map());
    this.isComplete = isComplete;
  }

  static forLength(lengthBytes: number): PolyDecoder {
    if (lengthBytes % 2 !== 0) {
      throw new ProtocolError('InvalidArgument', 'SPQR message length must be even');
    }
    return new PolyDecoder(lengthBytes / 2);
  }

  necessaryPoints(poly: number): number {
    const base = Math.floor(this.ptsNeeded / NUM_POLYS);
    return poly < this.ptsNeeded % NUM_POLYS ? base + 1 : base;
  }

  addChunk(chunk: Chunk): void {
    const x = chunk.index;
    for (let p = 0; p < NUM_POLYS; p++) {
      const needed = this.necessaryPoints(p);
      const set = this.pts[p]!;
      // Keep systematic points always, parity points only while short (bounded storage).
      if (x < needed || set.size < needed) {
        set.set(x, (chunk.data[2 * p]! << 8) | chunk.data[2 * p + 1]!);
      }
    }
  }

  /** The message once enough chunks arrived, else undefined. */
  decodedMessage(): Uint8Array | undefined {
    if (this.isComplete) return undefined;
    const used: [number[], number[]][] = [];
    for (let p = 0; p < NUM_POLYS; p++) {
      const needed = this.necessaryPoints(p);
      if (this.pts[p]!.size < needed) return undefined;
      const xs = [...this.pts[p]!.keys()].sort((a, b) => a - b).slice(0, needed);
      used.push([xs, xs.map((x) => this.pts[p]!.get(x)!)]);
    }
    const polys: (number[] | undefined)[] = new Array(NUM_POLYS);
    const out = new Uint8Array(this.ptsNeeded * 2);
    for (let i = 0; i < this.ptsNeeded; i++) {
      const p = i % NUM_POLYS;
      const x = Math.floor(i / NUM_POLYS);
      let y = this.pts[p]!.get(x);
      if (y === undefined) {
        polys[p] ??= interpolate(used[p]![0], used[p]![1]);
        y = evaluate(polys[p], x);
      }
      out[2 * i] = y >> 8;
      out[2 * i + 1] = y & 0xff;
    }
    return out;
  }
}
