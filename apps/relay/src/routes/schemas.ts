/** Small helpers shared by route schemas. */
import { ErrorResponse } from '@parley/protocol';

/** Response schemas for the listed error statuses, all `{ error, message }`. */
export function errorResponses<const S extends readonly number[]>(
  ...statuses: S
): { [K in S[number]]: typeof ErrorResponse } {
  return Object.fromEntries(statuses.map((s) => [s, ErrorResponse])) as {
    [K in S[number]]: typeof ErrorResponse;
  };
}

/** OpenAPI security requirement for routes that need a device login. */
export const deviceAuth = [{ device: [] }];

/**
 * A regular expression source matching the decimal integers 1..`max` without leading zeros.
 * Device ids are stored as 32-bit integers (PostgreSQL `INTEGER`): a larger id must be a 400
 * from the schema, never reach the database (PostgreSQL answers "integer out of range").
 */
export function decimalUpTo(max: number): string {
  const digits = String(max);
  const alternatives: string[] = [];
  // Fewer digits than `max`: any such number without a leading zero.
  if (digits.length > 1) alternatives.push(`[1-9][0-9]{0,${digits.length - 2}}`);
  // As many digits: a prefix of `max`, then a smaller digit, then anything.
  for (let i = 0; i < digits.length; i++) {
    const digit = Number(digits[i]);
    const low = i === 0 ? 1 : 0;
    if (digit <= low) continue;
    const rest = digits.length - i - 1;
    const range = digit - 1 === low ? String(low) : `[${low}-${digit - 1}]`;
    alternatives.push(`${digits.slice(0, i)}${range}${rest > 0 ? `[0-9]{${rest}}` : ''}`);
  }
  alternatives.push(digits);
  return alternatives.join('|');
}
