/**
 * Adapters from client storage to @parley/crypto's store interfaces. Each set is bound to one
 * storage transaction (`StorageTx`), so everything a protocol operation writes — ratchet
 * state, consumed prekeys, a newly trusted identity — commits together with what the client
 * stores next to it (the decrypted message), or not at all.
 *
 * Identity policy (TOFU): the first key seen for an account is trusted. A different key is
 * always accepted when *receiving* (the sender already holds our keys; refusing would only lose
 * the message) — saveIdentity then reports 'replaced' and the client blocks sending until the
 * user acknowledges. When *sending*, a key that differs from the trusted one is refused, and
 * so is any key while an acknowledgement is pending.
 * @module
 */
import type { ProtocolAddress } from '@parley/crypto/address.js';
import { IdentityKeyPair, PublicKey } from '@parley/crypto/curve.js';
import type {
  Direction,
  IdentityChange,
  IdentityKeyStore,
  KyberPreKeyStore,
  PreKeyStore,
  ProtocolStores,
  SenderKeyStore,
  SessionStore,
  SignedPreKeyStore,
} from '@parley/crypto/stores.js';
import { ProtocolError } from '@parley/crypto/errors.js';
import { SenderKeyRecord } from '@parley/crypto/group.js';
import { KyberPreKeyRecord, PreKeyRecord, SignedPreKeyRecord, SessionRecord } from './signal.ts';
import type { AccountRecord, IdentityRecord } from './model.ts';
import type { StorageTx } from './storage/index.ts';
import { bytesEqual, toHex } from './util/bytes.ts';
import { senderKeyKey, sessionKey } from './keys.ts';
import { NotRegisteredError } from './errors.ts';

export { sessionKey, senderKeyKey };

interface StoredPreKey {
  record: Uint8Array;
  createdAt: number;
  lastResort?: boolean;
  /**
   * For a last-resort Kyber prekey (never deleted): each `signedPreKeyId:baseKey` it has
   * completed a session with, so a replayed PreKey message is refused instead of decrypted.
   */
  usedWith?: string[];
}

export class TxIdentityStore implements IdentityKeyStore {
  constructor(
    private readonly tx: StorageTx,
    private readonly now: () => number,
    /** Called when saveIdentity replaced a key (receiving side of an identity change). */
    private readonly onReplaced: (accountId: string) => void = () => undefined,
  ) {}

  async account(): Promise<AccountRecord> {
    const account = await this.tx.get<AccountRecord>('meta', 'account');
    if (!account) throw new NotRegisteredError();
    return account;
  }

  async getIdentityKeyPair(): Promise<IdentityKeyPair> {
    return IdentityKeyPair.deserialize((await this.account()).identityKeyPair);
  }

  async getLocalRegistrationId(): Promise<number> {
    return (await this.account()).registrationId;
  }

  async saveIdentity(address: ProtocolAddress, key: PublicKey): Promise<IdentityChange> {
    const existing = await this.tx.get<IdentityRecord>('identities', address.name);
    const bytes = key.serialize();
    if (existing && bytesEqual(existing.publicKey, bytes)) {
      if (existing.pendingKey) {
        delete existing.pendingKey;
        await this.tx.put('identities', address.name, existing);
      }
      return 'unchanged';
    }
    await this.tx.put('identities', address.name, {
      publicKey: bytes,
      firstSeenAt: this.now(),
    } satisfies IdentityRecord);
    if (existing) {
      this.onReplaced(address.name);
      return 'replaced';
    }
    return 'new';
  }

  async isTrustedIdentity(
    address: ProtocolAddress,
    key: PublicKey,
    direction: Direction,
  ): Promise<boolean> {
    if (direction === 'receiving') return true;
    const existing = await this.tx.get<IdentityRecord>('identities', address.name);
    if (!existing) return true;
    if (existing.pendingKey) return false;
    return bytesEqual(existing.publicKey, key.serialize());
  }

  async getIdentity(address: ProtocolAddress): Promise<PublicKey | undefined> {
    const existing = await this.tx.get<IdentityRecord>('identities', address.name);
    return existing ? PublicKey.deserialize(existing.publicKey) : undefined;
  }
}

export class TxPreKeyStore implements PreKeyStore, SignedPreKeyStore, KyberPreKeyStore {
  constructor(
    private readonly tx: StorageTx,
    private readonly now: () => number,
  ) {}

  async getPreKey(id: number): Promise<PreKeyRecord | undefined> {
    const v = await this.tx.get<StoredPreKey>('preKeys', `ec/${id}`);
    return v ? PreKeyRecord.deserialize(v.record) : undefined;
  }

  async savePreKey(id: number, record: PreKeyRecord): Promise<void> {
    await this.tx.put('preKeys', `ec/${id}`, { record: record.serialize(), createdAt: this.now() });
  }

