import { describe, expect, test } from 'vitest';
import { IdentityKeyPair, KeyPair, PrivateKey, PublicKey } from '../src/curve.ts';
import { fromHex } from '../src/_bytes.ts';
import { isProtocolError } from '../src/errors.ts';
import { bytesFor, ls072, ls090, ls0103, lsb, u8 } from './support/libsignal.ts';

describe('X25519 (libsignal rust/core curve25519.rs test_agreement vector)', () => {
  const alicePublic = fromHex('1bb75966f2e93a3691dfff942bb2a466a1c08b8d78ca3f4d6df8b8bfa2e4ee28');
  const alicePrivate = fromHex('c806439dc9d2c476ffed8f2580c0888d58ab406bf7ae3698879021b96bb4bf59');
  const bobPublic = fromHex('653614993d2b15ee9e5fd3d86ce719ef4ec1daae1886a87b3f5fa9565a27a22f');
  const bobPrivate = fromHex('b03b34c33a1c44f225b662d2bf4859b8135411fa7b0386d45fb75dc5b91b4466');
  const shared = fromHex('325f239328941ced6e673b86ba41017448e99b649a9c3806c1dd7ca4c477e629');

  test('derives the public keys and the shared secret', () => {
    const a = PrivateKey.deserialize(alicePrivate);
    const b = PrivateKey.deserialize(bobPrivate);
    expect(a.publicKey().raw()).toEqual(alicePublic);
    expect(b.publicKey().raw()).toEqual(bobPublic);
    expect(a.agree(PublicKey.fromRaw(bobPublic))).toEqual(shared);
    expect(b.agree(PublicKey.fromRaw(alicePublic))).toEqual(shared);
  });

  test('clamps private keys on import, as libsignal does', () => {
    const raw = new Uint8Array(32).fill(0xff);
    const k = PrivateKey.deserialize(raw).serialize();
    expect(k[0]! & 7).toBe(0);
    expect(k[31]! & 0x80).toBe(0);
    expect(k[31]! & 0x40).toBe(0x40);
    expect(PrivateKey.deserialize(raw).publicKey().serialize()).toEqual(
      u8(ls090.PrivateKey.deserialize(lsb(raw)).getPublicKey().serialize()),
    );
  });

  test('rejects low-order public keys with a typed error', () => {
    const k = PrivateKey.generate();
    const zero = PublicKey.fromRaw(new Uint8Array(32));
    expect(() => k.agree(zero)).toThrow(expect.objectContaining({ code: 'InvalidKey' }));
  });

  test('agrees with libsignal in both directions', () => {
    for (let i = 0; i < 5; i++) {
      const ours = KeyPair.generate();
      const theirs = ls090.PrivateKey.generate();
      const theirPublic = PublicKey.deserialize(u8(theirs.getPublicKey().serialize()));
      const ourPublicForThem = ls090.PublicKey.deserialize(lsb(ours.publicKey.serialize()));
      expect(ours.privateKey.agree(theirPublic)).toEqual(u8(theirs.agree(ourPublicForThem)));
    }
  });
});

describe('public key serialisation', () => {
  test('is 0x05 ‖ u and round-trips', () => {
    const pk = KeyPair.generate().publicKey;
    const s = pk.serialize();
    expect(s.length).toBe(33);
    expect(s[0]).toBe(5);
    expect(PublicKey.deserialize(s).equals(pk)).toBe(true);
  });

  test.each([
    ['empty', new Uint8Array()],
    ['short', new Uint8Array(32).fill(5)],
    ['wrong type', Uint8Array.of(6, ...new Uint8Array(32))],
    ['too long', Uint8Array.of(5, ...new Uint8Array(33))],
  ])('rejects %s input with InvalidKey', (_name, bytes) => {
    expect(() => PublicKey.deserialize(bytes)).toThrow(
      expect.objectContaining({ code: 'InvalidKey' }),
    );
  });
});

