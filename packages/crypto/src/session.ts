/**
 * 1:1 sessions: X3DH/PQXDH session setup and the Double Ratchet, byte-compatible with
 * libsignal (messages from and to libsignal 0.72 and 0.90 decrypt both ways).
 *
 * ```ts
 * import { SessionCipher } from '@parley/crypto/session.js';
 * const alice = new SessionCipher(aliceStores);
 * await alice.processPreKeyBundle(bobAddress, bundleFromServer);
 * const wire = await alice.encrypt(bobAddress, utf8('hi'));   // { type: 'prekey', body }
 * const plaintext = await bob.decrypt(aliceAddress, wire);
 * ```
 *
 * Every operation on one address runs under `lock.run(address.toString(), …)`, works on a copy
 * of the stored record (a store may hand out the object it keeps; states that the operation
 * does not change in place are shared with it, never changed), and writes back only after
 * every check passed: a bad, tampered, truncated, replayed or wrong-session message throws a
 * `ProtocolError` and leaves every store exactly as it was. One-time prekeys are removed (and Kyber prekeys marked used) only
 * once the PreKey message that used them has decrypted.
 * @module
 */
import type { ProtocolAddress } from './address.ts';
import { forgetPrivateKeys } from './_backend.ts';
import { abytes } from './_bytes.ts';
import { ProtocolError } from './errors.ts';
import { InProcessKeyedLock, type KeyedLock } from './lock.ts';
import type { SpqrMode } from './spqr/session-spqr.ts';
import { PreKeySignalMessage, SignalMessage } from './messages.ts';
import type { PreKeyBundle } from './prekeys.ts';
import { systemClock, systemRandom, type Clock, type RandomSource } from './random.ts';
import {
  buildSessionFromBundle,
  buildSessionFromPreKeyMessage,
} from './session/session-builder.ts';
import {
  decryptWithRecord,
  encryptWithRecord,
  type CiphertextMessage,
} from './session/session-cipher.ts';
import { SessionRecord } from './session/session-record.ts';
import type { ProtocolStores } from './stores.ts';

export {
  ARCHIVED_STATES_MAX_LENGTH,
  KYBER_AWARE_MESSAGE_VERSION,
  MAX_FORWARD_JUMPS,
  MAX_MESSAGE_KEYS,
  MAX_RECEIVER_CHAINS,
  MAX_UNACKNOWLEDGED_SESSION_AGE_MS,
  PRE_KYBER_MESSAGE_VERSION,
} from './consts.ts';
export type { CiphertextMessage } from './session/session-cipher.ts';
export { SessionRecord } from './session/session-record.ts';
export type { ProtocolStores } from './stores.ts';

export interface SessionCipherOptions {
  /** Randomness for base keys, ratchet keys and Kyber (default: the platform CSPRNG). */
  rng?: RandomSource;
  /** Milliseconds since the epoch (default: `Date.now`). */
  clock?: Clock;
  /**
   * Serialises work per remote address. Share one lock among every SessionCipher that uses the
   * same stores (default: a lock private to this instance).
   */
  lock?: KeyedLock;
  /**
   * SPQR for sessions this cipher creates: 'required' (libsignal ≥ 0.92), 'offered' (0.83–0.91
   * negotiation) or 'off' (pre-SPQR peers such as 0.72; tests). See spqr/session-spqr.ts.
   */
  spqr?: SpqrMode;
  /**
   * Legacy, for interop tests with libsignal 0.72 only: also build X3DH (version 3) sessions
   * from bundles without a Kyber prekey and accept version 3 PreKey messages. Off by default,
   * as in libsignal ≥ 0.75: both are refused with `LegacyCiphertextVersion`, since stripping the
   * Kyber prekey would otherwise downgrade a session to classical security.
   */
  allowPreKyberSessions?: boolean;
}

const inspect = Symbol.for('nodejs.util.inspect.custom');

