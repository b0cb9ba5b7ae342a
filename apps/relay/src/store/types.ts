/**
 * The relay's storage contract, implemented by SQLite (`sqlite.ts`, the embedded default) and
 * PostgreSQL (`postgres.ts`, for several relay nodes); both pass `test/store-contract.ts`. Every
 * method states what it guarantees:
 *
 * - Every method is atomic: it applies completely or not at all (one transaction each). There is
 *   no transaction object on the interface; operations that must be atomic together are one
 *   method (create account + device + keys, consume linking code + add device, check device
 *   list + enqueue + record the send id), which keeps both backends honest and the callers
 *   simple.
 * - One-time prekeys are handed out at most once, even under concurrent `takeBundles` calls
 *   (SQLite: `DELETE … RETURNING` in a write transaction; PostgreSQL: `FOR UPDATE SKIP LOCKED`).
 * - Queues are paged by `seq`, which increases per device in commit order (SQLite: a single
 *   writer; PostgreSQL: take the destination device rows `FOR UPDATE` while enqueueing).
 *
 * The store holds only public keys, hashes of credentials and opaque ciphertext.
 * @module
 */
import { SEALED_ENVELOPE_TYPE } from '@parley/protocol';
import type { AttachmentStore } from './attachments.ts';
import type {
  DeliveredEnvelope,
  EnvelopeType,
  KyberPreKey,
  PreKey,
  PreKeyBundleResponse,
  PreKeyStatusResponse,
  PreKeyUploadRequest,
  SignedPreKey,
  AccountExportResponse,
} from '@parley/protocol';

export interface AccountRecord {
  accountId: string;
  /** Canonical (lowercase) username. */
  username: string;
  identityKey: string;
  createdAt: number;
}

export interface DeviceRecord {
  accountId: string;
  deviceId: number;
  registrationId: number;
  name?: string;
  /** SHA-256 of the device credential (see `credentials.ts`). */
  credentialHash: Uint8Array;
  createdAt: number;
  /** Start of the UTC day the device was last seen (coarse on purpose: less metadata). */
  lastSeenAt: number;
}

/** Keys a new device brings (first device or linked). */
export interface NewDeviceKeys {
  registrationId: number;
  name?: string;
  signedPreKey: SignedPreKey;
  pqLastResortPreKey: KyberPreKey;
  preKeys: PreKey[];
  pqPreKeys: KyberPreKey[];
}

export interface NewDevice {
  credentialHash: Uint8Array;
  keys: NewDeviceKeys;
  createdAt: number;
}

/**
 * An envelope with its queue position. `seq` is internal and never leaves the relay. A sealed
 * envelope (`unidentified_sender`) has no source: the store holds NULL there.
 */
export type StoredEnvelope = DeliveredEnvelope & { seq: number };

/** What `enqueue` stores; `seq` is assigned by the store. */
export type NewEnvelope = {
  id: string;
  destinationAccountId: string;
  destinationDeviceId: number;
  timestamp: number;
  serverTimestamp: number;
  content: string;
} & (
  | { type: EnvelopeType; sourceAccountId: string; sourceDeviceId: number }
  | { type: typeof SEALED_ENVELOPE_TYPE; sourceAccountId?: undefined; sourceDeviceId?: undefined }
);

/** A new envelope as stored at queue position `seq` (what every backend's `enqueue` returns). */
export function storedEnvelope(e: NewEnvelope, seq: number): StoredEnvelope {
  const common = {
    seq,
    id: e.id,
    destinationDeviceId: e.destinationDeviceId,
    timestamp: e.timestamp,
    serverTimestamp: e.serverTimestamp,
    content: e.content,
  };
  if (e.type === SEALED_ENVELOPE_TYPE) return { ...common, type: e.type };
  return {
    ...common,
    type: e.type,
    sourceAccountId: e.sourceAccountId,
    sourceDeviceId: e.sourceDeviceId,
  };
}

/** A stored row's columns as an envelope: no source columns means a sealed envelope. */
export function envelopeFromRow(row: {
  seq: number;
  id: string;
  device_id: number;
  type: string;
  source_account_id: string | null;
  source_device_id: number | null;
  timestamp: number;
  server_timestamp: number;
  content: string;
}): StoredEnvelope {
  const common = {
    seq: row.seq,
    id: row.id,
    destinationDeviceId: row.device_id,
    timestamp: row.timestamp,
    serverTimestamp: row.server_timestamp,
    content: row.content,
  };
  if (row.source_account_id === null || row.source_device_id === null) {
    return { ...common, type: SEALED_ENVELOPE_TYPE };
  }
  return {
    ...common,
    type: row.type as EnvelopeType,
    sourceAccountId: row.source_account_id,
    sourceDeviceId: row.source_device_id,
  };
}

