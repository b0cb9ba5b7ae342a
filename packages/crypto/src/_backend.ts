/**
 * The curve primitives behind `PrivateKey.agreeAsync`, `PublicKey.verifySignatureAsync` and
 * `KeyPair.generateAsync`, and the switch between their two implementations:
 *
 * - `noble`: @noble/curves, pure TypeScript, works everywhere (the portable default);
 * - `webcrypto`: `globalThis.crypto.subtle` X25519 `deriveBits` and Ed25519 `verify`
 *   (Node ≥ 20, current Chromium), about 10× faster, with the same results bit for bit.
 *
 * The protocol code only calls `curveBackend()`; `setCryptoBackend` (public, `backend.ts`)
 * chooses. `auto`, the default, runs a known-answer self-test of WebCrypto once and falls
 * back to noble when it is missing or wrong.
 *
 * Symmetric primitives (HMAC, HKDF, AES-CBC, SHA-512) stay on noble in the built-in
 * backends: measured on Node 20, WebCrypto's per-call key import and promise cost more than
 * the work for protocol-sized inputs (HMAC-SHA256 of 1 byte: 95 µs vs 10 µs; AES-256-CBC of
 * 256 B: 66 µs vs 10 µs). A custom backend may bring synchronous ones (`symmetric`, e.g.
 * node:crypto's). ML-KEM stays on noble; signing too, but for Ed25519-backed sender keys.
 * Internal: not exported from the package.
 * @module
 */
import { x25519 } from '@noble/curves/ed25519.js';
import { ProtocolError } from './errors.ts';
import { setSymmetricPrimitives, type SymmetricPrimitives } from './_primitives.ts';
import { systemRandom, type RandomSource } from './random.ts';
import { xeddsaSign, xeddsaVerify } from './_xeddsa.ts';
import {
  clearWebcryptoCaches,
  forgetWebcryptoKey,
  webcryptoBackend,
  webcryptoWorks,
} from './_webcrypto.ts';

export type CryptoBackendName = 'noble' | 'webcrypto';
/** A built-in backend by name, `auto`, or a backend of the application's own (`CurveBackend`). */
export type CryptoBackendChoice = CryptoBackendName | 'auto' | CurveBackend;

