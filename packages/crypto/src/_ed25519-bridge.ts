/**
 * Checking libsignal's XEdDSA signatures with an Ed25519 verifier (WebCrypto, OpenSSL):
 * the shared rules of the accelerated backends.
 *
 * XEdDSA vs Ed25519 (libsignal checks with curve25519-dalek; OpenSSL and BoringSSL verify
 * Ed25519 cofactorlessly and compare R's encoding, like dalek). Where they could disagree,
 * the noble implementation (which follows dalek) decides instead:
 * - s with any of its top three bits set: rejected by both, rejected here first;
 * - L ≤ s < 2^253: dalek reduces s mod L, Ed25519 rejects it → noble;
 * - a public key u of low order (0, 1, the two order-8 u's; u = −1 has no Edwards image and
 *   is rejected) → noble; an R that is a canonical small-order encoding → noble.
 * Non-canonical R, u ≥ p and bit 255 of u behave the same in both (R is compared by
 * encoding; u is reduced and its top bit dropped before the conversion).
 * Internal; re-exported for custom backends by `backend.ts`.
 * @module
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToNumberLE, numberToBytesLE } from '@noble/curves/utils.js';
import { toHex } from './_bytes.ts';

const Fp = ed25519.Point.Fp;
const P = Fp.ORDER;
const L = ed25519.Point.CURVE().n;
const MASK_255 = (1n << 255n) - 1n;

/** u-coordinates (mod p) of Curve25519's points of small order, except u = −1. */
export const LOW_ORDER_U = /* @__PURE__ */ new Set<bigint>([
  0n,
  1n,
  325606250916557431795983626356110631294008115727848805560023387167927233504n,
  39382357235489614581723060781553021112529911719440698176882885853963445705823n,
]);

/** Canonical encodings of the eight Edwards points of small order (as R). */
export const SMALL_ORDER_R = /* @__PURE__ */ new Set<string>([
  '0100000000000000000000000000000000000000000000000000000000000000',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0000000000000000000000000000000000000000000000000000000000000080',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85',
]);

/**
 * Whether an Ed25519 verifier may decide on this 64-byte signature: `'reject'` (invalid on
 * every verifier), `'noble'` (a case where Ed25519 and dalek differ), or `'ed25519'`.
 */
export function xeddsaRoute(signature: Uint8Array): 'reject' | 'noble' | 'ed25519' {
  const top = signature[63]! & 0x7f;
  if ((top & 0xe0) !== 0) return 'reject';
  if (top >= 0x10 && bytesToNumberLE(signature.subarray(32, 64)) % (1n << 255n) >= L) {
    return 'noble';
  }
  if (SMALL_ORDER_R.has(toHex(signature.subarray(0, 32)))) return 'noble';
  return 'ed25519';
}

/** The Ed25519 signature an Ed25519 verifier checks: the sign bit (bit 255) cleared. */
export function ed25519Signature(signature: Uint8Array): Uint8Array {
  // A real copy: on a Node Buffer `slice()` is a view, and clearing the bit would change the
  // caller's signature (the next check of it then fails).
  const sig = Uint8Array.prototype.slice.call(signature);
  sig[63]! &= 0x7f;
  return sig;
}

/** The sign bit an XEdDSA signature carries for its Edwards key (0 or 0x80). */
export const xeddsaSignBit = (signature: Uint8Array): number => signature[63]! & 0x80;

/**
 * The 32-byte Ed25519 public key for Montgomery `u` with `signBit`: `null` when there is
 * none (u = −1: reject; an off-curve result fails in the verifier too, as in dalek), or
 * `'noble'` for the low-order u's. Costs a field inversion: cache by `u ‖ sign`.
 */
export function edwardsPublicKey(u: Uint8Array, signBit: number): Uint8Array | null | 'noble' {
  const uNum = (bytesToNumberLE(u) & MASK_255) % P;
  if (uNum === P - 1n) return null;
  if (LOW_ORDER_U.has(uNum)) return 'noble';
  // y = (u − 1)/(u + 1)   (curve25519-dalek `MontgomeryPoint::to_edwards`)
  const y = Fp.mul(Fp.sub(uNum, 1n), Fp.inv(Fp.add(uNum, 1n)));
  const encoded = numberToBytesLE(y, 32);
  encoded[31]! |= signBit;
  return encoded;
}

/**
 * The X25519 key pair behind an Ed25519 key (RFC 8032 §5.1.5): k = clamp(SHA-512(seed)[..32])
 * and u = Montgomery(A). An Ed25519 signature by the seed is R ‖ s with s = r + H(R‖A‖M)·k:
 * libsignal's XEdDSA equation, so with A's sign bit ORed into byte 63 it verifies as XEdDSA
 * for u. (Only the nonce differs: RFC 8032's deterministic one instead of XEdDSA's hashed
 * randomness; both are secret and unique per message.)
 */
export function x25519FromEd25519(
  hashedSeed: Uint8Array,
  edwardsPublic: Uint8Array,
): { k: Uint8Array; u: Uint8Array; signBit: number } {
  const k = hashedSeed.slice(0, 32);
  k[0]! &= 248;
  k[31]! &= 127;
  k[31]! |= 64;
  return {
    k,
    u: ed25519.utils.toMontgomery(edwardsPublic),
    signBit: edwardsPublic[31]! & 0x80,
  };
}
