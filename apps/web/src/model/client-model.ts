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
 * `ClientModel` is the front: it builds its parts (in `client-model/`) in order, each from the
 * ones before it, and hands every action to the part that does it.
 * @module
 */
import { FileTransfers } from './attachments.ts';
import { ClientError, IdentityChangedError, ParleyClient, RelayHttpError } from '@parley/client';
import { WrongPassphraseError } from './keyring.ts';
import { DeletedAccountChecks } from './lifecycle.ts';
import { StateStore } from './store.ts';
import { ActiveClient } from './client-model/active-client.ts';
import { ClientLifecycle } from './client-model/client-lifecycle.ts';
import { friendly } from './client-model/errors.ts';
import { Profile, type ClientModelOptions } from './client-model/profile.ts';
import { Snapshot } from './client-model/snapshot.ts';
import { SocketLeader } from './client-model/socket-leader.ts';
import { onTabMessage } from './client-model/tab-events.ts';
import { TabChannel } from './client-model/tab-channel.ts';
import { TypingIndicators } from './client-model/typing-indicators.ts';
import { toMessage } from './client-model/views.ts';
import { toBase64Url } from '../lib/base64url.ts';
import type { ChatModel, Device, LinkOffer, SafetyNumber } from './types.ts';

export type { ClientModelOptions } from './client-model/profile.ts';
export { friendly } from './client-model/errors.ts';
export { summarize, toGroup, toMessage } from './client-model/views.ts';

export class ClientModel extends StateStore implements ChatModel {
  readonly #profile: Profile;
  readonly #tabs: TabChannel;
  readonly #active = new ActiveClient();
  readonly #snapshot: Snapshot;
  readonly #typing: TypingIndicators;
  readonly #socket: SocketLeader;
  readonly #files = new FileTransfers(this);
  readonly #lifecycle: ClientLifecycle;
  /** Deleted-account checks done this session (see `DeletedAccountChecks`). */
  readonly #deletedChecks = new DeletedAccountChecks();

