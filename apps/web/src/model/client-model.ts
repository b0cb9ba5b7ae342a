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
 * @module
 */
import { FileTransfers } from './attachments.ts';
import {
  ClientError,
  IdentityChangedError,
  ParleyClient,
  RelayHttpError,
  Storage,
  type ParleyClientOptions,
} from '@parley/client';
import type { StorageBackend } from '@parley/client/storage.js';
import { IndexedDbBackend } from '@parley/client/storage/indexeddb.js';
import {
  runAsSocketLeader,
  WebLocksKeyedLock,
  webLocksAvailable,
} from '@parley/client/web-locks.js';
import { CloseCode, PRIMARY_DEVICE_ID } from '@parley/protocol';
import { Keyring, WrongPassphraseError } from './keyring.ts';
import { NotifyingBackend } from './notifying-backend.ts';
import { DeletedAccountChecks, toContact } from './lifecycle.ts';
import { sortConversations, StateStore } from './store.ts';
import { trackHistory } from './history.ts';
import { friendly } from './client-model/errors.ts';
import { summarize, toGroup, toMessage } from './client-model/views.ts';
import { toBase64Url } from '../lib/base64url.ts';
import type {
  ChatModel,
  Connection,
  Contact,
  ConversationSummary,
  Device,
  Group,
  LinkOffer,
  Message,
  SafetyNumber,
} from './types.ts';

export { friendly } from './client-model/errors.ts';
export { summarize, toGroup, toMessage } from './client-model/views.ts';

const DB_NAME = 'parley';
/** Forget a "typing" signal we never saw the end of. */
const TYPING_TTL_MS = 15_000;
/** A tab whose socket was replaced by one this tab's locks do not cover waits, then retries. */
const REPLACED_RETRY_MS = 2_000;
const REPLACED_RETRY_MAX_MS = 60_000;

/** What tabs of one profile tell each other. */
type TabMessage =
  /** Storage changed: re-read it. */
  | { type: 'changed' }
  /** The leader's socket state. */
  | { type: 'connection'; state: Connection }
  /** A new tab asks the leader for its socket state. */
  | { type: 'hello' }
  | { type: 'typing'; accountId: string; groupId?: string; started: boolean }
  | { type: 'message'; conversationId: string; senderAccountId: string }
  /** An account was created, linked or removed in another tab: open storage again. */
  | { type: 'account' }
  /** The passphrase was set, changed or removed in another tab. */
  | { type: 'passphrase' }
  /** Another tab locked: the keys leave every tab's memory. */
  | { type: 'locked' };

export interface ClientModelOptions {
  relayUrl: string;
  /** IndexedDB database names (tests and several profiles side by side). */
  dbName?: string;
  keyringName?: string;
  /** Defaults to the browser's own (tests on Node pass the `ws` package and Node's fetch). */
  WebSocket?: ParleyClientOptions['WebSocket'];
  fetch?: ParleyClientOptions['fetch'];
}

