/**
 * `ChatModel` on top of `@parley/client`: one `ParleyClient` on an encrypted IndexedDB
 * storage, its WebSocket to the relay, and a snapshot rebuilt from storage whenever the
 * client reports a change (coalesced, so a burst of envelopes costs one rebuild).
 *
 * Several tabs of one profile share that storage. Storage transactions (and so all session
 * work) are serialised across tabs with the Web Locks API; only the tab holding the
 * `parley:<db>:socket` lock connects the relay socket (one socket per device); the others
 * send over HTTP as usual and hear of every committed change over a `BroadcastChannel`, then
 * re-read IndexedDB. When the leader tab closes, the next tab in the lock's queue connects.
 *
 * `ClientModel` is only the front: it builds its parts (`client-model/`) in order, each from
 * the ones before it, and hands every action to the part that does it. The plumbing: `profile`
 * (keyring, storage, locks), `tab-channel` and `tab-events`, `socket-leader`, `snapshot`,
 * `typing-indicators`, `client-events`, `client-lifecycle`. The actions, by screen: `onboarding`,
 * `app-lock`, `conversations`, `messages`, `groups`, `requests`, `devices`, `safety`, `settings`.
 * @module
 */
import { FileTransfers } from './attachments.ts';
import { StateStore } from './store.ts';
import type { ChatModel, Device, LinkOffer, SafetyNumber } from './types.ts';
import { ActiveClient } from './client-model/active-client.ts';
import { AppLock } from './client-model/app-lock.ts';
import { ClientLifecycle } from './client-model/client-lifecycle.ts';
import { ConversationActions } from './client-model/conversations.ts';
import { DeviceActions } from './client-model/devices.ts';
import { GroupActions } from './client-model/groups.ts';
import { MessageActions } from './client-model/messages.ts';
import { Onboarding } from './client-model/onboarding.ts';
import { Profile, type ClientModelOptions } from './client-model/profile.ts';
import { RequestActions } from './client-model/requests.ts';
import { SafetyActions } from './client-model/safety.ts';
import { SettingsActions } from './client-model/settings.ts';
import { Snapshot } from './client-model/snapshot.ts';
import { SocketLeader } from './client-model/socket-leader.ts';
import { TabChannel } from './client-model/tab-channel.ts';
import { onTabMessage } from './client-model/tab-events.ts';
import { TypingIndicators } from './client-model/typing-indicators.ts';

export type { ClientModelOptions } from './client-model/profile.ts';
export { friendly } from './client-model/errors.ts';
export { summarize, toGroup, toMessage } from './client-model/views.ts';

export class ClientModel extends StateStore implements ChatModel {
  readonly #lifecycle: ClientLifecycle;
  readonly #onboarding: Onboarding;
  readonly #appLock: AppLock;
  readonly #conversations: ConversationActions;
  readonly #messages: MessageActions;
  readonly #groups: GroupActions;
  readonly #requests: RequestActions;
  readonly #devices: DeviceActions;
  readonly #safety: SafetyActions;
  readonly #settings: SettingsActions;

  constructor(options: ClientModelOptions) {
    super();
    // The plumbing, each part built from the ones before it. Every commit to storage is
    // announced to the other tabs.
    const profile = new Profile(options, () => tabs.committed());
    const tabs = new TabChannel(profile.dbName);
    const active = new ActiveClient();
    const snapshot = new Snapshot(this, active);
    const typing = new TypingIndicators(this);
    const socket = new SocketLeader(this, profile, active, snapshot, tabs);
    const files = new FileTransfers(this);
    const lifecycle = new ClientLifecycle(
      this,
      profile,
      active,
      snapshot,
      typing,
      tabs,
      socket,
      files,
    );
    const parts = { store: this, profile, active, snapshot, typing, tabs, socket, lifecycle };
    tabs.listen((message) => onTabMessage(message, parts));
    this.#lifecycle = lifecycle;
    // The actions, by what the screens do.
    this.#onboarding = new Onboarding(this, profile, active, snapshot, socket, tabs, lifecycle);
    this.#appLock = new AppLock(this, profile, tabs, lifecycle);
    this.#conversations = new ConversationActions(this, active, snapshot);
    this.#messages = new MessageActions(this, active, snapshot, files);
    this.#groups = new GroupActions(active, snapshot);
    this.#requests = new RequestActions(active, snapshot);
    this.#devices = new DeviceActions(active);
    this.#safety = new SafetyActions(active, snapshot);
    this.#settings = new SettingsActions(active, lifecycle);
  }

  /** Opens storage; shows the lock screen, onboarding or the chats. */
  init(): Promise<void> {
    return this.#lifecycle.init();
  }

  /** Disconnects (tests; a page simply goes away). */
  close(): Promise<void> {
    return this.#lifecycle.close();
  }

  // Onboarding and lock

