/**
 * The node:crypto backend against noble (which follows libsignal's curve25519-dalek): the
 * same bytes for X25519, the same XEdDSA verdicts on valid, tampered and adversarial
 * signatures, and Ed25519-backed signatures that noble and libsignal 0.90 accept.
 * Deterministic pseudo-random inputs (SHA-256 chain), so a failure reproduces.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { bytesToNumberLE, numberToBytesLE } from '@noble/curves/utils.js';
import { describe, expect, test } from 'vitest';
import {
  getCryptoBackendChoice,
  nobleBackend,
  nobleSymmetric,
  setCryptoBackend,
} from '@parley/crypto/backend.js';
import { GroupCipher, InMemorySenderKeyStore } from '@parley/crypto/group.js';
import { ProtocolAddress } from '@parley/crypto/address.js';
import { KeyPair, PrivateKey, PublicKey } from '@parley/crypto/curve.js';
import {
  __TESTS,
  clearNodeCryptoCaches,
  nodeCryptoBackend as node,
  nodeSymmetric,
} from '../src/index.ts';

type Libsignal = typeof import('libsignal-0.90');
const ls = createRequire(import.meta.url)('libsignal-0.90') as Libsignal;
const lsb = (u: Uint8Array) => u as Uint8Array<ArrayBuffer>;

const Point = ed25519.Point;
const L = Point.CURVE().n;
const P = Point.CURVE().p;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));

const sha256 = (b: Uint8Array) => new Uint8Array(createHash('sha256').update(b).digest());

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

/** Both verdicts, which must agree (twice: the second with the key cached). */
async function both(u: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
  const noble = await nobleBackend.verify(u, message, signature);
  for (let i = 0; i < 2; i++) {
    expect(await node.verify(u, message, signature), `u=${hex(u)} sig=${hex(signature)}`).toBe(
      noble,
    );
  }
  return noble;
}