export class ClientModel extends StateStore implements ChatModel {
  readonly #options: ClientModelOptions;
  #keyring: Keyring | undefined;
  #backend: StorageBackend | undefined;
  #client: ParleyClient | undefined;
  /** Cross-tab lock for storage transactions (undefined without the Web Locks API). */
  readonly #lock: WebLocksKeyedLock | undefined;
  readonly #channel: BroadcastChannel | undefined;
  #notifyTimer: ReturnType<typeof setTimeout> | undefined;
  /** This tab holds the relay socket. */
  #leader = false;
  /** Bumped whenever this tab gives up (or must not take) the socket. */
  #leadership = 0;
  #resign: (() => void) | undefined;
  #replaced = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #unsubscribe: Array<() => void> = [];
  #open = new Set<string>();
  readonly #files = new FileTransfers(this);
  /** close() was called: nothing connects again. */
  #closed = false;
  /** Deleted-account checks done this session (see `DeletedAccountChecks`). */
  readonly #deletedChecks = new DeletedAccountChecks();
  #refreshing: Promise<void> | undefined;
  #again = false;
  #typingTimers = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(options: ClientModelOptions) {
    super();
    this.#options = options;
    const db = options.dbName ?? DB_NAME;
    if (webLocksAvailable()) this.#lock = new WebLocksKeyedLock(`parley:${db}:`);
    if (typeof BroadcastChannel !== 'undefined') {
      this.#channel = new BroadcastChannel(`parley:${db}`);
      this.#channel.onmessage = (ev: MessageEvent<TabMessage>) => this.#onTabMessage(ev.data);
    }
  }

  // ---------------------------------------------------------------------------------------
  // Tabs
  // ---------------------------------------------------------------------------------------

  #post(message: TabMessage): void {
    try {
      this.#channel?.postMessage(message);
    } catch {
      /* closed */
    }
  }

  /** Storage committed: tell the other tabs (coalesced, like our own refreshes). */
  #committed(): void {
    if (!this.#channel || this.#notifyTimer) return;
    this.#notifyTimer = setTimeout(() => {
      this.#notifyTimer = undefined;
      this.#post({ type: 'changed' });
    }, 20);
  }

  #onTabMessage(message: TabMessage): void {
    switch (message.type) {
      case 'changed':
        this.#scheduleRefresh();
        break;
      case 'connection':
        if (!this.#leader && this.#client?.account) this.update({ connection: message.state });
        break;
      case 'hello':
        if (this.#leader) this.#post({ type: 'connection', state: this.getState().connection });
        break;
      case 'typing': {
        const { accountId, groupId, started } = message;
        const id = groupId ? `group:${groupId}` : `direct:${accountId}`;
        if (started) this.#setTyping(id, accountId);
        else this.#clearTyping(id, accountId);
        break;
      }
      case 'message':
        this.#clearTyping(message.conversationId, message.senderAccountId);
        break;
      case 'account':
        void this.#reopen();
        break;
      case 'passphrase':
        void this.#keyring
          ?.hasPassphrase()
          .then((hasPassphrase) => this.update({ hasPassphrase }))
          .catch(() => {});
        break;
      case 'locked':
        if (this.getState().phase.kind === 'ready') void this.#lockHere();
        break;
    }
  }

  /** Another tab created, linked or dropped the account: start over from storage. */
  async #reopen(): Promise<void> {
    const phase = this.getState().phase.kind;
    if (phase !== 'welcome' && phase !== 'ready') return;
    this.#resignSocket();
    await this.#client?.stop();
    for (const off of this.#unsubscribe) off();
    this.#unsubscribe = [];
    this.#client = undefined;
    this.#open.clear();
    this.update({
      conversations: [],
      contacts: {},
      groups: {},
      messages: {},
      typing: {},
      me: undefined,
    });
    await this.init();
  }

  /** Opens storage; shows the lock screen, onboarding or the chats. */
  async init(): Promise<void> {
    try {
      this.#keyring = await Keyring.open(
        this.#options.keyringName ? { name: this.#options.keyringName } : {},
      );
      if (await this.#keyring.hasPassphrase()) {
        this.update({ phase: { kind: 'locked' }, hasPassphrase: true });
        return;
      }
      await this.#openClient();
    } catch (err) {
      this.update({ phase: { kind: 'error', message: friendly(err) } });
    }
  }

  async #openClient(passphrase?: string): Promise<void> {
    const keyring = this.#keyring!;
    // Two tabs opening a fresh profile at once must not each make a data key.
    const key = await this.#exclusive('keyring', () => keyring.unlock(passphrase));
    this.#backend ??= new NotifyingBackend(
      await IndexedDbBackend.open(this.#options.dbName ?? DB_NAME),
      () => this.#committed(),
    );
    const storage = new Storage(this.#backend, {
      key,
      ...(this.#lock ? { lock: this.#lock } : {}),
    });
    this.#attach(await ParleyClient.open(this.#clientOptions(storage)));
    this.update({ hasPassphrase: await keyring.hasPassphrase() });
    if (this.#client?.account) {
      await this.#refresh();
      this.update({ phase: { kind: 'ready' } });
      this.#connect();
    } else {
      this.update({ phase: { kind: 'welcome' } });
    }
  }

  #clientOptions(storage: Storage) {
    const { relayUrl, WebSocket, fetch } = this.#options;
    return {
      storage,
      relayUrl,
      ...(this.#lock ? { lock: this.#lock } : {}),
      ...(WebSocket ? { WebSocket } : {}),
      ...(fetch ? { fetch } : {}),
    };
  }

  #exclusive<T>(name: string, fn: () => Promise<T>): Promise<T> {
    return this.#lock ? this.#lock.run(name, fn) : fn();
  }

  #attach(client: ParleyClient): void {
    for (const off of this.#unsubscribe) off();
    this.#client = client;
    const changed = () => this.#scheduleRefresh();
    // The browser says the network is back: reconnect and resend now, not after the backoff.
    const online = () => client.networkOnline();
    globalThis.addEventListener?.('online', online);
    this.#unsubscribe = [
      () => globalThis.removeEventListener?.('online', online),
      client.on('message', (m) => {
        this.#clearTyping(m.conversationId, m.senderAccountId);
        this.#post({
          type: 'message',
          conversationId: m.conversationId,
          senderAccountId: m.senderAccountId,
        });
        changed();
      }),
      client.on('event', changed),
      client.on('status', changed),
      client.on('messageChanged', (m) => {
        this.#post({
          type: 'message',
          conversationId: m.conversationId,
          senderAccountId: m.senderAccountId,
        });
        changed();
      }),
      client.on('messagesRemoved', changed),
      client.on('attachmentProgress', (p) => this.#files.progress(p)),
      client.on('group', changed),
      client.on('contacts', changed),
      client.on('trust', changed),
      client.on('identityChanged', changed),
      client.on('queueEmpty', changed),
      // Messages from while this device was being linked, sent by the other device.
      client.on('historyGapFilled', changed),
      client.on('ownDevices', () =>
        this.update((st) => ({ devicesRevision: (st.devicesRevision ?? 0) + 1 })),
      ),
      ...this.#trackCatchUp(client),
      ...trackHistory(client, (history) => this.update({ history })),
      client.on('connection', (state) => {
        if (!this.#leader) return;
        const connection: Connection =
          state === 'open' ? 'online' : state === 'connecting' ? 'connecting' : 'offline';
        this.update({ connection });
        this.#post({ type: 'connection', state: connection });
      }),
      client.on('typing', ({ accountId, groupId, started }) => {
        const id = groupId ? `group:${groupId}` : `direct:${accountId}`;
        if (started) this.#setTyping(id, accountId);
        else this.#clearTyping(id, accountId);
        this.#post({ type: 'typing', accountId, started, ...(groupId ? { groupId } : {}) });
      }),
      client.on('terminated', ({ code }) => {
        if (code === CloseCode.Replaced) this.#onReplaced();
        else if (code === CloseCode.DeviceRemoved) {
          void this.#reset('This device was unlinked from your account.');
        }
      }),
    ];
  }

  /**
   * Progress of working through the backlog after each connection: counted per envelope,
   * published once per batch (the envelopes of a batch are reported together after its commit).
   */
  #trackCatchUp(client: ParleyClient): Array<() => void> {
    let active = false;
    let done = 0;
    let queued = false;
    return [
      client.on('connection', (state) => {
        if (state !== 'open') return;
        active = true;
        done = 0;
      }),
      client.on('processed', () => {
        if (!active) return;
        done++;
        if (queued) return;
        queued = true;
        queueMicrotask(() => {
          queued = false;
          if (active) this.update({ catchUp: { done } });
        });
      }),
      client.on('queueEmpty', () => {
        active = false;
        if (this.getState().catchUp) this.update({ catchUp: undefined });
      }),
    ];
  }

  /**
   * Connects the relay socket in exactly one tab of this profile: the one holding the socket
   * lock. The others queue for it and take over, one of them, when that tab goes away.
   */
  #connect(): void {
    const client = this.#client;
    // After close(), a late caller (a registration or refresh still settling) must not
    // reconnect a model that is gone.
    if (!client?.account || this.#closed) return;
    clearTimeout(this.#retryTimer);
    this.#resignSocket();
    const term = this.#leadership;
    if (!this.#lock) {
      void this.#holdSocket(client, term);
      return;
    }
    this.update({ connection: 'connecting', tab: 'follower' });
    this.#post({ type: 'hello' });
    runAsSocketLeader(
      () => this.#holdSocket(client, term),
      `parley:${this.#options.dbName ?? DB_NAME}:socket`,
    ).catch((err: unknown) => console.warn('parley: socket leadership failed', friendly(err)));
  }

  /** While leader: the socket is open; resolves (releasing the lock) after `#resignSocket`. */
  async #holdSocket(client: ParleyClient, term: number): Promise<void> {
    if (term !== this.#leadership || this.#client !== client || this.#closed) return;
    const resigned = new Promise<void>((resolve) => (this.#resign = resolve));
    this.#leader = true;
    this.update({ connection: 'connecting', tab: 'leader' });
    this.#post({ type: 'connection', state: 'connecting' });
    client.start().then(
      () => this.#scheduleRefresh(),
      (err: unknown) => console.warn('parley: could not connect', friendly(err)),
    );
    await resigned;
    this.#leader = false;
    await client.stop().catch(() => {});
  }

  /** Gives up the socket (and a pending claim on it). */
  #resignSocket(): void {
    this.#leadership++;
    const resign = this.#resign;
    this.#resign = undefined;
    resign?.();
  }

  /**
   * The relay closed our socket for a newer one of this device that our locks do not cover
   * (a browser without Web Locks, another window of the profile in a different session):
   * step back, stay usable over HTTP, and claim the socket again later instead of going
   * offline for good.
   */
  #onReplaced(): void {
    const wasLeader = this.#leader;
    this.#resignSocket();
    this.update({ connection: 'offline' });
    if (wasLeader) this.#post({ type: 'connection', state: 'offline' });
    const delay = Math.min(REPLACED_RETRY_MAX_MS, REPLACED_RETRY_MS * 2 ** this.#replaced++);
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => this.#connect(), delay);
  }

  #requireClient(): ParleyClient {
    if (!this.#client?.account) throw new Error('Not signed in.');
    return this.#client;
  }

  // ---------------------------------------------------------------------------------------
  // Snapshot
  // ---------------------------------------------------------------------------------------

  #scheduleRefresh(): void {
    if (this.#refreshing) {
      this.#again = true;
      return;
    }
    this.#refreshing = (async () => {
      try {
        do {
          this.#again = false;
          await this.#refresh();
        } while (this.#again);
      } catch (err) {
        console.warn('parley: refresh failed', friendly(err));
      } finally {
        this.#refreshing = undefined;
      }
    })();
  }

  async #refresh(): Promise<void> {
    const client = this.#client;
    const account = client?.account;
    if (!client || !account) return;
    const [contactRecords, groupRecords, conversationRecords] = await Promise.all([
      client.contacts(),
      client.groups(),
      client.conversations(),
    ]);
    const contacts: Record<string, Contact> = {};
    for (const c of contactRecords) contacts[c.accountId] = toContact(c);
    const groups: Record<string, Group> = {};
    for (const g of groupRecords) groups[g.groupId] = toGroup(g, account.accountId);

    const messages: Record<string, Message[]> = {};
    const conversations: ConversationSummary[] = [];
    for (const c of conversationRecords) {
      const list = (await client.messages(c.id)).map(toMessage);
      if (this.#open.has(c.id)) messages[c.id] = list;
      conversations.push(summarize(c, list, contacts, groups, account.accountId));
    }
    for (const id of this.#open) messages[id] ??= (await client.messages(id)).map(toMessage);

    this.update({
      me: {
        accountId: account.accountId,
        deviceId: account.deviceId,
        username: account.username,
        isPrimary: account.deviceId === PRIMARY_DEVICE_ID,
      },
      contacts,
      groups,
      conversations: sortConversations(conversations),
      messages,
    });
  }

  // ---------------------------------------------------------------------------------------
  // Onboarding and lock
  // ---------------------------------------------------------------------------------------

  async register(username: string): Promise<void> {
    const client = this.#client;
    if (!client) throw new Error('Storage is not open.');
    try {
      await client.register(username, this.#options.relayUrl, browserName());
    } catch (err) {
      if (err instanceof RelayHttpError && err.status === 409) {
        throw new Error(`The username “${username}” is taken.`);
      }
      throw new Error(friendly(err));
    }
    await this.#refresh();
    this.update({ phase: { kind: 'ready' } });
    // Claim the socket first, then wake the other tabs: they queue behind us.
    this.#connect();
    this.#post({ type: 'account' });
  }

  async startLinking(onOffer: (offer: LinkOffer) => void, signal: AbortSignal): Promise<void> {
    const current = this.#client;
    if (!current) throw new Error('Storage is not open.');
    const client = await ParleyClient.link(
      { ...this.#clientOptions(current.storage), deviceName: browserName() },
      (uri) => {
        if (!signal.aborted) onOffer({ uri });
      },
    );
    this.#attach(client);
    await this.#refresh();
    this.update({ phase: { kind: 'ready' } });
    this.#connect();
    this.#post({ type: 'account' });
    await client.announceToOwnDevices().catch((err: unknown) => {
      console.warn('parley: could not announce this device', friendly(err));
    });
    this.#scheduleRefresh();
  }

  async unlock(passphrase: string): Promise<void> {
    try {
      await this.#openClient(passphrase);
    } catch (err) {
      if (err instanceof WrongPassphraseError) throw err;
      throw new Error(friendly(err));
    }
  }

  async setPassphrase(passphrase: string | null): Promise<void> {
    await this.#keyring!.setPassphrase(passphrase);
    this.update({ hasPassphrase: passphrase !== null });
    this.#post({ type: 'passphrase' });
  }

  /** Locks this tab and every other tab of the profile. */
  async lock(): Promise<void> {
    if (!this.getState().hasPassphrase) throw new Error('Set a passphrase first.');
    await this.#lockHere();
    this.#post({ type: 'locked' });
  }

  async #lockHere(): Promise<void> {
    clearTimeout(this.#retryTimer);
    this.#resignSocket();
    await this.#client?.stop();
    for (const off of this.#unsubscribe) off();
    this.#unsubscribe = [];
    this.#client = undefined;
    this.#keyring?.lock();
    this.#open.clear();
    this.update({
      phase: { kind: 'locked' },
      messages: {},
      conversations: [],
      contacts: {},
      groups: {},
    });
  }

  // ---------------------------------------------------------------------------------------
  // Conversations
  // ---------------------------------------------------------------------------------------

  async openConversation(conversationId: string): Promise<void> {
    this.#open.add(conversationId);
    const list = (await this.#requireClient().messages(conversationId)).map(toMessage);
    this.update((s) => ({ messages: { ...s.messages, [conversationId]: list } }));
    void this.#deletedChecks.check(this.#requireClient(), conversationId);
  }

  async sendText(
    conversationId: string,
    text: string,
    options: { replyTo?: string } = {},
  ): Promise<void> {
    const client = this.#requireClient();
    const [kind, peer] = splitId(conversationId);
    this.#open.add(conversationId);
    const sending =
      kind === 'group'
        ? client.sendGroupText(peer, text, options)
        : client.sendText(peer, text, options);
    // The message is stored (as "queued") before it goes out: show it right away.
    const early = setTimeout(() => this.#scheduleRefresh(), 50);
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
      await this.#refresh().catch((err: unknown) =>
        console.warn('parley: refresh failed', friendly(err)),
      );
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
      await change(this.#requireClient());
    } catch (err) {
      throw new Error(friendly(err));
    } finally {
      await this.#refresh().catch((err: unknown) =>
        console.warn('parley: refresh failed', friendly(err)),
      );
    }
  }

  async sendFile(
    conversationId: string,
    file: File,
    options: { caption?: string } = {},
  ): Promise<void> {
    this.#open.add(conversationId);
    try {
      await this.#files.send(this.#requireClient(), conversationId, file, options.caption);
    } finally {
      await this.#refresh().catch((err: unknown) =>
        console.warn('parley: refresh failed', friendly(err)),
      );
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
      this.#requireClient(),
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
        return await this.#files.retry(this.#requireClient(), conversationId, messageId);
      } finally {
        await this.#refresh().catch((err: unknown) =>
          console.warn('parley: refresh failed', friendly(err)),
        );
      }
    }
    try {
      await this.#requireClient().retrySend(conversationId, messageId);
    } catch (err) {
      if (err instanceof IdentityChangedError) {
        throw new Error('Not sent: this contact’s safety number changed. Review it first.');
      }
      throw new Error(`Not sent: ${friendly(err)}`);
    } finally {
      await this.#refresh().catch((err: unknown) =>
        console.warn('parley: refresh failed', friendly(err)),
      );
    }
  }

  async markRead(conversationId: string): Promise<void> {
    await this.#requireClient().markRead(conversationId);
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
    if (kind !== 'direct' || !this.#client?.account || this.getState().connection !== 'online')
      return;
    void this.#client.sendTyping(peer, typing).catch(() => {});
  }

  #setTyping(conversationId: string, accountId: string): void {
    const key = `${conversationId}|${accountId}`;
    clearTimeout(this.#typingTimers.get(key));
    this.#typingTimers.set(
      key,
      setTimeout(() => this.#clearTyping(conversationId, accountId), TYPING_TTL_MS),
    );
    this.update((s) => {
      const now = s.typing[conversationId] ?? [];
      return now.includes(accountId)
        ? {}
        : { typing: { ...s.typing, [conversationId]: [...now, accountId] } };
    });
  }

  #clearTyping(conversationId: string, accountId: string): void {
    const key = `${conversationId}|${accountId}`;
    clearTimeout(this.#typingTimers.get(key));
    this.#typingTimers.delete(key);
    this.update((s) => {
      const now = s.typing[conversationId] ?? [];
      return now.includes(accountId)
        ? { typing: { ...s.typing, [conversationId]: now.filter((a) => a !== accountId) } }
        : {};
    });
  }

  async startDirect(username: string): Promise<string> {
    const contact = await this.#lookup(username);
    if (contact.accountId === this.getState().me?.accountId) {
      throw new Error('That is you. Pick someone else to chat with.');
    }
    await this.#refresh();
    return `direct:${contact.accountId}`;
  }

  async #lookup(username: string) {
    try {
      return await this.#requireClient().addContact(username);
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
    const group = await this.#groupChange(() => this.#requireClient().createGroup(title, ids));
    await this.#refresh();
    return `group:${group.groupId}`;
  }

  async renameGroup(groupId: string, title: string): Promise<void> {
    await this.#groupChange(() => this.#requireClient().renameGroup(groupId, title));
    await this.#refresh();
  }

  async addMembers(groupId: string, usernames: string[]): Promise<void> {
    const ids = await this.#accountIds(usernames);
    await this.#groupChange(() => this.#requireClient().addGroupMembers(groupId, ids));
    await this.#refresh();
  }

  async removeMember(groupId: string, accountId: string): Promise<void> {
    await this.#groupChange(() => this.#requireClient().removeGroupMembers(groupId, [accountId]));
    await this.#refresh();
  }

  async leaveGroup(groupId: string): Promise<void> {
    await this.#groupChange(() => this.#requireClient().leaveGroup(groupId));
    await this.#refresh();
  }

  async makeAdmin(groupId: string, accountId: string): Promise<void> {
    await this.#groupChange(() => this.#requireClient().makeGroupAdmins(groupId, [accountId]));
    await this.#refresh();
  }

  // ---------------------------------------------------------------------------------------
  // Message requests and blocking (model/trust.ts)
  // ---------------------------------------------------------------------------------------

  async acceptRequest(conversationId: string): Promise<void> {
    await this.#trustChange(() => this.#requireClient().acceptRequest(conversationId));
  }

  async deleteRequest(conversationId: string): Promise<void> {
    this.#open.delete(conversationId);
    await this.#trustChange(() => this.#requireClient().deleteRequest(conversationId));
  }

  async blockRequest(conversationId: string): Promise<void> {
    await this.#trustChange(() => this.#requireClient().blockRequest(conversationId));
  }

  async setBlocked(accountId: string, blocked: boolean): Promise<void> {
    const client = this.#requireClient();
    await this.#trustChange(() => (blocked ? client.block(accountId) : client.unblock(accountId)));
  }

  async #trustChange(change: () => Promise<void>): Promise<void> {
    try {
      await change();
    } catch (err) {
      throw new Error(friendly(err));
    }
    await this.#refresh();
  }

  /** A group change the client refused because a member's safety number changed, said by name. */
  async #groupChange<T>(change: () => Promise<T>): Promise<T> {
    try {
      return await change();
    } catch (err) {
      if (!(err instanceof IdentityChangedError)) {
        throw err instanceof ClientError ? new Error(friendly(err)) : err;
      }
      const client = this.#requireClient();
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
    const client = this.#requireClient();
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
      await this.#requireClient().approveLink(uri, options);
    } catch (err) {
      throw new Error(friendly(err));
    }
  }

  async unlinkDevice(deviceId: number): Promise<void> {
    await this.#requireClient().unlinkDevice(deviceId);
  }

  // ---------------------------------------------------------------------------------------
  // Safety
  // ---------------------------------------------------------------------------------------

  async safetyNumber(accountId: string): Promise<SafetyNumber> {
    const client = this.#requireClient();
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
    await this.#requireClient().setVerified(accountId, verified);
    await this.#refresh();
  }

  async acceptIdentityChange(accountId: string): Promise<void> {
    await this.#requireClient().acknowledgeIdentity(accountId);
    await this.#refresh();
  }

  // ---------------------------------------------------------------------------------------
  // Settings
  // ---------------------------------------------------------------------------------------

  async exportData(): Promise<Blob> {
    const data = await this.#requireClient().exportData();
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
      await this.#requireClient().deleteAccount();
    } catch (err) {
      throw new Error(friendly(err));
    }
    await this.#reset();
  }

  /** Disconnects (tests; a page simply goes away). */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#notifyTimer);
    this.#resignSocket();
    this.#channel?.close();
    await this.#client?.stop();
    for (const off of this.#unsubscribe) off();
    this.#unsubscribe = [];
    for (const t of this.#typingTimers.values()) clearTimeout(t);
  }

  /** Back to onboarding with empty storage and a fresh key. */
  async #reset(message?: string): Promise<void> {
    clearTimeout(this.#retryTimer);
    this.#resignSocket();
    await this.#client?.stop();
    for (const off of this.#unsubscribe) off();
    this.#unsubscribe = [];
    this.#client = undefined;
    this.#open.clear();
    await this.#keyring?.destroy();
    this.update({
      conversations: [],
      contacts: {},
      groups: {},
      messages: {},
      typing: {},
      me: undefined,
    });
    await this.#openClient();
    this.#post({ type: 'account' });
    if (message) console.warn(`parley: ${message}`);
  }
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
