/**
 * `ChatModel` on top of `@parley/client`: one `ParleyClient` on an encrypted IndexedDB
 * storage, its WebSocket to the relay, and a snapshot rebuilt from storage whenever the
 * client reports a change (coalesced, so a burst of envelopes costs one rebuild).
 * @module
 */
import {
  IdentityChangedError,
  ParleyClient,
  RelayHttpError,
  RelayUnavailableError,
  Storage,
  type ConversationRecord,
  type GroupRecord,
  type MessageRecord,
  type ParleyClientOptions,
} from '@parley/client';
import { IndexedDbBackend } from '@parley/client/storage/indexeddb.js';
import { CloseCode, PRIMARY_DEVICE_ID } from '@parley/protocol';
import { Keyring, WrongPassphraseError } from './keyring.ts';
import { sortConversations, StateStore } from './store.ts';
import type {
  ChatModel,
  Contact,
  ConversationSummary,
  Device,
  Group,
  LinkOffer,
  Message,
  SafetyNumber,
} from './types.ts';

const DB_NAME = 'parley';
/** Forget a "typing" signal we never saw the end of. */
const TYPING_TTL_MS = 15_000;

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
  #backend: IndexedDbBackend | undefined;
  #client: ParleyClient | undefined;
  #unsubscribe: Array<() => void> = [];
  #open = new Set<string>();
  #refreshing: Promise<void> | undefined;
  #again = false;
  #typingTimers = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(options: ClientModelOptions) {
    super();
    this.#options = options;
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
    const key = await keyring.unlock(passphrase);
    this.#backend ??= await IndexedDbBackend.open(this.#options.dbName ?? DB_NAME);
    const storage = new Storage(this.#backend, { key });
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
    return { storage, relayUrl, ...(WebSocket ? { WebSocket } : {}), ...(fetch ? { fetch } : {}) };
  }

  #attach(client: ParleyClient): void {
    for (const off of this.#unsubscribe) off();
    this.#client = client;
    const changed = () => this.#scheduleRefresh();
    this.#unsubscribe = [
      client.on('message', (m) => {
        this.#clearTyping(m.conversationId, m.senderAccountId);
        changed();
      }),
      client.on('event', changed),
      client.on('status', changed),
      client.on('group', changed),
      client.on('contacts', changed),
      client.on('identityChanged', changed),
      client.on('queueEmpty', changed),
      client.on('connection', (state) =>
        this.update({
          connection:
            state === 'open' ? 'online' : state === 'connecting' ? 'connecting' : 'offline',
        }),
      ),
      client.on('typing', ({ accountId, groupId, started }) => {
        const id = groupId ? `group:${groupId}` : `direct:${accountId}`;
        if (started) this.#setTyping(id, accountId);
        else this.#clearTyping(id, accountId);
      }),
      client.on('terminated', ({ code }) => {
        // Another tab (or window) of this profile took over the connection: stay as we are.
        if (code === CloseCode.Replaced) this.update({ connection: 'offline' });
        else if (code === CloseCode.DeviceRemoved) {
          void this.#reset('This device was unlinked from your account.');
        }
      }),
    ];
  }

  #connect(): void {
    const client = this.#client;
    if (!client) return;
    this.update({ connection: 'connecting' });
    client.start().then(
      () => this.#scheduleRefresh(),
      (err: unknown) => console.warn('parley: could not connect', friendly(err)),
    );
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
    for (const c of contactRecords) {
      contacts[c.accountId] = {
        accountId: c.accountId,
        username: c.username ?? `${c.accountId.slice(0, 8)}…`,
        verified: c.verified ?? false,
        identityChanged: c.identityChanged ?? false,
      };
    }
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
      await client.register(username, this.#options.relayUrl);
    } catch (err) {
      if (err instanceof RelayHttpError && err.status === 409) {
        throw new Error(`The username “${username}” is taken.`);
      }
      throw new Error(friendly(err));
    }
    await this.#refresh();
    this.update({ phase: { kind: 'ready' } });
    this.#connect();
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
  }

  async lock(): Promise<void> {
    if (!this.getState().hasPassphrase) throw new Error('Set a passphrase first.');
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
  }

  async sendText(conversationId: string, text: string): Promise<void> {
    const client = this.#requireClient();
    const [kind, peer] = splitId(conversationId);
    this.#open.add(conversationId);
    const sending =
      kind === 'group' ? client.sendGroupText(peer, text) : client.sendText(peer, text);
    // The message is stored (as "sending") before it goes out: show it right away.
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
      this.#scheduleRefresh();
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
    // The client sends typing indicators in 1:1 conversations only.
    if (kind !== 'direct' || !this.#client?.connected) return;
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
    const group = await this.#requireClient().createGroup(title, ids);
    await this.#refresh();
    return `group:${group.groupId}`;
  }

  async renameGroup(groupId: string, title: string): Promise<void> {
    await this.#requireClient().renameGroup(groupId, title);
    await this.#refresh();
  }

  async addMembers(groupId: string, usernames: string[]): Promise<void> {
    const ids = await this.#accountIds(usernames);
    await this.#requireClient().addGroupMembers(groupId, ids);
    await this.#refresh();
  }

  async removeMember(groupId: string, accountId: string): Promise<void> {
    await this.#requireClient().removeGroupMembers(groupId, [accountId]);
    await this.#refresh();
  }

  async leaveGroup(groupId: string): Promise<void> {
    await this.#requireClient().leaveGroup(groupId);
    await this.#refresh();
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
        ...(d.name ? { name: d.name } : {}),
        createdAt: d.createdAt,
        lastSeenAt: d.lastSeenAt,
        current: d.deviceId === client.deviceId,
      }))
      .sort((a, b) => a.deviceId - b.deviceId);
  }

  async approveDevice(uri: string): Promise<void> {
    try {
      await this.#requireClient().approveLink(uri);
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
    await this.#client?.stop();
    for (const off of this.#unsubscribe) off();
    this.#unsubscribe = [];
    for (const t of this.#typingTimers.values()) clearTimeout(t);
  }

  /** Back to onboarding with empty storage and a fresh key. */
  async #reset(message?: string): Promise<void> {
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

export function toMessage(m: MessageRecord): Message {
  return {
    id: m.id,
    conversationId: m.conversationId,
    kind: m.kind,
    direction: m.direction,
    senderAccountId: m.senderAccountId,
    timestamp: m.timestamp,
    ...(m.text !== undefined ? { text: m.text } : {}),
    ...(m.event ? { event: m.event } : {}),
    ...(m.subjects ? { subjects: m.subjects } : {}),
    ...(m.status ? { status: m.status } : {}),
  };
}

export function toGroup(g: GroupRecord, self: string): Group {
  return {
    groupId: g.groupId,
    title: g.title,
    members: g.members
      .filter((m) => m.accountId !== self)
      .map((m) => ({
        accountId: m.accountId,
        username: m.username ?? `${m.accountId.slice(0, 8)}…`,
      })),
    left: g.left ?? false,
  };
}

export function summarize(
  c: ConversationRecord,
  messages: readonly Message[],
  contacts: Record<string, Contact>,
  groups: Record<string, Group>,
  self: string,
): ConversationSummary {
  const last = [...messages].reverse().find((m) => m.kind === 'text');
  const title =
    c.kind === 'group'
      ? (groups[c.peer]?.title ?? 'Group')
      : (contacts[c.peer]?.username ?? `${c.peer.slice(0, 8)}…`);
  return {
    id: c.id,
    kind: c.kind,
    peer: c.peer,
    title,
    lastMessageAt: c.lastMessageAt,
    unread: c.unread,
    ...(last
      ? {
          lastMessage: {
            text: last.text ?? '',
            direction: last.direction,
            ...(c.kind === 'group' && last.direction === 'in'
              ? {
                  senderName:
                    last.senderAccountId === self
                      ? 'You'
                      : (contacts[last.senderAccountId]?.username ?? ''),
                }
              : {}),
          },
        }
      : {}),
  };
}

function toBase64Url(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
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

/** An error message fit for the user: no stack, no internals. */
export function friendly(err: unknown): string {
  if (err instanceof RelayUnavailableError) return 'Cannot reach the relay. Check your connection.';
  if (err instanceof RelayHttpError) {
    if (err.status === 429) return 'Too many attempts. Wait a little and try again.';
    return err.message.replace(/^relay \d+ \w+: /, '');
  }
  if (err instanceof Error && err.message) return err.message;
  return 'Something went wrong.';
}
