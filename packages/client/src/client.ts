/**
 * `ParleyClient`: everything a Parley client does that is not pixels.
 *
 * - Account lifecycle: register, link as an additional device, prekey top-up and signed
 *   prekey rotation (`maintainKeys`), delete, export.
 * - Sending: a message is encrypted once per device of the recipient and once per other
 *   device of ours (a sent transcript). 409/410 from the relay update the device list, fetch
 *   the missing bundles, drop stale sessions and retry — invisibly.
 * - Receiving: one WebSocket per device; each envelope is decrypted and its effects stored in
 *   one storage transaction, *then* acked. Dedupe by envelope id and by (sender, message id).
 *   A message that cannot be decrypted becomes a conversation event and the session is
 *   repaired (fresh session + a retry request the sender answers by resending).
 * - Groups with sender keys, distributed over 1:1 sessions; one ciphertext fanned out by the
 *   relay's multi-recipient send; member or device removal rotates our sender key.
 * - Identity: TOFU, safety numbers, identity changes block sending until acknowledged.
 * - Linking new devices (provisioning.ts).
 *
 * Time and randomness are injectable (`clock`, `rng`) for deterministic tests.
 * @module
 */
import { ProtocolAddress } from '@parley/crypto/address.js';
import { IdentityKeyPair, PublicKey } from '@parley/crypto/curve.js';
import { isProtocolError } from '@parley/crypto/errors.js';
import { Fingerprint, FINGERPRINT_ITERATIONS } from '@parley/crypto/fingerprint.js';
import { GroupCipher, SenderKeyDistributionMessage } from '@parley/crypto/group.js';
import { InProcessKeyedLock, type KeyedLock } from '@parley/crypto/lock.js';
import { KeyPair } from '@parley/crypto/curve.js';
import {
  randomUint,
  systemClock,
  systemRandom,
  type Clock,
  type RandomSource,
} from '@parley/crypto/random.js';
import {
  PRIMARY_DEVICE_ID,
  type DeviceBundle,
  type DeviceInfo,
  type Envelope,
  type EnvelopeType,
  type MultiRecipient,
  type OutgoingMessage,
} from '@parley/protocol';
import {
  ContentError,
  ReceiptMessage_Type,
  TypingMessage_Action,
  create,
  ContactListSchema,
  GroupListSchema,
  GroupStateSchema,
  ProvisionMessageSchema,
  decodeContent,
  encodeContent,
  makeContent,
  newMessageId,
  timestampOf,
  type Content,
  type ContentInit,
  type GroupState,
} from './content/index.ts';
import {
  TxSenderKeyStore,
  senderKeyKey,
  sessionKey,
  storesFor,
  type TxStores,
} from './crypto-stores.ts';
import { Emitter } from './events.ts';
import {
  directConversationId,
  groupConversationId,
  messageKey,
  type AccountRecord,
  type ContactRecord,
  type ConversationEventKind,
  type ConversationRecord,
  type GroupMemberRecord,
  type GroupRecord,
  type IdentityRecord,
  type KeyStateRecord,
  type MessageRecord,
  type MessageStatus,
} from './model.ts';
import {
  encodeLinkUri,
  openDeviceName,
  sealDeviceName,
  openProvisionMessage,
  parseLinkUri,
  sealProvisionMessage,
  LinkError,
} from './provisioning.ts';
import {
  DeliverySocket,
  RelayHttp,
  RelayHttpError,
  openProvisioningChannel,
  type FetchLike,
  type SocketState,
  type WebSocketConstructor,
} from './relay/index.ts';
import * as signal from './signal.ts';
import type { Storage, StorageTx } from './storage/index.ts';
import { bytesEqual, fromBase64, toBase64, toHex } from './util/bytes.ts';

export interface ParleyClientOptions {
  storage: Storage;
  /** Relay base URL (`http://host:port`). Needed to register or link; stored afterwards. */
  relayUrl?: string;
  /** WebSocket implementation (browsers: the global one; Node 20: the `ws` package). */
  WebSocket?: WebSocketConstructor;
  fetch?: FetchLike;
  rng?: RandomSource;
  clock?: Clock;
  /** Serialises protocol work; browser apps with several tabs pass a Web Locks lock. */
  lock?: KeyedLock;
  /** One-time EC prekeys per upload (default 100) and Kyber ones (default 10). */
  preKeyBatch?: number;
  kyberPreKeyBatch?: number;
  /** Upload a new batch when the relay holds fewer than this many (default 20). */
  preKeyLowWater?: number;
  /** Rotate the signed prekeys after this long (default 7 days). */
  signedPreKeyRotationMs?: number;
  backoff?: { initialMs?: number; maxMs?: number };
  /** How often a connected client checks prekeys and rotation (default 6 hours). */
  maintenanceIntervalMs?: number;
  /** Send delivery receipts for 1:1 messages (default true). */
  deliveryReceipts?: boolean;
}

export interface ClientEvents {
  /** A message was stored: received, or sent by one of our other devices. */
  message: MessageRecord;
  /** One of our own messages changed status (sent, delivered, read, failed). */
  status: { conversationId: string; id: string; status: MessageStatus; by?: string };
  typing: { accountId: string; groupId?: string; started: boolean };
  /** A conversation event (identity change, decryption failure, group change) was stored. */
  event: MessageRecord;
  identityChanged: { accountId: string };
  decryptionFailed: { accountId: string; deviceId: number; envelopeId: string; reason: string };
  group: GroupRecord;
  contacts: ContactRecord[];
  /** The relay's stored backlog has been handled. */
  queueEmpty: void;
  connection: SocketState;
  /** This device was unlinked or the account deleted elsewhere. */
  terminated: { code: number; reason: string };
  /** Every envelope, as received (before processing). For diagnostics and tests. */
  envelope: Envelope;
  /** An envelope's effects are stored (emitted after the commit, before the ack). */
  processed: Envelope;
}

export class IdentityChangedError extends Error {
  override readonly name = 'IdentityChangedError';
  /** Every account whose safety number changed (a group send names all of them). */
  readonly accountIds: string[];
  constructor(
    /** The (first) account whose safety number changed. */
    readonly accountId: string,
    accountIds: string[] = [accountId],
  ) {
    super(`the safety number with ${accountIds.join(', ')} changed; acknowledge it before sending`);
    this.accountIds = accountIds;
  }
}

export class NotRegisteredError extends Error {
  override readonly name = 'NotRegisteredError';
  constructor() {
    super('this device has no account: register or link first');
  }
}

const MAX_SEND_ATTEMPTS = 5;
const OWN_DEVICES_REFRESH_MS = 60_000;
/** A claimed username the relay did not confirm is not looked up again for this long. */
const USERNAME_RECHECK_MS = 3600_000;
/**
 * At most this many claim lookups an hour, so they leave most of the relay's per-account
 * lookup limit (100/h by default) to the user's own searches; over it, a claim waits for a
 * later message.
 */
const USERNAME_CHECKS_PER_HOUR = 40;
/** What the relay accepts as a username (`Username` in @parley/protocol). */
const USERNAME = /^[A-Za-z0-9_.]{3,32}$/;

/** `contact` without its verification (the identity key changed, or is about to). */
function unverified(contact: ContactRecord): ContactRecord {
  const { verifiedKey: _key, ...rest } = contact;
  return { ...rest, verified: false };
}

/** Whether `contact` is verified for the identity key trusted now (`identity`). */
function isVerified(contact: ContactRecord, identity: IdentityRecord | undefined): boolean {
  return (
    contact.verified === true &&
    !contact.identityChanged &&
    contact.verifiedKey !== undefined &&
    identity !== undefined &&
    identity.pendingKey === undefined &&
    bytesEqual(contact.verifiedKey, identity.publicKey)
  );
}

/** `contact` verified, as another of our devices says, if it is for the key we trust too. */
function adoptVerified(
  contact: ContactRecord,
  identity: IdentityRecord | undefined,
  key: Uint8Array,
): ContactRecord {
  if (!identity || identity.pendingKey || contact.identityChanged) return contact;
  if (!bytesEqual(identity.publicKey, key)) return contact;
  return { ...contact, verified: true, verifiedKey: identity.publicKey };
}

/** `contact` as handed out: `verified` only while the verified key is the trusted one. */
function withVerified(contact: ContactRecord, identity: IdentityRecord | undefined): ContactRecord {
  return isVerified(contact, identity) ? contact : unverified(contact);
}

