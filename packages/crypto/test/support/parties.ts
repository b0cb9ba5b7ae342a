/**
 * Two kinds of protocol party for session tests: ours (SessionCipher over in-memory stores) and
 * libsignal's (0.72.1 or 0.90.0, over stores kept as serialised bytes), with the same small
 * surface: make a bundle, process one, encrypt, decrypt.
 */
import { ProtocolAddress } from '../../src/address.ts';
import { IdentityKeyPair, PublicKey } from '../../src/curve.ts';
import { KemPublicKey } from '../../src/kem.ts';
import { InMemoryProtocolStore } from '../../src/inmem-stores.ts';
import {
  PreKeyBundle,
  generateKyberPreKey,
  generatePreKeys,
  generateSignedPreKey,
} from '../../src/prekeys.ts';
import {
  SessionCipher,
  type CiphertextMessage,
  type SessionCipherOptions,
} from '../../src/session.ts';
import { bytesFor, ls072, ls090, ls0103, u8 } from './libsignal.ts';

export type Ls = typeof ls090;
export const LIBSIGNALS = [
  ['0.72.1', ls072],
  ['0.90.0', ls090],
] as const;

export interface BundleOptions {
  oneTime?: boolean;
  kyber?: boolean;
  /** Kyber prekey kept after use (ours only). */
  lastResort?: boolean;
}

export interface Party {
  readonly name: string;
  readonly deviceId: number;
  readonly identityKey: PublicKey;
  makeBundle(options?: BundleOptions): Promise<PreKeyBundle>;
  processBundle(peer: Party, bundle: PreKeyBundle): Promise<void>;
  encrypt(peer: Party, plaintext: Uint8Array): Promise<CiphertextMessage>;
  decrypt(peer: Party, message: CiphertextMessage): Promise<Uint8Array>;
}

let nextId = 1;
const freshId = () => nextId++ & 0xffffff;

export class OurParty implements Party {
  readonly identity = IdentityKeyPair.generate();
  readonly stores: InMemoryProtocolStore;
  readonly cipher: SessionCipher;
  readonly address: ProtocolAddress;
  readonly registrationId = 1 + Math.floor(Math.random() * 16380);

  constructor(
    readonly name: string,
    readonly deviceId = 1,
    options: SessionCipherOptions = {},
  ) {
    this.stores = new InMemoryProtocolStore(this.identity, this.registrationId);
    this.cipher = new SessionCipher(this.stores, options);
    this.address = new ProtocolAddress(name, deviceId);
  }

  get identityKey(): PublicKey {
    return this.identity.publicKey;
  }

  async makeBundle({ oneTime = true, kyber = true, lastResort = false }: BundleOptions = {}) {
    const [pre] = generatePreKeys(freshId(), 1);
    const signed = generateSignedPreKey(this.identity, freshId(), Date.now());
    await this.stores.signedPreKey.saveSignedPreKey(signed.id, signed);
    if (oneTime) await this.stores.preKey.savePreKey(pre!.id, pre!);
    const k = kyber ? generateKyberPreKey(this.identity, freshId(), Date.now()) : undefined;
    if (k) await this.stores.kyberPreKey.saveKyberPreKey(k.id, k, lastResort);
    return new PreKeyBundle({
      registrationId: this.registrationId,
      deviceId: this.deviceId,
      identityKey: this.identity.publicKey,
      preKeyId: oneTime ? pre!.id : undefined,
      preKey: oneTime ? pre!.publicKey : undefined,
      signedPreKeyId: signed.id,
      signedPreKey: signed.publicKey,
      signedPreKeySignature: signed.signature,
      kyberPreKeyId: k?.id,
      kyberPreKey: k?.publicKey,
      kyberPreKeySignature: k?.signature,
    });
  }

  processBundle(peer: Party, bundle: PreKeyBundle) {
    return this.cipher.processPreKeyBundle(new ProtocolAddress(peer.name, peer.deviceId), bundle);
  }

  encrypt(peer: Party, plaintext: Uint8Array) {
    return this.cipher.encrypt(new ProtocolAddress(peer.name, peer.deviceId), plaintext);
  }

  decrypt(peer: Party, message: CiphertextMessage) {
    return this.cipher.decrypt(new ProtocolAddress(peer.name, peer.deviceId), message);
  }
}

/** A libsignal party whose stores keep serialised records (Buffers for 0.72, bytes for 0.90). */
export class LsParty implements Party {
  readonly identity;
  readonly registrationId = 1 + Math.floor(Math.random() * 16380);
  readonly sessions = new Map<string, Uint8Array>();
  readonly identities = new Map<string, Uint8Array>();
  readonly preKeys = new Map<number, Uint8Array>();
  readonly signedPreKeys = new Map<number, Uint8Array>();
  readonly kyberPreKeys = new Map<number, Uint8Array>();
  readonly #stores;
  readonly #b;

