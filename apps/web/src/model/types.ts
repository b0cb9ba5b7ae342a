/**
 * The view model: everything the screens read and every action they can take. The screens know
 * nothing else; `client-model.ts` implements this on top of `@parley/client`, and
 * `fake-model.ts` implements it in memory for component tests.
 *
 * State is one immutable snapshot (`getState`) replaced on every change and observed through
 * `subscribe` (React's `useSyncExternalStore`). Actions are async and reject with an `Error`
 * whose message is fit to show to the user.
 * @module
 */

/** One state per outgoing message, and the conversation event kinds: declared once, in the core. */
export type { ConversationEventKind, MessageStatus, SendFailureReason } from '@parley/client';
import type { ConversationEventKind, MessageStatus, SendFailureReason } from '@parley/client';
import type { TrustActions } from './trust.ts';
import type { HistoryView } from './history.ts';
import type { DisappearingActions } from './disappearing.ts';

export interface Me {
  accountId: string;
  deviceId: number;
  username: string;
  /** Only the primary device can approve new devices. */
  isPrimary: boolean;
}

export interface Contact {
  accountId: string;
  username: string;
  verified: boolean;
  /** The contact's identity key changed and the user has not acknowledged it yet. */
  identityChanged: boolean;
  /** Messages to this contact go sealed: the relay does not learn that they are from us. */
  sealedSender: boolean;
  /** The account was deleted: nothing can be sent to it any more. */
  deleted?: boolean;
  /** The username it had until it lost it (deleted, or renamed and now someone else's). */
  formerUsername?: string;
  /** Its username was last seen on another account we talked to (that account's id). */
  usernameReusedFrom?: string;
  /** We blocked them (model/trust.ts). */
  blocked?: boolean;
}

export interface GroupMember {
  accountId: string;
  username: string;
}

export interface Group {
  groupId: string;
  title: string;
  members: GroupMember[];
  /** We left or were removed. */
  left: boolean;
  /** Account ids of the admins (we may be one); undefined: no admin rules known. */
  admins?: readonly string[];
  /** Who added us, while the group is a message request. */
  invitedBy?: string;
}

export interface Message {
  id: string;
  conversationId: string;
  kind: 'text' | 'event';
  direction: 'in' | 'out';
  senderAccountId: string;
  /** The sender's clock, in ms. */
  timestamp: number;
  text?: string;
  event?: ConversationEventKind;
  /** Usernames (or ids) an event is about. */
  subjects?: string[];
  status?: MessageStatus;
  /** Why a `failed` message was not sent, and whether sending it again can help. */
  failure?: { reason: SendFailureReason; retryable: boolean };
  /** The message this one replies to, as the replier saw it. */
  quote?: { id: string; authorAccountId: string; text: string; gone?: boolean };
  /** One emoji per account id. */
  reactions?: Readonly<Record<string, string>>;
  /** Its author edited it (the text is the newest). */
  edited?: boolean;
  /** Its author deleted it for everyone. */
  deleted?: boolean;
  /** Files sent with it (encrypted; opened with `openAttachment`). */
  attachments?: readonly AttachmentView[];
  /** A disappearing message: removed this many seconds after it was read (sent, for ours). */
  expiresIn?: number;
  /** A `timer_changed` event: the new timer, seconds (0: off). */
  timer?: number;
}

/** What the screens know of an attachment: never its key. */
export interface AttachmentView {
  fileName: string;
  contentType: string;
  /** Bytes. */
  size: number;
  width?: number;
  height?: number;
  /** A small preview image (JPEG) the sender made, shown until the image itself is opened. */
  thumbnail?: Uint8Array;
  /** Outgoing only: where the upload stands, and why it failed. */
  upload?: 'uploading' | 'uploaded' | 'failed';
  uploadFailure?: { code: string; retryable: boolean };
}

/** An upload or download in progress: blob bytes moved of the total. */
export interface Transfer {
  direction: 'upload' | 'download';
  done: number;
  total: number;
}

/** `transfers` key of attachment `index` of message `messageId`. */
export const transferKey = (messageId: string, index: number, direction: Transfer['direction']) =>
  `${messageId}/${index}/${direction}`;

export interface ConversationSummary {
  /** `direct:<accountId>` or `group:<groupId>`. */
  id: string;
  kind: 'direct' | 'group';
  /** The other account (direct) or the group id. */
  peer: string;
  title: string;
  lastMessage?: { text: string; direction: 'in' | 'out'; senderName?: string };
  lastMessageAt: number;
  unread: number;
  /** A message request: a stranger wrote, or added us to a group (model/trust.ts). */
  request?: boolean;
  /** Disappearing messages: the timer, seconds (model/disappearing.ts); absent = off. */
  expireTimer?: number;
}

export interface Device {
  deviceId: number;
  name?: string;
  createdAt?: number;
  lastSeenAt?: number;
  current: boolean;
}

export interface SafetyNumber {
  accountId: string;
  username: string;
  /** 60 digits. */
  digits: string;
  /** What to put in the QR code (the scannable fingerprint, base64url). */
  scannable: string;
  verified: boolean;
}

/** A pending "link this browser to my account" request shown by a new device. */
export interface LinkOffer {
  /** The `parley://link?...` URI to show as text and QR code. */
  uri: string;
}

