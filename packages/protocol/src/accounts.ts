/**
 * Accounts, devices, linking and data export.
 *
 * An account has a random id, a unique case-insensitive username and one identity key shared by
 * all its devices (as in Signal: a linked device receives the identity key pair end-to-end
 * encrypted in its provisioning message). Each device has its own registration id, prekeys,
 * message queue and credential.
 * @module
 */
import { Type, type Static } from 'typebox';
import { MAX_DEVICE_NAME_BYTES } from './limits.ts';
import {
  AccountId,
  Base64Bytes,
  DeviceId,
  EcPublicKey,
  RegistrationId,
  Timestamp,
  Username,
} from './primitives.ts';
import {
  KyberPreKey,
  KyberPreKeyBatch,
  PreKey,
  PreKeyBatch,
  RetiredSignedPreKey,
  SignedPreKey,
} from './keys.ts';

const closed = { additionalProperties: false } as const;

/** A device's credential: 32 random bytes, base64url without padding (43 characters). */
export const Credential = Type.String({
  pattern: '^[A-Za-z0-9_-]{43}$',
  description: 'Device credential: 256 random bits, base64url; shown once',
});

export const DeviceName = Base64Bytes(
  MAX_DEVICE_NAME_BYTES,
  'Device name, encrypted by the client (opaque to the relay), base64',
);

/** What every new device (first or linked) brings. */
const deviceKeyFields = {
  registrationId: RegistrationId,
  signedPreKey: SignedPreKey,
  pqLastResortPreKey: KyberPreKey,
  preKeys: PreKeyBatch,
  pqPreKeys: KyberPreKeyBatch,
  name: Type.Optional(DeviceName),
};

/** `POST /v1/accounts`: creates the account and its device 1. */
export const RegisterRequest = Type.Object(
  { username: Username, identityKey: EcPublicKey, ...deviceKeyFields },
  closed,
);
export type RegisterRequest = Static<typeof RegisterRequest>;

/** Returned once; the relay keeps only a hash of `credential`. */
export const DeviceCredentials = Type.Object(
  { accountId: AccountId, deviceId: DeviceId, credential: Credential },
  closed,
);
export type DeviceCredentials = Static<typeof DeviceCredentials>;

export const RegisterResponse = Type.Object(
  { accountId: AccountId, deviceId: DeviceId, credential: Credential, username: Type.String() },
  closed,
);
export type RegisterResponse = Static<typeof RegisterResponse>;

/** `GET /v1/accounts/me`. */
export const WhoAmIResponse = Type.Object(
  { accountId: AccountId, deviceId: DeviceId, username: Type.String(), identityKey: EcPublicKey },
  closed,
);
export type WhoAmIResponse = Static<typeof WhoAmIResponse>;

/** `PUT /v1/accounts/me/username`. */
export const SetUsernameRequest = Type.Object({ username: Username }, closed);
export type SetUsernameRequest = Static<typeof SetUsernameRequest>;

/** `GET /v1/accounts/username/:username` and the reply to `PUT /v1/accounts/me/username`. */
export const UsernameResponse = Type.Object(
  { accountId: AccountId, username: Type.String() },
  closed,
);
export type UsernameResponse = Static<typeof UsernameResponse>;

/** Most account ids one `POST /v1/accounts/gone` asks about (a group's members). */
export const MAX_GONE_QUERY = 100;

/** `POST /v1/accounts/gone`: which of these accounts were deleted? */
export const GoneAccountsRequest = Type.Object(
  { accountIds: Type.Array(AccountId, { minItems: 1, maxItems: MAX_GONE_QUERY }) },
  closed,
);
export type GoneAccountsRequest = Static<typeof GoneAccountsRequest>;

/** The asked accounts that were deleted (never-existing ones are not listed). */
export const GoneAccountsResponse = Type.Object({ gone: Type.Array(AccountId) }, closed);
export type GoneAccountsResponse = Static<typeof GoneAccountsResponse>;

export const DeviceInfo = Type.Object(
  {
    deviceId: DeviceId,
    name: Type.Optional(DeviceName),
    createdAt: Timestamp,
    lastSeenAt: Timestamp,
  },
  closed,
);
export type DeviceInfo = Static<typeof DeviceInfo>;

/** `GET /v1/devices`. */
export const DeviceListResponse = Type.Object({ devices: Type.Array(DeviceInfo) }, closed);
export type DeviceListResponse = Static<typeof DeviceListResponse>;

/** A linking code: 128 random bits, base64url; one use, short-lived. */
export const LinkingCode = Type.String({ pattern: '^[A-Za-z0-9_-]{22}$' });

/** `POST /v1/devices/linking-code` (primary device only). */
export const LinkingCodeResponse = Type.Object({ code: LinkingCode, expiresAt: Timestamp }, closed);
export type LinkingCodeResponse = Static<typeof LinkingCodeResponse>;

/** `POST /v1/devices/link`: a new device registers itself with the code from its provisioning message. */
export const LinkDeviceRequest = Type.Object(
  { linkingCode: LinkingCode, ...deviceKeyFields },
  closed,
);
export type LinkDeviceRequest = Static<typeof LinkDeviceRequest>;
export const LinkDeviceResponse = DeviceCredentials;
export type LinkDeviceResponse = DeviceCredentials;

const ExportedDevice = Type.Object(
  {
    deviceId: DeviceId,
    name: Type.Optional(DeviceName),
    registrationId: RegistrationId,
    createdAt: Timestamp,
    lastSeenAt: Timestamp,
    signedPreKey: SignedPreKey,
    pqLastResortPreKey: KyberPreKey,
    preKeys: Type.Array(PreKey),
    pqPreKeys: Type.Array(KyberPreKey),
    retiredSignedPreKeys: Type.Array(RetiredSignedPreKey),
    queue: Type.Array(
      Type.Object(
        {
          id: Type.String(),
          // Absent for sealed envelopes: the relay does not know their sender.
          sourceAccountId: Type.Optional(AccountId),
          sourceDeviceId: Type.Optional(DeviceId),
          serverTimestamp: Timestamp,
          contentBytes: Type.Integer({ minimum: 0 }),
        },
        closed,
      ),
      { description: 'Undelivered envelopes (metadata; fetch the ciphertext via the queue)' },
    ),
  },
  closed,
);

/**
 * `GET /v1/accounts/me/export`: everything the relay stores about the account, except credential
 * hashes (verifiers, useless to the owner) and queued ciphertext (delivered through the queue).
 */
export const AccountExportResponse = Type.Object(
  {
    exportedAt: Timestamp,
    account: Type.Object(
      {
        accountId: AccountId,
        username: Type.String(),
        identityKey: EcPublicKey,
        createdAt: Timestamp,
      },
      closed,
    ),
    devices: Type.Array(ExportedDevice),
  },
  closed,
);
export type AccountExportResponse = Static<typeof AccountExportResponse>;
