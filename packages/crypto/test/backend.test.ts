/**
 * The WebCrypto curve backend against noble (which follows libsignal's curve25519-dalek):
 * the same bytes for X25519 and public keys, the same verdict for XEdDSA on valid, random,
 * tampered and adversarial signatures (s ≥ L, bad sign bit, u = −1, low-order and
 * mixed-order public keys, small-order R). Deterministic pseudo-random inputs (SHA-256
 * chain), so a failure reproduces.
 */
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { bytesToNumberLE, numberToBytesLE } from '@noble/curves/utils.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { nobleBackend, setCryptoBackend, getCryptoBackendChoice } from '../src/_backend.ts';
import { activeCryptoBackend } from '../src/backend.ts';
import { concat, fromHex, toHex } from '../src/_bytes.ts';
import { KeyPair, PrivateKey, PublicKey } from '../src/curve.ts';
import { xeddsaSign, xeddsaVerify } from '../src/_xeddsa.ts';
import { ls090, lsb } from './support/libsignal.ts';
import {
  __TESTS,
  clearWebcryptoCaches,
  webcryptoBackend,
  webcryptoWorks,
} from '../src/_webcrypto.ts';

const Point = ed25519.Point;
const L = Point.CURVE().n;
const P = Point.CURVE().p;

/** Deterministic bytes: SHA-256 chain from a label. */
function stream(label: string) {
  let state = sha256(new TextEncoder().encode(label));
  return (n: number): Uint8Array => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 32) {
      state = sha256(state);
      out.set(state.subarray(0, Math.min(32, n - i)), i);
    }
    return out;
  };
}

const clamp = (k: Uint8Array) => PrivateKey.deserialize(k).serialize();

/** Both verdicts, which must agree. */
async function both(u: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
  const noble = xeddsaVerify(u, message, signature);
  const web = await webcryptoBackend.verify(u, message, signature);
  expect(web, `u=${toHex(u)} sig=${toHex(signature)}`).toBe(noble);
  // Again, now with the Edwards key cached.
  expect(await webcryptoBackend.verify(u, message, signature)).toBe(noble);
  return noble;
}

/** Montgomery u of an Edwards point: (1 + y)/(1 − y). */
function montgomeryU(point: InstanceType<typeof Point>): Uint8Array {
  const { y } = point.toAffine();
  const Fp = Point.Fp;
  return numberToBytesLE(Fp.mul(Fp.add(1n, y), Fp.inv(Fp.sub(1n, y))), 32);
}

/** An XEdDSA-shaped signature for the public point `A` with scalar `a` (any A, any r). */
function signWith(A: InstanceType<typeof Point>, a: bigint, r: bigint, message: Uint8Array) {
  const R = Point.BASE.multiply(r).toBytes();
  const Abytes = A.toBytes();
  const h = bytesToNumberLE(sha512(concat(R, Abytes, message))) % L;
  const s = (h * a + r) % L;
  const sig = concat(R, numberToBytesLE(s, 32));
  sig[63]! |= Abytes[31]! & 0x80;
  return { sig, h, u: montgomeryU(A) };
}

beforeAll(() => {
  expect(typeof globalThis.crypto?.subtle?.importKey).toBe('function');
});

afterAll(() => clearWebcryptoCaches());

describe('backend selection', () => {
  test('WebCrypto passes its self-test on Node', async () => {
    expect(await webcryptoWorks()).toBe(true);
  });

  test('the suite runs on the backend its project asked for', async () => {
    const wanted = process.env.PARLEY_CRYPTO_BACKEND ?? 'auto';
    if (wanted === 'node') {
      // @parley/crypto-node's project: a backend object of the application's own.
      expect(getCryptoBackendChoice()).toMatchObject({ name: 'node' });
      expect(await activeCryptoBackend()).toBe('node');
      return;
    }
    expect(getCryptoBackendChoice()).toBe(wanted);
    expect(await activeCryptoBackend()).toBe(wanted === 'noble' ? 'noble' : 'webcrypto');
  });

  test('setCryptoBackend switches and refuses unknown names', async () => {
    const before = getCryptoBackendChoice();
    try {
      setCryptoBackend('noble');
      expect(await activeCryptoBackend()).toBe('noble');
      setCryptoBackend('webcrypto');
      expect(await activeCryptoBackend()).toBe('webcrypto');
      expect(() => setCryptoBackend('fast' as 'auto')).toThrow(TypeError);
    } finally {
      setCryptoBackend(before);
    }
  });

  test('generateAsync gives the same key pair from the same randomness on both', async () => {
    const before = getCryptoBackendChoice();
    try {
      const pairs: KeyPair[] = [];
      for (const name of ['noble', 'webcrypto'] as const) {
        setCryptoBackend(name);
        pairs.push(await KeyPair.generateAsync(stream('generate')));
      }
      expect(pairs[0]!.publicKey.serialize()).toEqual(pairs[1]!.publicKey.serialize());
      expect(pairs[0]!.privateKey.serialize()).toEqual(pairs[1]!.privateKey.serialize());
      expect(pairs[1]!.privateKey.publicKey().raw()).toEqual(
        x25519.getPublicKey(pairs[1]!.privateKey.serialize()),
      );
    } finally {
      setCryptoBackend(before);
    }
  });
});

