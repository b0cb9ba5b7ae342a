/**
 * Errors in words fit for the user: what the relay's and the client core's error codes mean,
 * and `friendly`, which every action of the model rejects with.
 * @module
 */
import { ClientError, RelayHttpError, RelayUnavailableError } from '@parley/client';
import { rateLimitedText } from '../../lib/wait.ts';
import { TRUST_WORDS } from '../trust.ts';

/** What the relay's error codes mean to a user. */
const RELAY_WORDS: Partial<Record<RelayHttpError['code'], string>> = {
  bad_request: 'The relay did not accept that.',
  unauthorized: 'This device is no longer signed in.',
  forbidden: 'That is not allowed.',
  not_found: 'Not found.',
  unknown_account: 'No such account.',
  username_taken: 'That username is taken.',
  too_many_devices: 'This account has too many devices.',
  invalid_linking_code: 'That link code is not valid any more. Start linking again.',
  unsupported_protocol: 'This app is too old for the relay. Reload the page.',
  payload_too_large: 'Too large to send.',
  rate_limited: 'Too many attempts. Wait a little and try again.',
  queue_full: 'The recipient has too many messages waiting. Try again later.',
  not_ready: 'The relay is starting. Try again in a moment.',
  internal_error: 'The relay had a problem. Try again later.',
};

/** What the client core's error codes mean to a user. */
const CLIENT_WORDS: Partial<Record<ClientError['code'], string>> = {
  not_registered: 'Not signed in.',
  already_registered: 'This browser already has an account.',
  no_relay: 'No relay is configured.',
  identity_changed: 'This contact’s safety number changed. Review it first.',
  unknown_identity: 'This contact’s safety number is not known yet.',
  safety_number_mismatch: 'That is not the current safety number.',
  not_group_member: 'You are not a member of this group.',
  account_gone: 'This account was deleted. Messages can no longer be sent to it.',
  unknown_group: 'This group does not exist here.',
  no_devices: 'This account has no devices.',
  too_large: 'Too large to send.',
  ...TRUST_WORDS,
};

/** An error message fit for the user: no stack, no internals. */
export function friendly(err: unknown): string {
  if (err instanceof RelayUnavailableError) return 'Cannot reach the relay. Check your connection.';
  if (err instanceof RelayHttpError && err.code === 'rate_limited') {
    return rateLimitedText(err.retryAfterSeconds);
  }
  if (err instanceof RelayHttpError) return RELAY_WORDS[err.code] ?? 'The relay refused that.';
  if (err instanceof ClientError) return CLIENT_WORDS[err.code] ?? 'Something went wrong.';
  if (err instanceof Error && err.message) return err.message;
  return 'Something went wrong.';
}
