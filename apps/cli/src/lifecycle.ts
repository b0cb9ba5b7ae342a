/**
 * How the CLI shows account lifecycle: deleted accounts, usernames that moved to another
 * account, and devices (names decrypted, "last active" as a day).
 * @module
 */
import { AccountGoneError, RelayHttpError, type ContactRecord } from '@parley/client';
import type { DeviceInfo } from '@parley/protocol';

/** A contact's state in words ('' when there is nothing to say). */
export function contactState(c: ContactRecord, name: (accountId: string) => string): string {
  if (c.goneAt !== undefined) return 'account deleted';
  if (c.username === undefined && c.formerUsername) return 'no longer uses this username';
  if (c.usernameReusedFrom) {
    return `not the ${c.username ?? '?'} you talked to before (that was ${name(c.usernameReusedFrom)})`;
  }
  return '';
}

/** A contact as `contacts list --json` prints it. */
export function contactJson(c: ContactRecord) {
  return {
    accountId: c.accountId,
    username: c.username,
    identityChanged: !!c.identityChanged,
    deleted: c.goneAt !== undefined,
    sealedSender: !!c.sealedSender,
    ...(c.formerUsername && c.username === undefined ? { formerUsername: c.formerUsername } : {}),
    ...(c.usernameReusedFrom ? { usernameReusedFrom: c.usernameReusedFrom } : {}),
  };
}

/** The UTC day the relay last saw a device (it records days only). */
export const lastActiveDay = (lastSeenAt: number) =>
  new Date(lastSeenAt).toISOString().slice(0, 10);

/** A device as `devices list --json` prints it: the decrypted name only, never the ciphertext. */
export function deviceJson(d: DeviceInfo & { displayName?: string }, current: number) {
  return {
    deviceId: d.deviceId,
    ...(d.displayName ? { name: d.displayName } : {}),
    current: d.deviceId === current,
    createdAt: d.createdAt,
    lastActiveDay: lastActiveDay(d.lastSeenAt),
  };
}

/** Words for errors this module knows, or undefined. */
export function lifecycleErrorText(err: unknown, who?: string): string | undefined {
  if (err instanceof AccountGoneError) {
    return `${who ?? 'this account'} deleted their account: messages can no longer be sent to it`;
  }
  if (err instanceof RelayHttpError && err.code === 'rate_limited') {
    const s = err.retryAfterSeconds;
    return s === undefined
      ? 'too many requests: wait a little and try again'
      : `too many requests: try again in ${s < 60 ? `${s} s` : `${Math.ceil(s / 60)} min`}`;
  }
  return undefined;
}