function aaddress(address: unknown): ProtocolAddress {
  const a = address as ProtocolAddress;
  if (
    typeof a !== 'object' ||
    a === null ||
    typeof a.name !== 'string' ||
    typeof a.deviceId !== 'number' ||
    typeof a.toString !== 'function'
  ) {
    throw new ProtocolError('InvalidArgument', 'address must be a ProtocolAddress');
  }
  return a;
}

function astores(stores: unknown): ProtocolStores {
  const s = stores as ProtocolStores;
  if (
    typeof s !== 'object' ||
    s === null ||
    typeof s.identity?.isTrustedIdentity !== 'function' ||
    typeof s.session?.loadSession !== 'function' ||
    typeof s.preKey?.getPreKey !== 'function' ||
    typeof s.signedPreKey?.getSignedPreKey !== 'function' ||
    typeof s.kyberPreKey?.getKyberPreKey !== 'function'
  ) {
    throw new ProtocolError('InvalidArgument', 'stores must implement ProtocolStores');
  }
  return s;
}

/** Encrypts to and decrypts from remote devices, keeping sessions in `stores`. */
export class SessionCipher {
  readonly #stores: ProtocolStores;
  readonly #rng: RandomSource;
  readonly #clock: Clock;
  readonly #lock: KeyedLock;
  readonly #spqr: SpqrMode | undefined;
  readonly #allowPreKyber: boolean;

  constructor(stores: ProtocolStores, options: SessionCipherOptions = {}) {
    this.#stores = astores(stores);
    this.#rng = options.rng ?? systemRandom;
    this.#clock = options.clock ?? systemClock;
    this.#lock = options.lock ?? new InProcessKeyedLock();
    this.#spqr = options.spqr;
    this.#allowPreKyber = options.allowPreKyberSessions === true;
  }

