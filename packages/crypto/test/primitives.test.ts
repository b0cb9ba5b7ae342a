/**
 * The symmetric primitives against spec vectors (RFC 5869 HKDF, RFC 4231 HMAC) and against
 * node:crypto on random inputs (AES-256-CBC with PKCS#7), plus the protobuf codec's edge cases.
 */
import { createCipheriv, createHmac, hkdfSync } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { fromHex } from '../src/_bytes.ts';
import { aes256CbcDecrypt, aes256CbcEncrypt, hkdfSha256, hmacSha256 } from '../src/_primitives.ts';
import { ProtoFields, ProtoWriter } from '../src/_protobuf.ts';

describe('HKDF-SHA256 (RFC 5869 appendix A)', () => {
  test('test case 1', () => {
    const okm = hkdfSha256(
      fromHex('0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b'),
      fromHex('000102030405060708090a0b0c'),
      fromHex('f0f1f2f3f4f5f6f7f8f9'),
      42,
    );
    expect(okm).toEqual(
      fromHex(
        '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865',
      ),
    );
  });

  test('test case 3 (no salt, no info): absent salt means 32 zero bytes', () => {
    const okm = hkdfSha256(
      fromHex('0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b'),
      undefined,
      new Uint8Array(),
      42,
    );
    expect(okm).toEqual(
      fromHex(
        '8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8',
      ),
    );
  });

  test('agrees with node:crypto on random inputs', () => {
    for (let i = 0; i < 20; i++) {
      const ikm = crypto.getRandomValues(new Uint8Array(1 + i * 3));
      const salt = crypto.getRandomValues(new Uint8Array(32));
      const info = crypto.getRandomValues(new Uint8Array(i));
      const len = 16 + i * 4;
      expect(hkdfSha256(ikm, salt, info, len)).toEqual(
        new Uint8Array(hkdfSync('sha256', ikm, salt, info, len)),
      );
    }
  });
});

test('HMAC-SHA256 (RFC 4231 test case 2) and random inputs vs node:crypto', () => {
  const key = new TextEncoder().encode('Jefe');
  const data = new TextEncoder().encode('what do ya want for nothing?');
  expect(hmacSha256(key, data)).toEqual(
    fromHex('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843'),
  );
  for (let i = 0; i < 20; i++) {
    const k = crypto.getRandomValues(new Uint8Array(32));
    const d = crypto.getRandomValues(new Uint8Array(i * 11));
    expect(hmacSha256(k, d)).toEqual(new Uint8Array(createHmac('sha256', k).update(d).digest()));
  }
});

describe('AES-256-CBC with PKCS#7', () => {
  test('agrees with node:crypto and round-trips', () => {
    for (let n = 0; n < 70; n += 7) {
      const key = crypto.getRandomValues(new Uint8Array(32));
      const iv = crypto.getRandomValues(new Uint8Array(16));
      const pt = crypto.getRandomValues(new Uint8Array(n));
      const ct = aes256CbcEncrypt(key, iv, pt);
      const c = createCipheriv('aes-256-cbc', key, iv);
      expect(ct).toEqual(new Uint8Array(Buffer.concat([c.update(pt), c.final()])));
      expect(aes256CbcDecrypt(key, iv, ct)).toEqual(pt);
    }
  });

  test('bad lengths and bad padding are InvalidMessage', () => {
    const key = new Uint8Array(32);
    const iv = new Uint8Array(16);
    for (const bad of [new Uint8Array(0), new Uint8Array(15), new Uint8Array(17)]) {
      expect(() => aes256CbcDecrypt(key, iv, bad)).toThrow(
        expect.objectContaining({ code: 'InvalidMessage' }),
      );
    }
    const ct = aes256CbcEncrypt(key, iv, new Uint8Array(16));
    ct[ct.length - 1]! ^= 0xff; // corrupts the padding block
    expect(() => aes256CbcDecrypt(key, iv, ct)).toThrow(
      expect.objectContaining({ code: 'InvalidMessage' }),
    );
  });
});

describe('protobuf codec', () => {
  test('writes fields in call order and reads them back; later scalars win', () => {
    const bytes = new ProtoWriter().uint(1, 300).bytes(2, Uint8Array.of(9, 8)).uint(1, 5).finish();
    expect(bytes).toEqual(Uint8Array.of(0x08, 0xac, 0x02, 0x12, 0x02, 9, 8, 0x08, 0x05));
    const f = ProtoFields.decode(bytes, 'test');
    expect(f.uint32(1)).toBe(5);
    expect(f.bytes(2)).toEqual(Uint8Array.of(9, 8));
  });

  test('skips unknown fields of every wire type', () => {
    const bytes = Uint8Array.of(0x08, 1, 0x11, ...new Uint8Array(8), 0x1d, 1, 2, 3, 4, 0x22, 1, 7);
    const f = ProtoFields.decode(bytes, 'test');
    expect(f.uint32(1)).toBe(1);
    expect(f.bytes(4)).toEqual(Uint8Array.of(7));
  });

  test.each([
    ['a truncated varint', Uint8Array.of(0x08, 0x80)],
    ['a length past the end', Uint8Array.of(0x12, 0x05, 1)],
    ['field number 0', Uint8Array.of(0x00, 0x01)],
    ['a group wire type', Uint8Array.of(0x0b)],
    ['an 11-byte varint', Uint8Array.of(0x08, ...new Uint8Array(10).fill(0x80), 1)],
  ])('rejects %s with the given error code', (_what, bytes) => {
    expect(() => ProtoFields.decode(bytes, 'test', 'InvalidMessage')).toThrow(
      expect.objectContaining({ code: 'InvalidMessage' }),
    );
  });

  test('a field with the wrong wire type is an error, not a silent default', () => {
    const f = ProtoFields.decode(Uint8Array.of(0x0a, 0x01, 0x00), 'test');
    expect(() => f.uint32(1)).toThrow(expect.objectContaining({ code: 'InvalidMessage' }));
  });
});
