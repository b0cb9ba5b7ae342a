/**
 * Errors a handler throws to answer with a 4xx (or 507). The error handler in
 * `plugins/errors.ts` turns them into `{ error, message, ...details }`.
 * @module
 */
import { ErrorCode } from '@parley/protocol';

export class RelayError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: ErrorCode,
    message: string,
    /** Extra response fields (e.g. the device lists of a 409). */
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
    this.name = 'RelayError';
  }
}

export const badRequest = (message: string) => new RelayError(400, ErrorCode.BadRequest, message);
export const unauthorized = () =>
  new RelayError(401, ErrorCode.Unauthorized, 'missing or invalid device credentials');
export const forbidden = (message: string) => new RelayError(403, ErrorCode.Forbidden, message);
export const notFound = (message: string) => new RelayError(404, ErrorCode.NotFound, message);

/** 410: the account was deleted (`accounts` lists them on a multi-recipient send). */
export const accountGone = (accounts?: string[]) =>
  new RelayError(
    410,
    ErrorCode.AccountGone,
    accounts ? `${accounts.length} recipient account(s) were deleted` : 'the account was deleted',
    accounts ? { accounts } : {},
  );