describe('X25519: WebCrypto = noble', () => {
  test('RFC 7748 §6.1 and random keys, public keys and agreements', async () => {
    const k = clamp(fromHex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a'));
    const u = fromHex('de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f');
    expect(toHex(await webcryptoBackend.agree(k, u))).toBe(
      '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742',
    );
    const rnd = stream('x25519');
    for (let i = 0; i < 40; i++) {
      const a = clamp(rnd(32));
      const theirs = rnd(32); // arbitrary u: on the curve or its twist, top bit set or not
      expect(await webcryptoBackend.publicFromPrivate(a)).toEqual(x25519.getPublicKey(a));
      expect(await webcryptoBackend.agree(a, theirs)).toEqual(await nobleBackend.agree(a, theirs));
    }
  });

  test('non-canonical u (≥ p, bit 255 set) is reduced the same way', async () => {
    const rnd = stream('noncanonical');
    for (const delta of [2n, 5n, 9n, 18n]) {
      const a = clamp(rnd(32));
      const u = numberToBytesLE(P + delta, 32); // P + delta < 2^255
      const top = numberToBytesLE(delta, 32);
      top[31]! |= 0x80;
      for (const v of [u, top]) {
        expect(await webcryptoBackend.agree(a, v)).toEqual(await nobleBackend.agree(a, v));
      }
    }
  });

  test('low-order u (and its non-canonical forms) are InvalidKey on both', async () => {
    const a = clamp(stream('low')(32));
    const lows = [...__TESTS.LOW_ORDER_U].flatMap((u) => [
      numberToBytesLE(u, 32),
      numberToBytesLE(u + P < 1n << 255n ? u + P : u, 32),
    ]);
    lows.push(numberToBytesLE(P - 1n, 32), numberToBytesLE(P, 32));
    for (const u of lows) {
      await expect(nobleBackend.agree(a, u)).rejects.toMatchObject({ code: 'InvalidKey' });
      await expect(webcryptoBackend.agree(a, u)).rejects.toMatchObject({ code: 'InvalidKey' });
    }
  });

  test('PrivateKey.agreeAsync equals agree', async () => {
    const a = KeyPair.generate();
    const b = KeyPair.generate();
    expect(await a.privateKey.agreeAsync(b.publicKey)).toEqual(a.privateKey.agree(b.publicKey));
  });
});

describe('XEdDSA verification: WebCrypto = noble (= libsignal)', () => {
  test('the fallback tables list exactly small-order points', () => {
    for (const u of __TESTS.LOW_ORDER_U) {
      expect(() =>
        x25519.getSharedSecret(clamp(stream('t')(32)), numberToBytesLE(u, 32)),
      ).toThrow();
    }
    expect(__TESTS.SMALL_ORDER_R.size).toBe(8);
    for (const r of __TESTS.SMALL_ORDER_R) {
      const point = Point.fromBytes(fromHex(r), true);
      expect(point.isSmallOrder()).toBe(true);
    }
  });

  test('valid signatures, and every single-bit flip of a few of them', async () => {
    const rnd = stream('xeddsa');
    for (let i = 0; i < 12; i++) {
      const k = clamp(rnd(32));
      const u = x25519.getPublicKey(k);
      const message = rnd(i * 7);
      const sig = xeddsaSign(k, message, rnd(64));
      expect(await both(u, message, sig)).toBe(true);
      expect(await PublicKey.fromRaw(u).verifySignatureAsync(message, sig)).toBe(true);
      if (i >= 2) continue;
      for (let bit = 0; bit < 512; bit++) {
        const bad = sig.slice();
        bad[bit >> 3]! ^= 1 << (bit & 7);
        expect(await both(u, message, bad)).toBe(false);
      }
      for (let bit = 0; bit < 256; bit += 3) {
        const badU = u.slice();
        badU[bit >> 3]! ^= 1 << (bit & 7);
        // Bit 255 of u is ignored by both; any other flip fails.
        expect(await both(badU, message, sig)).toBe(bit === 255);
      }
    }
  });

  test('random garbage signatures and keys', async () => {
    const rnd = stream('garbage');
    for (let i = 0; i < 60; i++) {
      const sig = rnd(64);
      if (i % 2) sig[63]! &= 0x8f; // keep s < 2^253 half the time, so the curve is reached
      expect(await both(rnd(32), rnd(20), sig)).toBe(false);
    }
  });

  test('s ≥ L (below 2^253): dalek reduces it; Ed25519 rejects it; the backend follows dalek', async () => {
    const rnd = stream('s>=L');
    let accepted = 0;
    for (let i = 0; i < 8; i++) {
      const k = clamp(rnd(32));
      const u = x25519.getPublicKey(k);
      const message = rnd(32);
      const sig = xeddsaSign(k, message, rnd(64));
      const sign = sig[63]! & 0x80;
      const s = bytesToNumberLE(sig.subarray(32)) & ((1n << 255n) - 1n);
      const big = s + L;
      if (big >= 1n << 253n) continue;
      const forged = concat(sig.subarray(0, 32), numberToBytesLE(big, 32));
      forged[63]! |= sign;
      expect(await both(u, message, forged)).toBe(true);
      accepted++;
    }
    expect(accepted).toBeGreaterThan(0);
  });

  test('s with bits 253..254 set is rejected by both', async () => {
    const rnd = stream('s-top');
    const k = clamp(rnd(32));
    const message = rnd(16);
    const sig = xeddsaSign(k, message, rnd(64));
    for (const top of [0x20, 0x40, 0x60]) {
      const bad = sig.slice();
      bad[63]! |= top;
      expect(await both(x25519.getPublicKey(k), message, bad)).toBe(false);
    }
  });

  test('the wrong sign bit fails', async () => {
    const rnd = stream('sign');
    const k = clamp(rnd(32));
    const message = rnd(16);
    const sig = xeddsaSign(k, message, rnd(64));
    sig[63]! ^= 0x80;
    expect(await both(x25519.getPublicKey(k), message, sig)).toBe(false);
  });

  test('u = −1, low-order u, u on the twist: both reject', async () => {
    const rnd = stream('bad-u');
    const k = clamp(rnd(32));
    const message = rnd(16);
    const sig = xeddsaSign(k, message, rnd(64));
    const us = [P - 1n, P - 1n + P < 1n << 255n ? P - 1n + P : P - 1n, ...__TESTS.LOW_ORDER_U];
    for (const u of us) {
      for (const s of [sig, Uint8Array.from(sig, (b, i) => (i === 63 ? b ^ 0x80 : b))]) {
        expect(await both(numberToBytesLE(u, 32), message, s)).toBe(false);
      }
    }
    // A twist point has no Edwards image on the curve.
    for (let i = 0; i < 8; i++) await both(rnd(32), message, sig);
  });

  test('low-order public keys with forged signatures (s = 0, R = −h·A): same verdict', async () => {
    const rnd = stream('forge-low');
    const message = rnd(16);
    for (const u of __TESTS.LOW_ORDER_U) {
      for (const sign of [0, 0x80]) {
        // Any R that is itself small order: try all eight, with s = 0.
        for (const r of __TESTS.SMALL_ORDER_R) {
          const sig = concat(fromHex(r), new Uint8Array(32));
          sig[63]! |= sign;
          await both(numberToBytesLE(u, 32), message, sig);
        }
      }
    }
  });

  test('mixed-order public keys (a·B + T8): cofactorless on both sides', async () => {
    const rnd = stream('mixed');
    const T8 = Point.fromBytes(fromHex([...__TESTS.SMALL_ORDER_R][4]!), true);
    expect(T8.multiply(4n).equals(Point.ZERO)).toBe(false);
    let accepted = 0;
    let rejected = 0;
    for (let i = 0; i < 40 && (accepted < 3 || rejected < 3); i++) {
      const a = bytesToNumberLE(rnd(32)) % L;
      const A = Point.BASE.multiply(a).add(T8);
      const message = rnd(24);
      const r = bytesToNumberLE(rnd(32)) % L;
      const { sig, h, u } = signWith(A, a, r, message);
      const ok = await both(u, message, sig);
      expect(ok).toBe(h % 8n === 0n);
      if (ok) accepted++;
      else rejected++;
    }
    expect(accepted).toBeGreaterThan(0);
    expect(rejected).toBeGreaterThan(0);
  });

  test('small-order R with a valid equation (a low-order key, s = 0) matches dalek', async () => {
    // With A of order 8 and s = 0, sB − hA = −hA is small order: forge R = −hA by search.
    const message = new Uint8Array(8);
    const T8 = Point.fromBytes(fromHex([...__TESTS.SMALL_ORDER_R][4]!), true);
    const u = montgomeryU(T8);
    const Ab = T8.toBytes();
    for (const r of __TESTS.SMALL_ORDER_R) {
      const sig = concat(fromHex(r), new Uint8Array(32));
      sig[63]! |= Ab[31]! & 0x80;
      await both(u, message, sig);
    }
  });
});

describe.each([
  ['JWK imports, generateKey (the Node strategy)', true],
  ['PKCS#8 imports, imported random scalars (the browser strategy)', false],
])('keys made by the WebCrypto backend (system RNG): %s', (_, jwkFirst) => {
  beforeAll(() => __TESTS.setJwkFirst(jwkFirst));
  afterAll(() => __TESTS.setJwkFirst(__TESTS.JWK_FIRST));

  test('generate: a clamped scalar whose noble public key and agreements match', async () => {
    const peer = KeyPair.generate();
    for (let i = 0; i < 10; i++) {
      const { k, u } = await webcryptoBackend.generate();
      expect(clamp(k)).toEqual(k);
      expect(u).toEqual(x25519.getPublicKey(k));
      // Agreement through the CryptoKey cached at birth and through a fresh import agree.
      const theirs = PublicKey._u(peer.publicKey);
      const shared = await webcryptoBackend.agree(k, theirs, u);
      expect(shared).toEqual(await nobleBackend.agree(k, theirs));
      clearWebcryptoCaches();
      expect(await webcryptoBackend.agree(k, theirs, u)).toEqual(shared);
    }
  });

  test('a wrong public-key hint costs an import, never a wrong agreement', async () => {
    const a = KeyPair.generate();
    const b = KeyPair.generate();
    const wrong = KeyPair.generate().publicKey;
    clearWebcryptoCaches();
    const k = a.privateKey.serialize();
    const u = PublicKey._u(b.publicKey);
    expect(await webcryptoBackend.agree(k, u, PublicKey._u(wrong))).toEqual(
      a.privateKey.agree(b.publicKey),
    );
    // A KeyPair built from mismatched halves still agrees as its private key does.
    const mismatched = new KeyPair(wrong, PrivateKey.deserialize(k));
    clearWebcryptoCaches();
    expect(await mismatched.privateKey.agreeAsync(b.publicKey)).toEqual(
      a.privateKey.agree(b.publicKey),
    );
  });

  test('generateSigning: Ed25519-backed signatures verify as XEdDSA (noble and libsignal)', async () => {
    const rnd = stream('ed-signing');
    for (let i = 0; i < 12; i++) {
      const { k, u } = await webcryptoBackend.generateSigning();
      expect(clamp(k)).toEqual(k);
      expect(u).toEqual(x25519.getPublicKey(k));
      expect(__TESTS.hasSigningKey(k)).toBe(true);
      const message = rnd(1 + i * 7);
      const sig = await webcryptoBackend.sign(k, message, rnd);
      expect(sig).toHaveLength(64);
      expect(xeddsaVerify(u, message, sig)).toBe(true);
      expect(await webcryptoBackend.verify(u, message, sig)).toBe(true);
      const lsKey = ls090.PublicKey.deserialize(lsb(concat(Uint8Array.of(5), u)));
      expect(lsKey.verify(lsb(message), lsb(sig))).toBe(true);
      const tampered = sig.slice();
      tampered[i % 64]! ^= 1 << (i % 8);
      expect(xeddsaVerify(u, message, tampered)).toBe(false);
      expect(lsKey.verify(lsb(message), lsb(tampered))).toBe(false);
    }
  });

  test('a signing key without its WebCrypto handle signs through noble XEdDSA', async () => {
    const { k, u } = await webcryptoBackend.generateSigning();
    clearWebcryptoCaches();
    expect(__TESTS.hasSigningKey(k)).toBe(false);
    const message = new TextEncoder().encode('after a restart');
    const a = await webcryptoBackend.sign(k, message, stream('fallback'));
    const b = await webcryptoBackend.sign(k, message, stream('fallback'));
    expect(a).toEqual(b); // XEdDSA with the same 64 random bytes: deterministic here
    expect(a).toEqual(xeddsaSign(k, message, stream('fallback')(64)));
    expect(xeddsaVerify(u, message, a)).toBe(true);
  });

  test('an injected RNG keeps generate and generateSigning reproducible on both', async () => {
    const before = getCryptoBackendChoice();
    try {
      const out: string[] = [];
      for (const name of ['noble', 'webcrypto'] as const) {
        setCryptoBackend(name);
        const rng = stream('reproducible');
        const a = await KeyPair.generateAsync(rng);
        const s = await KeyPair.generateSigningAsync(rng);
        out.push(toHex(concat(a.privateKey.serialize(), s.privateKey.serialize())));
        expect(s.publicKey.raw()).toEqual(x25519.getPublicKey(s.privateKey.serialize()));
      }
      expect(out[0]).toBe(out[1]);
    } finally {
      setCryptoBackend(before);
    }
  });
});
