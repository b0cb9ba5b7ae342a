import { describe, expect, it } from 'vitest';
import { formatWait, rateLimitedText } from './wait.ts';

describe('rate-limit wait', () => {
  it('says how long to wait, rounded up', () => {
    expect(formatWait(3)).toBe('a few seconds');
    expect(formatWait(42)).toBe('42 seconds');
    expect(formatWait(61)).toBe('2 minutes');
    expect(formatWait(60)).toBe('1 minute');
    expect(formatWait(3600)).toBe('1 hour');
    expect(formatWait(3601)).toBe('2 hours');
    expect(rateLimitedText(1800)).toBe('Too many attempts. Try again in 30 minutes.');
    expect(rateLimitedText(undefined)).toMatch(/Too many attempts/);
  });
});
