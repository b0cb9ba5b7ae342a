/**
 * Every storage key the client core writes, in one place (the keyspaces are storage/types.ts).
 * @module
 */
import type { ProtocolAddress } from '@parley/crypto/address.js';

export { messageKey } from './model.ts';

/** `meta/*`: one record each. */
export const META = {
  account: 'account',
  keys: 'keys',
  ownDevices: 'ownDevices',
  outboxSeq: 'outboxSeq',
  /** Sealed sender: our access secret, the pinned trust root, our sender certificate. */
  sealed: 'sealed',
  /** Ids of our messages held back while their attachments upload (attachments/send.ts). */
  heldUploads: 'heldUploads',
  /** History transfer on a linked device: offered, imported or failed (history/transfer.ts). */
  history: 'history',
  /** History-gap requests this (archive) device has yet to answer (history/gap.ts). */
  historyGapAnswers: 'historyGapAnswers',
  /** Prefix: delivery receipts held while catching up, one row per sender (receive/held-receipts.ts). */
  heldReceipts: 'heldReceipts/',
  /** When `pruneProcessed` last ran from maintenance (account/account.ts). */
  processedPrunedAt: 'processedPrunedAt',
} as const;

/** `sessions/<account>.<device>`. */
export const sessionKey = (a: { name: string; deviceId: number }) => `${a.name}.${a.deviceId}`;
/** Every session of an account: a prefix of `sessionKey`. */
export const sessionPrefix = (accountId: string) => `${accountId}.`;
/** `senderKeys/<account>.<device>/<distribution id>`. */
export const senderKeyKey = (a: ProtocolAddress, distributionId: string) =>
  `${a.name}.${a.deviceId}/${distributionId}`;
/** `groups/*.senderKeySentTo` entries: which device has our sender key. */
export const deviceTag = (accountId: string, deviceId: number | string) =>
  `${accountId}.${deviceId}`;

/** `processed/*`: dedupe and indexes. */
export const PROCESSED = {
  /** An envelope id already handled (value: when). */
  envelope: (envelopeId: string) => `env:${envelopeId}`,
  /** A (sender, message id) already handled (value: when). */
  message: (senderAccountId: string, messageId: string) => `msg:${senderAccountId}:${messageId}`,
  /** Where a message is stored (value: its `messages` key). */
  messageIndex: (senderAccountId: string, messageId: string) =>
    `msgkey:${senderAccountId}:${messageId}`,
  /** A 1:1 message we sent to `to` at `timestamp` (value: message id), for retry requests. */
  sentDirect: (to: string, timestamp: number) => `sent:${to}:${timestamp}`,
  /** Every 1:1 message we sent to `to`: a prefix of `sentDirect`. */
  sentDirectPrefix: (to: string) => `sent:${to}:`,
  /** A group message we sent at `timestamp` (value: { groupId, id }). */
  sentGroup: (timestamp: number) => `sentg:${timestamp}`,
  /** A group update parked until the one it builds on arrives (receive/group-pending.ts). */
  pendingGroupUpdate: (groupId: string) => `gpend:${groupId}`,
  /**
   * A disappearing message's removal, sorted by time (value: its `messages` key): the sweep
   * reads only the due ones (disappearing.ts).
   */
  expiry: (expireAt: number, senderAccountId: string, messageId: string) =>
    `exp:${expireAt.toString().padStart(16, '0')}:${senderAccountId}:${messageId}`,
  expiryPrefix: 'exp:',
  /** The prefixes `pruneProcessed` ages out. */
  agedPrefixes: ['env:', 'msg:'] as const,
} as const;

/** `outbox/<sequence>`: zero-padded so a scan is first-in first-out. */
export const outboxKey = (seq: number) => seq.toString().padStart(16, '0');
