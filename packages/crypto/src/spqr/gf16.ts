/**
 * GF(2¹⁶) with the reduction polynomial x¹⁶ + x¹² + x³ + x + 1 (0x1100b), the field of SPQR's
 * erasure code (SparsePostQuantumRatchet src/encoding/gf.rs). Addition is XOR. The values it
 * works on are public (chunks of public keys and ciphertexts), so table-free bit loops suffice.
 * @module
 */

const POLY = 0x1100b;

/** Carry-less product of two 16-bit values, reduced modulo POLY. */
export function gfMul(a: number, b: number): number {
  let acc = 0;
  for (let i = 0; i < 16; i++) if (b & (1 << i)) acc ^= a << i;
  for (let i = 31; i >= 16; i--) if (acc & (1 << i)) acc ^= POLY << (i - 16);
  return acc & 0xffff;
}

/** a / b, as a · b^(2¹⁶−2); dividing by zero gives zero (callers never divide by zero). */
export function gfDiv(a: number, b: number): number {
  let square = b;
  let out = a;
  for (let i = 1; i < 16; i++) {
    square = gfMul(square, square);
    out = gfMul(out, square);
  }
  return out;
}

/** Coefficients (constant term first) of the unique polynomial of degree < n through n points. */
export function interpolate(xs: readonly number[], ys: readonly number[]): number[] {
  const n = xs.length;
  const out: number[] = new Array<number>(n).fill(0);
  for (let i = 0; i < n; i++) {
    // basis_i(x) = Π_{j≠i} (x − x_j) / (x_i − x_j), built up coefficient by coefficient
    let basis = [1];
    let denominator = 1;
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const next = new Array<number>(basis.length + 1).fill(0);
      for (let k = 0; k < basis.length; k++) {
        next[k + 1]! ^= basis[k]!;
        next[k]! ^= gfMul(basis[k]!, xs[j]!);
      }
      basis = next;
      denominator = gfMul(denominator, xs[i]! ^ xs[j]!);
    }
    const scale = gfDiv(ys[i]!, denominator);
    for (let k = 0; k < n; k++) out[k]! ^= gfMul(basis[k]!, scale);
  }
  return out;
}

/** The polynomial with these coefficients (constant term first) evaluated at x (Horner). */
export function evaluate(coefficients: readonly number[], x: number): number {
  let acc = 0;
  for (let k = coefficients.length - 1; k >= 0; k--) acc = gfMul(acc, x) ^ coefficients[k]!;
  return acc;
}