  /**
   * Starts a session with `address` from its bundle (we are the initiator). Throws
   * `InvalidSignature` for a bad signed-prekey or Kyber signature, `UntrustedIdentity` for a
   * changed identity and `LegacyCiphertextVersion` for a bundle without a Kyber prekey (unless
   * `allowPreKyberSessions`), changing nothing. An existing session is archived, not lost.
   */
  async processPreKeyBundle(address: ProtocolAddress, bundle: PreKeyBundle): Promise<void> {
    aaddress(address);
    return this.#lock.run(address.toString(), async () => {
      const record =
        (await this.#stores.session.loadSession(address))?.clone() ?? new SessionRecord();
      await buildSessionFromBundle(
        this.#stores,
        address,
        record,
        bundle,
        this.#clock(),
        this.#rng,
        this.#spqr,
        this.#allowPreKyber,
      );
      await this.#stores.session.storeSession(address, record);
      await this.#stores.identity.saveIdentity(address, record.currentState!.remoteIdentity);
    });
  }

  /**
   * Encrypts `plaintext` for `address`: a `prekey` message until the peer has answered, then
   * `whisper` messages. `SessionNotFound` without a session; `InvalidState` for a session that
   * was never acknowledged within MAX_UNACKNOWLEDGED_SESSION_AGE_MS.
   */
  async encrypt(address: ProtocolAddress, plaintext: Uint8Array): Promise<CiphertextMessage> {
    aaddress(address);
    abytes(plaintext, 'plaintext');
    const data = plaintext.slice();
    return this.#lock.run(address.toString(), async () => {
      // Only the current state changes: it is copied, the archived ones are shared.
      const record = (await this.#stores.session.loadSession(address))?.shareStates();
      const current = record?.currentState;
      if (record && current) record.setCurrentState(current.clone());
      const remote = record?.currentState?.remoteIdentity;
      if (!record || !remote) {
        throw new ProtocolError('SessionNotFound', `no session with ${address.toString()}`);
      }
      if (!(await this.#stores.identity.isTrustedIdentity(address, remote, 'sending'))) {
        throw new ProtocolError(
          'UntrustedIdentity',
          `identity of ${address.toString()} has changed`,
        );
      }
      const message = encryptWithRecord(record, data, this.#clock(), this.#rng);
      await this.#stores.session.storeSession(address, record);
      await this.#stores.identity.saveIdentity(address, remote);
      return message;
    });
  }

  /** Decrypts a message from `address`, as produced by its `encrypt` (or libsignal's). */
  async decrypt(address: ProtocolAddress, message: CiphertextMessage): Promise<Uint8Array> {
    aaddress(address);
    if (typeof message !== 'object' || message === null) {
      throw new ProtocolError('InvalidArgument', 'message must be { type, body }');
    }
    const { type, body } = message;
    abytes(body, 'message body', undefined, 'InvalidMessage');
    if (type === 'prekey') return this.decryptPreKeyMessage(address, body);
    if (type === 'whisper') return this.decryptSignalMessage(address, body);
    throw new ProtocolError('InvalidArgument', "message type must be 'prekey' or 'whisper'");
  }

  /** Decrypts a serialised PreKeySignalMessage, setting up the session it starts. */
  async decryptPreKeyMessage(address: ProtocolAddress, body: Uint8Array): Promise<Uint8Array> {
    aaddress(address);
    abytes(body, 'message body', undefined, 'InvalidMessage');
    const bytes = body.slice();
    return this.#lock.run(address.toString(), async () => {
      const message = PreKeySignalMessage.deserialize(bytes);
      // Setting up or finding the session only adds, promotes and archives states, and the
      // decryption works on a copy of the state it tries: the loaded states can be shared.
      const record =
        (await this.#stores.session.loadSession(address))?.shareStates() ?? new SessionRecord();
      const used = await buildSessionFromPreKeyMessage(
        this.#stores,
        address,
        record,
        message,
        this.#spqr,
        this.#allowPreKyber,
      );
      const plaintext = await decryptWithRecord(record, message.message, 'prekey', this.#rng);
      // Before anything is stored: the store refuses a last-resort key's reused base key.
      if (used.kyberPreKeyId !== undefined) {
        await this.#stores.kyberPreKey.markKyberPreKeyUsed(
          used.kyberPreKeyId,
          message.signedPreKeyId,
          message.baseKey,
        );
      }
      await this.#stores.session.storeSession(address, record);
      await this.#stores.identity.saveIdentity(address, message.identityKey);
      if (used.preKeyId !== undefined) await this.#stores.preKey.removePreKey(used.preKeyId);
      if (used.preKeyPrivate) forgetPrivateKeys(used.preKeyPrivate);
      return plaintext;
    });
  }

  /** Decrypts a serialised SignalMessage on an existing session. */
  async decryptSignalMessage(address: ProtocolAddress, body: Uint8Array): Promise<Uint8Array> {
    aaddress(address);
    abytes(body, 'message body', undefined, 'InvalidMessage');
    const bytes = body.slice();
    return this.#lock.run(address.toString(), async () => {
      const message = SignalMessage.deserialize(bytes);
      // decryptWithRecord works on a copy of each state it tries and only replaces states in
      // the record: the loaded states can be shared, never changed.
      const record = (await this.#stores.session.loadSession(address))?.shareStates();
      if (!record) {
        throw new ProtocolError('SessionNotFound', `no session with ${address.toString()}`);
      }
      const plaintext = await decryptWithRecord(record, message, 'whisper', this.#rng);
      const remote = record.currentState!.remoteIdentity;
      if (!(await this.#stores.identity.isTrustedIdentity(address, remote, 'receiving'))) {
        throw new ProtocolError(
          'UntrustedIdentity',
          `identity of ${address.toString()} has changed`,
        );
      }
      await this.#stores.session.storeSession(address, record);
      await this.#stores.identity.saveIdentity(address, remote);
      return plaintext;
    });
  }

  /** True if a current session exists that can send (not stale and unacknowledged). */
  async hasSession(address: ProtocolAddress): Promise<boolean> {
    aaddress(address);
    return this.#lock.run(address.toString(), async () => {
      const record = await this.#stores.session.loadSession(address);
      return record?.hasUsableSenderChain(this.#clock()) ?? false;
    });
  }

  toString(): string {
    return 'SessionCipher';
  }

  toJSON(): string {
    return this.toString();
  }

  [inspect](): string {
    return this.toString();
  }
}
