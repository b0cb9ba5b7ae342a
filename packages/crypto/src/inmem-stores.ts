/**
 * Reference in-memory stores (libsignal `storage/inmem.rs`): what tests use and what a real
 * store should behave like. Every record is kept as its serialised bytes — exactly what a
 * persistent store would write — so callers can never mutate stored state through a shared
 * object, and `snapshot()` lets tests check that a failed operation changed nothing.
 * @module
 */
import type { ProtocolAddress } from './address.ts';
import { auint, bytesEqual, toHex } from './_bytes.ts';
import { IdentityKeyPair, PublicKey } from './curve.ts';
import { ProtocolError } from './errors.ts';
import { KyberPreKeyRecord, PreKeyRecord, SignedPreKeyRecord } from './prekeys.ts';
import { SessionRecord } from './session/session-record.ts';
import type {
  Direction,
  IdentityChange,
  IdentityKeyStore,
  KyberPreKeyStore,
  PreKeyStore,
  ProtocolStores,
  SessionStore,
  SignedPreKeyStore,
} from './stores.ts';

const inspect = Symbol.for('nodejs.util.inspect.custom');

/** A copy of a byte map, for byte-for-byte comparisons. */
function copyMap<K>(m: Map<K, Uint8Array>): Map<K, Uint8Array> {
  return new Map([...m].map(([k, v]) => [k, v.slice()]));
}

abstract class Redacted {
  abstract toString(): string;

  toJSON(): string {
    return this.toString();
  }

  [inspect](): string {
    return this.toString();
  }
}

/**
 * Trust on first use: an unknown identity is trusted; a known one only if it is the same key.
 * A changed key stays untrusted (the protocol throws `UntrustedIdentity`) until the application
 * accepts it with `saveIdentity`, which then reports `'replaced'`.
 */
export class InMemoryIdentityKeyStore extends Redacted implements IdentityKeyStore {
  readonly #identity: Uint8Array;
  readonly #registrationId: number;
  readonly #known = new Map<string, Uint8Array>();

  constructor(identity: IdentityKeyPair, registrationId: number) {
    super();
    if (!(identity instanceof IdentityKeyPair)) {
      throw new ProtocolError('InvalidArgument', 'identity must be an IdentityKeyPair');
    }
    this.#identity = identity.serialize();
    this.#registrationId = auint(registrationId, 'registrationId', 0, 0xffff_ffff);
  }

