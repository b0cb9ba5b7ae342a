/**
 * Incremental ML-KEM-768 as SPQR uses it (libcrux's `mlkem768::incremental`): the
 * encapsulation key is split so that a sender can start encapsulating before it has all of it.
 *
 *   header (64 B)  = rho ‖ H(ek)              — the matrix seed and the hash of the full key
 *   ek     (1152 B) = ByteEncode12(t̂)          — the rest of the standard 1184-byte key
 *   ct1    (960 B)  = ByteEncode10(Compress10(u)) — needs only the header
 *   ct2    (128 B)  = ByteEncode4(Compress4(v))   — needs ek
 *
 * ct1 ‖ ct2 is exactly the FIPS 203 ciphertext for the key t̂ ‖ rho and message m, and the
 * shared secret is FIPS 203's K = G(m ‖ H(ek))[0:32], so decapsulation is noble's standard one.
 *
 * encaps1 computes u itself from noble's ML-KEM building blocks (u does not depend on t̂);
 * encaps2 re-runs noble's full deterministic encapsulation with the same m and keeps the v part.
 * The encapsulation state is therefore m ‖ header (96 bytes) — not libcrux's 2080-byte
 * r̂/e2 encoding, which is internal to libcrux.
 * @module
 */
import { __tests as mlkem, ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { sha3_256, sha3_512, shake256 } from '@noble/hashes/sha3.js';
import { abytes, bytesEqual, concat } from '../_bytes.ts';
import { ProtocolError } from '../errors.ts';
import { systemRandom, type RandomSource } from '../random.ts';

export const HEADER_SIZE = 64;
export const ENCAPSULATION_KEY_SIZE = 1152;
export const CIPHERTEXT1_SIZE = 960;
export const CIPHERTEXT2_SIZE = 128;
export const DECAPSULATION_KEY_SIZE = 2400;
export const ENCAPSULATION_STATE_SIZE = 32 + HEADER_SIZE;
export const SHARED_SECRET_SIZE = 32;

const K = 3;
const Q = 3329;
const N = 256;
const ETA = 2; // η1 = η2 = 2 for ML-KEM-768
const DU = 10;

export interface IncrementalKeys {
  /** rho ‖ H(ek_full), 64 bytes. */
  hdr: Uint8Array;
  /** ByteEncode12(t̂), 1152 bytes. */
  ek: Uint8Array;
  /** The standard ML-KEM-768 decapsulation key, 2400 bytes. */
  dk: Uint8Array;
}

/** The full FIPS 203 encapsulation key from the two parts. */
export function fullEncapsulationKey(ek: Uint8Array, hdr: Uint8Array): Uint8Array {
  return concat(ek, hdr.subarray(0, 32));
}

/** A new key pair; `seed` (d ‖ z, 64 bytes) only for known-answer tests. */
export function generate(rng: RandomSource = systemRandom, seed?: Uint8Array): IncrementalKeys {
  const s = seed ?? rng(64);
  abytes(s, 'seed', 64);
  const { publicKey, secretKey } = ml_kem768.keygen(s);
  const ek = publicKey.slice(0, ENCAPSULATION_KEY_SIZE);
  const hdr = concat(publicKey.subarray(ENCAPSULATION_KEY_SIZE), sha3_256(publicKey));
  return { hdr, ek, dk: secretKey };
}

/** True when `ek` is the rest of the key `hdr` commits to (and every coefficient is below q). */
export function ekMatchesHeader(ek: Uint8Array, hdr: Uint8Array): boolean {
  if (ek.length !== ENCAPSULATION_KEY_SIZE || hdr.length !== HEADER_SIZE) return false;
  // FIPS 203's modulus check: each 12-bit little-endian word must already be reduced.
  for (let i = 0; i < ek.length; i += 3) {
    const a = ek[i]! | ((ek[i + 1]! & 0x0f) << 8);
    const b = (ek[i + 1]! >> 4) | (ek[i + 2]! << 4);
    if (a >= Q || b >= Q) return false;
  }
  return bytesEqual(sha3_256(fullEncapsulationKey(ek, hdr)), hdr.subarray(32));
}

function addInto(acc: Uint16Array, x: Uint16Array): void {
  for (let i = 0; i < N; i++) acc[i] = (acc[i]! + x[i]!) % Q;
}

function cbd(seed: Uint8Array, nonce: number): Uint16Array {
  const prf = shake256
    .create({ dkLen: 64 * ETA })
    .update(seed)
    .update(Uint8Array.of(nonce));
  return mlkem.SamplePolyCBD(prf.digest(), ETA);
}

/** K-PKE.Encrypt's u = NTT⁻¹(Âᵀ ∘ r̂) + e1, compressed and encoded (FIPS 203 Algorithm 14). */
function encryptU(rho: Uint8Array, r: Uint8Array): Uint8Array {
  const rHat: Uint16Array[] = [];
  for (let i = 0; i < K; i++) rHat.push(mlkem.NTT(cbd(r, i)));
  const out: Uint8Array[] = [];
  const xofSeed = new Uint8Array(34);
  xofSeed.set(rho);
  for (let i = 0; i < K; i++) {
    const acc = new Uint16Array(N);
    for (let j = 0; j < K; j++) {
      // Âᵀ[i][j] = Â[j][i] = SampleNTT(rho ‖ i ‖ j)
      xofSeed[32] = i;
      xofSeed[33] = j;
      addInto(acc, mlkem.MultiplyNTTs(mlkem.SampleNTT(xofSeed), rHat[j]!));
    }
    const u = mlkem.NTT_inv(acc);
    addInto(u, cbd(r, K + i));
    const compressed = new Uint16Array(N);
    for (let c = 0; c < N; c++) compressed[c] = mlkem.Compress_d(u[c]!, DU);
    out.push(mlkem.ByteEncode_d(compressed, DU));
  }
  return concat(...out);
}

export interface Encaps1Result {
  ct1: Uint8Array;
  /** Opaque state for encaps2: m ‖ header. Secret. */
  es: Uint8Array;
  sharedSecret: Uint8Array;
}

/** First half of encapsulation: needs only the 64-byte header. `m` only for tests. */
export function encaps1(
  hdr: Uint8Array,
  rng: RandomSource = systemRandom,
  m?: Uint8Array,
): Encaps1Result {
  abytes(hdr, 'header', HEADER_SIZE);
  const msg = m ?? rng(32);
  abytes(msg, 'randomness', 32);
  const kr = sha3_512(concat(msg, hdr.subarray(32)));
  const ct1 = encryptU(hdr.subarray(0, 32), kr.subarray(32));
  return { ct1, es: concat(msg, hdr), sharedSecret: kr.slice(0, 32) };
}

/** Second half: ct2 for the key part `ek`, which must match the header encaps1 used. */
export function encaps2(ek: Uint8Array, es: Uint8Array): Uint8Array {
  abytes(es, 'encapsulation state', ENCAPSULATION_STATE_SIZE);
  const hdr = es.subarray(32);
  if (!ekMatchesHeader(ek, hdr)) {
    throw new ProtocolError('InvalidKey', 'encapsulation key does not match its header');
  }
  const { cipherText } = ml_kem768.encapsulate(fullEncapsulationKey(ek, hdr), es.slice(0, 32));
  return cipherText.slice(CIPHERTEXT1_SIZE);
}

/** Standard ML-KEM-768 decapsulation of ct1 ‖ ct2 (implicit rejection on a bad ciphertext). */
export function decaps(dk: Uint8Array, ct1: Uint8Array, ct2: Uint8Array): Uint8Array {
  abytes(dk, 'decapsulation key', DECAPSULATION_KEY_SIZE);
  abytes(ct1, 'ct1', CIPHERTEXT1_SIZE, 'InvalidMessage');
  abytes(ct2, 'ct2', CIPHERTEXT2_SIZE, 'InvalidMessage');
  return ml_kem768.decapsulate(concat(ct1, ct2), dk);
}
