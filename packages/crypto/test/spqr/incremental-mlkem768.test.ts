import { describe, expect, it } from 'vitest';
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { sha3_256 } from '@noble/hashes/sha3.js';
import {
  CIPHERTEXT1_SIZE,
  CIPHERTEXT2_SIZE,
  decaps,
  ekMatchesHeader,
  encaps1,
  encaps2,
  fullEncapsulationKey,
  generate,
} from '../../src/spqr/incremental-mlkem768.ts';
import { concat } from '../../src/_bytes.ts';
import { isProtocolError } from '../../src/errors.ts';

const rand = (n: number) => crypto.getRandomValues(new Uint8Array(n));

describe('incremental ML-KEM-768', () => {
  it('splits noble’s key into header (rho ‖ H(ek)) and t̂', () => {
    const seed = rand(64);
    const keys = generate(undefined, seed);
    const full = ml_kem768.keygen(seed);
    expect(fullEncapsulationKey(keys.ek, keys.hdr)).toEqual(full.publicKey);
    expect(keys.hdr.subarray(32)).toEqual(sha3_256(full.publicKey));
    expect(keys.dk).toEqual(full.secretKey);
    expect(ekMatchesHeader(keys.ek, keys.hdr)).toBe(true);
  });

  it('ct1 ‖ ct2 and the secret equal noble’s full encapsulation with the same m', () => {
    for (let n = 0; n < 5; n++) {
      const keys = generate();
      const m = rand(32);
      const e1 = encaps1(keys.hdr, undefined, m);
      const ct2 = encaps2(keys.ek, e1.es);
      expect(e1.ct1.length).toBe(CIPHERTEXT1_SIZE);
      expect(ct2.length).toBe(CIPHERTEXT2_SIZE);
      const full = ml_kem768.encapsulate(fullEncapsulationKey(keys.ek, keys.hdr), m);
      expect(concat(e1.ct1, ct2)).toEqual(full.cipherText);
      expect(e1.sharedSecret).toEqual(full.sharedSecret);
      expect(decaps(keys.dk, e1.ct1, ct2)).toEqual(e1.sharedSecret);
      expect(ml_kem768.decapsulate(full.cipherText, keys.dk)).toEqual(e1.sharedSecret);
    }
  });

  it('decapsulating a tampered ct1 or ct2 gives a different secret (implicit rejection)', () => {
    const keys = generate();
    const { ct1, es, sharedSecret } = encaps1(keys.hdr);
    const ct2 = encaps2(keys.ek, es);
    const badCt1 = ct1.slice();
    badCt1[5]! ^= 1;
    const badCt2 = ct2.slice();
    badCt2[7]! ^= 0x10;
    expect(decaps(keys.dk, badCt1, ct2)).not.toEqual(sharedSecret);
    expect(decaps(keys.dk, ct1, badCt2)).not.toEqual(sharedSecret);
  });

  it('refuses an ek that does not match the header, or has an unreduced coefficient', () => {
    const keys = generate();
    const other = generate();
    expect(ekMatchesHeader(other.ek, keys.hdr)).toBe(false);
    const unreduced = keys.ek.slice();
    unreduced[0] = 0xff;
    unreduced[1] = 0x0f; // first coefficient 4095 ≥ q
    expect(ekMatchesHeader(unreduced, keys.hdr)).toBe(false);
    const { es } = encaps1(keys.hdr);
    try {
      encaps2(other.ek, es);
      expect.unreachable('encaps2 accepted a mismatched ek');
    } catch (err) {
      expect(isProtocolError(err, 'InvalidKey')).toBe(true);
    }
  });
});