describe('XEdDSA', () => {
  test('verifies libsignal rust/core test_signature vector, and no single-bit flip of it', () => {
    const priv = PrivateKey.deserialize(
      fromHex('c097248412e58bf05df487968205132794178e367637f5818f81e0e6ce73e865'),
    );
    const pub = fromHex('ab7e717d4a163b7d9a1d8071dfe9dcf8cdcd1cea3339b6356be84d887e322c64');
    expect(priv.publicKey().raw()).toEqual(pub);
    const message = fromHex('05edce9d9c415ca78cb7252e72c2c4a554d3eb29485a0e1d503118d1a82d99fb4a');
    const signature = fromHex(
      '5de88ca9a89b4a115da79109c67c9c7464a3e4180274f1cb8c63c2984e286dfbede82deb9dcd9fae0bfbb821569b3d9001bd8130cd11d486cef047bd60b86e88',
    );
    const key = PublicKey.fromRaw(pub);
    expect(key.verifySignature(message, signature)).toBe(true);
    for (let i = 0; i < 64 * 8; i++) {
      const bad = signature.slice();
      bad[i >> 3]! ^= 1 << (i & 7);
      expect(key.verifySignature(message, bad)).toBe(false);
    }
  });

  test('deterministic for a fixed random input (injected rng)', () => {
    const k = PrivateKey.generate();
    const fixed = (n: number) => new Uint8Array(n).fill(7);
    const m = Uint8Array.of(1, 2, 3);
    expect(k.sign(m, fixed)).toEqual(k.sign(m, fixed));
    expect(k.sign(m)).not.toEqual(k.sign(m));
  });

  test.each([
    ['0.72.1', ls072],
    ['0.90.0', ls090],
    ['0.103.0', ls0103],
  ])('our signatures verify in libsignal %s and theirs verify here', (_v, ls) => {
    const wrap = bytesFor(ls);
    for (let i = 0; i < 20; i++) {
      const msg = crypto.getRandomValues(new Uint8Array(1 + i * 7));
      const ours = IdentityKeyPair.generate();
      const sig = ours.privateKey.sign(msg);
      const theirView = ls.PublicKey.deserialize(wrap(ours.publicKey.serialize()));
      expect(theirView.verify(wrap(msg), wrap(sig))).toBe(true);
      const tampered = sig.slice();
      tampered[i % 64]! ^= 0x10;
      expect(theirView.verify(wrap(msg), wrap(tampered))).toBe(false);

      const theirs = ls.PrivateKey.generate();
      const theirSig = u8(theirs.sign(wrap(msg)));
      const ourView = PublicKey.deserialize(u8(theirs.getPublicKey().serialize()));
      expect(ourView.verifySignature(msg, theirSig)).toBe(true);
      expect(ourView.verifySignature(Uint8Array.of(...msg, 0), theirSig)).toBe(false);
    }
  });
});

describe('IdentityKeyPair', () => {
  test('serialisation is libsignal-compatible both ways', () => {
    const ours = IdentityKeyPair.generate();
    const theirs = ls090.IdentityKeyPair.deserialize(lsb(ours.serialize()));
    expect(u8(theirs.publicKey.serialize())).toEqual(ours.publicKey.serialize());
    const back = IdentityKeyPair.deserialize(u8(ls090.IdentityKeyPair.generate().serialize()));
    expect(back.publicKey.serialize().length).toBe(33);
  });

  test('rejects a pair whose public key does not match', () => {
    const a = IdentityKeyPair.generate();
    const b = IdentityKeyPair.generate();
    const mixed = new IdentityKeyPair(a.publicKey, b.privateKey).serialize();
    expect(() => IdentityKeyPair.deserialize(mixed)).toThrow(
      expect.objectContaining({ code: 'InvalidKey' }),
    );
  });

  test('never shows the private key in JSON or toString', () => {
    const kp = IdentityKeyPair.generate();
    const secretHex = Buffer.from(kp.privateKey.serialize()).toString('hex');
    const shown = JSON.stringify({ kp, pk: kp.privateKey }) + String(kp) + String(kp.privateKey);
    expect(shown).not.toContain(secretHex);
    expect(shown).toContain('redacted');
  });

  test('errors are ProtocolErrors', () => {
    try {
      IdentityKeyPair.deserialize(Uint8Array.of(0xff));
      expect.unreachable();
    } catch (e) {
      expect(isProtocolError(e)).toBe(true);
    }
  });
});

describe('signatures held in Node Buffers', () => {
  test('verifying a signature does not change it: the same Buffer verifies every time', async () => {
    const key = PrivateKey.generate();
    const message = new Uint8Array([1, 2, 3]);
    let failures = 0;
    // The sign bit (bit 255) is set in about half of all signatures; 16 tries miss it 1 in 65536.
    for (let i = 0; i < 16; i++) {
      const signature = Buffer.from(key.sign(message));
      const before = Buffer.from(signature);
      for (let round = 0; round < 3; round++) {
        if (!(await key.publicKey().verifySignatureAsync(message, signature))) failures++;
      }
      expect(signature.equals(before)).toBe(true);
    }
    expect(failures).toBe(0);
  });
});
