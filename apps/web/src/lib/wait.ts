/**
 * How long to wait, in words, from a relay's `Retry-After` (seconds).
 * @module
 */

/** "a few seconds", "40 seconds", "3 minutes", "2 hours" (rounded up, never "0"). */
export function formatWait(seconds: number): string {
  if (seconds < 10) return 'a few seconds';
  if (seconds < 60) return `${Math.ceil(seconds)} seconds`;
  const minutes = Math.ceil(seconds / 60);
  if (minutes < 60) return minutes === 1 ? '1 minute' : `${minutes} minutes`;
  const hours = Math.ceil(seconds / 3600);
  return hours === 1 ? '1 hour' : `${hours} hours`;
}

/** The rate-limit message a user sees: what happened and how long to wait. */
export function rateLimitedText(retryAfterSeconds: number | undefined): string {
  return retryAfterSeconds === undefined
    ? 'Too many attempts. Wait a little and try again.'
    : `Too many attempts. Try again in ${formatWait(retryAfterSeconds)}.`;
}