  register(username: string): Promise<void> {
    return this.#onboarding.register(username);
  }
  startLinking(onOffer: (offer: LinkOffer) => void, signal: AbortSignal): Promise<void> {
    return this.#onboarding.startLinking(onOffer, signal);
  }
  unlock(passphrase: string): Promise<void> {
    return this.#appLock.unlock(passphrase);
  }
  setPassphrase(passphrase: string | null): Promise<void> {
    return this.#appLock.setPassphrase(passphrase);
  }
  lock(): Promise<void> {
    return this.#appLock.lock();
  }

  // Conversations

  openConversation(conversationId: string): Promise<void> {
    return this.#conversations.openConversation(conversationId);
  }
  startDirect(username: string): Promise<string> {
    return this.#conversations.startDirect(username);
  }
  markRead(conversationId: string): Promise<void> {
    return this.#conversations.markRead(conversationId);
  }
  setTyping(conversationId: string, typing: boolean): void {
    this.#conversations.setTyping(conversationId, typing);
  }

  // Messages and files

  sendText(conversationId: string, text: string, options?: { replyTo?: string }): Promise<void> {
    return this.#messages.sendText(conversationId, text, options);
  }
  react(conversationId: string, messageId: string, emoji: string | null): Promise<void> {
    return this.#messages.react(conversationId, messageId, emoji);
  }
  editMessage(conversationId: string, messageId: string, text: string): Promise<void> {
    return this.#messages.editMessage(conversationId, messageId, text);
  }
  deleteForEveryone(conversationId: string, messageId: string): Promise<void> {
    return this.#messages.deleteForEveryone(conversationId, messageId);
  }
  deleteForMe(conversationId: string, messageId: string): Promise<void> {
    return this.#messages.deleteForMe(conversationId, messageId);
  }
  setExpireTimer(conversationId: string, seconds: number): Promise<void> {
    return this.#messages.setExpireTimer(conversationId, seconds);
  }
  sendFile(conversationId: string, file: File, options?: { caption?: string }): Promise<void> {
    return this.#messages.sendFile(conversationId, file, options);
  }
  cancelUpload(messageId: string): void {
    this.#messages.cancelUpload(messageId);
  }
  openAttachment(
    conversationId: string,
    messageId: string,
    index: number,
    options?: { signal?: AbortSignal },
  ): Promise<Blob> {
    return this.#messages.openAttachment(conversationId, messageId, index, options);
  }
  retrySend(conversationId: string, messageId: string): Promise<void> {
    return this.#messages.retrySend(conversationId, messageId);
  }

  // Groups

  createGroup(title: string, usernames: string[]): Promise<string> {
    return this.#groups.createGroup(title, usernames);
  }
  renameGroup(groupId: string, title: string): Promise<void> {
    return this.#groups.renameGroup(groupId, title);
  }
  addMembers(groupId: string, usernames: string[]): Promise<void> {
    return this.#groups.addMembers(groupId, usernames);
  }
  removeMember(groupId: string, accountId: string): Promise<void> {
    return this.#groups.removeMember(groupId, accountId);
  }
  leaveGroup(groupId: string): Promise<void> {
    return this.#groups.leaveGroup(groupId);
  }
  makeAdmin(groupId: string, accountId: string): Promise<void> {
    return this.#groups.makeAdmin(groupId, accountId);
  }

  // Message requests and blocking (model/trust.ts)

  acceptRequest(conversationId: string): Promise<void> {
    return this.#requests.acceptRequest(conversationId);
  }
  deleteRequest(conversationId: string): Promise<void> {
    return this.#requests.deleteRequest(conversationId);
  }
  blockRequest(conversationId: string): Promise<void> {
    return this.#requests.blockRequest(conversationId);
  }
  setBlocked(accountId: string, blocked: boolean): Promise<void> {
    return this.#requests.setBlocked(accountId, blocked);
  }

  // Devices

  listDevices(): Promise<Device[]> {
    return this.#devices.listDevices();
  }
  approveDevice(uri: string, options?: { transferHistory?: boolean }): Promise<void> {
    return this.#devices.approveDevice(uri, options);
  }
  unlinkDevice(deviceId: number): Promise<void> {
    return this.#devices.unlinkDevice(deviceId);
  }

  // Safety numbers

  safetyNumber(accountId: string): Promise<SafetyNumber> {
    return this.#safety.safetyNumber(accountId);
  }
  setVerified(accountId: string, verified: boolean): Promise<void> {
    return this.#safety.setVerified(accountId, verified);
  }
  acceptIdentityChange(accountId: string): Promise<void> {
    return this.#safety.acceptIdentityChange(accountId);
  }

  // Settings

  exportData(): Promise<Blob> {
    return this.#settings.exportData();
  }
  deleteAccount(): Promise<void> {
    return this.#settings.deleteAccount();
  }
}
