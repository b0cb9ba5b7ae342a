/**
 * The records the client keeps in storage and hands to UIs. Plain data (no classes), so they
 * store as they are and cross worker/tab boundaries.
 * @module
 */

/** Our own account on this device. Lives in `meta/account`. */
export interface AccountRecord {
  accountId: string;
  deviceId: number;
  username: string;
  credential: string;
  registrationId: number;
  /** libsignal IdentityKeyPairStructure bytes. Secret; encrypted at rest. */
  identityKeyPair: Uint8Array;
  relayUrl: string;
  createdAt: number;
}

/** Where our key generation stands. `meta/keys`. */
export interface KeyStateRecord {
  nextPreKeyId: number;
  nextKyberPreKeyId: number;
  nextSignedPreKeyId: number;
  signedPreKeyId: number;
  signedPreKeyCreatedAt: number;
  lastResortKyberPreKeyId: number;
}

export interface ContactRecord {
  accountId: string;
  username?: string;
  /** Devices we know, with their registration ids. */
  devices: Record<string, number>;
  /** When we learned the device list from the relay. */
  devicesFetchedAt?: number;
  /** The relay reported a different identity key than the trusted one; sending is blocked. */
  identityChanged?: boolean;
  /**
   * The user compared safety numbers and marked this contact verified (`setVerified`). Only
   * true while `verifiedKey` is still the trusted identity key: any identity change clears it.
   */
  verified?: boolean;
  /** The identity key that was verified; verification is bound to it. */
  verifiedKey?: Uint8Array;
  /**
   * The contact's unidentified-access secret, learned from their end-to-end encrypted messages
   * (secret; encrypted at rest). With it we send to them sealed: the relay does not learn that
   * the message is from us. Forgotten when the relay says the key derived from it is wrong.
   */
  accessSecret?: Uint8Array;
  /** Whether messages to this contact go sealed (we hold their access secret). */
  sealedSender?: boolean;
  /**
   * When the (last) verified / not verified decision for `verifiedKey` was made, on the
   * deciding device's clock: an older decision synced from another device is ignored.
   */
  verifiedAt?: number;
  /**
   * When we learned that the relay deleted this account (it answered "gone"). Nothing is sent
   * to it any more; its conversations say "account deleted".
   */
  goneAt?: number;
  /**
   * The username this account had when it lost it (deleted, or renamed and the name now
   * belongs to another account): shown with "account deleted" or "renamed", never as the
   * current owner of the name.
   */
  formerUsername?: string;
  /**
   * The username this account has was last seen on another account we knew (this id): it is
   * "not the <name> you talked to before".
   */
  usernameReusedFrom?: string;
  /**
   * We wrote to them, started a conversation, chose them for a group or accepted their
   * message request (trust/requests.ts). Until then their direct conversation is a request.
   */
  accepted?: boolean;
  /** We blocked them: everything they send is dropped, without receipts (trust/blocking.ts). */
  blocked?: boolean;
  /** When (the deciding device's clock) `blocked` was last set or cleared. */
  blockedAt?: number;
}

/** A trusted remote identity (TOFU), per account. `identities/<accountId>`. */
export interface IdentityRecord {
  publicKey: Uint8Array;
  firstSeenAt: number;
  /** A different key the user has not acknowledged yet. */
  pendingKey?: Uint8Array;
}

export interface GroupMemberRecord {
  accountId: string;
  username?: string;
}

export interface GroupRecord {
  groupId: string;
  title: string;
  revision: number;
  members: GroupMemberRecord[];
  creator: string;
  /** Our current sender-key distribution id for this group. */
  distributionId: string;
  /** Which devices (`accountId.deviceId`) already have our current sender key. */
  senderKeySentTo: string[];
  /** We left or were removed: no more sending. */
  left?: boolean;
  /**
   * Who may change the group (groups/admins.ts); missing in groups from before admins
   * existed: then the creator alone.
   */
  admins?: string[];
  /** Someone we have not accepted added us: a message request until we accept it. */
  request?: boolean;
  /** Who added us, while `request`. */
  invitedBy?: string;
}

/**
 * The one state of an outgoing message, shown the same way everywhere: `queued` (stored here,
 * the relay has not accepted it yet; retried automatically) → `sent` (the relay accepted it) →
 * `delivered` → `read`; or `failed` with a `SendFailure` saying why and whether a retry can help.
 * Incoming messages use `read` once the user saw them.
 */
export type MessageStatus = 'queued' | 'sent' | 'delivered' | 'read' | 'failed';

/** Why an outgoing message failed for good (until the user does something about it). */
export type SendFailureReason =
  /** A recipient's safety number changed: acknowledge it, then retry. */
  | 'identity_changed'
  /** We are no longer a member of the group. */
  | 'not_group_member'
  /** The recipient's account no longer exists. */
  | 'recipient_gone'
  /** The relay says the recipient deleted their account: never retried. */
  | 'account_deleted'
  /** Larger than the relay accepts. */
  | 'too_large'
  /** An attachment's upload failed (see the attachment's `upload` for why); retry uploads it. */
  | 'upload_failed'
  /** The relay refused it for another reason (its code is kept). */
  | 'rejected';

export interface SendFailure {
  reason: SendFailureReason;
  /** Whether `retry` may succeed once the cause is dealt with (e.g. after acknowledging). */
  retryable: boolean;
  /** The accounts concerned (identity changes), or the relay's error code. */
  detail?: string[];
}

