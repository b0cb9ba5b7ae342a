/**
 * `Range: bytes=…` for downloads (RFC 9110 §14.1.2): one range, `a-b`, `a-` or the suffix `-n`.
 * Several ranges in one request are refused like an unsatisfiable one: a blob download never
 * needs them, and each would cost a read.
 * @module
 */

/** Inclusive byte offsets. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * The range to serve of a `size`-byte blob: `undefined` without a Range header (the whole blob),
 * `'unsatisfiable'` for one that is malformed, several, or outside the blob.
 */
export function parseRange(
  header: string | undefined,
  size: number,
): ByteRange | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined;
  const match = /^bytes=(\d{0,16})-(\d{0,16})$/.exec(header.trim());
  if (!match) return 'unsatisfiable';
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return 'unsatisfiable';
  if (first === '') {
    // Suffix: the last n bytes (all of them if n exceeds the size).
    const length = Number(last);
    if (length === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - length), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (start >= size || start > end) return 'unsatisfiable';
  return { start, end };
}
