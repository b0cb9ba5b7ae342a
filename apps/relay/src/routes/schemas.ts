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
