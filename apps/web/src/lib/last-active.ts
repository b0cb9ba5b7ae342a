/**
 * "Last active" of a device. The relay records only the day a device was last seen (the start
 * of a UTC day, on purpose: less metadata), so this names a day and never a clock time (a
 * clock time would always read midnight, or the evening before west of UTC).
 * @module
 */

const DAY_MS = 86_400_000;

/** Start of the UTC day holding `t`. */
const utcDay = (t: number) => Math.floor(t / DAY_MS) * DAY_MS;

/** "Active today", "Active yesterday", "Active on 3 Dec" (UTC days, as the relay counts). */
export function formatLastActive(lastSeenAt: number, now: number, locale?: string): string {
  const days = Math.round((utcDay(now) - utcDay(lastSeenAt)) / DAY_MS);
  if (days <= 0) return 'Active today';
  if (days === 1) return 'Active yesterday';
  const sameYear = new Date(lastSeenAt).getUTCFullYear() === new Date(now).getUTCFullYear();
  const date = new Date(utcDay(lastSeenAt)).toLocaleDateString(locale, {
    timeZone: 'UTC',
    day: 'numeric',
    month: 'short',
    ...(sameYear ? {} : { year: 'numeric' }),
  });
  return `Active on ${date}`;
}
