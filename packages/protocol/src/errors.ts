/**
 * Every error response has the same shape: a stable machine-readable `error` code and a
 * human-readable `message`. 409 and 410 add the device lists a sender needs to fix its send.
 * @module
 */
import { Type, type Static } from 'typebox';
import { AccountId, DeviceId } from './primitives.ts';

export const ErrorCode = {
  BadRequest: 'bad_request',
  Unauthorized: 'unauthorized',
  Forbidden: 'forbidden',
  NotFound: 'not_found',
  UnknownAccount: 'unknown_account',
  /** The account was deleted: nothing can be sent to it again (410). */
  AccountGone: 'account_gone',
  UsernameTaken: 'username_taken',
  MismatchedDevices: 'mismatched_devices',
  StaleDevices: 'stale_devices',
  TooManyDevices: 'too_many_devices',
  InvalidLinkingCode: 'invalid_linking_code',
  UnsupportedProtocol: 'unsupported_protocol',
  PayloadTooLarge: 'payload_too_large',
  /** A `Range` the blob cannot satisfy (416; `Content-Range` names the blob size). */
  RangeNotSatisfiable: 'range_not_satisfiable',
  UnsupportedMediaType: 'unsupported_media_type',
  RateLimited: 'rate_limited',
  /** The account's stored attachments would exceed its quota (429, with Retry-After). */
  AttachmentQuotaExceeded: 'attachment_quota_exceeded',
  QueueFull: 'queue_full',
  NotReady: 'not_ready',
  Internal: 'internal_error',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export const ErrorResponse = Type.Object(
  {
    error: Type.String({ description: 'Stable error code (see ErrorCode)' }),
    message: Type.String({ description: 'Human-readable explanation; never echoes input' }),
  },
  { additionalProperties: false },
);
export type ErrorResponse = Static<typeof ErrorResponse>;

const DeviceIdList = Type.Array(DeviceId);

/** 409 on a single-recipient send: the destination's device list differs from the sent one. */
export const MismatchedDevicesResponse = Type.Object(
  {
    error: Type.Literal(ErrorCode.MismatchedDevices),
    message: Type.String(),
    missingDevices: Type.Array(DeviceId, {
      description: 'Devices the account has that the send did not cover',
    }),
    extraDevices: Type.Array(DeviceId, {
      description: 'Devices the send addressed that the account does not have',
    }),
  },
  { additionalProperties: false },
);
export type MismatchedDevicesResponse = Static<typeof MismatchedDevicesResponse>;

/** 410 on a single-recipient send: these devices were re-registered (new registration id). */
export const StaleDevicesResponse = Type.Object(
  {
    error: Type.Literal(ErrorCode.StaleDevices),
    message: Type.String(),
    staleDevices: DeviceIdList,
  },
  { additionalProperties: false },
);
export type StaleDevicesResponse = Static<typeof StaleDevicesResponse>;

/** 409 on a multi-recipient send, per account. */
export const MultiMismatchedDevicesResponse = Type.Object(
  {
    error: Type.Literal(ErrorCode.MismatchedDevices),
    message: Type.String(),
    accounts: Type.Array(
      Type.Object(
        { accountId: AccountId, missingDevices: DeviceIdList, extraDevices: DeviceIdList },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type MultiMismatchedDevicesResponse = Static<typeof MultiMismatchedDevicesResponse>;

/** 410 on a multi-recipient send, per account. */
export const MultiStaleDevicesResponse = Type.Object(
  {
    error: Type.Literal(ErrorCode.StaleDevices),
    message: Type.String(),
    accounts: Type.Array(
      Type.Object(
        { accountId: AccountId, staleDevices: DeviceIdList },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type MultiStaleDevicesResponse = Static<typeof MultiStaleDevicesResponse>;

/** 507 on a send: a destination device's queue is at its cap; retry later. */
export const QueueFullResponse = Type.Object(
  {
    error: Type.Literal(ErrorCode.QueueFull),
    message: Type.String(),
    accountId: AccountId,
    deviceIds: DeviceIdList,
  },
  { additionalProperties: false },
);
export type QueueFullResponse = Static<typeof QueueFullResponse>;

/**
 * 410 on a send or a bundle fetch: the account (on a multi-recipient send, each account listed
 * in `accounts`) was deleted. The relay keeps only the deleted account's id (a tombstone), so
 * it can tell "deleted" from "never existed"; a sender should stop sending to it for good.
 */
export const AccountGoneResponse = Type.Object(
  {
    error: Type.Literal(ErrorCode.AccountGone),
    message: Type.String(),
    accounts: Type.Optional(
      Type.Array(AccountId, { description: 'The deleted accounts (multi-recipient sends)' }),
    ),
  },
  { additionalProperties: false },
);
export type AccountGoneResponse = Static<typeof AccountGoneResponse>;