  async removePreKey(id: number): Promise<void> {
    await this.tx.delete('preKeys', `ec/${id}`);
  }

  async getSignedPreKey(id: number): Promise<SignedPreKeyRecord | undefined> {
    const v = await this.tx.get<StoredPreKey>('signedPreKeys', String(id));
    return v ? SignedPreKeyRecord.deserialize(v.record) : undefined;
  }

  async saveSignedPreKey(id: number, record: SignedPreKeyRecord): Promise<void> {
    await this.tx.put('signedPreKeys', String(id), {
      record: record.serialize(),
      createdAt: this.now(),
    });
  }

  async getKyberPreKey(id: number): Promise<KyberPreKeyRecord | undefined> {
    const v = await this.tx.get<StoredPreKey>('kyberPreKeys', String(id));
    return v ? KyberPreKeyRecord.deserialize(v.record) : undefined;
  }

  async saveKyberPreKey(id: number, record: KyberPreKeyRecord): Promise<void> {
    await this.saveKyber(id, record, false);
  }

  async saveKyber(id: number, record: KyberPreKeyRecord, lastResort: boolean): Promise<void> {
    await this.tx.put('kyberPreKeys', String(id), {
      record: record.serialize(),
      createdAt: this.now(),
      lastResort,
    });
  }

  async markKyberPreKeyUsed(id: number, signedPreKeyId: number, baseKey: PublicKey): Promise<void> {
    const v = await this.tx.get<StoredPreKey>('kyberPreKeys', String(id));
    if (!v) return;
    if (!v.lastResort) {
      await this.tx.delete('kyberPreKeys', String(id));
      return;
    }
    const use = `${signedPreKeyId}:${toHex(baseKey.serialize())}`;
    if (v.usedWith?.includes(use)) {
      throw new ProtocolError('InvalidMessage', 'reused base key for a last-resort Kyber prekey');
    }
    await this.tx.put('kyberPreKeys', String(id), { ...v, usedWith: [...(v.usedWith ?? []), use] });
  }
}

export class TxSessionStore implements SessionStore {
  constructor(private readonly tx: StorageTx) {}

  // Inside a transaction, records stay decoded until its commit (`getDecoded`/`putDecoded`):
  // the ciphers clone a loaded record before changing it and hand over the one they store.
  async loadSession(address: ProtocolAddress): Promise<SessionRecord | undefined> {
    if (this.tx.getDecoded) {
      return this.tx.getDecoded('sessions', sessionKey(address), (v) =>
        SessionRecord.deserialize(v as Uint8Array),
      );
    }
    const v = await this.tx.get<Uint8Array>('sessions', sessionKey(address));
    return v ? SessionRecord.deserialize(v) : undefined;
  }

  async storeSession(address: ProtocolAddress, record: SessionRecord): Promise<void> {
    if (this.tx.putDecoded) {
      return this.tx.putDecoded('sessions', sessionKey(address), record, (r) => r.serialize());
    }
    await this.tx.put('sessions', sessionKey(address), record.serialize());
  }
}

export class TxSenderKeyStore implements SenderKeyStore {
  constructor(private readonly tx: StorageTx) {}

  async storeSenderKey(
    sender: ProtocolAddress,
    distributionId: string,
    record: SenderKeyRecord,
  ): Promise<void> {
    const key = senderKeyKey(sender, distributionId);
    if (this.tx.putDecoded) {
      return this.tx.putDecoded('senderKeys', key, record, (r) => r.serialize());
    }
    await this.tx.put('senderKeys', key, record.serialize());
  }

  async loadSenderKey(
    sender: ProtocolAddress,
    distributionId: string,
  ): Promise<SenderKeyRecord | undefined> {
    const key = senderKeyKey(sender, distributionId);
    if (this.tx.getDecoded) {
      return this.tx.getDecoded('senderKeys', key, (v) =>
        SenderKeyRecord.deserialize(v as Uint8Array),
      );
    }
    const v = await this.tx.get<Uint8Array>('senderKeys', key);
    return v ? SenderKeyRecord.deserialize(v) : undefined;
  }
}

export interface TxStores extends ProtocolStores {
  identity: TxIdentityStore;
  preKey: TxPreKeyStore;
  signedPreKey: TxPreKeyStore;
  kyberPreKey: TxPreKeyStore;
  session: TxSessionStore;
  senderKey: TxSenderKeyStore;
}

export function storesFor(
  tx: StorageTx,
  now: () => number,
  onIdentityReplaced?: (accountId: string) => void,
): TxStores {
  const preKeys = new TxPreKeyStore(tx, now);
  return {
    identity: new TxIdentityStore(tx, now, onIdentityReplaced),
    preKey: preKeys,
    signedPreKey: preKeys,
    kyberPreKey: preKeys,
    session: new TxSessionStore(tx),
    senderKey: new TxSenderKeyStore(tx),
  };
}
