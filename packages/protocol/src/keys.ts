/**
 * Prekeys: what a device uploads, what the relay reports back, and the bundles other accounts
 * fetch to start a session (PQXDH: identity key, signed EC prekey, optional one-time EC prekey,
 * and a Kyber prekey that is one-time when available and the signed last-resort key otherwise).
 * The relay stores these public values verbatim and cannot verify signatures (it has no crypto);
 * clients verify every signature in a bundle against the identity key.
 * @module
 */
import { Type, type Static } from 'typebox';
import { MAX_PREKEYS_PER_UPLOAD } from './limits.ts';
import {
  DeviceId,
  EcPublicKey,
  KeyId,
  KyberPublicKey,
  RegistrationId,
  Signature,
  Timestamp,
} from './primitives.ts';

const closed = { additionalProperties: false } as const;

export const PreKey = Type.Object({ keyId: KeyId, publicKey: EcPublicKey }, closed);
export type PreKey = Static<typeof PreKey>;

export const SignedPreKey = Type.Object(
  { keyId: KeyId, publicKey: EcPublicKey, signature: Signature },
  closed,
);
export type SignedPreKey = Static<typeof SignedPreKey>;

export const KyberPreKey = Type.Object(
  { keyId: KeyId, publicKey: KyberPublicKey, signature: Signature },
  closed,
);
export type KyberPreKey = Static<typeof KyberPreKey>;

export const PreKeyBatch = Type.Array(PreKey, { maxItems: MAX_PREKEYS_PER_UPLOAD });
export const KyberPreKeyBatch = Type.Array(KyberPreKey, { maxItems: MAX_PREKEYS_PER_UPLOAD });

/**
 * `PUT /v1/keys`: any subset. A `preKeys` (or `pqPreKeys`) batch replaces the device's unused
 * one-time keys of that kind; a new signed prekey or last-resort key replaces the current one,
 * which is then reported as retired (see `PreKeyStatusResponse`).
 */
export const PreKeyUploadRequest = Type.Object(
  {
    signedPreKey: Type.Optional(SignedPreKey),
    pqLastResortPreKey: Type.Optional(KyberPreKey),
    preKeys: Type.Optional(PreKeyBatch),
    pqPreKeys: Type.Optional(KyberPreKeyBatch),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type PreKeyUploadRequest = Static<typeof PreKeyUploadRequest>;

export const RetiredSignedPreKey = Type.Object(
  {
    kind: Type.Union([Type.Literal('ec'), Type.Literal('kyber')]),
    keyId: KeyId,
    retiredAt: Timestamp,
    keepUntil: Type.Integer({
      description:
        'Keep the private key until then: envelopes encrypted to it may sit in the queue until retention expires',
    }),
  },
  closed,
);
export type RetiredSignedPreKey = Static<typeof RetiredSignedPreKey>;

/** `GET /v1/keys/status`: how many one-time keys remain, and which signed keys are current. */
export const PreKeyStatusResponse = Type.Object(
  {
    preKeyCount: Type.Integer({ minimum: 0 }),
    pqPreKeyCount: Type.Integer({ minimum: 0 }),
    signedPreKeyId: KeyId,
    pqLastResortPreKeyId: KeyId,
    retiredSignedPreKeys: Type.Array(RetiredSignedPreKey),
  },
  closed,
);
export type PreKeyStatusResponse = Static<typeof PreKeyStatusResponse>;

export const DeviceBundle = Type.Object(
  {
    deviceId: DeviceId,
    registrationId: RegistrationId,
    signedPreKey: SignedPreKey,
    preKey: Type.Optional(PreKey),
    pqPreKey: KyberPreKey,
    pqPreKeyIsLastResort: Type.Boolean({
      description: 'True when one-time Kyber prekeys ran out and this is the last-resort key',
    }),
  },
  closed,
);
export type DeviceBundle = Static<typeof DeviceBundle>;

/** `GET /v1/keys/:accountId/:deviceId` (`*` for every device). */
export const PreKeyBundleResponse = Type.Object(
  { identityKey: EcPublicKey, devices: Type.Array(DeviceBundle) },
  closed,
);
export type PreKeyBundleResponse = Static<typeof PreKeyBundleResponse>;
