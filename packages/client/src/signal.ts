/**
 * The one place the client touches a 1:1 Signal session implementation and prekey records.
 *
 * INTERIM: @parley/crypto's session API (prekeys.ts, session.ts) has not landed yet, so this
 * bridge runs the 1:1 protocol on Signal's own libsignal-client (same wire and record
 * formats), behind the same small surface the client uses. Sender keys, safety numbers and
 * keys already come from @parley/crypto. Swapping in @parley/crypto only touches this file.
 * @module
 */
import * as ls from 'libsignal';
import { ProtocolAddress as ParleyAddress } from '@parley/crypto/address.js';
import { PublicKey as ParleyPublicKey, type IdentityKeyPair } from '@parley/crypto/curve.js';
import { ProtocolError, type ProtocolErrorCode } from '@parley/crypto/errors.js';
import { randomUint, type Clock, type RandomSource } from '@parley/crypto/random.js';
import type { DeviceBundle, KyberPreKey, PreKey, SignedPreKey } from '@parley/protocol';
import type { TxStores } from './crypto-stores.ts';
import { fromBase64, toBase64 } from './util/bytes.ts';

export const PreKeyRecord = ls.PreKeyRecord;
export type PreKeyRecord = ls.PreKeyRecord;
export const SignedPreKeyRecord = ls.SignedPreKeyRecord;
export type SignedPreKeyRecord = ls.SignedPreKeyRecord;
export const KyberPreKeyRecord = ls.KyberPreKeyRecord;
export type KyberPreKeyRecord = ls.KyberPreKeyRecord;
export const SessionRecord = ls.SessionRecord;
export type SessionRecord = ls.SessionRecord;
export type PreKeyBundle = ls.PreKeyBundle;

type AB = Uint8Array<ArrayBuffer>;
const ab = (b: Uint8Array): AB => b as AB;

/** 14-bit, non-zero (as libsignal and the relay's schema). */
export function generateRegistrationId(rng: RandomSource): number {
  return (randomUint(rng, 14) % 0x3ffe) + 1;
}

function lsPrivate(identity: IdentityKeyPair): ls.PrivateKey {
  return ls.PrivateKey.deserialize(ab(identity.privateKey.serialize()));
}

export function newPreKey(id: number, rng: RandomSource): { record: PreKeyRecord; upload: PreKey } {
  const priv = ls.PrivateKey.deserialize(ab(rng(32)));
  const record = ls.PreKeyRecord.new(id, priv.getPublicKey(), priv);
  return { record, upload: { keyId: id, publicKey: toBase64(record.publicKey().serialize()) } };
}

export function newSignedPreKey(
  identity: IdentityKeyPair,
  id: number,
  timestamp: number,
  rng: RandomSource,
): { record: SignedPreKeyRecord; upload: SignedPreKey } {
  const priv = ls.PrivateKey.deserialize(ab(rng(32)));
  const pub = priv.getPublicKey();
  const signature = identity.privateKey.sign(pub.serialize(), rng);
  const record = ls.SignedPreKeyRecord.new(id, timestamp, pub, priv, ab(signature));
  return {
    record,
    upload: { keyId: id, publicKey: toBase64(pub.serialize()), signature: toBase64(signature) },
  };
}

export function newKyberPreKey(
  identity: IdentityKeyPair,
  id: number,
  timestamp: number,
  rng: RandomSource,
): { record: KyberPreKeyRecord; upload: KyberPreKey } {
  const kp = ls.KEMKeyPair.generate();
  const signature = identity.privateKey.sign(kp.getPublicKey().serialize(), rng);
  const record = ls.KyberPreKeyRecord.new(id, timestamp, kp, ab(signature));
  return {
    record,
    upload: {
      keyId: id,
      publicKey: toBase64(kp.getPublicKey().serialize()),
      signature: toBase64(signature),
    },
  };
}