  constructor(
    readonly ls: Ls,
    readonly name: string,
    readonly deviceId = 1,
  ) {
    this.identity = ls.IdentityKeyPair.generate();
    this.#b = bytesFor(ls);
    this.#stores = this.#makeStores();
  }

  get identityKey(): PublicKey {
    return PublicKey.deserialize(u8(this.identity.publicKey.serialize()));
  }

  #makeStores() {
    const { ls } = this;
    const b = this.#b;
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    type Addr = ReturnType<Ls['ProtocolAddress']['new']>;
    const key = (a: Addr) => `${a.name()}.${a.deviceId()}`;
    const must = <T>(v: T | undefined, what: string): T => {
      if (v === undefined) throw new Error(`no ${what}`);
      return v;
    };
    class Sessions extends ls.SessionStore {
      async saveSession(a: Addr, r: ReturnType<Ls['SessionRecord']['deserialize']>) {
        self.sessions.set(key(a), u8(r.serialize()));
      }
      async getSession(a: Addr) {
        const r = self.sessions.get(key(a));
        return r ? ls.SessionRecord.deserialize(b(r)) : null;
      }
      async getExistingSessions(as: Addr[]) {
        return as.map((a) =>
          ls.SessionRecord.deserialize(b(must(self.sessions.get(key(a)), 'session'))),
        );
      }
    }
    class Identities extends ls.IdentityKeyStore {
      async getIdentityKey() {
        return self.identity.privateKey;
      }
      async getLocalRegistrationId() {
        return self.registrationId;
      }
      async saveIdentity(a: Addr, k: ReturnType<Ls['PublicKey']['deserialize']>) {
        const prev = self.identities.get(key(a));
        self.identities.set(key(a), u8(k.serialize()));
        const replaced = prev && !Buffer.from(prev).equals(Buffer.from(k.serialize()));
        return replaced ? ls.IdentityChange.ReplacedExisting : ls.IdentityChange.NewOrUnchanged;
      }
      async isTrustedIdentity(a: Addr, k: ReturnType<Ls['PublicKey']['deserialize']>) {
        const prev = self.identities.get(key(a));
        return !prev || Buffer.from(prev).equals(Buffer.from(k.serialize()));
      }
      async getIdentity(a: Addr) {
        const prev = self.identities.get(key(a));
        return prev ? ls.PublicKey.deserialize(b(prev)) : null;
      }
    }
    class PreKeys extends ls.PreKeyStore {
      async savePreKey(id: number, r: ReturnType<Ls['PreKeyRecord']['deserialize']>) {
        self.preKeys.set(id, u8(r.serialize()));
      }
      async getPreKey(id: number) {
        return ls.PreKeyRecord.deserialize(b(must(self.preKeys.get(id), `prekey ${id}`)));
      }
      async removePreKey(id: number) {
        self.preKeys.delete(id);
      }
    }
    class SignedPreKeys extends ls.SignedPreKeyStore {
      async saveSignedPreKey(id: number, r: ReturnType<Ls['SignedPreKeyRecord']['deserialize']>) {
        self.signedPreKeys.set(id, u8(r.serialize()));
      }
      async getSignedPreKey(id: number) {
        return ls.SignedPreKeyRecord.deserialize(
          b(must(self.signedPreKeys.get(id), `signed prekey ${id}`)),
        );
      }
    }
    class KyberPreKeys extends ls.KyberPreKeyStore {
      async saveKyberPreKey(id: number, r: ReturnType<Ls['KyberPreKeyRecord']['deserialize']>) {
        self.kyberPreKeys.set(id, u8(r.serialize()));
      }
      async getKyberPreKey(id: number) {
        return ls.KyberPreKeyRecord.deserialize(
          b(must(self.kyberPreKeys.get(id), `Kyber prekey ${id}`)),
        );
      }
      async markKyberPreKeyUsed(id: number) {
        self.kyberPreKeys.delete(id);
      }
    }
    return {
      session: new Sessions(),
      identity: new Identities(),
      preKey: new PreKeys(),
      signedPreKey: new SignedPreKeys(),
      kyberPreKey: new KyberPreKeys(),
    };
  }

  #address(peer: Party) {
    return this.ls.ProtocolAddress.new(peer.name, peer.deviceId);
  }

  /** 0.91+ takes our own address after the peer's (it MACs both when they are ServiceIds). */
  #local(): unknown[] {
    return (this.ls as unknown) === ls0103
      ? [this.ls.ProtocolAddress.new(this.name, this.deviceId)]
      : [];
  }

  async makeBundle({ oneTime = true, kyber = true }: BundleOptions = {}) {
    const { ls } = this;
    const preId = freshId();
    const pre = ls.PrivateKey.generate();
    if (oneTime) {
      await this.#stores.preKey.savePreKey(
        preId,
        ls.PreKeyRecord.new(preId, pre.getPublicKey(), pre),
      );
    }
    const spkId = freshId();
    const spk = ls.PrivateKey.generate();
    const spkSig = this.identity.privateKey.sign(spk.getPublicKey().serialize());
    await this.#stores.signedPreKey.saveSignedPreKey(
      spkId,
      ls.SignedPreKeyRecord.new(spkId, Date.now(), spk.getPublicKey(), spk, spkSig),
    );
    let kyberFields = {};
    if (kyber) {
      const kId = freshId();
      const kp = ls.KEMKeyPair.generate();
      const kSig = this.identity.privateKey.sign(kp.getPublicKey().serialize());
      await this.#stores.kyberPreKey.saveKyberPreKey(
        kId,
        ls.KyberPreKeyRecord.new(kId, Date.now(), kp, kSig),
      );
      kyberFields = {
        kyberPreKeyId: kId,
        kyberPreKey: KemPublicKey.deserialize(u8(kp.getPublicKey().serialize())),
        kyberPreKeySignature: u8(kSig),
      };
    }
    return new PreKeyBundle({
      registrationId: this.registrationId,
      deviceId: this.deviceId,
      identityKey: this.identityKey,
      preKeyId: oneTime ? preId : undefined,
      preKey: oneTime ? PublicKey.deserialize(u8(pre.getPublicKey().serialize())) : undefined,
      signedPreKeyId: spkId,
      signedPreKey: PublicKey.deserialize(u8(spk.getPublicKey().serialize())),
      signedPreKeySignature: u8(spkSig),
      ...kyberFields,
    });
  }

  async processBundle(peer: Party, bundle: PreKeyBundle) {
    const { ls } = this;
    const b = this.#b;
    const pk = (k: PublicKey) => ls.PublicKey.deserialize(b(k.serialize()));
    const kyber = bundle.kyberPreKey
      ? ([
          bundle.kyberPreKeyId!,
          ls.KEMPublicKey.deserialize(b(bundle.kyberPreKey.serialize())),
          b(bundle.kyberPreKeySignature!),
        ] as const)
      : ([null, null, null] as const);
    const lsBundle = (
      ls.PreKeyBundle.new as (...args: unknown[]) => ReturnType<Ls['PreKeyBundle']['new']>
    )(
      bundle.registrationId,
      bundle.deviceId,
      bundle.preKeyId ?? null,
      bundle.preKey ? pk(bundle.preKey) : null,
      bundle.signedPreKeyId,
      pk(bundle.signedPreKey),
      b(bundle.signedPreKeySignature),
      pk(bundle.identityKey),
      ...kyber,
    );
    await (ls.processPreKeyBundle as (...args: unknown[]) => Promise<void>)(
      lsBundle,
      this.#address(peer),
      ...this.#local(),
      this.#stores.session,
      this.#stores.identity,
    );
  }

  async encrypt(peer: Party, plaintext: Uint8Array): Promise<CiphertextMessage> {
    const encrypt = this.ls.signalEncrypt as (
      ...args: unknown[]
    ) => ReturnType<Ls['signalEncrypt']>;
    const m = await encrypt(
      this.#b(plaintext),
      this.#address(peer),
      ...this.#local(),
      this.#stores.session,
      this.#stores.identity,
    );
    const type = m.type() === this.ls.CiphertextMessageType.PreKey ? 'prekey' : 'whisper';
    return { type, body: u8(m.serialize()) };
  }

  async decrypt(peer: Party, message: CiphertextMessage): Promise<Uint8Array> {
    const { ls } = this;
    const b = this.#b;
    const s = this.#stores;
    if (message.type === 'prekey') {
      return u8(
        await (ls.signalDecryptPreKey as (...args: unknown[]) => Promise<Uint8Array>)(
          ls.PreKeySignalMessage.deserialize(b(message.body)),
          this.#address(peer),
          ...this.#local(),
          s.session,
          s.identity,
          s.preKey,
          s.signedPreKey,
          s.kyberPreKey,
        ),
      );
    }
    return u8(
      await (ls.signalDecrypt as (...args: unknown[]) => Promise<Uint8Array>)(
        ls.SignalMessage.deserialize(b(message.body)),
        this.#address(peer),
        ...this.#local(),
        s.session,
        s.identity,
      ),
    );
  }

  /** Serialised session record for `peer`, if any. */
  session(peer: Party): Uint8Array | undefined {
    return this.sessions.get(`${peer.name}.${peer.deviceId}`);
  }
}