/**
 * The relay's sealed sender signing keys (`sealed/keys.ts`): the trust root's private key
 * (clients pin its public key) and the current server key with the certificate the trust root
 * signed for it. Private keys are 32 raw bytes.
 */
export interface SealedSenderKeyRecord {
  trustRootPrivateKey: Uint8Array;
  serverKeyId: number;
  serverPrivateKey: Uint8Array;
  serverCertificate: Uint8Array;
  createdAt: number;
}

/** A destination device as `enqueue` sees it inside its transaction. */
export interface DeviceSnapshot {
  deviceId: number;
  registrationId: number;
  /** Envelopes currently queued for the device. */
  queued: number;
  /** Their content bytes. */
  queuedBytes: number;
  /** Envelopes queued for the device from the enqueue's `sender` account (0 without one). */
  senderQueued: number;
  /** Their content bytes. */
  senderQueuedBytes: number;
}

/** A destination device as the caller last saw it (for `EnqueueOptions.hint`). */
export interface KnownDevice {
  deviceId: number;
  registrationId: number;
}

/**
 * The most a device may hold queued (before this send) for a plan to still hold: the plan's
 * dependence on the queue counts of its `DeviceSnapshot`.
 */
export interface QueueBound {
  accountId: string;
  deviceId: number;
  queued: number;
  queuedBytes: number;
  senderQueued: number;
  senderQueuedBytes: number;
}

export interface EnqueueOptions {
  /** The sending account, whose share of each destination queue the snapshot reports. */
  sender?: string;
  /** Makes the send idempotent (see `SendKey`). */
  send?: SendKey;
  /**
   * Every destination account's devices as the caller last saw them (e.g. cached). A store may
   * plan on them with every queue count at zero, and store that plan only if, atomically with
   * the insert, the device lists are still exactly these and every addressed device's counts
   * are within the plan's `bounds`; otherwise it plans again on a locked snapshot (as without a
   * hint). So a stale hint costs time, never correctness. Ignored with `send`.
   */
  hint?: ReadonlyMap<string, readonly KnownDevice[]>;
}

/**
 * Decides, from the destination accounts' current devices, what to store. Runs inside the
 * enqueue transaction, so it must be synchronous and free of side effects. Accounts that do not
 * exist are absent from the map.
 */
export type EnqueuePlanner<R> = (
  devices: ReadonlyMap<string, readonly DeviceSnapshot[]>,
) => { reject: R } | { envelopes: NewEnvelope[]; bounds?: readonly QueueBound[] };

/**
 * Names one send for idempotent retries (the client's `sendId`). The store keeps at most one
 * record per (sender account, sender device, send id), written in the same transaction as the
 * send's envelopes, and pruned with them by `expire`.
 */
export interface SendKey {
  sourceAccountId: string;
  sourceDeviceId: number;
  sendId: string;
  /** The send's server timestamp, recorded as part of its answer. */
  serverTimestamp: number;
  /** Records older than this (past retention, not yet pruned) count as absent. */
  notBefore: number;
}

/** The answer recorded for a stored send, given again to its retries. */
export interface SendRecord {
  serverTimestamp: number;
  stored: number;
}

/**
 * `replayed`: a send with the same key was already stored (nothing new is stored, the planner
 * is not asked). A rejected send records nothing, so its retry is planned afresh.
 */
export type EnqueueResult<R> =
  { stored: StoredEnvelope[] } | { rejected: R } | { replayed: SendRecord };

export type LinkResult =
  | { ok: true; accountId: string; deviceId: number }
  | { ok: false; reason: 'invalid_code' | 'too_many_devices' };

export interface ExpiryResult {
  envelopes: number;
  linkingCodes: number;
  retiredSignedPreKeys: number;
  sendRecords: number;
  /** Username holds that ran out. */
  usernameHolds: number;
}

/**
 * A freed username stays unclaimable until `until` (a relay's `usernameHoldMs` after it was
 * freed); registration and username changes check it at `now` (`createdAt` for registration).
 */
export interface UsernameHold {
  now: number;
  until: number;
}

