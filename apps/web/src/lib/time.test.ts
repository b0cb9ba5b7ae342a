import { describe, expect, it } from 'vitest';
import { daysAgo, formatDayLabel, formatListTime, withDaySeparators } from './time.ts';

const at = (y: number, mo: number, d: number, h = 12, mi = 0) =>
  new Date(y, mo - 1, d, h, mi).getTime();

describe('time', () => {
  const now = at(2026, 3, 18, 15, 30); // a Wednesday

  it('counts calendar days, not 24-hour spans', () => {
    expect(daysAgo(at(2026, 3, 18, 0, 1), now)).toBe(0);
    expect(daysAgo(at(2026, 3, 17, 23, 59), now)).toBe(1);
    expect(daysAgo(at(2026, 3, 10), now)).toBe(8);
  });

  it('labels days like a chat app', () => {
    expect(formatDayLabel(at(2026, 3, 18, 9), now, 'en-GB')).toBe('Today');
    expect(formatDayLabel(at(2026, 3, 17, 9), now, 'en-GB')).toBe('Yesterday');
    expect(formatDayLabel(at(2026, 3, 15, 9), now, 'en-GB')).toBe('Sunday');
    expect(formatDayLabel(at(2025, 12, 24, 9), now, 'en-GB')).toBe('24 December 2025');
  });

  it('shows the clock for today and a short date for older list entries', () => {
    expect(formatListTime(at(2026, 3, 18, 9, 5), now, 'en-GB')).toBe('09:05');
    expect(formatListTime(at(2026, 3, 17, 9, 5), now, 'en-GB')).toBe('Yesterday');
    expect(formatListTime(at(2026, 2, 1), now, 'en-GB')).toBe('1 Feb');
  });

  it('puts one separator before the first message of each day', () => {
    const items = [
      { id: 'a', timestamp: at(2026, 3, 16, 10) },
      { id: 'b', timestamp: at(2026, 3, 16, 22) },
      { id: 'c', timestamp: at(2026, 3, 18, 8) },
    ];
    const rows = withDaySeparators(items).map((r) => (r.kind === 'day' ? 'day' : r.item.id));
    expect(rows).toEqual(['day', 'a', 'b', 'day', 'c']);
    expect(withDaySeparators([])).toEqual([]);
  });
});