/** A relay bundle (base64 JSON) as a PreKeyBundle. Signatures are checked when processed. */
export function bundleFromRelay(identityKey: string, d: DeviceBundle): PreKeyBundle {
  return ls.PreKeyBundle.new(
    d.registrationId,
    d.deviceId,
    d.preKey ? d.preKey.keyId : null,
    d.preKey ? ls.PublicKey.deserialize(ab(fromBase64(d.preKey.publicKey))) : null,
    d.signedPreKey.keyId,
    ls.PublicKey.deserialize(ab(fromBase64(d.signedPreKey.publicKey))),
    ab(fromBase64(d.signedPreKey.signature)),
    ls.PublicKey.deserialize(ab(fromBase64(identityKey))),
    d.pqPreKey.keyId,
    ls.KEMPublicKey.deserialize(ab(fromBase64(d.pqPreKey.publicKey))),
    ab(fromBase64(d.pqPreKey.signature)),
  );
}

export interface Ciphertext {
  type: 'prekey' | 'whisper';
  body: Uint8Array;
}

export interface SessionOps {
  processPreKeyBundle(address: ParleyAddress, bundle: PreKeyBundle): Promise<void>;
  encrypt(address: ParleyAddress, plaintext: Uint8Array): Promise<Ciphertext>;
  decrypt(address: ParleyAddress, message: Ciphertext): Promise<Uint8Array>;
}

const toLs = (a: ParleyAddress) => ls.ProtocolAddress.new(a.name, a.deviceId);
const fromLs = (a: ls.ProtocolAddress) => new ParleyAddress(a.name(), a.deviceId());

class IdentityAdapter extends ls.IdentityKeyStore {
  constructor(private readonly s: TxStores) {
    super();
  }
  async getIdentityKey(): Promise<ls.PrivateKey> {
    return lsPrivate(await this.s.identity.getIdentityKeyPair());
  }
  getLocalRegistrationId(): Promise<number> {
    return this.s.identity.getLocalRegistrationId();
  }
  async saveIdentity(name: ls.ProtocolAddress, key: ls.PublicKey): Promise<ls.IdentityChange> {
    const change = await this.s.identity.saveIdentity(
      fromLs(name),
      ParleyPublicKey.deserialize(key.serialize()),
    );
    return change === 'replaced'
      ? ls.IdentityChange.ReplacedExisting
      : ls.IdentityChange.NewOrUnchanged;
  }
  isTrustedIdentity(
    name: ls.ProtocolAddress,
    key: ls.PublicKey,
    direction: ls.Direction,
  ): Promise<boolean> {
    return this.s.identity.isTrustedIdentity(
      fromLs(name),
      ParleyPublicKey.deserialize(key.serialize()),
      direction === ls.Direction.Sending ? 'sending' : 'receiving',
    );
  }
  async getIdentity(name: ls.ProtocolAddress): Promise<ls.PublicKey | null> {
    const k = await this.s.identity.getIdentity(fromLs(name));
    return k ? ls.PublicKey.deserialize(ab(k.serialize())) : null;
  }
}

class SessionAdapter extends ls.SessionStore {
  constructor(private readonly s: TxStores) {
    super();
  }
  async saveSession(name: ls.ProtocolAddress, record: ls.SessionRecord): Promise<void> {
    await this.s.session.storeSession(fromLs(name), record as never);
  }
  async getSession(name: ls.ProtocolAddress): Promise<ls.SessionRecord | null> {
    return (
      ((await this.s.session.loadSession(fromLs(name))) as ls.SessionRecord | undefined) ?? null
    );
  }
  async getExistingSessions(addresses: ls.ProtocolAddress[]): Promise<ls.SessionRecord[]> {
    const out: ls.SessionRecord[] = [];
    for (const a of addresses) {
      const r = await this.getSession(a);
      if (!r) throw new Error(`no session for ${a.toString()}`);
      out.push(r);
    }
    return out;
  }
}

class PreKeyAdapter extends ls.PreKeyStore {
  constructor(private readonly s: TxStores) {
    super();
  }
  async savePreKey(id: number, record: ls.PreKeyRecord): Promise<void> {
    await this.s.preKey.savePreKey(id, record as never);
  }
  async getPreKey(id: number): Promise<ls.PreKeyRecord> {
    const r = await this.s.preKey.getPreKey(id);
    if (!r) throw new ProtocolError('InvalidPreKeyId', `no prekey ${id}`);
    return r as unknown as ls.PreKeyRecord;
  }
  async removePreKey(id: number): Promise<void> {
    await this.s.preKey.removePreKey(id);
  }
}