export type Phase =
  | { kind: 'loading' }
  /** Local data is encrypted with a passphrase. */
  | { kind: 'locked' }
  /** No account on this browser yet. */
  | { kind: 'welcome' }
  | { kind: 'ready' }
  /** Fatal: storage could not be opened etc. */
  | { kind: 'error'; message: string };

export type Connection = 'connecting' | 'online' | 'offline';

export interface ModelState {
  phase: Phase;
  me?: Me;
  connection: Connection;
  /**
   * Several tabs of one profile share one relay socket: `leader` holds it, a `follower` sends
   * over HTTP and learns of new messages from the leader (undefined: not signed in yet).
   */
  tab?: 'leader' | 'follower';
  /** Most recent first. */
  conversations: ConversationSummary[];
  contacts: Readonly<Record<string, Contact>>;
  groups: Readonly<Record<string, Group>>;
  /** Messages of conversations that were opened, oldest first. */
  messages: Readonly<Record<string, readonly Message[]>>;
  /** Who is typing, by conversation id (account ids). */
  typing: Readonly<Record<string, readonly string[]>>;
  /** A passphrase protects the local data. */
  hasPassphrase: boolean;
  /** Bumped when another of our devices announces itself (the device list changed). */
  devicesRevision?: number;
  /**
   * Set while the relay's backlog is being worked through after (re)connecting: how many
   * messages are done so far (the relay does not say how many wait). Cleared once drained.
   */
  catchUp?: { done: number };
  /** Attachment uploads and downloads in progress (`transferKey`). */
  transfers?: Readonly<Record<string, Transfer>>;
  /** Message history transfer to or from this device (model/history.ts). */
  history?: HistoryView;
}

export interface ChatModel extends TrustActions, DisappearingActions {
  getState(): ModelState;
  subscribe(listener: () => void): () => void;

  // Onboarding and lock
  register(username: string): Promise<void>;
  /** Starts linking this browser as a new device; resolves when an existing device approved. */
  startLinking(onOffer: (offer: LinkOffer) => void, signal: AbortSignal): Promise<void>;
  unlock(passphrase: string): Promise<void>;
  /** Sets, changes or (with `null`) removes the passphrase. */
  setPassphrase(passphrase: string | null): Promise<void>;
  /** Forgets the in-memory keys until `unlock`. */
  lock(): Promise<void>;

  // Conversations
  /** Loads the messages of a conversation into `state.messages`. */
  openConversation(conversationId: string): Promise<void>;
  sendText(conversationId: string, text: string, options?: { replyTo?: string }): Promise<void>;
  /** Our reaction to a message (`null` removes it). */
  react(conversationId: string, messageId: string, emoji: string | null): Promise<void>;
  /** A new text for our own message (within 24 hours). */
  editMessage(conversationId: string, messageId: string, text: string): Promise<void>;
  /** Deletes our own message for everyone (within 24 hours). */
  deleteForEveryone(conversationId: string, messageId: string): Promise<void>;
  /** Deletes a message from this device and our other devices. */
  deleteForMe(conversationId: string, messageId: string): Promise<void>;
  /**
   * Encrypts and sends a file (images get their dimensions and a thumbnail); the message shows
   * at once with the upload's progress. Rejects with why, leaving the message failed (Retry).
   */
  sendFile(conversationId: string, file: File, options?: { caption?: string }): Promise<void>;
  /** Cancels the upload of message `messageId` (it fails as "cancelled"; Retry sends it). */
  cancelUpload(messageId: string): void;
  /** Downloads, checks and decrypts an attachment: a Blob of its content type. */
  openAttachment(
    conversationId: string,
    messageId: string,
    index: number,
    options?: { signal?: AbortSignal },
  ): Promise<Blob>;
  /** Sends a `failed` message again (after its cause was dealt with); no new bubble. */
  retrySend(conversationId: string, messageId: string): Promise<void>;
  markRead(conversationId: string): Promise<void>;
  setTyping(conversationId: string, typing: boolean): void;
  /** Finds an account by username; returns the direct conversation id. */
  startDirect(username: string): Promise<string>;

  // Groups
  createGroup(title: string, usernames: string[]): Promise<string>;
  renameGroup(groupId: string, title: string): Promise<void>;
  addMembers(groupId: string, usernames: string[]): Promise<void>;
  removeMember(groupId: string, accountId: string): Promise<void>;
  leaveGroup(groupId: string): Promise<void>;

  // Devices
  listDevices(): Promise<Device[]>;
  /**
   * Approves a new device that shows `uri` (`parley://link?...`); with `transferHistory` our
   * message history goes along.
   */
  approveDevice(uri: string, options?: { transferHistory?: boolean }): Promise<void>;
  unlinkDevice(deviceId: number): Promise<void>;

  // Safety
  safetyNumber(accountId: string): Promise<SafetyNumber>;
  setVerified(accountId: string, verified: boolean): Promise<void>;
  /** The user has seen that the contact's key changed and accepts the new one. */
  acceptIdentityChange(accountId: string): Promise<void>;

  // Settings
  /** A JSON document with everything this device and the relay hold about the account. */
  exportData(): Promise<Blob>;
  deleteAccount(): Promise<void>;
}

export const emptyState = (): ModelState => ({
  phase: { kind: 'loading' },
  connection: 'connecting',
  conversations: [],
  contacts: {},
  groups: {},
  messages: {},
  typing: {},
  hasPassphrase: false,
  devicesRevision: 0,
});