  async getIdentityKeyPair(): Promise<IdentityKeyPair> {
    return IdentityKeyPair.deserialize(this.#identity);
  }

  async getLocalRegistrationId(): Promise<number> {
    return this.#registrationId;
  }

  async saveIdentity(address: ProtocolAddress, key: PublicKey): Promise<IdentityChange> {
    const k = address.toString();
    const previous = this.#known.get(k);
    const bytes = key.serialize();
    if (previous && bytesEqual(previous, bytes)) return 'unchanged';
    this.#known.set(k, bytes);
    return previous ? 'replaced' : 'new';
  }

  async isTrustedIdentity(
    address: ProtocolAddress,
    key: PublicKey,
    _direction: Direction,
  ): Promise<boolean> {
    const known = this.#known.get(address.toString());
    return known === undefined || bytesEqual(known, key.serialize());
  }

  async getIdentity(address: ProtocolAddress): Promise<PublicKey | undefined> {
    const known = this.#known.get(address.toString());
    return known && PublicKey.deserialize(known);
  }

  /** Known remote identities, `name.device` → 33 bytes. */
  snapshot(): Map<string, Uint8Array> {
    return copyMap(this.#known);
  }

  toString(): string {
    return `InMemoryIdentityKeyStore(${this.#known.size} known identities, [redacted])`;
  }
}

export class InMemoryPreKeyStore extends Redacted implements PreKeyStore {
  readonly #records = new Map<number, Uint8Array>();

  async getPreKey(id: number): Promise<PreKeyRecord | undefined> {
    const bytes = this.#records.get(id);
    return bytes && PreKeyRecord.deserialize(bytes);
  }

  async savePreKey(id: number, record: PreKeyRecord): Promise<void> {
    this.#records.set(id, record.serialize());
  }

  async removePreKey(id: number): Promise<void> {
    this.#records.delete(id);
  }

  snapshot(): Map<number, Uint8Array> {
    return copyMap(this.#records);
  }

  toString(): string {
    return `InMemoryPreKeyStore(${this.#records.size} prekeys)`;
  }
}

export class InMemorySignedPreKeyStore extends Redacted implements SignedPreKeyStore {
  readonly #records = new Map<number, Uint8Array>();

  async getSignedPreKey(id: number): Promise<SignedPreKeyRecord | undefined> {
    const bytes = this.#records.get(id);
    return bytes && SignedPreKeyRecord.deserialize(bytes);
  }

  async saveSignedPreKey(id: number, record: SignedPreKeyRecord): Promise<void> {
    this.#records.set(id, record.serialize());
  }

  snapshot(): Map<number, Uint8Array> {
    return copyMap(this.#records);
  }

  toString(): string {
    return `InMemorySignedPreKeyStore(${this.#records.size} signed prekeys)`;
  }
}

/** One-time Kyber prekeys are removed once used; last-resort ones stay. */
export class InMemoryKyberPreKeyStore extends Redacted implements KyberPreKeyStore {
  readonly #records = new Map<number, Uint8Array>();
  readonly #lastResort = new Set<number>();
  /** Per last-resort key: `${signedPreKeyId}:${hex(baseKey)}` of every PreKey message seen. */
  readonly #baseKeysSeen = new Map<number, Set<string>>();

  async getKyberPreKey(id: number): Promise<KyberPreKeyRecord | undefined> {
    const bytes = this.#records.get(id);
    return bytes && KyberPreKeyRecord.deserialize(bytes);
  }

  /** Saves a Kyber prekey; `lastResort` ones survive `markKyberPreKeyUsed`. */
  async saveKyberPreKey(id: number, record: KyberPreKeyRecord, lastResort = false): Promise<void> {
    this.#records.set(id, record.serialize());
    if (lastResort) this.#lastResort.add(id);
    else this.#lastResort.delete(id);
  }

  async markKyberPreKeyUsed(id: number, signedPreKeyId: number, baseKey: PublicKey): Promise<void> {
    if (!this.#lastResort.has(id)) {
      this.#records.delete(id);
      return;
    }
    const seen = this.#baseKeysSeen.get(id) ?? new Set<string>();
    const key = `${signedPreKeyId}:${toHex(baseKey.serialize())}`;
    if (seen.has(key)) throw new ProtocolError('InvalidMessage', 'reused base key');
    seen.add(key);
    this.#baseKeysSeen.set(id, seen);
  }

  snapshot(): Map<number, Uint8Array> {
    return copyMap(this.#records);
  }

  toString(): string {
    return `InMemoryKyberPreKeyStore(${this.#records.size} Kyber prekeys)`;
  }
}

export class InMemorySessionStore extends Redacted implements SessionStore {
  readonly #records = new Map<string, Uint8Array>();

  async loadSession(address: ProtocolAddress): Promise<SessionRecord | undefined> {
    const bytes = this.#records.get(address.toString());
    return bytes && SessionRecord.deserialize(bytes);
  }

  async storeSession(address: ProtocolAddress, record: SessionRecord): Promise<void> {
    this.#records.set(address.toString(), record.serialize());
  }

  snapshot(): Map<string, Uint8Array> {
    return copyMap(this.#records);
  }

  toString(): string {
    return `InMemorySessionStore(${this.#records.size} sessions)`;
  }
}

/** Every 1:1 store in memory, as one {@link ProtocolStores}. */
export class InMemoryProtocolStore extends Redacted implements ProtocolStores {
  readonly identity: InMemoryIdentityKeyStore;
  readonly session = new InMemorySessionStore();
  readonly preKey = new InMemoryPreKeyStore();
  readonly signedPreKey = new InMemorySignedPreKeyStore();
  readonly kyberPreKey = new InMemoryKyberPreKeyStore();

  constructor(identity: IdentityKeyPair, registrationId: number) {
    super();
    this.identity = new InMemoryIdentityKeyStore(identity, registrationId);
  }

  /** Everything stored, as `kind:key` → bytes, for byte-for-byte comparisons. */
  snapshot(): Map<string, Uint8Array> {
    const out = new Map<string, Uint8Array>();
    const add = (kind: string, m: Map<string | number, Uint8Array>) => {
      for (const [k, v] of m) out.set(`${kind}:${k}`, v);
    };
    add('identity', this.identity.snapshot());
    add('session', this.session.snapshot());
    add('prekey', this.preKey.snapshot());
    add('signed-prekey', this.signedPreKey.snapshot());
    add('kyber-prekey', this.kyberPreKey.snapshot());
    return out;
  }

  toString(): string {
    return `InMemoryProtocolStore(${this.session.toString()}, [redacted])`;
  }
}

export function createInMemoryStores(
  identity: IdentityKeyPair,
  registrationId: number,
): InMemoryProtocolStore {
  return new InMemoryProtocolStore(identity, registrationId);
}