describe('X25519: node:crypto = noble', () => {
  test('RFC 7748 §6.1, random keys, public keys and agreements', async () => {
    const k = clamp(unhex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a'));
    const u = unhex('de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f');
    expect(hex(await node.agree(k, u))).toBe(
      '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742',
    );
    const rnd = stream('x25519');
    for (let i = 0; i < 40; i++) {
      const a = clamp(rnd(32));
      const theirs = rnd(32); // arbitrary u: on the curve or its twist, top bit set or not
      expect(await node.publicFromPrivate(a)).toEqual(x25519.getPublicKey(a));
      expect(await node.agree(a, theirs)).toEqual(await nobleBackend.agree(a, theirs));
    }
  });

  test('non-canonical u (≥ p, bit 255 set) is reduced the same way', async () => {
    const rnd = stream('noncanonical');
    for (const delta of [2n, 5n, 9n, 18n]) {
      const a = clamp(rnd(32));
      const top = numberToBytesLE(delta, 32);
      top[31]! |= 0x80;
      for (const v of [numberToBytesLE(P + delta, 32), top]) {
        expect(await node.agree(a, v)).toEqual(await nobleBackend.agree(a, v));
      }
    }
  });

  test('low-order u is InvalidKey on both', async () => {
    const a = clamp(stream('low')(32));
    const lows = [
      0n,
      1n,
      325606250916557431795983626356110631294008115727848805560023387167927233504n,
      39382357235489614581723060781553021112529911719440698176882885853963445705823n,
      P - 1n,
      P,
      P + 1n,
    ].map((u) => numberToBytesLE(u, 32));
    for (const u of lows) {
      await expect(nobleBackend.agree(a, u)).rejects.toMatchObject({ code: 'InvalidKey' });
      await expect(node.agree(a, u)).rejects.toMatchObject({ code: 'InvalidKey' });
    }
  });

  test('keys born in OpenSSL: clamped, with noble public keys; a wrong hint still agrees', async () => {
    const peer = KeyPair.generate();
    const theirs = PublicKey._u(peer.publicKey);
    for (let i = 0; i < 10; i++) {
      const { k, u } = await node.generate();
      expect(clamp(k)).toEqual(k);
      expect(u).toEqual(x25519.getPublicKey(k));
      const shared = await node.agree(k, theirs, u);
      expect(shared).toEqual(await nobleBackend.agree(k, theirs));
      clearNodeCryptoCaches();
      const wrong = x25519.getPublicKey(clamp(stream(`wrong${i}`)(32)));
      expect(await node.agree(k, theirs, wrong)).toEqual(shared);
    }
    const drawn = clamp(stream('drawn')(32));
    expect(await node.generate(drawn)).toEqual({ k: drawn, u: x25519.getPublicKey(drawn) });
  });
});

describe('XEdDSA: node:crypto = noble (= libsignal)', () => {
  test('valid signatures, every single-bit flip of two of them, and random garbage', async () => {
    const rnd = stream('xeddsa');
    for (let i = 0; i < 16; i++) {
      const key = PrivateKey.deserialize(rnd(32));
      const u = key.publicKey().raw();
      const message = rnd(i * 5);
      const sig = key.sign(message, rnd);
      expect(await both(u, message, sig)).toBe(true);
      if (i < 2) {
        for (let bit = 0; bit < 512; bit += 3) {
          const flipped = sig.slice();
          flipped[bit >> 3]! ^= 1 << (bit & 7);
          expect(await both(u, message, flipped)).toBe(false);
        }
      }
      expect(await both(rnd(32), message, rnd(64))).toBe(false);
    }
  });

  test('s + L (dalek reduces it), small-order R, low-order and off-curve keys', async () => {
    const rnd = stream('edge');
    const key = PrivateKey.deserialize(rnd(32));
    const u = key.publicKey().raw();
    const message = rnd(40);
    const sig = key.sign(message, rnd);
    const s = bytesToNumberLE(sig.subarray(32, 63)) + (BigInt(sig[63]! & 0x7f) << 248n);
    const bumped = sig.slice();
    bumped.set(numberToBytesLE(s + L, 32), 32);
    bumped[63]! |= sig[63]! & 0x80;
    await both(u, message, bumped);
    const identityR = new Uint8Array(64);
    identityR[0] = 1;
    for (const low of [0n, 1n, P - 1n]) {
      const lowU = numberToBytesLE(low, 32);
      await both(lowU, message, identityR);
      await both(lowU, message, sig);
    }
    // A u whose Edwards y is not on the curve with either sign.
    for (let i = 0; i < 8; i++) await both(rnd(32), message, sig);
  });

  test('Ed25519-backed signing keys: signatures noble and libsignal accept', async () => {
    const rnd = stream('signing');
    for (let i = 0; i < 12; i++) {
      const { k, u } = await node.generateSigning();
      expect(clamp(k)).toEqual(k);
      expect(u).toEqual(x25519.getPublicKey(k));
      expect(__TESTS.hasSigningKey(k)).toBe(true);
      const message = rnd(1 + i * 9);
      const sig = await node.sign(k, message, rnd);
      expect(await both(u, message, sig)).toBe(true);
      const lsKey = ls.PublicKey.deserialize(lsb(Uint8Array.of(5, ...u)));
      expect(lsKey.verify(lsb(message), lsb(sig))).toBe(true);
      const tampered = sig.slice();
      tampered[(i * 5) % 64]! ^= 1 << (i % 8);
      expect(lsKey.verify(lsb(message), lsb(tampered))).toBe(false);
      expect(await both(u, message, tampered)).toBe(false);
    }
  });

  test('a signing key without its OpenSSL handle signs through noble XEdDSA', async () => {
    const { k, u } = await node.generateSigning();
    clearNodeCryptoCaches();
    expect(__TESTS.hasSigningKey(k)).toBe(false);
    const message = new TextEncoder().encode('after a restart');
    const a = await node.sign(k, message, stream('fallback'));
    expect(a).toEqual(await nobleBackend.sign(k, message, stream('fallback')));
    expect(await both(u, message, a)).toBe(true);
  });
});

describe('long runs', () => {
  test('thousands of key pairs (Node 20 hangs on repeated JWK exports of OKP keys; DER here)', async () => {
    // Before the DER route this loop never finished: the process stopped inside the export.
    let last: { k: Uint8Array; u: Uint8Array } | undefined;
    for (let i = 0; i < 4000; i++) last = await node.generate();
    expect(last!.u).toEqual(x25519.getPublicKey(last!.k));
    let signing: { k: Uint8Array; u: Uint8Array } | undefined;
    for (let i = 0; i < 1500; i++) signing = await node.generateSigning();
    expect(signing!.u).toEqual(x25519.getPublicKey(signing!.k));
  });
});

describe('symmetric primitives: node:crypto = noble', () => {
  test('HMAC-SHA256, HKDF-SHA256 (with and without salt), SHA-512, AES-256-CBC', () => {
    const rnd = stream('symmetric');
    for (const n of [0, 1, 15, 16, 17, 31, 32, 33, 64, 255, 256, 1000]) {
      const key = rnd(32);
      const data = rnd(n);
      expect(nodeSymmetric.hmacSha256(key, data)).toEqual(nobleSymmetric.hmacSha256(key, data));
      const longKey = rnd(n + 65); // longer than the block: hashed first
      expect(nodeSymmetric.hmacSha256(longKey, data)).toEqual(
        nobleSymmetric.hmacSha256(longKey, data),
      );
      for (const salt of [undefined, rnd(32), new Uint8Array(0)]) {
        const info = rnd(n % 40);
        for (const length of [32, 64, 80]) {
          expect(nodeSymmetric.hkdfSha256(data, salt, info, length)).toEqual(
            nobleSymmetric.hkdfSha256(data, salt, info, length),
          );
        }
      }
      expect(nodeSymmetric.sha512(data)).toEqual(nobleSymmetric.sha512(data));
      const iv = rnd(16);
      const ct = nodeSymmetric.aes256CbcEncrypt(key, iv, data);
      expect(ct).toEqual(nobleSymmetric.aes256CbcEncrypt(key, iv, data));
      expect(nodeSymmetric.aes256CbcDecrypt(key, iv, ct)).toEqual(data);
      const bad = ct.slice();
      bad[bad.length - 1]! ^= 0x5a; // corrupts the last block's padding (almost surely)
      expect(() => nobleSymmetric.aes256CbcDecrypt(key, iv, bad)).toThrow();
      expect(() => nodeSymmetric.aes256CbcDecrypt(key, iv, bad)).toThrow();
    }
  });
});

describe('selection', () => {
  test("the protocol runs on a backend's symmetric primitives only while it is selected", async () => {
    const before = getCryptoBackendChoice();
    let calls = 0;
    const counting = {
      ...node,
      symmetric: {
        ...nodeSymmetric,
        hmacSha256: (k: Uint8Array, d: Uint8Array) => (calls++, nodeSymmetric.hmacSha256(k, d)),
      },
    };
    const sender = new ProtocolAddress('alice', 1);
    const group = new GroupCipher(new InMemorySenderKeyStore());
    try {
      setCryptoBackend(counting);
      await group.createDistributionMessage(sender, crypto.randomUUID());
      const id = crypto.randomUUID();
      await group.createDistributionMessage(sender, id);
      await group.encrypt(sender, id, new Uint8Array(10)); // the chain step is an HMAC
      expect(calls).toBeGreaterThan(0);
      const seen = calls;
      setCryptoBackend('noble');
      await group.encrypt(sender, id, new Uint8Array(10));
      expect(calls).toBe(seen);
    } finally {
      setCryptoBackend(before);
    }
  });
});
