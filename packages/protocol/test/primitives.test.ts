import { Type } from 'typebox';
import { Compile } from 'typebox/compile';
import { describe, expect, it } from 'vitest';
import {
  base64DecodedLength,
  base64PatternOfLength,
  Base64Bytes,
  EcPublicKey,
  KyberPublicKey,
  normalizeUsername,
  Signature,
  Username,
} from '../src/index.ts';

const bytes = (n: number, fill = 0xab) => Buffer.alloc(n, fill).toString('base64');
/** A checker for a generated pattern, compiled the way both relay and clients compile schemas. */
const matcher = (pattern: string) => {
  const validator = Compile(Type.String({ pattern }));
  return { test: (value: string) => validator.Check(value) };
};

describe('fixed-length base64', () => {
  it.each([1, 2, 3, 31, 32, 33, 64, 1569])('accepts exactly %i bytes and nothing else', (n) => {
    const re = matcher(base64PatternOfLength(n));
    expect(re.test(bytes(n))).toBe(true);
    expect(re.test(bytes(n - 1 || 4))).toBe(false);
    expect(re.test(bytes(n + 1))).toBe(false);
    expect(base64DecodedLength(bytes(n))).toBe(n);
  });

  it('rejects non-canonical encodings (non-zero padding bits)', () => {
    const re = matcher(base64PatternOfLength(64)); // 64 % 3 === 1: "…X==" with X in [AQgw]
    const canonical = bytes(64);
    expect(re.test(canonical)).toBe(true);
    expect(re.test(canonical.slice(0, -3) + 'B==')).toBe(false);
    const re33 = matcher(base64PatternOfLength(32)); // 32 % 3 === 2: "…XY Z=" with Z in [AEIM…]
    expect(re33.test(bytes(32).slice(0, -2) + 'B=')).toBe(false);
  });

  it('checks key and signature sizes', () => {
    expect(Compile(EcPublicKey).Check(bytes(33))).toBe(true);
    expect(Compile(EcPublicKey).Check(bytes(32))).toBe(false);
    expect(Compile(KyberPublicKey).Check(bytes(1569))).toBe(true);
    expect(Compile(KyberPublicKey).Check(bytes(1568))).toBe(false);
    expect(Compile(Signature).Check(bytes(64))).toBe(true);
    expect(Compile(Signature).Check(bytes(65))).toBe(false);
  });

  it('bounds variable-length base64 and rejects other alphabets', () => {
    const schema = Compile(Base64Bytes(6, 'test'));
    expect(schema.Check(bytes(6))).toBe(true);
    expect(schema.Check(bytes(7))).toBe(false);
    expect(schema.Check('')).toBe(false);
    expect(schema.Check('ab-_')).toBe(false);
    expect(schema.Check('abc')).toBe(false);
  });
});

describe('usernames', () => {
  const check = Compile(Username);
  it('accepts 3–32 of [A-Za-z0-9_.] and lowercases', () => {
    expect(check.Check('Alice.B_2')).toBe(true);
    expect(normalizeUsername('Alice.B_2')).toBe('alice.b_2');
    expect(check.Check('a'.repeat(32))).toBe(true);
  });
  it.each([
    'ab',
    'a'.repeat(33),
    'аlice',
    'ali ce',
    'al\u200bice',
    "a'; DROP TABLE accounts;--",
    '<b>x</b>',
  ])('rejects %j', (name) => expect(check.Check(name)).toBe(false));
});
