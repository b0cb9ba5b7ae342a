/**
 * `ParleyClient`: everything a Parley client does that is not pixels, as one front object over
 * modules with one concern each (see README.md for the layers). The constructor builds them
 * bottom-up, so each module only knows the ones below it:
 *
 * context → sessions, usernames → account → delivery (direct, group, outbox) → identity →
 * sync → groups → messaging → linking → receive → connection.
 *
 * Time and randomness are injectable (`clock`, `rng`) for deterministic tests.
 * @module
 */
import type { DeviceInfo, Envelope } from '@parley/protocol';
import { Account } from './account/account.ts';
import { Attachments, type OutgoingFile, type SendAttachmentOptions } from './attachments/index.ts';
import type { TransferOptions } from './attachments/types.ts';
import { PreKeys } from './account/prekeys.ts';
import { ClientContext, type ClientEvents, type ParleyClientOptions } from './context.ts';
import { sessionKey } from './crypto-stores.ts';
import { DirectDelivery } from './delivery/direct.ts';
import { GoneAccounts } from './delivery/gone.ts';
import { GroupDelivery } from './delivery/group.ts';
import { Outbox } from './delivery/outbox.ts';
import { SealedSender } from './delivery/sealed.ts';
import { Emitter } from './events.ts';
import { Groups } from './groups/index.ts';
import { Trust } from './trust/index.ts';
import { Identity } from './identity.ts';
import { Linking } from './linking.ts';
import { createAttachmentTransport } from './attachments/transport.ts';
import { HistoryTransfer, type ApproveOptions, type HistoryState } from './history/transfer.ts';
import { HistoryGaps } from './history/gap.ts';
import { HeldReceipts } from './receive/held-receipts.ts';
import { Sweeper } from './disappearing/index.ts';
import { ExpireTimers } from './expire-timer.ts';
import { MessageActions } from './message-actions.ts';
import { Messaging, type SendOptions } from './messaging.ts';
import { Connection } from './connection.ts';
import { META } from './keys.ts';
import type {
  AccountRecord,
  ContactRecord,
  ConversationRecord,
  GroupRecord,
  MessageRecord,
} from './model.ts';
import { ContentHandler } from './receive/content.ts';
import { GroupControlHandler } from './receive/group-control.ts';
import { BatchReceiver } from './receive/batch.ts';
import { Receiver } from './receive/index.ts';
import { RetryAnswers } from './receive/retry.ts';
import { SyncHandler } from './receive/sync.ts';
import type { RelayHttp, SocketState } from './relay/index.ts';
import { Sessions } from './sessions.ts';
import type { Storage } from './storage/index.ts';
import { SelfSync } from './sync/index.ts';
import { storeUsername, Usernames } from './usernames.ts';
import { markAccepted } from './records/trust.ts';

export type { ClientEvents, ParleyClientOptions } from './context.ts';
export {
  BlockedContactError,
  GroupAdminError,
  IdentityChangedError,
  NotRegisteredError,
} from './errors.ts';

export class ParleyClient extends Emitter<ClientEvents> {
  readonly storage: Storage;
  readonly #ctx: ClientContext;
  readonly #sessions: Sessions;
  readonly #account: Account;
  readonly #outbox: Outbox;
  readonly #gone: GoneAccounts;
  readonly #identity: Identity;
  readonly #sync: SelfSync;
  readonly #groups: Groups;
  readonly #trust: Trust;
  readonly #messaging: Messaging;
  readonly #linking: Linking;
  readonly #history: HistoryTransfer;
  readonly #gaps: HistoryGaps;
  readonly #receiver: Receiver;
  readonly #sealed: SealedSender;
  readonly #batches: BatchReceiver;
  /** Counts start() and stop() calls, so a stop during a start's preparation wins. */
  #runs = 0;
  readonly #connection: Connection;
  readonly #actions: MessageActions;
  readonly #attachments: Attachments;
  readonly #sweeper: Sweeper;
  readonly #timers: ExpireTimers;