export type ConversationEventKind =
  | 'identity_changed'
  /** We (this or another of our devices: see the sender) marked the contact verified. */
  | 'marked_verified'
  /** We marked a verified contact not verified. */
  | 'marked_unverified'
  | 'decryption_failed'
  | 'group_created'
  | 'group_members_added'
  | 'group_members_removed'
  | 'group_renamed'
  | 'group_left'
  /** The other account (direct) was deleted. */
  | 'account_deleted'
  /** A member's account was deleted; they were dropped from the group (subjects: them). */
  | 'member_account_deleted'
  /** Members were made admins (subjects: who). */
  | 'group_admins_added'
  /** A group update from someone not allowed to make it was ignored (subjects: who sent it). */
  | 'group_update_refused'
  /** We blocked / unblocked the contact (this or another of our devices). */
  | 'contact_blocked'
  | 'contact_unblocked'
  /** The sender set the disappearing-message timer to `timer` seconds (0: off). */
  | 'timer_changed';

export interface MessageRecord {
  /** The sender's message id (hex). */
  id: string;
  conversationId: string;
  kind: 'text' | 'event';
  direction: 'in' | 'out';
  senderAccountId: string;
  senderDeviceId: number;
  /** Sender's clock. */
  timestamp: number;
  /** Our clock when stored. */
  storedAt: number;
  text?: string;
  event?: ConversationEventKind;
  /** Account ids an event is about (member changes, identity changes). */
  subjects?: string[];
  status?: MessageStatus;
  /** Set while `status` is `failed`. */
  failure?: SendFailure;
  /** Accounts that confirmed delivery / reading of an outgoing message. */
  deliveredTo?: string[];
  readBy?: string[];
  /** The message this one replies to, as the replier saw it. */
  quote?: QuoteRef;
  /** Reactions: one emoji per account id. */
  reactions?: Record<string, string>;
  /** When its author last edited it (their clock); the text is the newest. */
  editedAt?: number;
  /** Earlier texts, oldest first: kept only on the author's own devices. */
  editHistory?: Array<{ text: string; timestamp: number }>;
  /** Its author deleted it for everyone: text, quote, reactions and history are gone. */
  deleted?: boolean;
  /**
   * Outgoing, not yet handed to the outbox: its attachments are uploading, or an upload failed
   * (then `status` is `failed` with `upload_failed`). Cleared when it is queued.
   */
  held?: boolean;
  /** Files sent with it (attachments/): pointers to encrypted blobs on the relay. */
  attachments?: AttachmentRecord[];
  /** A disappearing message: removed this many seconds after it was read (sent, for ours). */
  expiresIn?: number;
  /** When it will be removed (our clock, ms); set once its countdown started. */
  expireAt?: number;
  /** A `timer_changed` event: the new timer, seconds (0: off). */
  timer?: number;
}

/**
 * An attachment as stored with its message: the pointer (what the recipient needs to fetch and
 * open the blob; `key` is secret, encrypted at rest) and, on the sender's device, where the
 * upload stands. The message itself keeps its one `status`: `queued` while uploading, `failed`
 * with `upload_failed` when an upload failed.
 */
export interface AttachmentRecord {
  /** The relay's id of the blob; empty until uploaded. */
  relayId: string;
  /** AES-256 key ‖ HMAC-SHA256 key (64 bytes). Secret. */
  key: Uint8Array;
  /** SHA-256 of the blob. */
  digest: Uint8Array;
  /** The plaintext's length. */
  size: number;
  contentType: string;
  fileName: string;
  width?: number;
  height?: number;
  /** A small preview image (images only). */
  thumbnail?: Uint8Array;
  caption?: string;
  /** Outgoing only: `uploading` → `uploaded`, or `failed` with `uploadFailure`. */
  upload?: 'uploading' | 'uploaded' | 'failed';
  uploadFailure?: AttachmentFailure;
  /** When this device last downloaded and verified it (our clock). */
  downloadedAt?: number;
}

/** Why a transfer failed, in the transport's words (`AttachmentTransferError.code`). */
export interface AttachmentFailure {
  code:
    | 'too_large'
    | 'quota'
    | 'rate_limited'
    | 'not_found'
    | 'network'
    | 'cancelled'
    | 'integrity'
    /** The app closed during the upload: the encrypted file went with it. */
    | 'interrupted';
  retryable: boolean;
}

/** What a reply shows of the message it quotes. */
export interface QuoteRef {
  id: string;
  authorAccountId: string;
  /** The start of the quoted text (QUOTE_TEXT_LENGTH characters at most). */
  text: string;
  /** The quoted message disappeared (its timer ran out): `text` is dropped too. */
  gone?: boolean;
}

export interface ConversationRecord {
  id: string;
  kind: 'direct' | 'group';
  /** The other account (direct) or the group id. */
  peer: string;
  lastMessageAt: number;
  unread: number;
  /**
   * A message request (records/trust.ts; worked out when listed, not stored): a stranger
   * wrote first, or added us to a group. No read receipts or typing go back until accepted.
   */
  request?: boolean;
  /** Disappearing messages: seconds after reading that a message is removed; absent = off. */
  expireTimer?: number;
  /** When (the changer's clock) the timer was last changed: an older change is ignored. */
  expireTimerAt?: number;
}

export const directConversationId = (accountId: string) => `direct:${accountId}`;
export const groupConversationId = (groupId: string) => `group:${groupId}`;

/** Storage key of a message: sorts chronologically within its conversation. */
export function messageKey(conversationId: string, timestamp: number, id: string): string {
  return `${conversationId}/${timestamp.toString().padStart(16, '0')}/${id}`;
}
