/**
 * XEdDSA on Curve25519, exactly as libsignal computes it
 * (rust/core/src/curve/curve25519.rs, `calculate_signature` / `verify_signature`).
 *
 *   a = k mod L                      (k: the clamped X25519 private key, little-endian)
 *   A = a·B, signBit = A[31] & 0x80  (libsignal keeps A's sign instead of negating a)
 *   r = SHA-512(0xFE ‖ 0xFF×31 ‖ k ‖ M ‖ Z) mod L   (Z: 64 random bytes)
 *   R = r·B,  h = SHA-512(R ‖ A ‖ M) mod L,  s = h·a + r mod L
 *   signature = R ‖ s, with signBit stored in bit 7 of byte 63 (always 0 in a reduced s)
 *
 * Verification maps the Montgomery u to Edwards y = (u − 1)/(u + 1) with the sign bit from
 * the signature, rejects s with any of its top three bits set, and checks s·B − h·A == R.
 * Internal: use `PrivateKey.sign` / `PublicKey.verifySignature`.
 * @module
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToNumberLE, numberToBytesLE } from '@noble/curves/utils.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { concat, constantTimeEqual, wipe } from './_bytes.ts';
import { Lru, secretId } from './_lru.ts';

const Point = ed25519.Point;
const L = Point.CURVE().n;
const P = Point.CURVE().p;
const Fp = Point.Fp;
const MASK_255 = (1n << 255n) - 1n;
const HASH_PREFIX = /* @__PURE__ */ (() => {
  const p = new Uint8Array(32).fill(0xff);
  p[0] = 0xfe;
  return p;
})();

const modL = (n: bigint) => ((n % L) + L) % L;
const modP = (n: bigint) => ((n % P) + P) % P;

/**
 * A = a·B per private key, kept across record loads (a sender-key record deserialises its
 * signing key on every message): one fixed-base multiplication per signature instead of two.
 */
const PUBLIC_POINTS = /* @__PURE__ */ new Lru<Uint8Array>(256);

export function xeddsaSign(k: Uint8Array, message: Uint8Array, random64: Uint8Array): Uint8Array {
  const a = modL(bytesToNumberLE(k));
  const id = secretId(k);
  let A = PUBLIC_POINTS.get(id);
  if (!A) {
    A = Point.BASE.multiply(a).toBytes();
    PUBLIC_POINTS.set(id, A);
  }
  const signBit = A[31]! & 0x80;
  const rHash = sha512(concat(HASH_PREFIX, k, message, random64));
  const r = modL(bytesToNumberLE(rHash));
  const R = Point.BASE.multiply(r).toBytes();
  const h = modL(bytesToNumberLE(sha512(concat(R, A, message))));
  const s = modL(h * a + r);
  const signature = concat(R, numberToBytesLE(s, 32));
  signature[63] = (signature[63]! & 0x7f) | signBit;
  wipe(rHash, random64);
  return signature;
}

type EdwardsPoint = InstanceType<typeof Point>;

/** Edwards public points by `u ‖ sign` (public data): `null` = no such point, reject. */
const EDWARDS_POINTS = /* @__PURE__ */ new Lru<{ A: EdwardsPoint; bytes: Uint8Array } | null>(256);

function edwardsPoint(u: Uint8Array, signBit: number) {
  const id = String.fromCharCode(...u) + (signBit ? '1' : '0');
  const hit = EDWARDS_POINTS.get(id);
  if (hit !== undefined) return hit;
  // Montgomery → Edwards (curve25519-dalek `MontgomeryPoint::to_edwards`): the u-coordinate's
  // top bit is ignored and non-canonical values are reduced; u = −1 has no Edwards image.
  let result: { A: EdwardsPoint; bytes: Uint8Array } | null = null;
  const uNum = modP(bytesToNumberLE(u) & MASK_255);
  if (uNum !== P - 1n) {
    const y = Fp.mul(Fp.sub(uNum, 1n), Fp.inv(Fp.add(uNum, 1n)));
    const yBytes = numberToBytesLE(y, 32);
    yBytes[31]! |= signBit;
    try {
      // zip215 decoding accepts x = 0 with the sign bit set, as dalek's decompress does.
      const A = Point.fromBytes(yBytes, true);
      result = { A, bytes: A.toBytes() };
    } catch {
      result = null;
    }
  }
  EDWARDS_POINTS.set(id, result);
  return result;
}

export function xeddsaVerify(u: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  const point = edwardsPoint(u, signature[63]! & 0x80);
  if (point === null) return false;
  const Rbytes = signature.subarray(0, 32);
  const sBytes = Uint8Array.prototype.slice.call(signature, 32, 64); // a copy, also of a Buffer
  sBytes[31]! &= 0x7f;
  if ((sBytes[31]! & 0xe0) !== 0) return false;
  const s = modL(bytesToNumberLE(sBytes));
  const h = modL(bytesToNumberLE(sha512(concat(Rbytes, point.bytes, message))));
  const check = Point.BASE.multiplyUnsafe(s).subtract(point.A.multiplyUnsafe(h)).toBytes();
  return constantTimeEqual(check, Rbytes);
}