class SignedPreKeyAdapter extends ls.SignedPreKeyStore {
  constructor(private readonly s: TxStores) {
    super();
  }
  async saveSignedPreKey(id: number, record: ls.SignedPreKeyRecord): Promise<void> {
    await this.s.signedPreKey.saveSignedPreKey(id, record as never);
  }
  async getSignedPreKey(id: number): Promise<ls.SignedPreKeyRecord> {
    const r = await this.s.signedPreKey.getSignedPreKey(id);
    if (!r) throw new ProtocolError('InvalidSignedPreKeyId', `no signed prekey ${id}`);
    return r as unknown as ls.SignedPreKeyRecord;
  }
}

class KyberPreKeyAdapter extends ls.KyberPreKeyStore {
  constructor(private readonly s: TxStores) {
    super();
  }
  async saveKyberPreKey(id: number, record: ls.KyberPreKeyRecord): Promise<void> {
    await this.s.kyberPreKey.saveKyberPreKey(id, record as never);
  }
  async getKyberPreKey(id: number): Promise<ls.KyberPreKeyRecord> {
    const r = await this.s.kyberPreKey.getKyberPreKey(id);
    if (!r) throw new ProtocolError('InvalidKyberPreKeyId', `no kyber prekey ${id}`);
    return r as unknown as ls.KyberPreKeyRecord;
  }
  async markKyberPreKeyUsed(id: number): Promise<void> {
    await this.s.kyberPreKey.markKyberPreKeyUsed(id);
  }
}

/** libsignal errors as ProtocolErrors with the codes the client branches on. */
function mapError(err: unknown): unknown {
  if (err instanceof ProtocolError) return err;
  const e = err as { code?: unknown; message?: string };
  let code: ProtocolErrorCode = 'InvalidMessage';
  if (e.code === ls.ErrorCode.UntrustedIdentity) code = 'UntrustedIdentity';
  else if (e.code === ls.ErrorCode.DuplicatedMessage) code = 'DuplicatedMessage';
  else if (/session/i.test(e.message ?? '')) code = 'SessionNotFound';
  else if (/signature/i.test(e.message ?? '')) code = 'InvalidSignature';
  return new ProtocolError(code, e.message ?? 'session operation failed', { cause: err });
}

export function sessionCipher(stores: TxStores, _rng: RandomSource, clock: Clock): SessionOps {
  const identity = new IdentityAdapter(stores);
  const session = new SessionAdapter(stores);
  const local = async () => {
    const a = await stores.identity.account();
    return ls.ProtocolAddress.new(a.accountId, a.deviceId);
  };
  const wrap = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw mapError(err);
    }
  };
  return {
    processPreKeyBundle: (address, bundle) =>
      wrap(async () =>
        ls.processPreKeyBundle(
          bundle,
          toLs(address),
          await local(),
          session,
          identity,
          new Date(clock()),
        ),
      ),
    encrypt: (address, plaintext) =>
      wrap(async () => {
        const ct = await ls.signalEncrypt(
          ab(plaintext),
          toLs(address),
          await local(),
          session,
          identity,
          new Date(clock()),
        );
        return {
          type:
            ct.type() === ls.CiphertextMessageType.PreKey
              ? ('prekey' as const)
              : ('whisper' as const),
          body: ct.serialize(),
        };
      }),
    decrypt: (address, message) =>
      wrap(async () => {
        if (message.type === 'prekey') {
          return ls.signalDecryptPreKey(
            ls.PreKeySignalMessage.deserialize(ab(message.body)),
            toLs(address),
            await local(),
            session,
            identity,
            new PreKeyAdapter(stores),
            new SignedPreKeyAdapter(stores),
            new KyberPreKeyAdapter(stores),
          );
        }
        return ls.signalDecrypt(
          ls.SignalMessage.deserialize(ab(message.body)),
          toLs(address),
          await local(),
          session,
          identity,
        );
      }),
  };
}

/** The registration id the remote device announced in the session, if any. */
export async function remoteRegistrationId(
  stores: TxStores,
  address: ParleyAddress,
): Promise<number | undefined> {
  const record = (await stores.session.loadSession(address)) as ls.SessionRecord | undefined;
  return record?.remoteRegistrationId();
}
