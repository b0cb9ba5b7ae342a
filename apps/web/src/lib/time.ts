/**
 * Dates as a chat shows them: "14:05" today, "Yesterday", weekday names within a week, then a
 * short date. Every function takes `now` so tests are deterministic.
 * @module
 */

const DAY_MS = 86_400_000;

/** Local midnight of the day holding `t`. */
export function startOfDay(t: number): number {
  const d = new Date(t);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

export function sameDay(a: number, b: number): boolean {
  return startOfDay(a) === startOfDay(b);
}

/** Whole calendar days between the day of `t` and the day of `now` (0 = today). */
export function daysAgo(t: number, now: number): number {
  return Math.round((startOfDay(now) - startOfDay(t)) / DAY_MS);
}

export function formatClock(t: number, locale?: string): string {
  return new Date(t).toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit' });
}

/** Time in the conversation list. */
export function formatListTime(t: number, now: number, locale?: string): string {
  const days = daysAgo(t, now);
  if (days <= 0) return formatClock(t, locale);
  if (days === 1) return 'Yesterday';
  if (days < 7) return new Date(t).toLocaleDateString(locale, { weekday: 'short' });
  return new Date(t).toLocaleDateString(locale, { day: 'numeric', month: 'short' });
}

/** Label of a day separator in a conversation. */
export function formatDayLabel(t: number, now: number, locale?: string): string {
  const days = daysAgo(t, now);
  if (days <= 0) return 'Today';
  if (days === 1) return 'Yesterday';
  const opts: Intl.DateTimeFormatOptions =
    days < 7
      ? { weekday: 'long' }
      : new Date(t).getFullYear() === new Date(now).getFullYear()
        ? { weekday: 'short', day: 'numeric', month: 'long' }
        : { day: 'numeric', month: 'long', year: 'numeric' };
  return new Date(t).toLocaleDateString(locale, opts);
}

export type Timeline<M> = Array<
  { kind: 'day'; key: string; at: number } | { kind: 'item'; item: M }
>;

/** Interleaves day separators with timestamped items (already in chronological order). */
export function withDaySeparators<M extends { timestamp: number }>(
  items: readonly M[],
): Timeline<M> {
  const out: Timeline<M> = [];
  let day: number | undefined;
  for (const item of items) {
    const d = startOfDay(item.timestamp);
    if (d !== day) {
      out.push({ kind: 'day', key: `day-${d}`, at: item.timestamp });
      day = d;
    }
    out.push({ kind: 'item', item });
  }
  return out;
}
