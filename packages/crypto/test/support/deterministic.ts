/** A seeded RandomSource (SHA-256 in counter mode) and a settable clock, for replayable tests. */
import { sha256 } from '@noble/hashes/sha2.js';
import type { RandomSource } from '../../src/random.ts';

export function seededRandom(seed: string): RandomSource {
  let counter = 0;
  const prefix = new TextEncoder().encode(seed);
  return (length) => {
    const out = new Uint8Array(length);
    for (let off = 0; off < length; off += 32) {
      const block = new Uint8Array(prefix.length + 4);
      block.set(prefix);
      new DataView(block.buffer).setUint32(prefix.length, counter++);
      out.set(sha256(block).subarray(0, Math.min(32, length - off)), off);
    }
    return out;
  };
}

export function manualClock(start = Date.UTC(2025, 0, 1)) {
  let now = start;
  return {
    clock: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}