/** What the protocol needs from a curve backend. `k` is always a clamped private key. */
export interface CurveBackend {
  /** `noble`, `webcrypto`, or a custom backend's own name (e.g. `node`). */
  readonly name: string;
  /**
   * X25519(k, u); throws `InvalidKey` when the result is all zero (a low-order `u`).
   * `kPublic`, when the caller knows it, is X25519(k, 9): a hint that makes importing `k`
   * cheaper (a wrong hint costs time, never a wrong answer).
   */
  agree(k: Uint8Array, u: Uint8Array, kPublic?: Uint8Array): Promise<Uint8Array>;
  /** X25519(k, 9): the public u-coordinate. */
  publicFromPrivate(k: Uint8Array): Promise<Uint8Array>;
  /**
   * A key pair for agreements: `k` clamped, `u` = X25519(k, 9). `k` is given when it was
   * drawn from an injected RNG (reproducible keys); without it the backend draws a fresh one
   * from the platform's CSPRNG (the one behind `crypto.getRandomValues`), maybe inside
   * WebCrypto's own key generator.
   */
  generate(k?: Uint8Array): Promise<{ k: Uint8Array; u: Uint8Array }>;
  /**
   * `generate` for a key meant for signing (sender keys): a backend may also keep a faster
   * signing handle for a key it draws itself, in this process (see `sign`).
   */
  generateSigning(k?: Uint8Array): Promise<{ k: Uint8Array; u: Uint8Array }>;
  /**
   * A signature over `message` that libsignal's XEdDSA verification accepts for X25519(k, 9)
   * (see `_xeddsa.ts`); `rng` gives XEdDSA's 64 bytes of nonce randomness where it is used.
   */
  sign(k: Uint8Array, message: Uint8Array, rng: RandomSource): Uint8Array | Promise<Uint8Array>;
  /** libsignal's XEdDSA verification (see `_xeddsa.ts`). */
  verify(u: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean>;
  /** Optional synchronous HMAC/HKDF/SHA-512/AES-CBC, used while this backend is selected. */
  readonly symmetric?: SymmetricPrimitives;
  /**
   * Optional, for backends that cache keys: drop every handle derived from private key `k`
   * (import, signing seed). Called when the protocol erases `k` (a replaced ratchet key, a used
   * one-time prekey, an evicted session or sender-key state).
   */
  forget?(k: Uint8Array): void;
  /** Optional: drop every cached key (`clearCryptoCaches`, e.g. when an account is wiped). */
  clearCaches?(): void;
}

/** `k` clamped as RFC 7748 §5 (and libsignal's `PrivateKey::from`) do, in place. */
export function clampScalar(k: Uint8Array): Uint8Array {
  k[0]! &= 248;
  k[31]! &= 127;
  k[31]! |= 64;
  return k;
}

function nobleGenerate(k?: Uint8Array): Promise<{ k: Uint8Array; u: Uint8Array }> {
  k ??= clampScalar(systemRandom(32));
  return Promise.resolve({ k, u: x25519.getPublicKey(k) });
}

export function nobleAgree(k: Uint8Array, u: Uint8Array): Uint8Array {
  try {
    return x25519.getSharedSecret(k, u);
  } catch (cause) {
    throw new ProtocolError('InvalidKey', 'public key is of low order', { cause });
  }
}

export const nobleBackend: CurveBackend = {
  name: 'noble',
  agree: async (k, u) => nobleAgree(k, u),
  publicFromPrivate: async (k) => x25519.getPublicKey(k),
  generate: nobleGenerate,
  generateSigning: nobleGenerate,
  sign: (k, message, rng) => xeddsaSign(k, message, rng(64)),
  verify: async (u, message, signature) => xeddsaVerify(u, message, signature),
};

let choice: CryptoBackendChoice = 'auto';
let active: CurveBackend | undefined;
let detecting: Promise<CurveBackend> | undefined;

const METHODS = ['agree', 'publicFromPrivate', 'generate', 'generateSigning', 'sign', 'verify'];

/**
 * Selects the backend; `auto` = WebCrypto when its self-test passes, else noble. A custom
 * backend (such as `@parley/crypto-node`'s) must give noble's results bit for bit; it can
 * hand the cases it does not cover to `nobleBackend`.
 */
export function setCryptoBackend(next: CryptoBackendChoice): void {
  if (typeof next === 'object' && next !== null) {
    const missing = METHODS.filter(
      (m) => typeof (next as unknown as Record<string, unknown>)[m] !== 'function',
    );
    if (typeof next.name !== 'string' || missing.length > 0) {
      throw new TypeError(`not a curve backend (missing ${missing.join(', ') || 'name'})`);
    }
  } else if (next !== 'noble' && next !== 'webcrypto' && next !== 'auto') {
    throw new TypeError(`unknown crypto backend ${String(next)}`);
  }
  choice = next;
  active = next === 'noble' ? nobleBackend : typeof next === 'object' ? next : undefined;
  detecting = undefined;
  setSymmetricPrimitives(typeof next === 'object' ? next.symmetric : undefined);
}

export function getCryptoBackendChoice(): CryptoBackendChoice {
  return choice;
}

/** The backend in use, detecting WebCrypto on first use. */
export function curveBackend(): CurveBackend | Promise<CurveBackend> {
  if (active) return active;
  detecting ??= (async () => {
    const works = await webcryptoWorks();
    const wanted = choice;
    if (wanted === 'webcrypto' && !works) {
      throw new ProtocolError('InvalidState', 'WebCrypto X25519/Ed25519 is not available here');
    }
    const b = works ? webcryptoBackend : nobleBackend;
    if (choice === wanted) active = b;
    return b;
  })();
  return detecting;
}

/**
 * Drops the cached handles of private keys the protocol has just erased, in every backend
 * that may hold them (the WebCrypto caches and the selected custom backend's).
 */
export function forgetPrivateKeys(...keys: Uint8Array[]): void {
  const custom = typeof choice === 'object' ? choice : undefined;
  for (const k of keys) {
    forgetWebcryptoKey(k);
    custom?.forget?.(k);
  }
}

/** Drops every cached key of every backend (call it when the keys in storage are wiped). */
export function clearCryptoCaches(): void {
  clearWebcryptoCaches();
  if (typeof choice === 'object') choice.clearCaches?.();
}
