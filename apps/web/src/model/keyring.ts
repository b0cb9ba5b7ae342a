/**
 * The key that encrypts this browser's Parley storage at rest, and the optional passphrase
 * that guards it (envelope encryption, so the passphrase can be set, changed or removed
 * without re-encrypting the data):
 *
 *   data key  = 32 random bytes, imported for use as a non-extractable AES-GCM `CryptoKey`
 *   wrapped   = AES-GCM(kek, iv, data key)
 *   kek       = a non-extractable device key kept in IndexedDB          (no passphrase)
 *             | scrypt(passphrase, salt) imported as AES-GCM key         (passphrase)
 *
 * Raw key bytes only live for the instant of (un)wrapping and are zeroed; nothing goes to
 * localStorage, the URL or the console.
 * @module
 */
import {
  deriveFromPassphrase,
  importAtRestKey,
  DEFAULT_SCRYPT,
  type ScryptParams,
} from '@parley/client/storage.js';
import { openDB, type IDBPDatabase } from 'idb';

const DB_NAME = 'parley-keyring';
const STORE = 'keys';
const RECORD = 'data-key';

type Wrapped = { iv: Uint8Array; wrapped: Uint8Array };
type KeyRecord =
  | ({ kind: 'device'; kek: CryptoKey } & Wrapped)
  | ({ kind: 'passphrase'; salt: Uint8Array; params: ScryptParams } & Wrapped);

export class WrongPassphraseError extends Error {
  override readonly name = 'WrongPassphraseError';
  constructor() {
    super('Wrong passphrase.');
  }
}

export class Keyring {
  /** The key that unwrapped the data key in this session, to re-wrap on passphrase change. */
  #kek: CryptoKey | undefined;

  private constructor(
    private readonly db: IDBPDatabase,
    private readonly scrypt: ScryptParams,
  ) {}

  static async open(options: { name?: string; scrypt?: ScryptParams } = {}): Promise<Keyring> {
    const db = await openDB(options.name ?? DB_NAME, 1, {
      upgrade(db) {
        db.createObjectStore(STORE);
      },
    });
    return new Keyring(db, options.scrypt ?? DEFAULT_SCRYPT);
  }

  async #record(): Promise<KeyRecord | undefined> {
    return (await this.db.get(STORE, RECORD)) as KeyRecord | undefined;
  }

  async hasPassphrase(): Promise<boolean> {
    return (await this.#record())?.kind === 'passphrase';
  }

  /** The data key; created on first use. Throws without the passphrase when one is set. */
  async unlock(passphrase?: string): Promise<CryptoKey> {
    const rec = await this.#record();
    if (!rec) return this.#create();
    if (rec.kind === 'passphrase' && !passphrase) throw new WrongPassphraseError();
    const kek =
      rec.kind === 'device'
        ? rec.kek
        : await this.#passphraseKek(passphrase ?? '', rec.salt, rec.params);
    const raw = await this.#unwrap(kek, rec);
    try {
      this.#kek = kek;
      return await importAtRestKey(raw);
    } finally {
      raw.fill(0);
    }
  }

  /** Sets, changes or (with `null`) removes the passphrase. Needs an unlocked session. */
  async setPassphrase(passphrase: string | null): Promise<void> {
    const rec = await this.#record();
    if (!rec || !this.#kek) throw new Error('Unlock first.');
    const raw = await this.#unwrap(this.#kek, rec);
    try {
      let next: KeyRecord;
      let kek: CryptoKey;
      if (passphrase === null) {
        kek = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, [
          'encrypt',
          'decrypt',
        ]);
        next = { kind: 'device', kek, ...(await wrap(kek, raw)) };
      } else {
        const salt = crypto.getRandomValues(new Uint8Array(16));
        kek = await this.#passphraseKek(passphrase, salt, this.scrypt);
        next = { kind: 'passphrase', salt, params: this.scrypt, ...(await wrap(kek, raw)) };
      }
      await this.db.put(STORE, next, RECORD);
      this.#kek = kek;
    } finally {
      raw.fill(0);
    }
  }

  /** Forgets the session's key-encryption key. */
  lock(): void {
    this.#kek = undefined;
  }

  /** Deletes the key: whatever it encrypted becomes unreadable. */
  async destroy(): Promise<void> {
    this.#kek = undefined;
    await this.db.delete(STORE, RECORD);
  }

  close(): void {
    this.db.close();
  }

  async #create(): Promise<CryptoKey> {
    const raw = crypto.getRandomValues(new Uint8Array(32));
    try {
      const kek = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, [
        'encrypt',
        'decrypt',
      ]);
      await this.db.put(
        STORE,
        { kind: 'device', kek, ...(await wrap(kek, raw)) } satisfies KeyRecord,
        RECORD,
      );
      this.#kek = kek;
      return await importAtRestKey(raw);
    } finally {
      raw.fill(0);
    }
  }

  async #passphraseKek(
    passphrase: string,
    salt: Uint8Array,
    params: ScryptParams,
  ): Promise<CryptoKey> {
    const bytes = await deriveFromPassphrase(passphrase, salt, params);
    try {
      return await importAtRestKey(bytes);
    } finally {
      bytes.fill(0);
    }
  }

  async #unwrap(kek: CryptoKey, rec: Wrapped): Promise<Uint8Array> {
    try {
      return new Uint8Array(
        await crypto.subtle.decrypt(
          { name: 'AES-GCM', iv: rec.iv as Uint8Array<ArrayBuffer> },
          kek,
          rec.wrapped as Uint8Array<ArrayBuffer>,
        ),
      );
    } catch {
      throw new WrongPassphraseError();
    }
  }
}

async function wrap(kek: CryptoKey, raw: Uint8Array): Promise<Wrapped> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const wrapped = new Uint8Array(
    await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, kek, raw as Uint8Array<ArrayBuffer>),
  );
  return { iv, wrapped };
}
