import { describe, expect, it } from 'vitest';
import { safetyGroups } from './safety.ts';
import { looksLikeLinkUri, parseUsernames, usernameProblem } from './validate.ts';
import { initials, colorIndex } from './names.ts';
import { typingLabel } from './conversation.ts';

describe('usernameProblem', () => {
  it('accepts what the relay accepts', () => {
    for (const ok of ['bob', 'Alice_1', 'a.b.c', 'x'.repeat(32)])
      expect(usernameProblem(ok)).toBeUndefined();
  });
  it('explains what is wrong', () => {
    expect(usernameProblem('')).toMatch(/choose/i);
    expect(usernameProblem('ab')).toMatch(/3/);
    expect(usernameProblem('x'.repeat(33))).toMatch(/32/);
    expect(usernameProblem('bоb')).toMatch(/letters/); // Cyrillic о
    expect(usernameProblem('a b')).toMatch(/letters/);
  });
});

describe('parseUsernames', () => {
  it('splits on commas and spaces, drops @ and duplicates', () => {
    expect(parseUsernames(' @bob, carol  bob;dave ')).toEqual(['bob', 'carol', 'dave']);
    expect(parseUsernames('  ')).toEqual([]);
  });
});

describe('looksLikeLinkUri', () => {
  it('recognises link codes only', () => {
    expect(looksLikeLinkUri(' parley://link?address=abc&key=def ')).toBe(true);
    expect(looksLikeLinkUri('https://example.com/?parley://link')).toBe(false);
    expect(looksLikeLinkUri('parley://link?')).toBe(false);
  });
});

describe('safetyGroups', () => {
  it('splits 60 digits into 12 groups of 5', () => {
    const digits = '0123456789'.repeat(6);
    const groups = safetyGroups(digits);
    expect(groups).toHaveLength(12);
    expect(groups.join('')).toBe(digits);
    expect(groups[1]).toBe('56789');
  });
  it('refuses anything else', () => {
    expect(() => safetyGroups('123')).toThrow(RangeError);
    expect(() => safetyGroups('a'.repeat(60))).toThrow(RangeError);
  });
});

describe('names', () => {
  it('makes initials and stable colors', () => {
    expect(initials('alice')).toBe('A');
    expect(initials('bob.smith')).toBe('BS');
    expect(initials('')).toBe('?');
    expect(colorIndex('x')).toBe(colorIndex('x'));
    expect(colorIndex('anything')).toBeGreaterThanOrEqual(0);
  });
  it('describes who is typing', () => {
    expect(typingLabel([])).toBeUndefined();
    expect(typingLabel(['bob'])).toBe('bob is typing…');
    expect(typingLabel(['bob', 'carol'])).toBe('bob and carol are typing…');
    expect(typingLabel(['a', 'b', 'c'])).toBe('3 people are typing…');
  });
});