export interface RelayStore {
  // Accounts
  /** Creates the account and its device 1 with keys. */
  createAccount(account: AccountRecord, device: NewDevice): Promise<'created' | 'username_taken'>;
  getAccount(accountId: string): Promise<AccountRecord | undefined>;
  /** `username` must be canonical (lowercase). */
  getAccountByUsername(username: string): Promise<AccountRecord | undefined>;
  /**
   * `username_taken` when another account has the name, or it is held (see `UsernameHold`)
   * for anyone but this account. With `hold`, the name given up stays held until
   * `hold.until` for everyone but this account (so it can change its mind).
   */
  setUsername(
    accountId: string,
    username: string,
    hold?: UsernameHold,
  ): Promise<'updated' | 'username_taken'>;
  /**
   * Deletes the account with all devices, keys, queues, credentials and linking codes, and
   * keeps a tombstone of its id alone (so sends to it are answered "gone", see `goneAccounts`).
   * With `hold`, its username stays unclaimable until `hold.until`.
   */
  deleteAccount(accountId: string, hold?: UsernameHold): Promise<boolean>;
  /** Which of `accountIds` were deleted (have a tombstone). */
  goneAccounts(accountIds: readonly string[]): Promise<string[]>;
  /** Everything stored about the account, for `GET /v1/accounts/me/export`. */
  exportAccount(
    accountId: string,
    now: number,
    retentionMs: number,
  ): Promise<AccountExportResponse | undefined>;

  // Devices
  getDevice(accountId: string, deviceId: number): Promise<DeviceRecord | undefined>;
  listDevices(accountId: string): Promise<DeviceRecord[]>;
  /** Records that the device was seen on `day` (start of a UTC day). */
  touchDevice(accountId: string, deviceId: number, day: number): Promise<void>;
  /** Stores the hash of a one-time linking code for the account. */
  addLinkingCode(accountId: string, codeHash: Uint8Array, expiresAt: number): Promise<void>;
  /** Consumes the linking code (if valid at `now`) and adds the device with the next free id. */
  linkDevice(
    codeHash: Uint8Array,
    now: number,
    maxDevices: number,
    device: NewDevice,
  ): Promise<LinkResult>;
  /** Removes the device with its keys and queue. */
  removeDevice(accountId: string, deviceId: number): Promise<boolean>;

  // Keys
  /**
   * Applies a prekey upload (see `PreKeyUploadRequest` for the replacement rules). `false`, and
   * nothing stored, when the device does not exist (e.g. removed since the request was
   * authenticated).
   */
  storeKeys(
    accountId: string,
    deviceId: number,
    upload: PreKeyUploadRequest,
    now: number,
  ): Promise<boolean>;
  keyStatus(
    accountId: string,
    deviceId: number,
    retentionMs: number,
  ): Promise<PreKeyStatusResponse | undefined>;
  /**
   * Builds bundles for one device or all (`'all'`) of an account, consuming one one-time EC
   * prekey and one one-time Kyber prekey per device when there are any. `undefined` when the
   * account or device does not exist.
   */
  takeBundles(
    accountId: string,
    deviceId: number | 'all',
  ): Promise<PreKeyBundleResponse | undefined>;

  // Messages
  /**
   * Atomically reads the destinations' devices, asks `plan`, and stores what it returns. With a
   * `send` key, a send already stored under that key is answered `replayed` instead (also when
   * a concurrent call with the same key commits first), and a stored send records its answer.
   */
  enqueue<R>(
    accountIds: readonly string[],
    plan: EnqueuePlanner<R>,
    options?: EnqueueOptions,
  ): Promise<EnqueueResult<R>>;
  /** A page of the device's queue in order, after `afterSeq`, skipping envelopes older than `notBefore`. */
  fetchEnvelopes(
    accountId: string,
    deviceId: number,
    page: { afterSeq: number; limit: number; notBefore: number },
  ): Promise<StoredEnvelope[]>;
  /** Deletes one envelope from that device's queue only; false if it is not there. */
  deleteEnvelope(accountId: string, deviceId: number, envelopeId: string): Promise<boolean>;
  /**
   * Deletes these envelopes from that device's queue only, in one statement (batched acks);
   * returns the ids that were there.
   */
  deleteEnvelopes(
    accountId: string,
    deviceId: number,
    envelopeIds: readonly string[],
  ): Promise<string[]>;

  // Sealed sender
  /**
   * The relay's sealed sender keys; stores `initial` first if there are none (atomically, so
   * relay nodes starting together on one database agree on one set).
   */
  sealedSenderKeys(initial: SealedSenderKeyRecord): Promise<SealedSenderKeyRecord>;
  /**
   * Sets (or with `null` clears) the SHA-256 of the account's unidentified-access key; false
   * when the account does not exist.
   */
  setAccessKeyHash(accountId: string, keyHash: Uint8Array | null): Promise<boolean>;
  /** The access-key hashes of those accounts that have one. */
  accessKeyHashes(accountIds: readonly string[]): Promise<Map<string, Uint8Array>>;

  /** Attachment records (`attachments.ts`). */
  readonly attachments: AttachmentStore;

  // Maintenance
  /**
   * Deletes envelopes and send records older than `now - retentionMs`, expired linking codes
   * and retired keys.
   */
  expire(now: number, retentionMs: number): Promise<ExpiryResult>;
  /** Throws if the store cannot serve requests (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
