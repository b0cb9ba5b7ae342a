/**
 * Injectable randomness and time. Every operation that needs either takes them as an
 * argument with these defaults, so tests can be deterministic (as libsignal passes `csprng`
 * and `now` into `message_encrypt`).
 * @module
 */

/** Returns `length` fresh random bytes. */
export type RandomSource = (length: number) => Uint8Array;

/** Milliseconds since the Unix epoch. */
export type Clock = () => number;

/** The platform CSPRNG (`crypto.getRandomValues`), the only source used by default. */
export const systemRandom: RandomSource = (length) => {
  const out = new Uint8Array(length);
  // getRandomValues fills at most 65,536 bytes per call.
  for (let i = 0; i < length; i += 65536) {
    crypto.getRandomValues(out.subarray(i, Math.min(length, i + 65536)));
  }
  return out;
};

export const systemClock: Clock = () => Date.now();

/** A random unsigned integer below 2^bits (bits ≤ 32), from `rng`. */
export function randomUint(rng: RandomSource, bits: number): number {
  const b = rng(4);
  const n = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
  return bits >= 32 ? n : n >>> (32 - bits);
}
