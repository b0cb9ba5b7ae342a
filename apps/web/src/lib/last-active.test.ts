import { describe, expect, it } from 'vitest';
import { formatLastActive } from './last-active.ts';

const day = (y: number, m: number, d: number) => Date.UTC(y, m - 1, d);

describe('formatLastActive', () => {
  it('names a day, never a clock time, counted in UTC days as the relay records them', () => {
    const seen = day(2026, 12, 3); // what the relay stores: UTC midnight
    expect(formatLastActive(seen, seen + 5 * 3600_000, 'en-GB')).toBe('Active today');
    expect(formatLastActive(seen, day(2026, 12, 4) + 60_000, 'en-GB')).toBe('Active yesterday');
    expect(formatLastActive(seen, day(2026, 12, 9), 'en-GB')).toBe('Active on 3 Dec');
    expect(formatLastActive(seen, day(2027, 1, 9), 'en-GB')).toBe('Active on 3 Dec 2026');
    for (const now of [seen, seen + DAY, seen + 10 * DAY]) {
      expect(formatLastActive(seen, now, 'en-US')).not.toMatch(/\d{1,2}:\d{2}|AM|PM/);
    }
  });
});

const DAY = 86_400_000;
