/**
 * The storage interfaces an application implements (as libsignal's `storage/traits.rs`):
 * small, async, one per kind of state. Records are opaque to stores: a store keeps what
 * `record.serialize()` returns and rebuilds it with `Record.deserialize()`, never reading inside.
 *
 * In-memory reference implementations live in `inmem-stores.ts` (sessions, identities,
 * prekeys) and `sender-keys/inmem-sender-key-store.ts`.
 * @module
 */
import type { ProtocolAddress } from './address.ts';
import type { IdentityKeyPair, PublicKey } from './curve.ts';
import type { KyberPreKeyRecord, PreKeyRecord, SignedPreKeyRecord } from './prekeys.ts';
import type { SenderKeyRecord } from './sender-keys/sender-key-record.ts';
import type { SessionRecord } from './session/session-record.ts';

/** Which way a message is going when an identity's trust is checked. */
export type Direction = 'sending' | 'receiving';

/** What `saveIdentity` did: stored a first key, kept the same key, or replaced a different one. */
export type IdentityChange = 'new' | 'unchanged' | 'replaced';

export interface IdentityKeyStore {
  getIdentityKeyPair(): Promise<IdentityKeyPair>;
  getLocalRegistrationId(): Promise<number>;
  /**
   * Records `key` as the identity of `address`. The protocol calls this only after
   * `isTrustedIdentity` said yes; an application calls it to accept a changed key.
   */
  saveIdentity(address: ProtocolAddress, key: PublicKey): Promise<IdentityChange>;
  /**
   * Trust on first use: an unknown identity is trusted, a known one only if it is the same key.
   * A `false` makes the protocol throw `UntrustedIdentity` and change nothing.
   */
  isTrustedIdentity(
    address: ProtocolAddress,
    key: PublicKey,
    direction: Direction,
  ): Promise<boolean>;
  getIdentity(address: ProtocolAddress): Promise<PublicKey | undefined>;
}

export interface PreKeyStore {
  getPreKey(id: number): Promise<PreKeyRecord | undefined>;
  savePreKey(id: number, record: PreKeyRecord): Promise<void>;
  removePreKey(id: number): Promise<void>;
}

export interface SignedPreKeyStore {
  getSignedPreKey(id: number): Promise<SignedPreKeyRecord | undefined>;
  saveSignedPreKey(id: number, record: SignedPreKeyRecord): Promise<void>;
}

export interface KyberPreKeyStore {
  getKyberPreKey(id: number): Promise<KyberPreKeyRecord | undefined>;
  saveKyberPreKey(id: number, record: KyberPreKeyRecord): Promise<void>;
  /**
   * Called once a PreKey message that used Kyber prekey `id` decrypted, before its session is
   * stored (libsignal 0.90's signature). One-time Kyber prekeys are removed here. Last-resort
   * ones are kept, so the store must remember (id, signedPreKeyId, baseKey) and reject a triple
   * it has seen with `ProtocolError('InvalidMessage')`: otherwise a PreKey message replayed
   * after its session left the archive would decrypt again.
   */
  markKyberPreKeyUsed(id: number, signedPreKeyId: number, baseKey: PublicKey): Promise<void>;
}

export interface SessionStore {
  loadSession(address: ProtocolAddress): Promise<SessionRecord | undefined>;
  storeSession(address: ProtocolAddress, record: SessionRecord): Promise<void>;
}

export interface SenderKeyStore {
  /** `distributionId` is the group's sender-key distribution UUID (lowercase, hyphenated). */
  storeSenderKey(
    sender: ProtocolAddress,
    distributionId: string,
    record: SenderKeyRecord,
  ): Promise<void>;
  loadSenderKey(
    sender: ProtocolAddress,
    distributionId: string,
  ): Promise<SenderKeyRecord | undefined>;
}

/** Everything a 1:1 session needs, as one object (libsignal's `ProtocolStore`). */
export interface ProtocolStores {
  identity: IdentityKeyStore;
  session: SessionStore;
  preKey: PreKeyStore;
  signedPreKey: SignedPreKeyStore;
  kyberPreKey: KyberPreKeyStore;
}