  constructor(options: ClientModelOptions) {
    super();
    // Every commit to storage is announced to the other tabs.
    const profile = (this.#profile = new Profile(options, () => tabs.committed()));
    const tabs = (this.#tabs = new TabChannel(profile.dbName));
    const active = this.#active;
    const snapshot = (this.#snapshot = new Snapshot(this, active));
    const typing = (this.#typing = new TypingIndicators(this));
    const socket = (this.#socket = new SocketLeader(this, profile, active, snapshot, tabs));
    const lifecycle = (this.#lifecycle = new ClientLifecycle(
      this,
      profile,
      active,
      snapshot,
      typing,
      tabs,
      socket,
      this.#files,
    ));
    tabs.listen((message) =>
      onTabMessage(message, {
        store: this,
        profile,
        active,
        snapshot,
        typing,
        tabs,
        socket,
        lifecycle,
      }),
    );
  }

  /** Opens storage; shows the lock screen, onboarding or the chats. */
  init(): Promise<void> {
    return this.#lifecycle.init();
  }

  /** Disconnects (tests; a page simply goes away). */
  close(): Promise<void> {
    return this.#lifecycle.close();
  }

  // ---------------------------------------------------------------------------------------
  // Onboarding and lock
  // ---------------------------------------------------------------------------------------

  async register(username: string): Promise<void> {
    const client = this.#active.current;
    if (!client) throw new Error('Storage is not open.');
    try {
      await client.register(username, this.#profile.options.relayUrl, browserName());
    } catch (err) {
      if (err instanceof RelayHttpError && err.status === 409) {
        throw new Error(`The username “${username}” is taken.`);
      }
      throw new Error(friendly(err));
    }
    await this.#snapshot.refresh();
    this.update({ phase: { kind: 'ready' } });
    // Claim the socket first, then wake the other tabs: they queue behind us.
    this.#socket.connect();
    this.#tabs.post({ type: 'account' });
  }

  async startLinking(onOffer: (offer: LinkOffer) => void, signal: AbortSignal): Promise<void> {
    const current = this.#active.current;
    if (!current) throw new Error('Storage is not open.');
    const client = await ParleyClient.link(
      { ...this.#profile.clientOptions(current.storage), deviceName: browserName() },
      (uri) => {
        if (!signal.aborted) onOffer({ uri });
      },
    );
    this.#lifecycle.attach(client);
    await this.#snapshot.refresh();
    this.update({ phase: { kind: 'ready' } });
    this.#socket.connect();
    this.#tabs.post({ type: 'account' });
    await client.announceToOwnDevices().catch((err: unknown) => {
      console.warn('parley: could not announce this device', friendly(err));
    });
    this.#snapshot.schedule();
  }

  async unlock(passphrase: string): Promise<void> {
    try {
      await this.#lifecycle.openClient(passphrase);
    } catch (err) {
      if (err instanceof WrongPassphraseError) throw err;
      throw new Error(friendly(err));
    }
  }

  async setPassphrase(passphrase: string | null): Promise<void> {
    await this.#profile.keyring!.setPassphrase(passphrase);
    this.update({ hasPassphrase: passphrase !== null });
    this.#tabs.post({ type: 'passphrase' });
  }

  /** Locks this tab and every other tab of the profile. */
  async lock(): Promise<void> {
    if (!this.getState().hasPassphrase) throw new Error('Set a passphrase first.');
    await this.#lifecycle.lockHere();
    this.#tabs.post({ type: 'locked' });
  }

  // ---------------------------------------------------------------------------------------
  // Conversations
  // ---------------------------------------------------------------------------------------

  async openConversation(conversationId: string): Promise<void> {
    this.#snapshot.open.add(conversationId);
    const list = (await this.#active.require().messages(conversationId)).map(toMessage);
    this.update((s) => ({ messages: { ...s.messages, [conversationId]: list } }));
    void this.#deletedChecks.check(this.#active.require(), conversationId);
  }

  async sendText(
    conversationId: string,
    text: string,
    options: { replyTo?: string } = {},
  ): Promise<void> {
    const client = this.#active.require();
    const [kind, peer] = splitId(conversationId);
    this.#snapshot.open.add(conversationId);
    const sending =
      kind === 'group'
        ? client.sendGroupText(peer, text, options)
        : client.sendText(peer, text, options);
    // The message is stored (as "queued") before it goes out: show it right away.
    const early = setTimeout(() => this.#snapshot.schedule(), 50);
    try {
      await sending;
    } catch (err) {
      if (err instanceof IdentityChangedError) {
        throw new Error('Not sent: this contact’s safety number changed. Review it first.');
      }
      throw new Error(`Not sent: ${friendly(err)}`);
    } finally {
      clearTimeout(early);
      // Resolve with the message on screen in the state it reached (sent, or queued).
      await this.#snapshot
        .refresh()
        .catch((err: unknown) => console.warn('parley: refresh failed', friendly(err)));
    }
  }

  react(conversationId: string, messageId: string, emoji: string | null): Promise<void> {
    return this.#act((c) => c.react(conversationId, messageId, emoji));
  }
  editMessage(conversationId: string, messageId: string, text: string): Promise<void> {
    return this.#act((c) => c.editMessage(conversationId, messageId, text));
  }
  deleteForEveryone(conversationId: string, messageId: string): Promise<void> {
    return this.#act((c) => c.deleteForEveryone(conversationId, messageId));
  }
  deleteForMe(conversationId: string, messageId: string): Promise<void> {
    return this.#act((c) => c.deleteForMe(conversationId, [messageId]));
  }
  setExpireTimer(conversationId: string, seconds: number): Promise<void> {
    return this.#act((c) => c.setExpireTimer(conversationId, seconds));
  }

  /** A change to a stored message; the screen shows the result at once. */
  async #act(change: (client: ParleyClient) => Promise<unknown>): Promise<void> {
    try {
      await change(this.#active.require());
    } catch (err) {
      throw new Error(friendly(err));
    } finally {
      await this.#snapshot
        .refresh()
        .catch((err: unknown) => console.warn('parley: refresh failed', friendly(err)));
    }
  }

  async sendFile(
    conversationId: string,
    file: File,
    options: { caption?: string } = {},
  ): Promise<void> {
    this.#snapshot.open.add(conversationId);
    try {
      await this.#files.send(this.#active.require(), conversationId, file, options.caption);
    } finally {
      await this.#snapshot
        .refresh()
        .catch((err: unknown) => console.warn('parley: refresh failed', friendly(err)));
    }
  }
  cancelUpload(messageId: string): void {
    this.#files.cancel(messageId);
  }
  openAttachment(
    conversationId: string,
    messageId: string,
    index: number,
    options: { signal?: AbortSignal } = {},
  ): Promise<Blob> {
    return this.#files.open(
      this.#active.require(),
      conversationId,
      messageId,
      index,
      options.signal,
    );
  }

  async retrySend(conversationId: string, messageId: string): Promise<void> {
    const held = this.getState()
      .messages[conversationId]?.find((m) => m.id === messageId)
      ?.attachments?.some((a) => a.upload !== undefined && a.upload !== 'uploaded');
    if (held) {
      try {
        return await this.#files.retry(this.#active.require(), conversationId, messageId);
      } finally {
        await this.#snapshot
          .refresh()
          .catch((err: unknown) => console.warn('parley: refresh failed', friendly(err)));
      }
    }
    try {
      await this.#active.require().retrySend(conversationId, messageId);
    } catch (err) {
      if (err instanceof IdentityChangedError) {
        throw new Error('Not sent: this contact’s safety number changed. Review it first.');
      }
      throw new Error(`Not sent: ${friendly(err)}`);
    } finally {
      await this.#snapshot
        .refresh()
        .catch((err: unknown) => console.warn('parley: refresh failed', friendly(err)));
    }
  }

  async markRead(conversationId: string): Promise<void> {
    await this.#active.require().markRead(conversationId);
    this.update((s) => ({
      conversations: s.conversations.map((c) =>
        c.id === conversationId ? { ...c, unread: 0 } : c,
      ),
    }));
  }

  setTyping(conversationId: string, typing: boolean): void {
    const [kind, peer] = splitId(conversationId);
    // The client sends typing indicators in 1:1 conversations only (over HTTP, from any tab;
    // not while this device is offline).
    if (
      kind !== 'direct' ||
      !this.#active.current?.account ||
      this.getState().connection !== 'online'
    )
      return;
    void this.#active.current.sendTyping(peer, typing).catch(() => {});
  }

  async startDirect(username: string): Promise<string> {
    const contact = await this.#lookup(username);
    if (contact.accountId === this.getState().me?.accountId) {
      throw new Error('That is you. Pick someone else to chat with.');
    }
    await this.#snapshot.refresh();
    return `direct:${contact.accountId}`;
  }

  async #lookup(username: string) {
    try {
      return await this.#active.require().addContact(username);
    } catch (err) {
      if (err instanceof RelayHttpError && err.status === 404) {
        throw new Error(`No one is called “${username}”.`);
      }
      throw new Error(friendly(err));
    }
  }

  async #accountIds(usernames: string[]): Promise<string[]> {
    const ids: string[] = [];
    for (const u of usernames) ids.push((await this.#lookup(u)).accountId);
    return ids;
  }

  // ---------------------------------------------------------------------------------------
  // Groups
  // ---------------------------------------------------------------------------------------

  async createGroup(title: string, usernames: string[]): Promise<string> {
    const ids = await this.#accountIds(usernames);
    const group = await this.#groupChange(() => this.#active.require().createGroup(title, ids));
    await this.#snapshot.refresh();
    return `group:${group.groupId}`;
  }

  async renameGroup(groupId: string, title: string): Promise<void> {
    await this.#groupChange(() => this.#active.require().renameGroup(groupId, title));
    await this.#snapshot.refresh();
  }

  async addMembers(groupId: string, usernames: string[]): Promise<void> {
    const ids = await this.#accountIds(usernames);
    await this.#groupChange(() => this.#active.require().addGroupMembers(groupId, ids));
    await this.#snapshot.refresh();
  }

  async removeMember(groupId: string, accountId: string): Promise<void> {
    await this.#groupChange(() => this.#active.require().removeGroupMembers(groupId, [accountId]));
    await this.#snapshot.refresh();
  }

  async leaveGroup(groupId: string): Promise<void> {
    await this.#groupChange(() => this.#active.require().leaveGroup(groupId));
    await this.#snapshot.refresh();
  }

  async makeAdmin(groupId: string, accountId: string): Promise<void> {
    await this.#groupChange(() => this.#active.require().makeGroupAdmins(groupId, [accountId]));
    await this.#snapshot.refresh();
  }

  // ---------------------------------------------------------------------------------------
  // Message requests and blocking (model/trust.ts)
  // ---------------------------------------------------------------------------------------

  async acceptRequest(conversationId: string): Promise<void> {
    await this.#trustChange(() => this.#active.require().acceptRequest(conversationId));
  }

  async deleteRequest(conversationId: string): Promise<void> {
    this.#snapshot.open.delete(conversationId);
    await this.#trustChange(() => this.#active.require().deleteRequest(conversationId));
  }

  async blockRequest(conversationId: string): Promise<void> {
    await this.#trustChange(() => this.#active.require().blockRequest(conversationId));
  }

  async setBlocked(accountId: string, blocked: boolean): Promise<void> {
    const client = this.#active.require();
    await this.#trustChange(() => (blocked ? client.block(accountId) : client.unblock(accountId)));
  }

  async #trustChange(change: () => Promise<void>): Promise<void> {
    try {
      await change();
    } catch (err) {
      throw new Error(friendly(err));
    }
    await this.#snapshot.refresh();
  }

  /** A group change the client refused because a member's safety number changed, said by name. */
  async #groupChange<T>(change: () => Promise<T>): Promise<T> {
    try {
      return await change();
    } catch (err) {
      if (!(err instanceof IdentityChangedError)) {
        throw err instanceof ClientError ? new Error(friendly(err)) : err;
      }
      const client = this.#active.require();
      const names = await Promise.all(
        err.accountIds.map(
          async (id) => (await client.contact(id))?.username ?? `${id.slice(0, 8)}…`,
        ),
      );
      throw new Error(
        `Not done: the safety number of ${names.join(', ')} changed. Review it in your conversation first.`,
      );
    }
  }

  // ---------------------------------------------------------------------------------------
  // Devices
  // ---------------------------------------------------------------------------------------

  async listDevices(): Promise<Device[]> {
    const client = this.#active.require();
    const devices = await client.devices();
    return devices
      .map((d) => ({
        deviceId: d.deviceId,
        // The relay holds names sealed to the account: only the decrypted one is shown.
        ...(d.displayName ? { name: d.displayName } : {}),
        createdAt: d.createdAt,
        lastSeenAt: d.lastSeenAt,
        current: d.deviceId === client.deviceId,
      }))
      .sort((a, b) => a.deviceId - b.deviceId);
  }

  async approveDevice(uri: string, options?: { transferHistory?: boolean }): Promise<void> {
    try {
      await this.#active.require().approveLink(uri, options);
    } catch (err) {
      throw new Error(friendly(err));
    }
  }

  async unlinkDevice(deviceId: number): Promise<void> {
    await this.#active.require().unlinkDevice(deviceId);
  }

  // ---------------------------------------------------------------------------------------
  // Safety
  // ---------------------------------------------------------------------------------------

  async safetyNumber(accountId: string): Promise<SafetyNumber> {
    const client = this.#active.require();
    const [{ digits, scannable }, contact] = await Promise.all([
      client.safetyNumber(accountId),
      client.contact(accountId),
    ]);
    return {
      accountId,
      username: contact?.username ?? accountId,
      digits,
      scannable: toBase64Url(scannable),
      verified: contact?.verified ?? false,
    };
  }

  async setVerified(accountId: string, verified: boolean): Promise<void> {
    // Bound to the current identity key; refused while a changed key awaits acceptance.
    await this.#active.require().setVerified(accountId, verified);
    await this.#snapshot.refresh();
  }

  async acceptIdentityChange(accountId: string): Promise<void> {
    await this.#active.require().acknowledgeIdentity(accountId);
    await this.#snapshot.refresh();
  }

  // ---------------------------------------------------------------------------------------
  // Settings
  // ---------------------------------------------------------------------------------------

  async exportData(): Promise<Blob> {
    const data = await this.#active.require().exportData();
    const json = JSON.stringify(
      data,
      (_key, value: unknown) =>
        value instanceof Uint8Array ? { base64: toBase64Url(value) } : value,
      2,
    );
    return new Blob([json], { type: 'application/json' });
  }

  async deleteAccount(): Promise<void> {
    try {
      await this.#active.require().deleteAccount();
    } catch (err) {
      throw new Error(friendly(err));
    }
    await this.#lifecycle.reset();
  }

  /** Disconnects (tests; a page simply goes away). */
}

function splitId(conversationId: string): ['direct' | 'group', string] {
  const i = conversationId.indexOf(':');
  const kind = conversationId.slice(0, i);
  if (kind !== 'direct' && kind !== 'group')
    throw new Error(`bad conversation id ${conversationId}`);
  return [kind, conversationId.slice(i + 1)];
}

function browserName(): string {
  const ua = globalThis.navigator?.userAgent ?? '';
  const browser = /Firefox\//.test(ua)
    ? 'Firefox'
    : /Edg\//.test(ua)
      ? 'Edge'
      : /Chrom/.test(ua)
        ? 'Chrome'
        : /Safari\//.test(ua)
          ? 'Safari'
          : 'Browser';
  return `${browser} (web)`;
}