/** A random v4 UUID from `rng`. */
function uuid(rng: RandomSource): string {
  const b = rng(16);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = toHex(b);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

type AfterCommit = Array<() => Promise<void>>;

/** A message not fully sent yet. `outbox/<message id>`. */
interface OutboxItem {
  /** The recipient account, or `group:<group id>`. */
  to: string;
  content: Uint8Array;
  /** The recipient has it; only the sent transcript to our other devices is left. */
  transcriptOnly?: boolean;
}

interface OwnDevicesRecord {
  devices: Record<string, number>;
  fetchedAt: number;
}

export class ParleyClient extends Emitter<ClientEvents> {
  readonly storage: Storage;
  readonly #rng: RandomSource;
  readonly #clock: Clock;
  readonly #lock: KeyedLock;
  readonly #options: ParleyClientOptions;
  #account: AccountRecord | undefined;
  #http: RelayHttp | undefined;
  #socket: DeliverySocket | undefined;
  #queueEmptyOnce = false;
  #maintaining = false;
  /** Ids of outgoing messages being sent right now. */
  readonly #inFlight = new Set<string>();
  #maintenanceTimer: ReturnType<typeof setInterval> | undefined;
  readonly #tasks = new Set<Promise<unknown>>();
  /** Username claims (`accountId` + lowercased name) being checked or refuted, and when. */
  readonly #usernameChecks = new Map<string, number>();
  /** When the claim lookups of the last hour ran. */
  #usernameLookups: number[] = [];

  private constructor(options: ParleyClientOptions, account: AccountRecord | undefined) {
    super();
    this.storage = options.storage;
    this.#options = options;
    this.#rng = options.rng ?? systemRandom;
    this.#clock = options.clock ?? systemClock;
    this.#lock = options.lock ?? new InProcessKeyedLock();
    this.#setAccount(account);
  }

  /** Opens a client on `storage`, with the account stored there if any. */
  static async open(options: ParleyClientOptions): Promise<ParleyClient> {
    const account = await options.storage.get<AccountRecord>('meta', 'account');
    return new ParleyClient(options, account);
  }

  #setAccount(account: AccountRecord | undefined): void {
    this.#account = account;
    if (account) {
      this.#http = new RelayHttp(
        account.relayUrl,
        {
          accountId: account.accountId,
          deviceId: account.deviceId,
          credential: account.credential,
        },
        this.#options.fetch ? { fetch: this.#options.fetch } : {},
      );
    } else if (this.#options.relayUrl) {
      this.#http = new RelayHttp(
        this.#options.relayUrl,
        undefined,
        this.#options.fetch ? { fetch: this.#options.fetch } : {},
      );
    }
  }

  get account(): AccountRecord | undefined {
    return this.#account;
  }

  get accountId(): string {
    return this.#requireAccount().accountId;
  }

  get deviceId(): number {
    return this.#requireAccount().deviceId;
  }

  get http(): RelayHttp {
    if (!this.#http) throw new Error('no relay URL configured');
    return this.#http;
  }

  #requireAccount(): AccountRecord {
    if (!this.#account) throw new NotRegisteredError();
    return this.#account;
  }

  #now(): number {
    return this.#clock();
  }

  #ourAddress(): ProtocolAddress {
    const a = this.#requireAccount();
    return new ProtocolAddress(a.accountId, a.deviceId);
  }

  #stores(tx: StorageTx, after?: AfterCommit): TxStores {
    return storesFor(
      tx,
      () => this.#now(),
      (accountId) => {
        after?.push(async () => this.#onIdentityReplaced(accountId));
      },
    );
  }

  // ---------------------------------------------------------------------------------------
  // Account lifecycle
  // ---------------------------------------------------------------------------------------

  /** Generates the device's keys: registration id, signed prekey, Kyber last resort, batches. */
  async #generateDeviceKeys(tx: StorageTx, identity: IdentityKeyPair) {
    const now = this.#now();
    const stores = this.#stores(tx);
    const registrationId = signal.generateRegistrationId(this.#rng);
    const signedId = 1 + randomUint(this.#rng, 20);
    const kyberId = 1 + randomUint(this.#rng, 20);
    const signed = signal.newSignedPreKey(identity, signedId, now, this.#rng);
    await stores.signedPreKey.saveSignedPreKey(signedId, signed.record);
    const lastResort = signal.newKyberPreKey(identity, kyberId, now, this.#rng);
    await stores.kyberPreKey.saveKyber(kyberId, lastResort.record, true);
    const keyState: KeyStateRecord = {
      nextPreKeyId: 1 + randomUint(this.#rng, 20),
      nextKyberPreKeyId: kyberId + 1,
      nextSignedPreKeyId: signedId + 1,
      signedPreKeyId: signedId,
      signedPreKeyCreatedAt: now,
      lastResortKyberPreKeyId: kyberId,
    };
    const batches = await this.#generateBatches(tx, identity, keyState);
    await tx.put('meta', 'keys', keyState);
    return {
      registrationId,
      signedPreKey: signed.upload,
      pqLastResortPreKey: lastResort.upload,
      preKeys: batches.preKeys,
      pqPreKeys: batches.pqPreKeys,
    };
  }

  async #generateBatches(tx: StorageTx, identity: IdentityKeyPair, keyState: KeyStateRecord) {
    const stores = this.#stores(tx);
    const now = this.#now();
    const preKeys = [];
    for (let i = 0; i < (this.#options.preKeyBatch ?? 100); i++) {
      const id = (keyState.nextPreKeyId++ % 0xfffffe) + 1;
      const k = signal.newPreKey(id, this.#rng);
      await stores.preKey.savePreKey(id, k.record);
      preKeys.push(k.upload);
    }
    const pqPreKeys = [];
    for (let i = 0; i < (this.#options.kyberPreKeyBatch ?? 10); i++) {
      const id = (keyState.nextKyberPreKeyId++ % 0xfffffe) + 1;
      const k = signal.newKyberPreKey(identity, id, now, this.#rng);
      await stores.kyberPreKey.saveKyber(id, k.record, false);
      pqPreKeys.push(k.upload);
    }
    return { preKeys, pqPreKeys };
  }

  /** Creates a new account with this device as its primary device. */
  async register(username: string, relayUrl = this.#options.relayUrl): Promise<AccountRecord> {
    if (this.#account) throw new Error('this device already has an account');
    if (!relayUrl) throw new Error('relayUrl is required to register');
    const http = new RelayHttp(
      relayUrl,
      undefined,
      this.#options.fetch ? { fetch: this.#options.fetch } : {},
    );
    const identity = IdentityKeyPair.generate(this.#rng);
    // Keys are generated and kept in one transaction only once the relay accepted them.
    let account: AccountRecord | undefined;
    await this.storage.transaction(async (tx) => {
      const keys = await this.#generateDeviceKeys(tx, identity);
      // The identity store reads the account, so put a provisional one first.
      const res = await http.register({
        username,
        identityKey: toBase64(identity.publicKey.serialize()),
        ...keys,
      });
      account = {
        accountId: res.accountId,
        deviceId: res.deviceId,
        username: res.username,
        credential: res.credential,
        registrationId: keys.registrationId,
        identityKeyPair: identity.serialize(),
        relayUrl: http.baseUrl,
        createdAt: this.#now(),
      };
      await tx.put('meta', 'account', account);
      await tx.put('meta', 'ownDevices', {
        devices: {},
        fetchedAt: this.#now(),
      } satisfies OwnDevicesRecord);
    });
    this.#setAccount(account);
    return account!;
  }

  /** `GET /v1/accounts/me` plus what we know locally. */
  async whoami() {
    const account = this.#requireAccount();
    const me = await this.http.whoami();
    return {
      accountId: me.accountId,
      deviceId: me.deviceId,
      username: me.username,
      identityKey: toBase64(
        IdentityKeyPair.deserialize(account.identityKeyPair).publicKey.serialize(),
      ),
    };
  }

  /**
   * Changes our username on the relay. Messages we send from now on carry the new name, and
   * the people we write to pick it up once the relay confirms it.
   */
  async setUsername(username: string): Promise<AccountRecord> {
    this.#requireAccount();
    const res = await this.http.setUsername(username);
    const account = await this.storage.transaction(async (tx) => {
      const current = (await tx.get<AccountRecord>('meta', 'account'))!;
      const next: AccountRecord = { ...current, username: res.username };
      await tx.put('meta', 'account', next);
      return next;
    });
    this.#account = account;
    return account;
  }

  /** Uploads a fresh batch when the relay runs low; rotates signed prekeys when due. */
  async maintainKeys(): Promise<{ uploadedPreKeys: boolean; rotatedSignedPreKey: boolean }> {
    const account = this.#requireAccount();
    const identity = IdentityKeyPair.deserialize(account.identityKeyPair);
    const status = await this.http.keyStatus();
    const low = this.#options.preKeyLowWater ?? 20;
    const result = { uploadedPreKeys: false, rotatedSignedPreKey: false };
    const keyState = (await this.storage.get<KeyStateRecord>('meta', 'keys'))!;
    const rotateDue =
      this.#now() - keyState.signedPreKeyCreatedAt >=
      (this.#options.signedPreKeyRotationMs ?? 7 * 86_400_000);
    const needBatch =
      status.preKeyCount < low ||
      status.pqPreKeyCount < Math.min(low, this.#options.kyberPreKeyBatch ?? 10);
    if (!rotateDue && !needBatch) return result;
    let upload: Parameters<RelayHttp['uploadKeys']>[0] = {};
    await this.storage.transaction(async (tx) => {
      const ks = (await tx.get<KeyStateRecord>('meta', 'keys'))!;
      const stores = this.#stores(tx);
      if (needBatch) {
        const b = await this.#generateBatches(tx, identity, ks);
        upload = { ...upload, preKeys: b.preKeys, pqPreKeys: b.pqPreKeys };
        result.uploadedPreKeys = true;
      }
      if (rotateDue) {
        const now = this.#now();
        const sid = (ks.nextSignedPreKeyId++ % 0xfffffe) + 1;
        const signed = signal.newSignedPreKey(identity, sid, now, this.#rng);
        await stores.signedPreKey.saveSignedPreKey(sid, signed.record);
        const kid = (ks.nextKyberPreKeyId++ % 0xfffffe) + 1;
        const lr = signal.newKyberPreKey(identity, kid, now, this.#rng);
        await stores.kyberPreKey.saveKyber(kid, lr.record, true);
        ks.signedPreKeyId = sid;
        ks.signedPreKeyCreatedAt = now;
        ks.lastResortKyberPreKeyId = kid;
        upload = { ...upload, signedPreKey: signed.upload, pqLastResortPreKey: lr.upload };
        result.rotatedSignedPreKey = true;
      }
      await tx.put('meta', 'keys', ks);
      // Upload inside the transaction: if the relay refuses, the new keys are not kept.
      await this.http.uploadKeys(upload);
    });
    return result;
  }

  /**
   * Forgets envelope and message ids older than `maxAgeMs` (default 60 days, twice the relay's
   * default retention): the relay cannot redeliver anything that old, so dedupe no longer
   * needs them. Message-key indexes (for receipts) are kept.
   */
  async pruneProcessed(maxAgeMs = 60 * 86_400_000): Promise<number> {
    const cutoff = this.#now() - maxAgeMs;
    return this.storage.transaction(async (tx) => {
      let removed = 0;
      for (const prefix of ['env:', 'msg:']) {
        for (const [key, at] of await tx.list<number>('processed', prefix)) {
          if (typeof at === 'number' && at < cutoff) {
            await tx.delete('processed', key);
            removed++;
          }
        }
      }
      return removed;
    });
  }

  /** Deletes the account on the relay (every device) and wipes local data. */
  async deleteAccount(): Promise<void> {
    this.#requireAccount();
    await this.stop();
    await this.http.deleteAccount();
    await this.#wipe();
  }

  async #wipe(): Promise<void> {
    await this.storage.transaction(async (tx) => {
      for (const store of [
        'meta',
        'identities',
        'preKeys',
        'signedPreKeys',
        'kyberPreKeys',
        'sessions',
        'senderKeys',
        'contacts',
        'conversations',
        'messages',
        'groups',
        'outbox',
        'processed',
      ] as const) {
        for (const [k] of await tx.list(store)) await tx.delete(store, k);
      }
    });
    this.#account = undefined;
  }

  /** Everything this device stores about the user, secrets excluded, plus the relay's export. */
  async exportData() {
    const account = this.#requireAccount();
    const list = async (store: Parameters<Storage['list']>[0]) =>
      (await this.storage.list(store)).map(([, v]) => v);
    return {
      exportedAt: this.#now(),
      account: {
        accountId: account.accountId,
        deviceId: account.deviceId,
        username: account.username,
        relayUrl: account.relayUrl,
        createdAt: account.createdAt,
      },
      contacts: await list('contacts'),
      conversations: await list('conversations'),
      messages: await list('messages'),
      groups: await list('groups'),
      relay: await this.http.exportAccount(),
    };
  }

  // ---------------------------------------------------------------------------------------
  // Connection
  // ---------------------------------------------------------------------------------------

  /** Connects the delivery socket; resolves once the stored backlog has been handled. */
  async start(): Promise<void> {
    const account = this.#requireAccount();
    if (this.#socket) return;
    const drained = this.waitFor('queueEmpty');
    this.#socket = new DeliverySocket({
      baseUrl: account.relayUrl,
      login: {
        accountId: account.accountId,
        deviceId: account.deviceId,
        credential: account.credential,
      },
      ...(this.#options.WebSocket ? { WebSocket: this.#options.WebSocket } : {}),
      ...(this.#options.backoff ? { backoff: this.#options.backoff } : {}),
      onEnvelope: (env) => this.handleEnvelope(env),
      onQueueEmpty: () => {
        this.#queueEmptyOnce = true;
        this.emit('queueEmpty', undefined);
        this.#background(this.#flushOutbox(), 'outbox');
        // Each (re)connection is a good moment to top up prekeys and rotate if due.
        this.#maintain();
      },
      onStateChange: (state) => this.emit('connection', state),
      onTerminated: (code, reason) => this.emit('terminated', { code, reason }),
    });
    this.#socket.start();
    // Long-lived connections also check on a schedule (rotation is due by the injected clock).
    this.#maintenanceTimer = setInterval(
      () => this.#maintain(),
      this.#options.maintenanceIntervalMs ?? 6 * 3600_000,
    );
    this.#maintenanceTimer.unref?.();
    await drained;
  }

  #maintain(): void {
    if (this.#maintaining || !this.#account) return;
    this.#maintaining = true;
    this.#background(
      Promise.all([this.maintainKeys(), this.pruneProcessed(), this.#refreshOwnUsername()]).finally(
        () => (this.#maintaining = false),
      ),
      'maintenance',
    );
  }

  /** Takes our username as the relay has it (another of our devices may have changed it). */
  async #refreshOwnUsername(): Promise<void> {
    const me = await this.http.whoami();
    if (!this.#account || me.username === this.#account.username) return;
    this.#account = await this.storage.transaction(async (tx) => {
      const current = (await tx.get<AccountRecord>('meta', 'account'))!;
      const next: AccountRecord = { ...current, username: me.username };
      await tx.put('meta', 'account', next);
      return next;
    });
  }

  async stop(): Promise<void> {
    clearInterval(this.#maintenanceTimer);
    const socket = this.#socket;
    this.#socket = undefined;
    await socket?.stop();
    await Promise.all([...this.#tasks]);
  }

  /** Runs `task` in the background; `stop()` waits for it. Failures are logged. */
  #background(task: Promise<unknown>, what: string): void {
    const p = task.catch((err: unknown) => console.warn(`parley: ${what} failed`, err));
    this.#tasks.add(p);
    void p.finally(() => this.#tasks.delete(p));
  }

  get connected(): boolean {
    return this.#socket?.state === 'open';
  }

  get drained(): boolean {
    return this.#queueEmptyOnce;
  }

  // ---------------------------------------------------------------------------------------
  // Contacts, identities, safety numbers
  // ---------------------------------------------------------------------------------------

  /** Finds an account by username and records it as a contact. */
  async addContact(username: string): Promise<ContactRecord> {
    const found = await this.http.lookupUsername(username);
    return this.storage
      .transaction(async (tx) => {
        const groups = await this.#storeUsername(tx, found.accountId, found.username);
        return { contact: (await tx.get<ContactRecord>('contacts', found.accountId))!, groups };
      })
      .then(({ contact, groups }) => {
        for (const g of groups) this.emit('group', g);
        // Our other devices learn the new contact too.
        this.#background(
          (async () =>
            this.#sendToSelf(
              this.#content({
                case: 'sync',
                value: { body: { case: 'contacts', value: await this.#contactList() } },
              }),
            ))(),
          'contact sync',
        );
        return contact;
      });
  }

  async contacts(): Promise<ContactRecord[]> {
    const identities = new Map(await this.storage.list<IdentityRecord>('identities'));
    return (await this.storage.list<ContactRecord>('contacts')).map(([id, c]) =>
      withVerified(c, identities.get(id)),
    );
  }

  async contact(accountId: string): Promise<ContactRecord | undefined> {
    const contact = await this.storage.get<ContactRecord>('contacts', accountId);
    if (!contact) return undefined;
    return withVerified(contact, await this.storage.get<IdentityRecord>('identities', accountId));
  }

  /**
   * Marks a contact verified (the user compared safety numbers) or not verified. Verifying is
   * bound to the identity key trusted right now: it is refused with `IdentityChangedError`
   * while a changed key awaits `acknowledgeIdentity`, and, when `safetyNumber` (the 60 digits
   * the user compared) is given, unless it is still the current safety number. Any later
   * identity change clears it. Our other devices learn the decision (a `verified` sync they
   * apply only while they trust the same key).
   */
  async setVerified(
    accountId: string,
    verified: boolean,
    options: { safetyNumber?: string } = {},
  ): Promise<ContactRecord> {
    if (verified) {
      // The safety number fetches their identity key if we have none yet.
      const { digits } = await this.safetyNumber(accountId);
      if (
        options.safetyNumber !== undefined &&
        digits !== options.safetyNumber.replace(/\s+/g, '')
      ) {
        throw new Error(`the safety number with ${accountId} is not the one compared`);
      }
    }
    let key: Uint8Array | undefined;
    // When we decided: a sync of an older decision from another device does not undo it.
    const decidedAt = this.#now();
    const contact = await this.storage.transaction(async (tx) => {
      const identity = await tx.get<IdentityRecord>('identities', accountId);
      key = identity?.publicKey;
      const existing = (await tx.get<ContactRecord>('contacts', accountId)) ?? {
        accountId,
        devices: {},
      };
      if (verified) {
        if (existing.identityChanged || identity?.pendingKey) {
          throw new IdentityChangedError(accountId);
        }
        if (!identity) throw new Error(`no identity key known for ${accountId}`);
      }
      const { verifiedKey: _old, ...rest } = existing;
      // An "unverified" decision is bound to the key too, so a stale contact list from another
      // device does not verify it again.
      const next: ContactRecord = {
        ...rest,
        verified,
        verifiedAt: decidedAt,
        ...(identity ? { verifiedKey: identity.publicKey } : {}),
      };
      await tx.put('contacts', accountId, next);
      // "You marked X verified / not verified", when the decision changes anything.
      if (isVerified(existing, identity) !== verified) {
        await this.#storeEvent(
          tx,
          directConversationId(accountId),
          verified ? 'marked_verified' : 'marked_unverified',
          [accountId],
        );
      }
      return withVerified(next, identity);
    });
    this.emit('contacts', await this.contacts());
    if (key) {
      const identityKey = key;
      this.#background(
        this.#sendToSelf(
          this.#content(
            {
              case: 'sync',
              value: { body: { case: 'verified', value: { accountId, identityKey, verified } } },
            },
            decidedAt,
          ),
        ),
        'verification sync',
      );
    }
    return contact;
  }

  /** The safety number with `accountId` (60 digits) and its scannable form. */
  async safetyNumber(accountId: string): Promise<{ digits: string; scannable: Uint8Array }> {
    const account = this.#requireAccount();
    let identity = await this.storage.get<IdentityRecord>('identities', accountId);
    if (!identity) {
      await this.#ensureDevices(accountId);
      identity = await this.storage.get<IdentityRecord>('identities', accountId);
    }
    if (!identity) throw new Error(`no identity key known for ${accountId}`);
    const ours = IdentityKeyPair.deserialize(account.identityKeyPair).publicKey;
    const fp = Fingerprint.create({
      version: 2,
      iterations: FINGERPRINT_ITERATIONS,
      localId: new TextEncoder().encode(account.accountId),
      localKey: ours,
      remoteId: new TextEncoder().encode(accountId),
      remoteKey: PublicKey.deserialize(identity.pendingKey ?? identity.publicKey),
    });
    return { digits: fp.displayable, scannable: fp.scannable };
  }

  /** Accepts a changed identity key: sending resumes, old sessions are dropped. */
  async acknowledgeIdentity(accountId: string): Promise<void> {
    const shared: GroupRecord[] = [];
    await this.storage.transaction(async (tx) => {
      const identity = await tx.get<IdentityRecord>('identities', accountId);
      if (identity?.pendingKey) {
        await tx.put('identities', accountId, {
          publicKey: identity.pendingKey,
          firstSeenAt: this.#now(),
        } satisfies IdentityRecord);
      }
      const contact = await tx.get<ContactRecord>('contacts', accountId);
      if (contact) {
        for (const [k] of await tx.list('sessions', `${accountId}.`))
          await tx.delete('sessions', k);
        await tx.put('contacts', accountId, {
          ...unverified(contact),
          identityChanged: false,
          devices: {},
        } satisfies ContactRecord);
        // The new installation has none of our sender keys: send them again.
        for (const [groupId, g] of await tx.list<GroupRecord>('groups')) {
          const kept = g.senderKeySentTo.filter((d) => !d.startsWith(`${accountId}.`));
          if (kept.length !== g.senderKeySentTo.length) {
            await tx.put('groups', groupId, { ...g, senderKeySentTo: kept });
          }
          if (
            (contact.identityChanged || identity?.pendingKey) &&
            !g.left &&
            g.members.some((m) => m.accountId === accountId)
          ) {
            shared.push(g);
          }
        }
      }
    });
    // Nothing went to them while the change was pending (and an update that found the change
    // on the way did not reach them): tell them the current state of the groups we share, as
    // a state with no action (merged, no conversation event).
    if (shared.length === 0) return;
    this.#background(
      (async () => {
        for (const g of shared) {
          await this.#sendToAccount(
            accountId,
            this.#content({ case: 'groupControl', value: { state: this.#groupState(g) } }),
          );
        }
      })(),
      'group state after an identity change',
    );
  }

  async #onIdentityReplaced(accountId: string): Promise<void> {
    await this.storage.transaction(async (tx) => {
      const contact = (await tx.get<ContactRecord>('contacts', accountId)) ?? {
        accountId,
        devices: {},
      };
      await tx.put('contacts', accountId, { ...unverified(contact), identityChanged: true });
      await this.#storeIdentityChanged(tx, accountId);
    });
    this.emit('identityChanged', { accountId });
  }

  /** "Your safety number with X changed": in our conversation, and in every group we share. */
  async #storeIdentityChanged(tx: StorageTx, accountId: string): Promise<void> {
    await this.#storeEvent(tx, directConversationId(accountId), 'identity_changed', [accountId]);
    for (const [groupId, g] of await tx.list<GroupRecord>('groups')) {
      if (!g.left && g.members.some((m) => m.accountId === accountId)) {
        await this.#storeEvent(tx, groupConversationId(groupId), 'identity_changed', [accountId]);
      }
    }
  }

  /** Sending found a new identity key in the relay's bundle: block and record it. */
  async #onUntrustedIdentity(accountId: string, key: Uint8Array): Promise<void> {
    await this.storage.transaction(async (tx) => {
      const identity = await tx.get<IdentityRecord>('identities', accountId);
      if (identity) await tx.put('identities', accountId, { ...identity, pendingKey: key });
      const contact = (await tx.get<ContactRecord>('contacts', accountId)) ?? {
        accountId,
        devices: {},
      };
      await tx.put('contacts', accountId, { ...unverified(contact), identityChanged: true });
      await this.#storeIdentityChanged(tx, accountId);
    });
    this.emit('identityChanged', { accountId });
  }

  // ---------------------------------------------------------------------------------------
  // Devices and sessions
  // ---------------------------------------------------------------------------------------

  /** The devices we know for `accountId` (for our own account: our other devices). */
  async #knownDevices(accountId: string): Promise<Record<string, number>> {
    if (accountId === this.accountId) {
      return (await this.storage.get<OwnDevicesRecord>('meta', 'ownDevices'))?.devices ?? {};
    }
    return (await this.storage.get<ContactRecord>('contacts', accountId))?.devices ?? {};
  }

  async #setDevices(tx: StorageTx, accountId: string, update: (d: Record<string, number>) => void) {
    if (accountId === this.accountId) {
      const rec = (await tx.get<OwnDevicesRecord>('meta', 'ownDevices')) ?? {
        devices: {},
        fetchedAt: 0,
      };
      update(rec.devices);
      await tx.put('meta', 'ownDevices', rec);
    } else {
      const contact = (await tx.get<ContactRecord>('contacts', accountId)) ?? {
        accountId,
        devices: {},
      };
      update(contact.devices);
      await tx.put('contacts', accountId, contact);
    }
  }

  /** Fetches bundles (all devices, or some) and starts sessions with them. */
  async #fetchAndProcessBundles(accountId: string, deviceIds: number[] | '*'): Promise<void> {
    const bundles: DeviceBundle[] = [];
    let identityKey = '';
    if (deviceIds === '*') {
      const res = await this.http.getBundles(accountId, '*');
      identityKey = res.identityKey;
      bundles.push(...res.devices);
    } else {
      for (const id of deviceIds) {
        try {
          const res = await this.http.getBundles(accountId, id);
          identityKey = res.identityKey;
          bundles.push(...res.devices);
        } catch (err) {
          if (err instanceof RelayHttpError && err.status === 404) continue;
          throw err;
        }
      }
    }
    const self = this.#account!;
    const relevant = bundles.filter(
      (b) => !(accountId === self.accountId && b.deviceId === self.deviceId),
    );
    if (relevant.length === 0) return;
    try {
      await this.storage.transaction(async (tx) => {
        const cipher = signal.sessionCipher(this.#stores(tx), this.#rng, this.#clock);
        for (const b of relevant) {
          const address = new ProtocolAddress(accountId, b.deviceId);
          await cipher.processPreKeyBundle(address, signal.bundleFromRelay(identityKey, b));
        }
        await this.#setDevices(tx, accountId, (d) => {
          for (const b of relevant) d[String(b.deviceId)] = b.registrationId;
        });
      });
    } catch (err) {
      if (isProtocolError(err, 'UntrustedIdentity')) {
        await this.#onUntrustedIdentity(accountId, fromBase64(identityKey));
        throw new IdentityChangedError(accountId);
      }
      throw err;
    }
  }

  /** Makes sure we know (and have sessions with) the devices of `accountId`. */
  async #ensureDevices(accountId: string): Promise<Record<string, number>> {
    const self = this.#requireAccount();
    let devices = await this.#knownDevices(accountId);
    if (accountId === self.accountId) {
      const rec = await this.storage.get<OwnDevicesRecord>('meta', 'ownDevices');
      if (
        Object.keys(devices).length === 0 &&
        this.#now() - (rec?.fetchedAt ?? 0) > OWN_DEVICES_REFRESH_MS
      ) {
        await this.refreshOwnDevices();
        devices = await this.#knownDevices(accountId);
      }
      return devices;
    }
    if (Object.keys(devices).length === 0) {
      await this.#fetchAndProcessBundles(accountId, '*');
      devices = await this.#knownDevices(accountId);
    }
    return devices;
  }

  /** Asks the relay for our device list; starts sessions with devices we did not know. */
  async refreshOwnDevices(): Promise<DeviceInfo[]> {
    const self = this.#requireAccount();
    const { devices } = await this.http.listDevices();
    const known = await this.#knownDevices(self.accountId);
    const others = devices.map((d) => d.deviceId).filter((id) => id !== self.deviceId);
    const missing = others.filter((id) => !(String(id) in known));
    const gone = Object.keys(known).filter((id) => !others.includes(Number(id)));
    if (gone.length > 0) await this.#removeDevices(self.accountId, gone.map(Number));
    if (missing.length > 0) await this.#fetchAndProcessBundles(self.accountId, missing);
    await this.storage.transaction(async (tx) => {
      const rec = (await tx.get<OwnDevicesRecord>('meta', 'ownDevices')) ?? {
        devices: {},
        fetchedAt: 0,
      };
      await tx.put('meta', 'ownDevices', { ...rec, fetchedAt: this.#now() });
    });
    return devices;
  }

  /** Forgets devices (sessions and list entries) and rotates our sender keys in shared groups. */
  async #removeDevices(accountId: string, deviceIds: number[]): Promise<void> {
    if (deviceIds.length === 0) return;
    await this.storage.transaction(async (tx) => {
      for (const id of deviceIds) await tx.delete('sessions', `${accountId}.${id}`);
      await this.#setDevices(tx, accountId, (d) => {
        for (const id of deviceIds) delete d[String(id)];
      });
      for (const [, group] of await tx.list<GroupRecord>('groups')) {
        if (accountId === this.accountId || group.members.some((m) => m.accountId === accountId)) {
          await this.#rotateSenderKey(tx, group);
        }
      }
    });
  }

  /** Sessions to re-create: the device re-registered (410). */
  async #dropStaleSessions(accountId: string, deviceIds: number[]): Promise<void> {
    await this.storage.transaction(async (tx) => {
      for (const id of deviceIds) await tx.delete('sessions', `${accountId}.${id}`);
      await this.#setDevices(tx, accountId, (d) => {
        for (const id of deviceIds) delete d[String(id)];
      });
    });
    await this.#fetchAndProcessBundles(accountId, deviceIds);
  }

  async #rotateSenderKey(tx: StorageTx, group: GroupRecord): Promise<void> {
    const old = group.distributionId;
    group.distributionId = uuid(this.#rng);
    group.senderKeySentTo = [];
    await tx.put('groups', group.groupId, group);
    await tx.delete('senderKeys', senderKeyKey(this.#ourAddress(), old));
  }

  // ---------------------------------------------------------------------------------------
  // Sending
  // ---------------------------------------------------------------------------------------

  #content(body: ContentInit['body'], timestamp = this.#now()): Content {
    return this.#withSenderUsername(makeContent(newMessageId(this.#rng), timestamp, body));
  }

  /** Data messages and group control carry our username (a claim receivers confirm). */
  #withSenderUsername(content: Content): Content {
    const kind = content.body.case;
    if ((kind === 'data' || kind === 'groupControl') && this.#account) {
      content.senderUsername = this.#account.username;
    }
    return content;
  }

  /**
   * Encrypts `content` for every device of `accountId` (our other devices when it is us) and
   * sends it, handling 409/410 by fixing the device list and retrying.
   * Returns false when there was nobody to send to (our own account with one device).
   */
  async #sendToAccount(accountId: string, content: Content): Promise<boolean> {
    const self = this.#requireAccount();
    const toSelf = accountId === self.accountId;
    if (!toSelf) {
      const contact = await this.storage.get<ContactRecord>('contacts', accountId);
      if (contact?.identityChanged) throw new IdentityChangedError(accountId);
    }
    const plaintext = encodeContent(content);
    const timestamp = timestampOf(content);
    for (let attempt = 0; attempt < MAX_SEND_ATTEMPTS; attempt++) {
      const devices = await this.#ensureDevices(accountId);
      const ids = Object.keys(devices).map(Number);
      if (ids.length === 0) {
        if (toSelf) return false;
        throw new Error(`${accountId} has no devices`);
      }
      // Devices without a session (e.g. a session dropped by repair) need a bundle first.
      const withoutSession: number[] = [];
      for (const id of ids) {
        if (!(await this.storage.get('sessions', `${accountId}.${id}`))) withoutSession.push(id);
      }
      if (withoutSession.length > 0) await this.#fetchAndProcessBundles(accountId, withoutSession);
      const messages: OutgoingMessage[] = await this.storage.transaction(async (tx) => {
        const cipher = signal.sessionCipher(this.#stores(tx), this.#rng, this.#clock);
        const out: OutgoingMessage[] = [];
        const current = toSelf
          ? ((await tx.get<OwnDevicesRecord>('meta', 'ownDevices'))?.devices ?? {})
          : ((await tx.get<ContactRecord>('contacts', accountId))?.devices ?? {});
        for (const [id, registrationId] of Object.entries(current)) {
          const address = new ProtocolAddress(accountId, Number(id));
          const ct = await cipher.encrypt(address, plaintext);
          out.push({
            type: ct.type === 'prekey' ? 'prekey_message' : 'message',
            destinationDeviceId: Number(id),
            destinationRegistrationId: registrationId,
            content: toBase64(ct.body),
          });
        }
        return out;
      });
      if (messages.length === 0) {
        if (toSelf) return false;
        continue;
      }
      try {
        await this.http.sendMessages(accountId, { timestamp, messages });
        return true;
      } catch (err) {
        if (!(err instanceof RelayHttpError)) throw err;
        if (err.mismatched) {
          await this.#removeDevices(accountId, err.mismatched.extraDevices);
          if (err.mismatched.missingDevices.length > 0) {
            await this.#fetchAndProcessBundles(accountId, err.mismatched.missingDevices);
          }
          continue;
        }
        if (err.stale) {
          await this.#dropStaleSessions(accountId, err.stale.staleDevices);
          continue;
        }
        throw err;
      }
    }
    throw new Error(`could not send to ${accountId}: device list kept changing`);
  }

  /** Sends to the other devices of our own account, if there are any. */
  async #sendToSelf(content: Content): Promise<void> {
    await this.#sendToAccount(this.accountId, content);
  }

  async #storeMessage(tx: StorageTx, message: MessageRecord): Promise<void> {
    const key = messageKey(message.conversationId, message.timestamp, message.id);
    await tx.put('messages', key, message);
    await tx.put('processed', `msgkey:${message.senderAccountId}:${message.id}`, key);
    const conv = (await tx.get<ConversationRecord>('conversations', message.conversationId)) ?? {
      id: message.conversationId,
      kind: message.conversationId.startsWith('group:') ? 'group' : 'direct',
      peer: message.conversationId.slice(message.conversationId.indexOf(':') + 1),
      lastMessageAt: 0,
      unread: 0,
    };
    conv.lastMessageAt = Math.max(conv.lastMessageAt, message.timestamp);
    if (message.direction === 'in' && message.kind === 'text') conv.unread++;
    await tx.put('conversations', conv.id, conv);
  }

  async #storeEvent(
    tx: StorageTx,
    conversationId: string,
    event: ConversationEventKind,
    subjects: string[],
    sender: { accountId: string; deviceId: number } | undefined = this.#account,
    timestamp?: number,
  ): Promise<MessageRecord> {
    const now = this.#now();
    const record: MessageRecord = {
      id: newMessageId(this.#rng),
      conversationId,
      kind: 'event',
      direction: 'in',
      senderAccountId: sender?.accountId ?? '',
      senderDeviceId: sender?.deviceId ?? 0,
      timestamp: timestamp ?? now,
      storedAt: now,
      event,
      subjects,
    };
    await this.#storeMessage(tx, record);
    // Announced once it is committed (the next transaction runs after this one's commit), and
    // only if it was: a listener reading the conversation then finds it.
    const key = messageKey(record.conversationId, record.timestamp, record.id);
    queueMicrotask(() => {
      this.storage
        .transaction((t) => t.get('messages', key))
        .then((stored) => {
          if (stored) this.emit('event', record);
        })
        .catch(() => undefined); // storage closed meanwhile
    });
    return record;
  }

  async #updateStatus(
    senderAccountId: string,
    id: string,
    update: (m: MessageRecord) => void,
    tx?: StorageTx,
  ): Promise<MessageRecord | undefined> {
    const run = async (t: StorageTx) => {
      const key = await t.get<string>('processed', `msgkey:${senderAccountId}:${id}`);
      if (!key) return undefined;
      const m = await t.get<MessageRecord>('messages', key);
      if (!m) return undefined;
      update(m);
      await t.put('messages', key, m);
      return m;
    };
    return tx ? run(tx) : this.storage.transaction(run);
  }

  /** Sends a text message to a contact; resolves with the stored outgoing message. */
  async sendText(accountId: string, text: string): Promise<MessageRecord> {
    const self = this.#requireAccount();
    const content = this.#content({ case: 'data', value: { text } });
    const record: MessageRecord = {
      id: content.messageId,
      conversationId: directConversationId(accountId),
      kind: 'text',
      direction: 'out',
      senderAccountId: self.accountId,
      senderDeviceId: self.deviceId,
      timestamp: timestampOf(content),
      storedAt: this.#now(),
      text,
      status: 'sending',
    };
    this.#inFlight.add(record.id); // before it is in the outbox, so a flush leaves it alone
    try {
      await this.storage.transaction(async (tx) => {
        await this.#storeMessage(tx, record);
        await tx.put('outbox', record.id, {
          to: accountId,
          content: encodeContent(content),
        } satisfies OutboxItem);
        await tx.put('processed', `sent:${accountId}:${record.timestamp}`, record.id);
      });
      await this.#deliverOutgoing(accountId, content, record);
    } finally {
      this.#inFlight.delete(record.id);
    }
    return (await this.#updateStatus(self.accountId, record.id, () => undefined)) ?? record;
  }

  /** Runs `fn` unless a send of message `id` is already under way (sendText vs. outbox). */
  async #once(id: string, fn: () => Promise<void>): Promise<void> {
    if (this.#inFlight.has(id)) return;
    this.#inFlight.add(id);
    try {
      await fn();
    } finally {
      this.#inFlight.delete(id);
    }
  }

  /** Gives up on an outgoing message (identity change): out of the outbox, marked failed. */
  async #failOutgoing(record: MessageRecord): Promise<void> {
    await this.storage.transaction(async (tx) => {
      await tx.delete('outbox', record.id);
      await this.#updateStatus(this.accountId, record.id, (m) => (m.status = 'failed'), tx);
    });
    this.emit('status', { conversationId: record.conversationId, id: record.id, status: 'failed' });
  }

  /**
   * Sends a 1:1 message, then its sent transcript to our other devices. Once the recipient
   * has it, the message is `sent` and its outbox entry becomes a pending transcript in the
   * same transaction; a transcript that cannot go out now does not fail the send, it is
   * retried from the outbox on the next flush (reconnection).
   */
  async #deliverOutgoing(accountId: string, content: Content, record: MessageRecord) {
    try {
      await this.#sendToAccount(accountId, content);
    } catch (err) {
      if (err instanceof IdentityChangedError) await this.#failOutgoing(record);
      throw err;
    }
    await this.storage.transaction(async (tx) => {
      await tx.put('outbox', record.id, {
        to: accountId,
        content: encodeContent(content),
        transcriptOnly: true,
      } satisfies OutboxItem);
      await this.#updateStatus(this.accountId, record.id, (m) => (m.status = 'sent'), tx);
    });
    this.emit('status', { conversationId: record.conversationId, id: record.id, status: 'sent' });
    try {
      await this.#deliverTranscript(accountId, content, record);
    } catch (err) {
      console.warn(`parley: sent transcript of ${record.id} not delivered yet`, err);
    }
  }

  /** Sends the sent transcript of `content` to our other devices; then the outbox entry goes. */
  async #deliverTranscript(destination: string, content: Content, record: MessageRecord) {
    const destinationUsername =
      (await this.storage.get<ContactRecord>('contacts', destination))?.username ?? '';
    const sync = this.#content(
      {
        case: 'sync',
        value: {
          body: {
            case: 'sent',
            value: { destinationAccountId: destination, content, destinationUsername },
          },
        },
      },
      timestampOf(content),
    );
    await this.#sendToSelf(sync);
    await this.storage.delete('outbox', record.id);
  }

  /** Retries messages that did not reach the relay (e.g. it was down). */
  async #flushOutbox(): Promise<void> {
    for (const [id, item] of await this.storage.list<OutboxItem>('outbox')) {
      const content = decodeContent(item.content);
      const key = await this.storage.get<string>('processed', `msgkey:${this.accountId}:${id}`);
      const record = key ? await this.storage.get<MessageRecord>('messages', key) : undefined;
      if (!record) {
        await this.storage.delete('outbox', id);
        continue;
      }
      if (this.#inFlight.has(id) || record.status === 'failed') continue;
      try {
        await this.#once(id, async () => {
          // Re-check: the message may have been sent or given up on meanwhile.
          if (!(await this.storage.get('outbox', id))) return;
          if (item.transcriptOnly) {
            await this.#deliverTranscript(item.to, content, record);
          } else if (item.to.startsWith('group:')) {
            await this.#deliverGroup(item.to.slice(6), content, record);
          } else {
            await this.#deliverOutgoing(item.to, content, record);
          }
        });
      } catch (err) {
        console.warn(`parley: outbox message ${id} not sent yet`, err);
      }
    }
  }

  /** Sends a delivery or read receipt for messages from `accountId`. */
  async sendReceipt(accountId: string, ids: string[], type: 'delivery' | 'read'): Promise<void> {
    const content = this.#content({
      case: 'receipt',
      value: {
        type: type === 'read' ? ReceiptMessage_Type.READ : ReceiptMessage_Type.DELIVERY,
        messageIds: ids,
      },
    });
    await this.#sendToAccount(accountId, content);
  }

  /** Marks a conversation read and tells the senders (and our other devices). */
  async markRead(conversationId: string): Promise<void> {
    const unreadBySender = new Map<string, string[]>();
    await this.storage.transaction(async (tx) => {
      for (const [key, m] of await tx.list<MessageRecord>('messages', `${conversationId}/`)) {
        if (m.direction === 'in' && m.kind === 'text' && m.status !== 'read') {
          m.status = 'read';
          await tx.put('messages', key, m);
          const list = unreadBySender.get(m.senderAccountId) ?? [];
          list.push(m.id);
          unreadBySender.set(m.senderAccountId, list);
        }
      }
      const conv = await tx.get<ConversationRecord>('conversations', conversationId);
      if (conv) await tx.put('conversations', conversationId, { ...conv, unread: 0 });
    });
    for (const [sender, ids] of unreadBySender) {
      await this.sendReceipt(sender, ids, 'read').catch((err: unknown) =>
        console.warn('parley: read receipt not sent', err),
      );
    }
    // Our other devices mark the same messages read.
    const all = [...unreadBySender.values()].flat();
    if (all.length > 0) {
      await this.#sendToSelf(
        this.#content({
          case: 'sync',
          value: {
            body: {
              case: 'read',
              value: { conversationId, messageIds: all },
            },
          },
        }),
      );
    }
  }

  async sendTyping(accountId: string, started: boolean): Promise<void> {
    const content = this.#content({
      case: 'typing',
      value: { action: started ? TypingMessage_Action.STARTED : TypingMessage_Action.STOPPED },
    });
    await this.#sendToAccount(accountId, content);
  }

  // ---------------------------------------------------------------------------------------
  // Reading local state
  // ---------------------------------------------------------------------------------------

  async messages(conversationId: string): Promise<MessageRecord[]> {
    return (await this.storage.list<MessageRecord>('messages', `${conversationId}/`)).map(
      ([, v]) => v,
    );
  }

  async conversations(): Promise<ConversationRecord[]> {
    return (await this.storage.list<ConversationRecord>('conversations')).map(([, v]) => v);
  }

  async groups(): Promise<GroupRecord[]> {
    return (await this.storage.list<GroupRecord>('groups')).map(([, v]) => v);
  }

  async group(groupId: string): Promise<GroupRecord | undefined> {
    return this.storage.get<GroupRecord>('groups', groupId);
  }

  // ---------------------------------------------------------------------------------------
  // Receiving
  // ---------------------------------------------------------------------------------------

  /**
   * Processes one envelope: decrypt, store its effects, all in one transaction. Resolves when
   * it is durable (the caller acks then). Never throws for bad ciphertext (that becomes a
   * conversation event); throws only when storage fails, so the envelope is redelivered.
   */
  async handleEnvelope(envelope: Envelope): Promise<void> {
    this.#requireAccount();
    this.emit('envelope', envelope);
    const after: AfterCommit = [];
    const emits: Array<() => void> = [];
    await this.storage.transaction(async (tx) => {
      if (await tx.get('processed', `env:${envelope.id}`)) return;
      await tx.put('processed', `env:${envelope.id}`, this.#now());
      const sender = new ProtocolAddress(envelope.sourceAccountId, envelope.sourceDeviceId);
      const stores = this.#stores(tx, after);
      let plaintext: Uint8Array;
      try {
        const body = fromBase64(envelope.content);
        if (envelope.type === 'sender_key_message') {
          plaintext = await new GroupCipher(stores.senderKey, { rng: this.#rng }).decrypt(
            sender,
            body,
          );
        } else {
          const cipher = signal.sessionCipher(stores, this.#rng, this.#clock);
          plaintext = await cipher.decrypt(sender, {
            type: envelope.type === 'prekey_message' ? 'prekey' : 'whisper',
            body,
          });
          // A device we did not know about (e.g. a newly linked one) started a session.
          if (envelope.type === 'prekey_message') {
            const regId = await signal.remoteRegistrationId(stores, sender);
            if (regId !== undefined) {
              await this.#setDevices(tx, sender.name, (d) => {
                d[String(sender.deviceId)] = regId;
              });
            }
          }
        }
      } catch (err) {
        if (isProtocolError(err, 'DuplicatedMessage')) {
          // A new envelope id with an already-used message key: a replay, or a sender bug.
          console.warn(`parley: dropped a replayed message from ${sender.toString()}`);
          return;
        }
        await this.#onDecryptionFailure(tx, envelope, err, after, emits);
        return;
      }
      let content: Content;
      try {
        content = decodeContent(plaintext);
      } catch (err) {
        if (!(err instanceof ContentError)) throw err;
        await this.#onDecryptionFailure(tx, envelope, err, after, emits, false);
        return;
      }
      const dedupe = `msg:${envelope.sourceAccountId}:${content.messageId}`;
      if (await tx.get('processed', dedupe)) return;
      await tx.put('processed', dedupe, this.#now());
      await this.#applyContent(tx, envelope, content, after, emits);
    });
    for (const e of emits) e();
    this.emit('processed', envelope);
    // Follow-ups (receipts, repairs, answers) need the network: run them after the ack path,
    // in order for this envelope; stop() waits for them.
    if (after.length > 0) {
      this.#background(
        (async () => {
          for (const task of after) await task();
        })(),
        'follow-up after a received message',
      );
    }
  }

  async #onDecryptionFailure(
    tx: StorageTx,
    envelope: Envelope,
    err: unknown,
    after: AfterCommit,
    emits: Array<() => void>,
    repair = true,
  ): Promise<void> {
    const reason = err instanceof Error ? err.message : String(err);
    const accountId = envelope.sourceAccountId;
    const deviceId = envelope.sourceDeviceId;
    const self = accountId === this.accountId;
    const conversationId = self ? `direct:${accountId}` : directConversationId(accountId);
    await this.#storeEvent(tx, conversationId, 'decryption_failed', [accountId], {
      ...this.#account!,
      accountId,
      deviceId,
    });
    emits.push(() =>
      this.emit('decryptionFailed', { accountId, deviceId, envelopeId: envelope.id, reason }),
    );
    if (!repair) return;
    const isGroup = envelope.type === 'sender_key_message';
    if (!isGroup) await tx.delete('sessions', `${accountId}.${deviceId}`);
    after.push(async () => {
      // A fresh session (from their current bundle) plus a retry request over it.
      if (!isGroup) await this.#fetchAndProcessBundles(accountId, [deviceId]);
      const content = this.#content({
        case: 'retryRequest',
        value: { timestamp: BigInt(envelope.timestamp), deviceId, groupId: isGroup ? 'any' : '' },
      });
      await this.#sendToAccount(accountId, content);
    });
  }

  async #applyContent(
    tx: StorageTx,
    env: Envelope,
    content: Content,
    after: AfterCommit,
    emits: Array<() => void>,
  ): Promise<void> {
    const self = this.#account!;
    const fromSelf = env.sourceAccountId === self.accountId;
    const sender = new ProtocolAddress(env.sourceAccountId, env.sourceDeviceId);
    const body = content.body;
    if (!fromSelf && (body.case === 'data' || body.case === 'groupControl')) {
      await this.#claimUsername(tx, after, env.sourceAccountId, content.senderUsername);
    }
    switch (body.case) {
      case 'data': {
        const group = body.value.group;
        if (env.type === 'sender_key_message' && !group) return; // SKM must be a group message
        let conversationId = directConversationId(env.sourceAccountId);
        if (group) {
          const g = await tx.get<GroupRecord>('groups', group.groupId);
          if (!g || (!fromSelf && !g.members.some((m) => m.accountId === env.sourceAccountId))) {
            console.warn('parley: dropping a group message from a non-member or unknown group');
            return;
          }
          conversationId = groupConversationId(group.groupId);
        } else if (fromSelf) {
          return; // 1:1 messages from our own devices come as sent transcripts
        }
        const record: MessageRecord = {
          id: content.messageId,
          conversationId,
          kind: 'text',
          direction: fromSelf ? 'out' : 'in',
          senderAccountId: env.sourceAccountId,
          senderDeviceId: env.sourceDeviceId,
          timestamp: timestampOf(content),
          storedAt: this.#now(),
          text: body.value.text,
          ...(fromSelf ? { status: 'sent' as const } : {}),
        };
        await this.#storeMessage(tx, record);
        emits.push(() => this.emit('message', record));
        if (!fromSelf && !group && this.#options.deliveryReceipts !== false) {
          after.push(() => this.sendReceipt(env.sourceAccountId, [content.messageId], 'delivery'));
        }
        return;
      }
      case 'receipt': {
        const read = body.value.type === ReceiptMessage_Type.READ;
        for (const id of body.value.messageIds) {
          const m = await this.#updateStatus(
            self.accountId,
            id,
            (m) => {
              const list = read ? (m.readBy ??= []) : (m.deliveredTo ??= []);
              if (!list.includes(env.sourceAccountId)) list.push(env.sourceAccountId);
              if (m.status !== 'read') m.status = read ? 'read' : 'delivered';
            },
            tx,
          );
          if (m) {
            emits.push(() =>
              this.emit('status', {
                conversationId: m.conversationId,
                id,
                status: m.status!,
                by: env.sourceAccountId,
              }),
            );
          }
        }
        return;
      }
      case 'typing': {
        const v = body.value;
        emits.push(() =>
          this.emit('typing', {
            accountId: env.sourceAccountId,
            ...(v.groupId ? { groupId: v.groupId } : {}),
            started: v.action === TypingMessage_Action.STARTED,
          }),
        );
        return;
      }
      case 'senderKeyDistribution': {
        const skdm = SenderKeyDistributionMessage.deserialize(body.value.distributionMessage);
        await new GroupCipher(new TxSenderKeyStore(tx), {
          rng: this.#rng,
        }).processDistributionMessage(sender, skdm);
        return;
      }
      case 'groupControl':
        await this.#applyGroupControl(tx, env, content, after, emits);
        return;
      case 'sync':
        if (!fromSelf) return; // only our own devices may send sync messages
        await this.#applySync(tx, env, content, after, emits);
        return;
      case 'retryRequest': {
        const v = body.value;
        if (v.deviceId !== self.deviceId) return;
        after.push(() => this.#answerRetry(env.sourceAccountId, Number(v.timestamp), v.groupId));
        return;
      }
      case 'nullMessage':
      case undefined:
        return;
    }
  }

  async #answerRetry(accountId: string, timestamp: number, groupId: string): Promise<void> {
    if (groupId) {
      // Our sender key may be what they lack: resend it to all their devices.
      for (const g of await this.groups()) {
        if (g.members.some((m) => m.accountId === accountId)) {
          await this.storage.transaction(async (tx) => {
            const cur = (await tx.get<GroupRecord>('groups', g.groupId))!;
            cur.senderKeySentTo = cur.senderKeySentTo.filter((d) => !d.startsWith(`${accountId}.`));
            await tx.put('groups', g.groupId, cur);
          });
        }
      }
    }
    // The message itself, resent over the 1:1 session (group messages keep their group context,
    // and only go to members of that group).
    const direct = await this.storage.get<string>('processed', `sent:${accountId}:${timestamp}`);
    const group = groupId
      ? await this.storage.get<{ groupId: string; id: string }>('processed', `sentg:${timestamp}`)
      : undefined;
    const id = direct ?? group?.id;
    if (!id) return;
    const key = await this.storage.get<string>('processed', `msgkey:${this.accountId}:${id}`);
    const m = key ? await this.storage.get<MessageRecord>('messages', key) : undefined;
    if (!m || m.text === undefined) return;
    let context: { groupId: string; revision: number } | undefined;
    if (!direct && group) {
      const g = await this.group(group.groupId);
      if (!g || !g.members.some((x) => x.accountId === accountId)) return;
      context = { groupId: g.groupId, revision: g.revision };
    }
    const content = this.#withSenderUsername(
      makeContent(m.id, m.timestamp, {
        case: 'data',
        value: { text: m.text, ...(context ? { group: context } : {}) },
      }),
    );
    await this.#sendToAccount(accountId, content);
  }

  async #applySync(
    tx: StorageTx,
    env: Envelope,
    content: Content,
    after: AfterCommit,
    emits: Array<() => void>,
  ): Promise<void> {
    if (content.body.case !== 'sync') return;
    const sync = content.body.value.body;
    switch (sync.case) {
      case 'sent': {
        const inner = sync.value.content;
        if (!inner || inner.body.case !== 'data') return;
        const to = sync.value.destinationAccountId;
        const record: MessageRecord = {
          id: inner.messageId,
          conversationId: directConversationId(to),
          kind: 'text',
          direction: 'out',
          senderAccountId: env.sourceAccountId,
          senderDeviceId: env.sourceDeviceId,
          timestamp: timestampOf(inner),
          storedAt: this.#now(),
          text: inner.body.value.text,
          status: 'sent',
        };
        if (await tx.get('processed', `msgkey:${record.senderAccountId}:${record.id}`)) return;
        await this.#storeMessage(tx, record);
        await tx.put('processed', `sent:${to}:${record.timestamp}`, record.id);
        if (!(await tx.get('contacts', to))) {
          await tx.put('contacts', to, { accountId: to, devices: {} } satisfies ContactRecord);
        }
        // Which username our device wrote to: confirmed with the relay like any other claim.
        await this.#claimUsername(tx, after, to, sync.value.destinationUsername);
        emits.push(() => this.emit('message', record));
        return;
      }
      case 'contacts': {
        for (const c of sync.value.contacts) {
          const existing = await tx.get<ContactRecord>('contacts', c.accountId);
          let identity = await tx.get<IdentityRecord>('identities', c.accountId);
          if (c.identityKey.length > 0 && !identity) {
            identity = { publicKey: c.identityKey, firstSeenAt: this.#now() };
            await tx.put('identities', c.accountId, identity);
          }
          const contact: ContactRecord = {
            ...(existing ?? { accountId: c.accountId, devices: {} }),
            ...(c.username ? { username: c.username } : {}),
          };
          // A list only fills in a verification we have made no decision about for that key.
          const decided =
            contact.verifiedKey !== undefined &&
            identity !== undefined &&
            bytesEqual(contact.verifiedKey, identity.publicKey);
          await tx.put(
            'contacts',
            c.accountId,
            c.verified && !decided ? adoptVerified(contact, identity, c.identityKey) : contact,
          );
          // Our own device's list is trusted: its names reach group member lists too.
          if (c.username) {
            for (const g of await this.#storeUsername(tx, c.accountId, c.username)) {
              emits.push(() => this.emit('group', g));
            }
          }
        }
        emits.push(() => void this.contacts().then((list) => this.emit('contacts', list)));
        return;
      }
      case 'verified': {
        const { accountId, identityKey, verified } = sync.value;
        if (accountId === this.accountId || identityKey.length === 0) return;
        const contact = (await tx.get<ContactRecord>('contacts', accountId)) ?? {
          accountId,
          devices: {},
        };
        let identity = await tx.get<IdentityRecord>('identities', accountId);
        if (!identity) {
          // A key we have not seen yet: our own device's word is trusted, as in a contact list.
          identity = { publicKey: identityKey, firstSeenAt: this.#now() };
          await tx.put('identities', accountId, identity);
        }
        if (identity.pendingKey || contact.identityChanged) return;
        // Bound to the key: a device that trusts another key for them ignores it.
        if (!bytesEqual(identity.publicKey, identityKey)) return;
        // Syncs may cross: a decision older than the one we have (for this key) is stale.
        const decidedAt = timestampOf(content);
        if (
          contact.verifiedAt !== undefined &&
          contact.verifiedKey !== undefined &&
          bytesEqual(contact.verifiedKey, identity.publicKey) &&
          decidedAt < contact.verifiedAt
        ) {
          return;
        }
        await tx.put('contacts', accountId, {
          ...contact,
          verified,
          verifiedAt: decidedAt,
          verifiedKey: identity.publicKey,
        } satisfies ContactRecord);
        if (isVerified(contact, identity) !== verified) {
          await this.#storeEvent(
            tx,
            directConversationId(accountId),
            verified ? 'marked_verified' : 'marked_unverified',
            [accountId],
            { accountId: env.sourceAccountId, deviceId: env.sourceDeviceId },
            decidedAt, // shown when it was decided
          );
        }
        emits.push(() => void this.contacts().then((list) => this.emit('contacts', list)));
        return;
      }
      case 'groups': {
        for (const g of sync.value.groups) await this.#mergeGroupState(tx, g, emits, after);
        return;
      }
      case 'request':
        after.push(() => this.#sendSyncLists());
        return;
      case 'read': {
        const { conversationId, messageIds } = sync.value;
        if (!/^(direct|group):/.test(conversationId)) return;
        const read = new Set(messageIds);
        for (const [key, m] of await tx.list<MessageRecord>('messages', `${conversationId}/`)) {
          if (m.direction === 'in' && read.has(m.id) && m.status !== 'read') {
            await tx.put('messages', key, { ...m, status: 'read' });
          }
        }
        const conv = await tx.get<ConversationRecord>('conversations', conversationId);
        if (conv) await tx.put('conversations', conversationId, { ...conv, unread: 0 });
        return;
      }
      case undefined:
        return;
    }
  }

  async #contactList() {
    const contacts = [];
    for (const c of await this.contacts()) {
      const identity = await this.storage.get<IdentityRecord>('identities', c.accountId);
      contacts.push({
        accountId: c.accountId,
        username: c.username ?? '',
        identityKey: identity?.publicKey ?? new Uint8Array(0),
        verified: c.verified === true, // contacts() says true only for the key trusted now
      });
    }
    return create(ContactListSchema, { contacts });
  }

  async #groupList() {
    return create(GroupListSchema, {
      groups: (await this.groups()).filter((g) => !g.left).map((g) => this.#groupState(g)),
    });
  }

  async #sendSyncLists(): Promise<void> {
    await this.#sendToSelf(
      this.#content({
        case: 'sync',
        value: { body: { case: 'contacts', value: await this.#contactList() } },
      }),
    );
    await this.#sendToSelf(
      this.#content({
        case: 'sync',
        value: { body: { case: 'groups', value: await this.#groupList() } },
      }),
    );
  }

  // ---------------------------------------------------------------------------------------
  // Groups
  // ---------------------------------------------------------------------------------------

  #groupState(g: GroupRecord): GroupState {
    return create(GroupStateSchema, {
      groupId: g.groupId,
      revision: g.revision,
      title: g.title,
      members: g.members.map((m) => ({ accountId: m.accountId, username: m.username ?? '' })),
      creator: g.creator,
    });
  }

  /** Stores a group state from a peer if it is newer; returns the stored record. */
  async #mergeGroupState(
    tx: StorageTx,
    state: GroupState,
    emits: Array<() => void>,
    after?: AfterCommit,
  ): Promise<GroupRecord | undefined> {
    const existing = await tx.get<GroupRecord>('groups', state.groupId);
    if (existing && existing.revision >= state.revision) return undefined;
    const self = this.#account!;
    // The usernames in a group state are the sender's claims about others: members get the
    // names we confirmed ourselves; the claims are checked with the relay after the commit.
    const members: GroupMemberRecord[] = [];
    for (const m of state.members) {
      if (members.some((x) => x.accountId === m.accountId)) continue;
      const username =
        m.accountId === self.accountId
          ? self.username
          : (await tx.get<ContactRecord>('contacts', m.accountId))?.username;
      members.push({ accountId: m.accountId, ...(username ? { username } : {}) });
    }
    const stillMember = members.some((m) => m.accountId === self.accountId);
    const group: GroupRecord = {
      groupId: state.groupId,
      title: state.title,
      revision: state.revision,
      members,
      creator: state.creator,
      distributionId: existing?.distributionId ?? uuid(this.#rng),
      senderKeySentTo: existing?.senderKeySentTo ?? [],
      ...(stillMember ? {} : { left: true }),
    };
    await tx.put('groups', group.groupId, group);
    for (const m of state.members) {
      if (m.accountId === self.accountId) continue;
      if (!(await tx.get<ContactRecord>('contacts', m.accountId))) {
        await tx.put('contacts', m.accountId, {
          accountId: m.accountId,
          devices: {},
        } satisfies ContactRecord);
      }
      if (after) await this.#claimUsername(tx, after, m.accountId, m.username);
    }
    emits.push(() => this.emit('group', group));
    return group;
  }

  // ---------------------------------------------------------------------------------------
  // Usernames claimed in content
  // ---------------------------------------------------------------------------------------

  /**
   * `username` is claimed for `accountId` (by the sender about itself, a group state about a
   * member, or our own device about a recipient). Unless it is the name we already confirmed
   * (or a claim refuted within the last hour), it is looked up on the relay after the commit
   * and kept only if it maps to that account now.
   */
  async #claimUsername(
    tx: StorageTx,
    after: AfterCommit,
    accountId: string,
    username: string,
  ): Promise<void> {
    if (!USERNAME.test(username) || accountId === this.#account?.accountId) return;
    const claim = username.toLowerCase();
    const contact = await tx.get<ContactRecord>('contacts', accountId);
    if (contact?.username?.toLowerCase() === claim) return;
    const key = `${accountId}\n${claim}`;
    const checkedAt = this.#usernameChecks.get(key);
    if (checkedAt !== undefined && this.#now() - checkedAt < USERNAME_RECHECK_MS) return;
    const now = this.#now();
    this.#usernameLookups = this.#usernameLookups.filter((t) => now - t < 3600_000);
    if (this.#usernameLookups.length >= USERNAME_CHECKS_PER_HOUR) return;
    this.#usernameLookups.push(now);
    this.#usernameChecks.set(key, now);
    after.push(() => this.#confirmUsername(accountId, claim, key));
  }

  /** Looks a claimed username up; stores it on the contact if it is that account's now. */
  async #confirmUsername(accountId: string, claim: string, key: string): Promise<void> {
    let found;
    try {
      found = await this.http.lookupUsername(claim);
    } catch (err) {
      // Nobody has it (404): refuted. Anything else (rate limit, relay down): try again later.
      if (!(err instanceof RelayHttpError && (err.status === 404 || err.status === 400))) {
        this.#usernameChecks.delete(key);
        console.warn(`parley: could not check the username claimed by ${accountId}`, err);
      }
      return;
    }
    if (found.accountId !== accountId) return; // a forged or stale claim: ignored
    this.#usernameChecks.delete(key);
    const groups = await this.storage.transaction((tx) =>
      this.#storeUsername(tx, accountId, found.username),
    );
    this.emit('contacts', await this.contacts());
    for (const g of groups) this.emit('group', g);
  }

  /**
   * Stores `username`, which the relay maps to `accountId`, on that contact and its group
   * memberships; another contact still showing that name (it was renamed since) loses it.
   * Returns the groups that changed.
   */
  async #storeUsername(tx: StorageTx, accountId: string, username: string): Promise<GroupRecord[]> {
    const name = username.toLowerCase();
    for (const [id, c] of await tx.list<ContactRecord>('contacts')) {
      if (id === accountId || c.username?.toLowerCase() !== name) continue;
      const { username: _stale, ...rest } = c;
      await tx.put('contacts', id, rest satisfies ContactRecord);
    }
    const contact = (await tx.get<ContactRecord>('contacts', accountId)) ?? {
      accountId,
      devices: {},
    };
    if (contact.username !== username) {
      await tx.put('contacts', accountId, { ...contact, username } satisfies ContactRecord);
    }
    const changed: GroupRecord[] = [];
    for (const [groupId, g] of await tx.list<GroupRecord>('groups')) {
      let dirty = false;
      const members = g.members.map((m) => {
        if (m.accountId === accountId && m.username !== username) {
          dirty = true;
          return { ...m, username };
        }
        if (m.accountId !== accountId && m.username?.toLowerCase() === name) {
          dirty = true;
          return { accountId: m.accountId };
        }
        return m;
      });
      if (!dirty) continue;
      const next = { ...g, members };
      await tx.put('groups', groupId, next);
      changed.push(next);
    }
    return changed;
  }

  async #applyGroupControl(
    tx: StorageTx,
    env: Envelope,
    content: Content,
    after: AfterCommit,
    emits: Array<() => void>,
  ): Promise<void> {
    if (content.body.case !== 'groupControl') return;
    const control = content.body.value;
    const state = control.state;
    if (!state) return;
    const before = await tx.get<GroupRecord>('groups', state.groupId);
    const fromSelf = env.sourceAccountId === this.accountId;
    // Only members may change a group (anyone may be told they were added).
    if (before && !fromSelf && !before.members.some((m) => m.accountId === env.sourceAccountId)) {
      return;
    }
    const group = await this.#mergeGroupState(tx, state, emits, after);
    if (!group) return;
    const conv = groupConversationId(group.groupId);
    const senderInfo = {
      ...this.#account!,
      accountId: env.sourceAccountId,
      deviceId: env.sourceDeviceId,
    };
    const action = control.action;
    switch (action.case) {
      case 'create':
        await this.#storeEvent(tx, conv, 'group_created', [env.sourceAccountId], senderInfo);
        break;
      case 'add':
        await this.#storeEvent(
          tx,
          conv,
          'group_members_added',
          action.value.accountIds,
          senderInfo,
        );
        break;
      case 'remove':
        await this.#storeEvent(
          tx,
          conv,
          'group_members_removed',
          action.value.accountIds,
          senderInfo,
        );
        if (!group.left) await this.#rotateSenderKey(tx, group);
        break;
      case 'rename':
        await this.#storeEvent(tx, conv, 'group_renamed', [action.value.title], senderInfo);
        break;
      case 'leave':
        await this.#storeEvent(tx, conv, 'group_left', [env.sourceAccountId], senderInfo);
        if (!group.left) await this.#rotateSenderKey(tx, group);
        break;
      default:
        break;
    }
  }

  /** Sends a control message to every member account (plus removed ones) and our devices. */
  async #broadcastControl(
    group: GroupRecord,
    action: ContentInit['body'] & { case: 'groupControl' },
    extraRecipients: string[] = [],
  ): Promise<void> {
    const content = this.#content(action);
    const targets = new Set([...group.members.map((m) => m.accountId), ...extraRecipients]);
    targets.delete(this.accountId);
    for (const accountId of targets) {
      try {
        await this.#sendToAccount(accountId, content);
      } catch (err) {
        console.warn(`parley: group update not delivered to ${accountId}`, err);
      }
    }
    await this.#sendToSelf(content);
  }

  /**
   * Refuses a group update, before anything is sent or stored, while any of `accountIds` (the
   * accounts it would be sent to) has an identity change awaiting acknowledgement: nothing
   * goes silently to a changed safety number, and local state never gets ahead of what the
   * members were told. `IdentityChangedError` names them all.
   */
  async #refuseChangedIdentities(
    accountIds: Iterable<string>,
    tx: Pick<StorageTx, 'get'> = this.storage,
  ): Promise<void> {
    const changed: string[] = [];
    for (const accountId of new Set(accountIds)) {
      if (accountId === this.accountId) continue;
      if ((await tx.get<ContactRecord>('contacts', accountId))?.identityChanged) {
        changed.push(accountId);
      }
    }
    if (changed.length > 0) throw new IdentityChangedError(changed[0]!, changed);
  }

  /**
   * Creates a group with us and `memberAccountIds`. Refused (`IdentityChangedError`) while a
   * member's identity change is unacknowledged.
   */
  async createGroup(title: string, memberAccountIds: string[]): Promise<GroupRecord> {
    const self = this.#requireAccount();
    await this.#refuseChangedIdentities(memberAccountIds);
    const members = [self.accountId, ...memberAccountIds.filter((m) => m !== self.accountId)];
    const group: GroupRecord = {
      groupId: toHex(this.#rng(16)),
      title,
      revision: 1,
      members: await Promise.all(
        [...new Set(members)].map(async (accountId) => {
          const c = await this.contact(accountId);
          return {
            accountId,
            ...(accountId === self.accountId ? { username: self.username } : {}),
            ...(c?.username ? { username: c.username } : {}),
          };
        }),
      ),
      creator: self.accountId,
      distributionId: uuid(this.#rng),
      senderKeySentTo: [],
    };
    await this.storage.transaction(async (tx) => {
      await tx.put('groups', group.groupId, group);
      await this.#storeEvent(tx, groupConversationId(group.groupId), 'group_created', [
        self.accountId,
      ]);
    });
    await this.#broadcastControl(group, {
      case: 'groupControl',
      value: { state: this.#groupState(group), action: { case: 'create', value: {} } },
    });
    this.emit('group', group);
    return group;
  }

  async #changeGroup(
    groupId: string,
    change: (g: GroupRecord) => void,
    action: (g: GroupRecord) => ContentInit['body'] & { case: 'groupControl' },
    event: ConversationEventKind,
    subjects: string[],
    options: { rotate?: boolean; alsoNotify?: string[]; notifyIfTrusted?: string[] } = {},
  ): Promise<GroupRecord> {
    let group!: GroupRecord;
    const alsoNotify = [...(options.alsoNotify ?? [])];
    await this.storage.transaction(async (tx) => {
      const g = await tx.get<GroupRecord>('groups', groupId);
      if (!g) throw new Error(`no such group ${groupId}`);
      if (g.left) throw new Error('we are not a member of this group');
      change(g);
      // Everyone told must be trusted (checked before anything is stored or sent); those
      // only told if trusted (removed members) are left out while their change is pending.
      await this.#refuseChangedIdentities(
        [...g.members.map((m) => m.accountId), ...alsoNotify],
        tx,
      );
      for (const accountId of options.notifyIfTrusted ?? []) {
        if (!(await tx.get<ContactRecord>('contacts', accountId))?.identityChanged) {
          alsoNotify.push(accountId);
        }
      }
      g.revision++;
      await tx.put('groups', groupId, g);
      if (options.rotate) await this.#rotateSenderKey(tx, g);
      await this.#storeEvent(tx, groupConversationId(groupId), event, subjects);
      group = (await tx.get<GroupRecord>('groups', groupId))!;
    });
    await this.#broadcastControl(group, action(group), alsoNotify);
    this.emit('group', group);
    return group;
  }

  async addGroupMembers(groupId: string, accountIds: string[]): Promise<GroupRecord> {
    const usernames = new Map<string, string | undefined>();
    for (const id of accountIds) usernames.set(id, (await this.contact(id))?.username);
    return this.#changeGroup(
      groupId,
      (g) => {
        for (const id of accountIds) {
          if (!g.members.some((m) => m.accountId === id)) {
            const username = usernames.get(id);
            g.members.push({ accountId: id, ...(username ? { username } : {}) });
          }
        }
      },
      (g) => ({
        case: 'groupControl',
        value: { state: this.#groupState(g), action: { case: 'add', value: { accountIds } } },
      }),
      'group_members_added',
      accountIds,
    );
  }

  /** Removes members; our sender key rotates, so they cannot read what follows. */
  async removeGroupMembers(groupId: string, accountIds: string[]): Promise<GroupRecord> {
    return this.#changeGroup(
      groupId,
      (g) => {
        g.members = g.members.filter((m) => !accountIds.includes(m.accountId));
      },
      (g) => ({
        case: 'groupControl',
        value: { state: this.#groupState(g), action: { case: 'remove', value: { accountIds } } },
      }),
      'group_members_removed',
      accountIds,
      // A removed member whose safety number changed is not told (the others are), so a
      // changed member can still be removed without acknowledging the change first.
      { rotate: true, notifyIfTrusted: accountIds },
    );
  }

  async renameGroup(groupId: string, title: string): Promise<GroupRecord> {
    return this.#changeGroup(
      groupId,
      (g) => {
        g.title = title;
      },
      (g) => ({
        case: 'groupControl',
        value: { state: this.#groupState(g), action: { case: 'rename', value: { title } } },
      }),
      'group_renamed',
      [title],
    );
  }

  async leaveGroup(groupId: string): Promise<void> {
    const self = this.#requireAccount();
    const before = await this.group(groupId);
    await this.#changeGroup(
      groupId,
      (g) => {
        g.members = g.members.filter((m) => m.accountId !== self.accountId);
      },
      (g) => ({
        case: 'groupControl',
        value: { state: this.#groupState(g), action: { case: 'leave', value: {} } },
      }),
      'group_left',
      [self.accountId],
      { alsoNotify: before?.members.map((m) => m.accountId) ?? [] },
    );
    await this.storage.transaction(async (tx) => {
      const g = (await tx.get<GroupRecord>('groups', groupId))!;
      await tx.put('groups', groupId, { ...g, left: true });
    });
  }

  /** Sends a text to a group: sender key distributed as needed, one ciphertext, fan-out. */
  async sendGroupText(groupId: string, text: string): Promise<MessageRecord> {
    const self = this.#requireAccount();
    const group = await this.group(groupId);
    if (!group || group.left) throw new Error(`not a member of group ${groupId}`);
    const content = this.#content({
      case: 'data',
      value: { text, group: { groupId, revision: group.revision } },
    });
    const record: MessageRecord = {
      id: content.messageId,
      conversationId: groupConversationId(groupId),
      kind: 'text',
      direction: 'out',
      senderAccountId: self.accountId,
      senderDeviceId: self.deviceId,
      timestamp: timestampOf(content),
      storedAt: this.#now(),
      text,
      status: 'sending',
    };
    this.#inFlight.add(record.id); // before it is in the outbox, so a flush leaves it alone
    try {
      await this.storage.transaction(async (tx) => {
        await this.#storeMessage(tx, record);
        await tx.put('outbox', record.id, {
          to: `group:${groupId}`,
          content: encodeContent(content),
        } satisfies OutboxItem);
        await tx.put('processed', `sentg:${record.timestamp}`, { groupId, id: record.id });
      });
      await this.#deliverGroup(groupId, content, record);
    } finally {
      this.#inFlight.delete(record.id);
    }
    return (await this.#updateStatus(self.accountId, record.id, () => undefined)) ?? record;
  }

  /**
   * Delivers a group message. Refused up front, before anything is sent, while a member's
   * identity change awaits acknowledgement (`IdentityChangedError` naming them all); a change
   * discovered on the way fails it the same way. Either way the message is marked failed.
   */
  async #deliverGroup(groupId: string, content: Content, record: MessageRecord): Promise<void> {
    try {
      const group = await this.group(groupId);
      if (!group) throw new Error(`no such group ${groupId}`);
      const changed: string[] = [];
      for (const m of group.members) {
        if (m.accountId === this.accountId) continue;
        if ((await this.storage.get<ContactRecord>('contacts', m.accountId))?.identityChanged) {
          changed.push(m.accountId);
        }
      }
      if (changed.length > 0) throw new IdentityChangedError(changed[0]!, changed);
      await this.#deliverGroupNow(groupId, content, record);
    } catch (err) {
      if (err instanceof IdentityChangedError) await this.#failOutgoing(record);
      throw err;
    }
  }

  async #deliverGroupNow(groupId: string, content: Content, record: MessageRecord): Promise<void> {
    const self = this.#requireAccount();
    const me = this.#ourAddress();
    const plaintext = encodeContent(content);
    let ciphertext: Uint8Array | undefined;
    let distributionId = '';
    for (let attempt = 0; attempt < MAX_SEND_ATTEMPTS; attempt++) {
      const group = (await this.group(groupId))!;
      const accounts = [...new Set([...group.members.map((m) => m.accountId), self.accountId])];
      // 1. Device lists and sessions for everyone.
      const recipients: MultiRecipient[] = [];
      for (const accountId of accounts) {
        const devices = await this.#ensureDevices(accountId);
        for (const [id, registrationId] of Object.entries(devices)) {
          recipients.push({ accountId, deviceId: Number(id), registrationId });
        }
      }
      // 2. Our sender key to every device that lacks it (over 1:1 sessions, per account).
      if (distributionId !== group.distributionId) {
        ciphertext = undefined; // rotated meanwhile: re-encrypt under the new key
        distributionId = group.distributionId;
      }
      const sentTo = new Set(group.senderKeySentTo);
      const needing = [
        ...new Set(
          recipients
            .filter((r) => !sentTo.has(`${r.accountId}.${r.deviceId}`))
            .map((r) => r.accountId),
        ),
      ];
      if (needing.length > 0) {
        // The distribution message starts at the chain's current iteration: a ciphertext made
        // before it would be "old" to the new devices, so encrypt afresh after distributing.
        ciphertext = undefined;
        const skdm = await this.storage.transaction(async (tx) =>
          new GroupCipher(this.#stores(tx).senderKey, { rng: this.#rng }).createDistributionMessage(
            me,
            distributionId,
          ),
        );
        const skdmContent = this.#content({
          case: 'senderKeyDistribution',
          value: { groupId, distributionMessage: skdm.serialize() },
        });
        for (const accountId of needing) {
          await this.#sendToAccount(accountId, skdmContent);
          const devices = await this.#knownDevices(accountId);
          await this.storage.transaction(async (tx) => {
            const g = (await tx.get<GroupRecord>('groups', groupId))!;
            if (g.distributionId !== distributionId) return;
            const set = new Set(g.senderKeySentTo);
            for (const id of Object.keys(devices)) set.add(`${accountId}.${id}`);
            g.senderKeySentTo = [...set];
            await tx.put('groups', groupId, g);
          });
        }
      }
      if (recipients.length === 0) break;
      // 3. One ciphertext for everyone.
      ciphertext ??= await this.storage.transaction(async (tx) =>
        new GroupCipher(this.#stores(tx).senderKey, { rng: this.#rng }).encrypt(
          me,
          distributionId,
          plaintext,
        ),
      );
      try {
        await this.http.sendMultiRecipient({
          timestamp: timestampOf(content),
          type: 'sender_key_message' satisfies EnvelopeType,
          content: toBase64(ciphertext),
          recipients,
        });
        ciphertext = undefined;
        break;
      } catch (err) {
        if (!(err instanceof RelayHttpError)) throw err;
        if (err.multiMismatched) {
          for (const a of err.multiMismatched.accounts) {
            await this.#removeDevices(a.accountId, a.extraDevices);
            if (a.missingDevices.length > 0) {
              await this.#fetchAndProcessBundles(a.accountId, a.missingDevices);
            }
          }
          continue;
        }
        if (err.multiStale) {
          for (const a of err.multiStale.accounts) {
            await this.#dropStaleSessions(a.accountId, a.staleDevices);
            await this.storage.transaction(async (tx) => {
              const g = (await tx.get<GroupRecord>('groups', groupId))!;
              g.senderKeySentTo = g.senderKeySentTo.filter(
                (d) => !a.staleDevices.some((id) => d === `${a.accountId}.${id}`),
              );
              await tx.put('groups', groupId, g);
            });
          }
          continue;
        }
        throw err;
      }
    }
    if (ciphertext !== undefined) throw new Error('group send failed: device lists kept changing');
    await this.storage.transaction(async (tx) => {
      await tx.delete('outbox', record.id);
      await this.#updateStatus(self.accountId, record.id, (m) => (m.status = 'sent'), tx);
    });
    this.emit('status', { conversationId: record.conversationId, id: record.id, status: 'sent' });
  }

  // ---------------------------------------------------------------------------------------
  // Linking devices
  // ---------------------------------------------------------------------------------------

  /**
   * New-device side. Opens a provisioning channel and calls `onUri` with the
   * `parley://link?...` URI to show (as text or QR); resolves once an existing device
   * approved it and this device registered as another device of the account.
   */
  static async link(
    options: ParleyClientOptions & { relayUrl: string; deviceName?: string },
    onUri: (uri: string) => void,
  ): Promise<ParleyClient> {
    const client = await ParleyClient.open(options);
    if (client.#account) throw new Error('this device already has an account');
    const rng = client.#rng;
    const ephemeral = KeyPair.generate(rng);
    const channel = await openProvisioningChannel(options.relayUrl, options.WebSocket);
    try {
      onUri(encodeLinkUri({ address: channel.address, publicKey: ephemeral.publicKey }));
      const body = await channel.message;
      const msg = await openProvisionMessage(ephemeral, fromBase64(body));
      const identity = IdentityKeyPair.deserialize(msg.identityKeyPair);
      const http = new RelayHttp(
        options.relayUrl,
        undefined,
        options.fetch ? { fetch: options.fetch } : {},
      );
      let account: AccountRecord | undefined;
      await client.storage.transaction(async (tx) => {
        const keys = await client.#generateDeviceKeys(tx, identity);
        const name = options.deviceName
          ? toBase64(await sealDeviceName(identity.privateKey.serialize(), options.deviceName, rng))
          : undefined;
        const res = await http.linkDevice({
          linkingCode: msg.linkingCode,
          ...keys,
          ...(name ? { name } : {}),
        });
        account = {
          accountId: res.accountId,
          deviceId: res.deviceId,
          username: msg.username,
          credential: res.credential,
          registrationId: keys.registrationId,
          identityKeyPair: identity.serialize(),
          relayUrl: http.baseUrl,
          createdAt: client.#now(),
        };
        await tx.put('meta', 'account', account);
        await tx.put('meta', 'ownDevices', {
          devices: {},
          fetchedAt: 0,
        } satisfies OwnDevicesRecord);
        const emits: Array<() => void> = [];
        for (const c of msg.contacts?.contacts ?? []) {
          const contact: ContactRecord = {
            accountId: c.accountId,
            ...(c.username ? { username: c.username } : {}),
            devices: {},
          };
          let identity: IdentityRecord | undefined;
          if (c.identityKey.length > 0) {
            identity = { publicKey: c.identityKey, firstSeenAt: client.#now() };
            await tx.put('identities', c.accountId, identity);
          }
          await tx.put(
            'contacts',
            c.accountId,
            c.verified ? adoptVerified(contact, identity, c.identityKey) : contact,
          );
        }
        client.#account = account; // #mergeGroupState needs our account id
        for (const g of msg.groups?.groups ?? []) await client.#mergeGroupState(tx, g, emits);
      });
      client.#setAccount(account);
      return client;
    } finally {
      channel.close();
    }
  }

  /** Existing-device side: approves a link request shown by a new device. */
  async approveLink(uri: string): Promise<void> {
    const self = this.#requireAccount();
    if (self.deviceId !== PRIMARY_DEVICE_ID) {
      throw new LinkError('only the primary device can link new devices');
    }
    const request = parseLinkUri(uri);
    const { code } = await this.http.linkingCode();
    const message = create(ProvisionMessageSchema, {
      identityKeyPair: self.identityKeyPair,
      accountId: self.accountId,
      username: self.username,
      linkingCode: code,
      contacts: await this.#contactList(),
      groups: await this.#groupList(),
      provisioningDeviceId: self.deviceId,
    });
    const sealed = await sealProvisionMessage(request.publicKey, message, this.#rng);
    await this.http.sendProvisioningMessage(request.address, toBase64(sealed));
    // Our device list changed: look again before the next send to our own devices.
    await this.storage.transaction(async (tx) => {
      const rec = await tx.get<OwnDevicesRecord>('meta', 'ownDevices');
      await tx.put('meta', 'ownDevices', { devices: rec?.devices ?? {}, fetchedAt: 0 });
    });
  }

  /** Our devices, as the relay lists them, with their names decrypted where we can. */
  async devices(): Promise<Array<DeviceInfo & { displayName?: string }>> {
    const list = await this.refreshOwnDevices();
    const secret = IdentityKeyPair.deserialize(this.#requireAccount().identityKeyPair).privateKey;
    return Promise.all(
      list.map(async (d) => {
        const displayName = d.name
          ? await openDeviceName(secret.serialize(), fromBase64(d.name))
          : undefined;
        return displayName ? { ...d, displayName } : d;
      }),
    );
  }

  /** Removes a device from the account (the primary removes any; a linked one itself). */
  async unlinkDevice(deviceId: number): Promise<void> {
    const self = this.#requireAccount();
    await this.http.removeDevice(deviceId);
    if (deviceId === self.deviceId) {
      await this.stop();
      await this.#wipe();
      return;
    }
    await this.#removeDevices(self.accountId, [deviceId]);
  }

  /** Announces this (new) device to our other devices and asks them for contacts and groups. */
  async announceToOwnDevices(): Promise<void> {
    await this.refreshOwnDevices();
    await this.#sendToSelf(
      this.#content({ case: 'sync', value: { body: { case: 'request', value: {} } } }),
    );
  }

  /** For tests: what a session key looks like. */
  static sessionKey = sessionKey;
}
