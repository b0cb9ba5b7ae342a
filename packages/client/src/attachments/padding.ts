/**
 * Size padding for attachments, as Signal does it: the plaintext is zero-padded up to the next
 * "bucket" `max(541, floor(1.05^ceil(log(size) / log(1.05))))`, so a blob's length reveals
 * its size only to within 5 %. The real size travels in the end-to-end encrypted pointer.
 * @module
 */

/** The smallest bucket: tiny files all look alike. */
export const MIN_PADDED_SIZE = 541;

/** The padded length of a `size`-byte plaintext (Signal's `getPaddedSize`). */
export function paddedSize(size: number): number {
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`bad size ${size}`);
  if (size <= 1) return MIN_PADDED_SIZE;
  const bucket = Math.floor(1.05 ** Math.ceil(Math.log(size) / Math.log(1.05)));
  // Floating point may land one below `size` for exact powers: never pad to less than it.
  return Math.max(MIN_PADDED_SIZE, bucket, size);
}

/** `plaintext` followed by zeros up to `paddedSize(plaintext.length)`. */
export function pad(plaintext: Uint8Array): Uint8Array {
  const out = new Uint8Array(paddedSize(plaintext.length));
  out.set(plaintext);
  return out;
}
