/**
 * The one place the client touches @parley/crypto's 1:1 session API and prekey records, so
 * the rest of the core reads as Parley logic. Converts the relay's base64 bundles into
 * PreKeyBundles and generates the keys a device uploads.
 * @module
 */
import { ProtocolError } from '@parley/crypto/errors.js';
import type { ProtocolAddress } from '@parley/crypto/address.js';
import type { IdentityKeyPair } from '@parley/crypto/curve.js';
import { KeyPair, PublicKey } from '@parley/crypto/curve.js';
import { KemPublicKey } from '@parley/crypto/kem.js';
import {
  KyberPreKeyRecord,
  PreKeyBundle,
  PreKeyRecord,
  SignedPreKeyRecord,
  generateKyberPreKey,
  generateSignedPreKey,
} from '@parley/crypto/prekeys.js';
import { randomUint, type Clock, type RandomSource } from '@parley/crypto/random.js';
import { SessionCipher, SessionRecord } from '@parley/crypto/session.js';
import type { TxStores } from './crypto-stores.ts';
import type { DeviceBundle, KyberPreKey, PreKey, SignedPreKey } from '@parley/protocol';
import { fromBase64, toBase64 } from './util/bytes.ts';

export { KyberPreKeyRecord, PreKeyRecord, SignedPreKeyRecord, SessionRecord, type PreKeyBundle };

/** 14-bit, non-zero (as libsignal and the relay's schema). */
export function generateRegistrationId(rng: RandomSource): number {
  return (randomUint(rng, 14) % 0x3ffe) + 1;
}

export function newPreKey(id: number, rng: RandomSource): { record: PreKeyRecord; upload: PreKey } {
  const record = new PreKeyRecord(id, KeyPair.generate(rng));
  return { record, upload: { keyId: id, publicKey: toBase64(record.publicKey.serialize()) } };
}

export function newSignedPreKey(
  identity: IdentityKeyPair,
  id: number,
  timestamp: number,
  rng: RandomSource,
): { record: SignedPreKeyRecord; upload: SignedPreKey } {
  const record = generateSignedPreKey(identity, id, timestamp, rng);
  return {
    record,
    upload: {
      keyId: id,
      publicKey: toBase64(record.publicKey.serialize()),
      signature: toBase64(record.signature),
    },
  };
}

export function newKyberPreKey(
  identity: IdentityKeyPair,
  id: number,
  timestamp: number,
  rng: RandomSource,
): { record: KyberPreKeyRecord; upload: KyberPreKey } {
  const record = generateKyberPreKey(identity, id, timestamp, rng);
  return {
    record,
    upload: {
      keyId: id,
      publicKey: toBase64(record.publicKey.serialize()),
      signature: toBase64(record.signature),
    },
  };
}

/** A relay bundle (base64 JSON) as a PreKeyBundle. Signatures are checked by the cipher. */
export function bundleFromRelay(identityKey: string, d: DeviceBundle): PreKeyBundle {
  // A relay that leaves out the Kyber prekey asks for a classical (X3DH) session: refused, as
  // the cipher refuses it, rather than a TypeError on the missing field.
  if (!(d as Partial<DeviceBundle>).pqPreKey) {
    throw new ProtocolError('LegacyCiphertextVersion', 'the bundle has no Kyber prekey');
  }
  return new PreKeyBundle({
    registrationId: d.registrationId,
    deviceId: d.deviceId,
    preKeyId: d.preKey?.keyId,
    preKey: d.preKey ? PublicKey.deserialize(fromBase64(d.preKey.publicKey)) : undefined,
    signedPreKeyId: d.signedPreKey.keyId,
    signedPreKey: PublicKey.deserialize(fromBase64(d.signedPreKey.publicKey)),
    signedPreKeySignature: fromBase64(d.signedPreKey.signature),
    identityKey: PublicKey.deserialize(fromBase64(identityKey)),
    kyberPreKeyId: d.pqPreKey.keyId,
    kyberPreKey: KemPublicKey.deserialize(fromBase64(d.pqPreKey.publicKey)),
    kyberPreKeySignature: fromBase64(d.pqPreKey.signature),
  });
}

export interface Ciphertext {
  type: 'prekey' | 'whisper';
  body: Uint8Array;
}

export interface SessionOps {
  processPreKeyBundle(address: ProtocolAddress, bundle: PreKeyBundle): Promise<void>;
  encrypt(address: ProtocolAddress, plaintext: Uint8Array): Promise<Ciphertext>;
  decrypt(address: ProtocolAddress, message: Ciphertext): Promise<Uint8Array>;
}

export function sessionCipher(stores: TxStores, rng: RandomSource, clock: Clock): SessionOps {
  // Each cipher lives for one storage transaction, which already serialises all protocol work.
  return new SessionCipher(stores, { rng, clock });
}

/** The registration id the remote device announced in the session, if any. */
export async function remoteRegistrationId(
  stores: TxStores,
  address: ProtocolAddress,
): Promise<number | undefined> {
  const record = await stores.session.loadSession(address);
  const id = record?.currentState?.remoteRegistrationId;
  return id ? id : undefined;
}
