import { describe, expect, test } from 'vitest';
import { KemKeyPair, KemPublicKey, KemSecretKey } from '../src/kem.ts';
import { ls090, lsb, u8 } from './support/libsignal.ts';

describe('Kyber1024 (KEM type 0x08)', () => {
  test('encapsulate/decapsulate agree and serialise with the 0x08 type byte', () => {
    const kp = KemKeyPair.generate();
    const pk = kp.publicKey.serialize();
    expect(pk.length).toBe(1569);
    expect(pk[0]).toBe(8);
    const { ciphertext, sharedSecret } = KemPublicKey.deserialize(pk).encapsulate();
    expect(ciphertext.length).toBe(1569);
    expect(ciphertext[0]).toBe(8);
    const sk = KemSecretKey.deserialize(kp.secretKey.serialize());
    expect(sk.decapsulate(ciphertext)).toEqual(sharedSecret);
  });

  test('libsignal key pairs load here and ours load there', () => {
    const theirs = ls090.KEMKeyPair.generate();
    const pk = KemPublicKey.deserialize(u8(theirs.getPublicKey().serialize()));
    const sk = KemSecretKey.deserialize(u8(theirs.getSecretKey().serialize()));
    const { ciphertext, sharedSecret } = pk.encapsulate();
    expect(sk.decapsulate(ciphertext)).toEqual(sharedSecret);
    const ours = KemKeyPair.generate();
    expect(u8(ls090.KEMPublicKey.deserialize(lsb(ours.publicKey.serialize())).serialize())).toEqual(
      ours.publicKey.serialize(),
    );
  });

  test('rejects wrong type bytes and lengths with InvalidKey', () => {
    const pk = KemKeyPair.generate().publicKey.serialize();
    const wrongType = pk.slice();
    wrongType[0] = 0x0a;
    for (const bad of [wrongType, pk.subarray(0, 100), new Uint8Array()]) {
      expect(() => KemPublicKey.deserialize(bad)).toThrow(
        expect.objectContaining({ code: 'InvalidKey' }),
      );
    }
  });
});
