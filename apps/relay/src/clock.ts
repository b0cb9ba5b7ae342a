/** Time as a dependency, so retention and expiry are testable without waiting. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** Start of the UTC day containing `ms` (for deliberately coarse "last seen" times). */
export function startOfUtcDay(ms: number): number {
  return ms - (ms % 86_400_000);
}
