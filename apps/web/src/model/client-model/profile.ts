/**
 * One profile's storage, shared by every tab of it: the keyring holding the data key, the
 * encrypted IndexedDB storage (reporting each commit so the other tabs re-read), and the Web
 * Locks lock that serialises storage transactions, and so all session work, across tabs. Opens
 * a `ParleyClient` on it with the model's options.
 * @module
 */
import { ParleyClient, Storage, type ParleyClientOptions } from '@parley/client';
import type { StorageBackend } from '@parley/client/storage.js';
import { IndexedDbBackend } from '@parley/client/storage/indexeddb.js';
import { WebLocksKeyedLock, webLocksAvailable } from '@parley/client/web-locks.js';
import { Keyring } from '../keyring.ts';
import { NotifyingBackend } from '../notifying-backend.ts';

const DB_NAME = 'parley';

export interface ClientModelOptions {
  relayUrl: string;
  /** IndexedDB database names (tests and several profiles side by side). */
  dbName?: string;
  keyringName?: string;
  /** Defaults to the browser's own (tests on Node pass the `ws` package and Node's fetch). */
  WebSocket?: ParleyClientOptions['WebSocket'];
  fetch?: ParleyClientOptions['fetch'];
}

export class Profile {
  /** The IndexedDB database's name, which also names the profile's locks and channel. */
  readonly dbName: string;
  /** Cross-tab lock for storage transactions (undefined without the Web Locks API). */
  readonly lock: WebLocksKeyedLock | undefined;
  #keyring: Keyring | undefined;
  #backend: StorageBackend | undefined;

  constructor(
    readonly options: ClientModelOptions,
    private readonly onCommit: () => void,
  ) {
    this.dbName = options.dbName ?? DB_NAME;
    if (webLocksAvailable()) this.lock = new WebLocksKeyedLock(`parley:${this.dbName}:`);
  }

  /** Undefined until `openKeyring`. */
  get keyring(): Keyring | undefined {
    return this.#keyring;
  }

  async openKeyring(): Promise<Keyring> {
    this.#keyring = await Keyring.open(
      this.options.keyringName ? { name: this.options.keyringName } : {},
    );
    return this.#keyring;
  }

  /** Unlocks the data key (with `passphrase` if one is set) and opens the client on storage. */
  async openClient(passphrase?: string): Promise<ParleyClient> {
    const keyring = this.#keyring!;
    // Two tabs opening a fresh profile at once must not each make a data key.
    const key = await this.exclusive('keyring', () => keyring.unlock(passphrase));
    this.#backend ??= new NotifyingBackend(await IndexedDbBackend.open(this.dbName), () =>
      this.onCommit(),
    );
    const storage = new Storage(this.#backend, {
      key,
      ...(this.lock ? { lock: this.lock } : {}),
    });
    return ParleyClient.open(this.clientOptions(storage));
  }

  clientOptions(storage: Storage) {
    const { relayUrl, WebSocket, fetch } = this.options;
    return {
      storage,
      relayUrl,
      ...(this.lock ? { lock: this.lock } : {}),
      ...(WebSocket ? { WebSocket } : {}),
      ...(fetch ? { fetch } : {}),
    };
  }

  exclusive<T>(name: string, fn: () => Promise<T>): Promise<T> {
    return this.lock ? this.lock.run(name, fn) : fn();
  }
}
