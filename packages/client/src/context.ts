/**
 * What every module of the client core shares: storage, clock, randomness, the relay's HTTP
 * API, the account, the event emitter and background tasks. Built once by `ParleyClient` and
 * handed down; nothing here knows about protocol logic.
 *
 * `ctx.transaction(fn)` runs `fn` with a `Scope`: the storage transaction plus what must happen
 * only once it committed — events to emit, and follow-up work that needs the network. A scope is
 * invalid after its commit (its `tx` refuses reads and writes), so network work can never hold
 * the storage lock.
 * @module
 */
import { ProtocolAddress } from '@parley/crypto/address.js';
import { InProcessKeyedLock, type KeyedLock } from '@parley/crypto/lock.js';
import { systemClock, systemRandom, type Clock, type RandomSource } from '@parley/crypto/random.js';
import type { Envelope } from '@parley/protocol';
import { ClientError, NotRegisteredError } from './errors.ts';
import { Emitter } from './events.ts';
import type {
  AccountRecord,
  ContactRecord,
  GroupRecord,
  MessageRecord,
  MessageStatus,
  SendFailure,
} from './model.ts';
import {
  RelayHttp,
  type FetchLike,
  type SocketState,
  type WebSocketConstructor,
} from './relay/index.ts';
import type { Storage, StorageTx } from './storage/index.ts';
import type { AttachmentProgress, AttachmentTransport } from './attachments/types.ts';
import type { HistoryTransferEvents } from './history/events.ts';

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
  /** Reconnect and resend backoff (full jitter between initialMs and maxMs). */
  backoff?: { initialMs?: number; maxMs?: number };
  /** How often a connected client checks prekeys and rotation (default 6 hours). */
  maintenanceIntervalMs?: number;
  /** Send delivery receipts for 1:1 messages (default true). */
  deliveryReceipts?: boolean;
  /** Moves attachment blobs (default: the relay's tus routes, attachments/transport.ts). */
  attachmentTransport?: (ctx: ClientContext) => AttachmentTransport;
}

export interface ClientEvents extends HistoryTransferEvents {
  /** A message was stored: received, or sent by one of our other devices. */
  message: MessageRecord;
  /** A stored message changed: a reaction, an edit, a deletion for everyone. */
  messageChanged: MessageRecord;
  /** Messages were deleted on this device (deleted for me here or on another of our devices). */
  messagesRemoved: { conversationId: string; ids: string[] };
  /** One of our own messages changed state (sent, delivered, read, failed). */
  status: {
    conversationId: string;
    id: string;
    status: MessageStatus;
    by?: string;
    failure?: SendFailure;
  };
  typing: { accountId: string; groupId?: string; started: boolean };
  /**
   * A sealed envelope was dropped unopened: malformed, or its certificate forged, expired,
   * revoked or not from the relay's pinned trust root (`reason`: the crypto error's code).
   */
  sealedRejected: { envelopeId: string; reason: string };
  /** A conversation event (identity change, decryption failure, group change) was stored. */
  event: MessageRecord;
  identityChanged: { accountId: string };
  decryptionFailed: {
    accountId: string;
    deviceId: number;
    envelopeId: string;
    reason: string;
    /** The typed error (a `ProtocolError` for bad ciphertext, a `ContentError` for bad content). */
    error?: Error;
  };
  group: GroupRecord;
  contacts: ContactRecord[];
  /** A conversation's request or blocked state changed here or on another of our devices. */
  trust: {
    conversationId: string;
    change: 'accepted' | 'deleted' | 'blocked' | 'unblocked' | 'request';
  };
  /** The relay's stored backlog has been handled. */
  queueEmpty: void;
  /** Another device of our account announced itself (e.g. just linked): list devices again. */
  ownDevices: { deviceId: number };
  connection: SocketState;
  /** This device was unlinked or the account deleted elsewhere. */
  terminated: { code: number; reason: string };
  /** Every envelope, as received (before processing). For diagnostics and tests. */
  envelope: Envelope;
  /** An envelope's effects are stored (emitted after the commit, before the ack). */
  processed: Envelope;
  /** Bytes of an attachment moved (upload or download), for progress bars. */
  attachmentProgress: AttachmentProgress;
}

/** Work for after a commit; it may use the network. */
export type FollowUp = () => Promise<void>;

/** A receipt a batch sends once for all its messages from one sender (`receive/batch.ts`). */
export interface DeferredReceipt {
  accountId: string;
  ids: string[];
  type: 'delivery' | 'read';
}

/** One storage transaction plus what to do once (and only if) it commits. */
export class Scope {
  /** While set (a batch of envelopes), receipts are collected here and sent once per sender. */
  deferredReceipts: DeferredReceipt[] | undefined;

  readonly #emits: Array<() => void> = [];
  readonly #after: FollowUp[] = [];
  constructor(readonly tx: StorageTx) {}