  private constructor(options: ParleyClientOptions, account: AccountRecord | undefined) {
    super();
    this.storage = options.storage;
    const ctx = (this.#ctx = new ClientContext(options, account, this));
    const sessions = (this.#sessions = new Sessions(ctx));
    const usernames = new Usernames(ctx);
    usernames.onNameMoved = async (ids) => void (await this.#gone.check(ids));
    this.#account = new Account(ctx, sessions, new PreKeys(ctx, sessions));
    const sealed = (this.#sealed = new SealedSender(ctx));
    const direct = new DirectDelivery(ctx, sessions, sealed);
    const gone = new GoneAccounts(ctx);
    const group = new GroupDelivery(ctx, sessions, direct, gone);
    const outbox = (this.#outbox = new Outbox(
      ctx,
      direct,
      group,
      { offline: () => this.#connection.markOffline() },
      gone,
    ));
    this.#identity = new Identity(ctx, sessions, direct, outbox);
    const sync = (this.#sync = new SelfSync(ctx, direct, outbox));
    const groups = (this.#groups = new Groups(ctx, direct, outbox));
    this.#gone = gone;
    // Members we found deleted: the other members are told (they check with the relay).
    gone.onGroupsChanged(async ({ groups: changed }) => {
      for (const [groupId, accountIds] of changed) await groups.announceGone(groupId, accountIds);
    });
    const messaging = (this.#messaging = new Messaging(ctx, direct, outbox, sync));
    this.#trust = new Trust(ctx, outbox, sync, this.#groups, messaging);
    this.#actions = new MessageActions(ctx, messaging, sync);
    this.#attachments = new Attachments(ctx, messaging);
    const transport = () => createAttachmentTransport(ctx);
    const gaps = (this.#gaps = new HistoryGaps(ctx, sync, transport));
    this.#history = new HistoryTransfer(ctx, transport, gaps);
    this.#sweeper = new Sweeper(ctx);
    this.#timers = new ExpireTimers(ctx, messaging);
    this.#linking = new Linking(ctx, sessions, this.#account.preKeys, sync, this.#history);
    const content = new ContentHandler(
      ctx,
      usernames,
      messaging,
      new GroupControlHandler(ctx, usernames, gone),
      new SyncHandler(ctx, usernames, sync, gaps),
      new RetryAnswers(ctx, direct, outbox),
    );
    this.#receiver = new Receiver(ctx, sessions, direct, outbox, content, sealed);
    const heldReceipts = new HeldReceipts(ctx, messaging);
    this.#batches = new BatchReceiver(ctx, this.#receiver, messaging, {
      receipts: heldReceipts,
      now: () => this.#connection.catchingUp,
    });
    this.#connection = new Connection(
      ctx,
      this.#account,
      outbox,
      this.#receiver,
      this.#batches,
      heldReceipts,
    );
  }

  /** Opens a client on `storage`, with the account stored there if any. */
  static async open(options: ParleyClientOptions): Promise<ParleyClient> {
    const account = await options.storage.get<AccountRecord>('meta', META.account);
    const client = new ParleyClient(options, account);
    // Our access secret goes into content built synchronously: have it at hand.
    await client.#sealed.load();
    await client.#attachments.sender.recover();
    return client;
  }

  /**
   * New-device side of linking: calls `onUri` with the `parley://link?...` URI to show; resolves
   * once an existing device approved it and this device joined the account.
   */
  static async link(
    options: ParleyClientOptions & { relayUrl: string; deviceName?: string },
    onUri: (uri: string) => void,
  ): Promise<ParleyClient> {
    const client = await ParleyClient.open(options);
    await client.#linking.link(options.relayUrl, options.deviceName, onUri);
    await client.#sealed.reload();
    await client.#prepareSealed();
    return client;
  }

  get account(): AccountRecord | undefined {
    return this.#ctx.account;
  }
  get accountId(): string {
    return this.#ctx.requireAccount().accountId;
  }
  get deviceId(): number {
    return this.#ctx.requireAccount().deviceId;
  }
  get http(): RelayHttp {
    return this.#ctx.http;
  }

  // Account ------------------------------------------------------------------------------
  /**
   * Registers (`deviceName` is encrypted so only our own devices can read it), then pins the
   * relay's sealed sender trust root and uploads our access key.
   */
  async register(username: string, relayUrl?: string, deviceName?: string): Promise<AccountRecord> {
    const account = await this.#account.register(username, relayUrl, deviceName);
    await this.#sealed.reload();
    await this.#prepareSealed();
    return account;
  }

  /** Sealed sender set-up; a failure (offline) is retried at the next start or send. */
  async #prepareSealed(): Promise<void> {
    try {
      await this.#sealed.prepare();
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      console.warn(
        `parley: sealed sender not ready yet (${why}); sending with the login meanwhile`,
      );
    }
  }
  whoami() {
    return this.#account.whoami();
  }
  setUsername(username: string): Promise<AccountRecord> {
    return this.#account.setUsername(username);
  }
  maintainKeys() {
    return this.#account.preKeys.maintain();
  }
  pruneProcessed(maxAgeMs?: number): Promise<number> {
    return this.#account.pruneProcessed(maxAgeMs);
  }
  /** Deletes the account on the relay (every device) and wipes local data. */
  async deleteAccount(): Promise<void> {
    this.#ctx.requireAccount();
    await this.stop();
    await this.#ctx.http.deleteAccount();
    await this.#account.wipe();
  }
  exportData() {
    return this.#account.exportData();
  }

  // Connection ---------------------------------------------------------------------------
  /**
   * Connects the delivery socket; resolves once the stored backlog has been handled. On a newly
   * linked device the first start imports the offered history before anything is received.
   */
  async start(): Promise<void> {
    const run = ++this.#runs;
    if (this.#ctx.account) await this.#history.importPending();
    if (this.#ctx.account) await this.#prepareSealed();
    // stop() was called while sealed sender was being prepared: stay stopped.
    if (run !== this.#runs) return;
    // Messages that fell due while the client was closed go first.
    if (this.#ctx.account) await this.#sweeper.start();
    if (run !== this.#runs) return this.#sweeper.stop();
    await this.#connection.start();
    if (this.#ctx.account) {
      // History-gap work cut off by a stop or crash: answered or fetched now (network).
      this.#ctx.background(this.#gaps.answerPending(), 'answering a history-gap request');
      this.#ctx.background(this.#gaps.downloadPending(), 'fetching the missing history');
      this.#ctx.background(this.#gaps.watch(), 'checking the missing history');
    }
  }
  stop(): Promise<void> {
    this.#runs++;
    this.#sweeper.stop();
    this.#gaps.stop();
    return this.#connection.stop();
  }
  /** Call when the platform says the network is back (browsers: the `online` event). */
  networkOnline(): void {
    this.#connection.networkOnline();
  }
  get connected(): boolean {
    return this.#connection.connected;
  }
  get connectionState(): SocketState {
    return this.#connection.state;
  }
  get drained(): boolean {
    return this.#connection.drained;
  }
  /** Processes one envelope (the socket does this; exposed for tests and other transports). */
  handleEnvelope(envelope: Envelope): Promise<void> {
    return this.#receiver.handle(envelope);
  }
  /** Processes envelopes in one transaction; resolves with the ids now durable (to ack). */
  handleEnvelopes(envelopes: readonly Envelope[]): Promise<string[]> {
    return this.#batches.handle(envelopes);
  }
  /** Tries everything queued now; resolves after the attempt. */
  flushOutbox(): Promise<void> {
    return this.#outbox.flush();
  }

  // Contacts and identity ----------------------------------------------------------------
  /** Finds an account by username and records it as a contact (our other devices too). */
  async addContact(username: string): Promise<ContactRecord> {
    const found = await this.#ctx.http.lookupUsername(username);
    return this.#ctx.transaction(async (scope) => {
      const moved: string[] = [];
      for (const g of await storeUsername(scope.tx, found.accountId, found.username, moved)) {
        scope.emit('group', g);
      }
      // Whoever had the name before was renamed or deleted: the relay tells which.
      if (moved.length > 0) scope.after(async () => void (await this.#gone.check(moved)));
      await markAccepted(scope.tx, found.accountId); // we chose to write to them
      await this.#sync.sendContacts(scope);
      return (await scope.tx.get<ContactRecord>('contacts', found.accountId))!;
    });
  }
  contacts(): Promise<ContactRecord[]> {
    return this.#identity.contacts();
  }
  contact(accountId: string): Promise<ContactRecord | undefined> {
    return this.#identity.contact(accountId);
  }
  setVerified(accountId: string, verified: boolean, options?: { safetyNumber?: string }) {
    return this.#identity.setVerified(accountId, verified, options);
  }
  safetyNumber(accountId: string) {
    return this.#identity.safetyNumber(accountId);
  }
  acknowledgeIdentity(accountId: string): Promise<void> {
    return this.#identity.acknowledgeIdentity(accountId);
  }
  /**
   * Asks the relay which of these accounts were deleted and marks them (conversation "account
   * deleted", queued messages failed, dropped from groups); returns the deleted ones.
   */
  checkDeletedAccounts(accountIds: string[]): Promise<string[]> {
    return this.#gone.check(accountIds);
  }
  refreshOwnDevices(): Promise<DeviceInfo[]> {
    return this.#sessions.refreshOwnDevices();
  }

  // Messaging ----------------------------------------------------------------------------
  /** Sends a text; resolves with it `sent`, or `queued` when the relay is out of reach. */
  sendText(accountId: string, text: string, options?: SendOptions): Promise<MessageRecord> {
    return this.#messaging.sendText(accountId, text, options);
  }
  sendGroupText(groupId: string, text: string, options?: SendOptions): Promise<MessageRecord> {
    return this.#messaging.sendGroupText(groupId, text, options);
  }
  /** Our reaction to a message (one emoji; `null` takes it back). */
  react(conversationId: string, id: string, emoji: string | null): Promise<MessageRecord> {
    return this.#actions.react(conversationId, id, emoji);
  }
  /** A new text for our own message (within 24 hours, at most 10 times). */
  editMessage(conversationId: string, id: string, text: string): Promise<MessageRecord> {
    return this.#actions.edit(conversationId, id, text);
  }
  /** Deletes our own message for everyone (within 24 hours). */
  deleteForEveryone(conversationId: string, id: string): Promise<MessageRecord> {
    return this.#actions.deleteForEveryone(conversationId, id);
  }
  /** Deletes messages from this device and our other devices only. */
  deleteForMe(conversationId: string, ids: string[]): Promise<void> {
    return this.#actions.deleteForMe(conversationId, ids);
  }
  /**
   * Sets a conversation's disappearing-message timer (seconds: 0 = off, 30, 300, 3600, 86400
   * or 604800) for every member and our other devices; resolves with the event shown.
   */
  setExpireTimer(conversationId: string, seconds: number): Promise<MessageRecord | undefined> {
    return this.#timers.set(conversationId, seconds);
  }
  /** Removes the disappearing messages due now (also done on a timer while started). */
  sweepExpired(): Promise<number> {
    return this.#sweeper.sweepExpired();
  }
  /**
   * Sends a failed message again (e.g. after acknowledging a changed safety number); one whose
   * attachment upload failed uploads the same encrypted blob again first.
   */
  async retrySend(
    conversationId: string,
    id: string,
    options?: Omit<SendAttachmentOptions, 'caption' | 'onStored'>,
  ): Promise<MessageRecord> {
    const m = (await this.messages(conversationId)).find((x) => x.id === id);
    if (m?.held) return this.#attachments.sender.retry(conversationId, id, options);
    return this.#messaging.retry(conversationId, id);
  }
  /**
   * Encrypts a file, uploads it and sends it to the conversation (`direct:…` or `group:…`) as a
   * message; resolves with it `sent` or `queued`. A failed upload throws
   * `AttachmentUploadError` and leaves the message `failed` (`upload_failed`): `retrySend`.
   */
  sendAttachment(
    conversationId: string,
    file: OutgoingFile,
    options?: SendAttachmentOptions,
  ): Promise<MessageRecord> {
    return this.#attachments.sender.send(conversationId, file, options);
  }
  /**
   * Downloads, checks and decrypts attachment `index` of a message. Throws
   * `AttachmentIntegrityError` for a blob that is not the one the sender uploaded.
   */
  downloadAttachment(
    conversationId: string,
    id: string,
    index = 0,
    options?: TransferOptions,
  ): Promise<Uint8Array> {
    return this.#attachments.receiver.download(conversationId, id, index, options);
  }
  sendReceipt(accountId: string, ids: string[], type: 'delivery' | 'read'): Promise<void> {
    return this.#messaging.sendReceipt(accountId, ids, type);
  }
  markRead(conversationId: string): Promise<void> {
    return this.#messaging.markRead(conversationId);
  }
  sendTyping(accountId: string, started: boolean): Promise<void> {
    return this.#messaging.sendTyping(accountId, started);
  }
  messages(conversationId: string): Promise<MessageRecord[]> {
    return this.#messaging.messages(conversationId);
  }
  conversations(): Promise<ConversationRecord[]> {
    return this.#messaging.conversations();
  }

  // Groups -------------------------------------------------------------------------------
  groups(): Promise<GroupRecord[]> {
    return this.#groups.list();
  }
  group(groupId: string): Promise<GroupRecord | undefined> {
    return this.#groups.get(groupId);
  }
  createGroup(title: string, memberAccountIds: string[]): Promise<GroupRecord> {
    return this.#groups.create(title, memberAccountIds);
  }
  addGroupMembers(groupId: string, accountIds: string[]): Promise<GroupRecord> {
    return this.#groups.addMembers(groupId, accountIds);
  }
  removeGroupMembers(groupId: string, accountIds: string[]): Promise<GroupRecord> {
    return this.#groups.removeMembers(groupId, accountIds);
  }
  renameGroup(groupId: string, title: string): Promise<GroupRecord> {
    return this.#groups.rename(groupId, title);
  }
  leaveGroup(groupId: string): Promise<void> {
    return this.#groups.leave(groupId);
  }
  /** Makes members admins of a group (only an admin may: `GroupAdminError`). */
  makeGroupAdmins(groupId: string, accountIds: string[]): Promise<GroupRecord> {
    return this.#groups.makeAdmins(groupId, accountIds);
  }

  // Message requests and blocking ----------------------------------------------------------
  /** Accepts a message request (`direct:…` or `group:…`), on every device of ours. */
  acceptRequest(conversationId: string): Promise<void> {
    return this.#trust.acceptRequest(conversationId);
  }
  /** Deletes a message request and its messages (a group request is left). */
  deleteRequest(conversationId: string): Promise<void> {
    return this.#trust.deleteRequest(conversationId);
  }
  /** Blocks whoever is behind a request, and deletes a group request. */
  blockRequest(conversationId: string): Promise<void> {
    return this.#trust.blockRequest(conversationId);
  }
  block(accountId: string): Promise<void> {
    return this.#trust.setBlocked(accountId, true);
  }
  unblock(accountId: string): Promise<void> {
    return this.#trust.setBlocked(accountId, false);
  }

  // Devices ------------------------------------------------------------------------------
  /** Approves a new device; `{ transferHistory: true }` sends our message history along. */
  approveLink(uri: string, options?: ApproveOptions): Promise<void> {
    return this.#linking.approve(uri, options);
  }
  /**
   * On a newly linked device: imports the history the primary offered, if not done yet (the
   * first `start()` does it otherwise). Resolves with the outcome; never throws for a bad
   * archive (the state says why).
   */
  async importHistory(): Promise<HistoryState | undefined> {
    await this.#history.importPending();
    return this.#history.state();
  }
  /** On a linked device: whether history was offered, imported, declined or failed (why). */
  historyTransferState(): Promise<HistoryState | undefined> {
    return this.#history.state();
  }
  devices() {
    return this.#linking.devices();
  }
  /** Removes a device from the account (the primary removes any; a linked one itself). */
  async unlinkDevice(deviceId: number): Promise<void> {
    if (await this.#linking.unlink(deviceId)) {
      await this.stop();
      await this.#account.wipe();
    }
  }
  announceToOwnDevices(): Promise<void> {
    return this.#linking.announce();
  }

  /** For tests: what a session key looks like. */
  static sessionKey = sessionKey;
}