  /** Emits an event after the commit. */
  emit<K extends keyof ClientEvents>(event: K, payload: ClientEvents[K]): void;
  emit(fn: () => void): void;
  emit(eventOrFn: unknown, payload?: unknown): void {
    this.#emits.push(
      typeof eventOrFn === 'function'
        ? (eventOrFn as () => void)
        : () => this.#emitter?.emit(eventOrFn as keyof ClientEvents, payload as never),
    );
  }

  /** Runs `task` after the commit, in order with this scope's other follow-ups. */
  after(task: FollowUp): void {
    this.#after.push(task);
  }

  /**
   * Marks this point; the returned function undoes the writes, events and follow-ups added
   * since (a batch of envelopes drops one that failed and keeps the rest).
   */
  savepoint(): () => void {
    if (!this.tx.savepoint) throw new ClientError('storage_closed', 'no savepoints here');
    const rollbackTx = this.tx.savepoint();
    const emits = this.#emits.length;
    const after = this.#after.length;
    return () => {
      rollbackTx();
      this.#emits.length = emits;
      this.#after.length = after;
    };
  }

  #emitter: Emitter<ClientEvents> | undefined;
  /** @internal */
  _settle(emitter: Emitter<ClientEvents>): { emits: Array<() => void>; after: FollowUp[] } {
    this.#emitter = emitter;
    return { emits: this.#emits, after: this.#after };
  }
}

export class ClientContext {
  readonly storage: Storage;
  readonly options: ParleyClientOptions;
  readonly rng: RandomSource;
  readonly clock: Clock;
  readonly lock: KeyedLock;
  readonly events: Emitter<ClientEvents>;
  #account: AccountRecord | undefined;
  #http: RelayHttp | undefined;
  readonly #tasks = new Set<Promise<unknown>>();

  constructor(
    options: ParleyClientOptions,
    account: AccountRecord | undefined,
    events: Emitter<ClientEvents>,
  ) {
    this.storage = options.storage;
    this.options = options;
    this.rng = options.rng ?? systemRandom;
    this.clock = options.clock ?? systemClock;
    this.lock = options.lock ?? new InProcessKeyedLock();
    this.events = events;
    this.setAccount(account);
  }

  now(): number {
    return this.clock();
  }

  get account(): AccountRecord | undefined {
    return this.#account;
  }

  /** The account, or `NotRegisteredError`. */
  requireAccount(): AccountRecord {
    if (!this.#account) throw new NotRegisteredError();
    return this.#account;
  }

  get accountId(): string {
    return this.requireAccount().accountId;
  }

  ourAddress(): ProtocolAddress {
    const a = this.requireAccount();
    return new ProtocolAddress(a.accountId, a.deviceId);
  }

  /** Whether `accountId` is our own account. */
  isSelf(accountId: string): boolean {
    return this.#account?.accountId === accountId;
  }

  /** Replaces the account in memory (storage is the caller's business) and the HTTP client. */
  setAccount(account: AccountRecord | undefined): void {
    this.#account = account;
    const fetchOpt = this.options.fetch ? { fetch: this.options.fetch } : {};
    if (account) {
      this.#http = new RelayHttp(
        account.relayUrl,
        {
          accountId: account.accountId,
          deviceId: account.deviceId,
          credential: account.credential,
        },
        fetchOpt,
      );
    } else if (this.options.relayUrl) {
      this.#http = new RelayHttp(this.options.relayUrl, undefined, fetchOpt);
    } else {
      this.#http = undefined;
    }
  }

  /** An unauthenticated HTTP client for `relayUrl` (registration, linking). */
  anonymousHttp(relayUrl: string): RelayHttp {
    return new RelayHttp(
      relayUrl,
      undefined,
      this.options.fetch ? { fetch: this.options.fetch } : {},
    );
  }

  get http(): RelayHttp {
    if (!this.#http) throw new ClientError('no_relay', 'no relay URL configured');
    return this.#http;
  }

  /**
   * Runs `fn` in one storage transaction. After the commit, the scope's events are emitted and
   * its follow-ups run in the background (in order); if `fn` throws, neither happens.
   */
  async transaction<T>(fn: (scope: Scope) => Promise<T>): Promise<T> {
    let scope!: Scope;
    const result = await this.storage.transaction(async (tx) => {
      scope = new Scope(tx);
      return fn(scope);
    });
    const { emits, after } = scope._settle(this.events);
    for (const e of emits) e();
    if (after.length > 0) {
      this.background(
        (async () => {
          for (const task of after) await task();
        })(),
        'follow-up',
      );
    }
    return result;
  }

  /** Runs `task` in the background; `drainTasks()` waits for it. Failures are logged. */
  background(task: Promise<unknown>, what: string): void {
    const p = task.catch((err: unknown) => console.warn(`parley: ${what} failed`, err));
    this.#tasks.add(p);
    void p.finally(() => this.#tasks.delete(p));
  }

  /** Waits for every background task, including ones started meanwhile. */
  async drainTasks(): Promise<void> {
    while (this.#tasks.size > 0) await Promise.all([...this.#tasks]);
  }
}
