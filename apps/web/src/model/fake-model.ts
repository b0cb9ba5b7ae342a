/**
 * An in-memory `ChatModel` for component tests: no crypto, no network. Other people are
 * simulated with `receive`, `typingFrom` and `changeIdentity`.
 * @module
 */
import { sortConversations, StateStore, upsertMessage } from './store.ts';
import type {
  ChatModel,
  ConversationSummary,
  Device,
  LinkOffer,
  Message,
  SafetyNumber,
} from './types.ts';

export class FakeModel extends StateStore implements ChatModel {
  readonly calls: Array<[string, ...unknown[]]> = [];
  /** Usernames `startDirect` finds, by username → account id. */
  readonly directory = new Map<string, string>();
  devices: Device[] = [{ deviceId: 1, name: 'This browser', current: true, createdAt: 0 }];
  passphrase: string | null = null;
  #seq = 0;
  now = () => Date.now();

  constructor(initial: 'welcome' | 'ready' | 'locked' = 'welcome') {
    super();
    if (initial === 'ready') this.#signIn('me');
    else this.update({ phase: { kind: initial } });
  }

  #signIn(username: string): void {
    this.update({
      phase: { kind: 'ready' },
      me: { accountId: `acc-${username}`, deviceId: 1, username, isPrimary: true },
      connection: 'online',
    });
  }

  async register(username: string): Promise<void> {
    this.calls.push(['register', username]);
    if (username === 'taken') throw new Error('That username is taken.');
    this.#signIn(username);
  }

  async startLinking(onOffer: (offer: LinkOffer) => void, signal: AbortSignal): Promise<void> {
    this.calls.push(['startLinking']);
    onOffer({ uri: 'parley://link?address=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA&key=BQ' });
    await new Promise<void>((_resolve, reject) =>
      signal.addEventListener('abort', () => reject(new Error('cancelled'))),
    );
  }

  async unlock(passphrase: string): Promise<void> {
    this.calls.push(['unlock', passphrase]);
    if (this.passphrase !== null && passphrase !== this.passphrase) {
      throw new Error('Wrong passphrase.');
    }
    this.#signIn('me');
  }

  async setPassphrase(passphrase: string | null): Promise<void> {
    this.calls.push(['setPassphrase', passphrase]);
    this.passphrase = passphrase;
    this.update({ hasPassphrase: passphrase !== null });
  }

  async lock(): Promise<void> {
    this.calls.push(['lock']);
    this.update({ phase: { kind: 'locked' } });
  }

  async openConversation(id: string): Promise<void> {
    this.calls.push(['openConversation', id]);
    this.update((s) => ({ messages: { ...s.messages, [id]: s.messages[id] ?? [] } }));
  }

  #add(
    message: Message,
    summary: Omit<ConversationSummary, 'lastMessageAt' | 'unread' | 'lastMessage'>,
  ) {
    this.update((s) => {
      const prev = s.conversations.find((c) => c.id === message.conversationId);
      const conv: ConversationSummary = {
        ...summary,
        lastMessageAt: message.timestamp,
        unread: (prev?.unread ?? 0) + (message.direction === 'in' ? 1 : 0),
        lastMessage: { text: message.text ?? '', direction: message.direction },
      };
      return {
        conversations: sortConversations([
          ...s.conversations.filter((c) => c.id !== conv.id),
          conv,
        ]),
        messages: {
          ...s.messages,
          [message.conversationId]: upsertMessage(
            s.messages[message.conversationId] ?? [],
            message,
          ),
        },
      };
    });
  }

  #summaryFor(conversationId: string) {
    const s = this.getState();
    const existing = s.conversations.find((c) => c.id === conversationId);
    if (existing) return existing;
    const [kind, peer = ''] = conversationId.split(':') as ['direct' | 'group', string];
    const title =
      kind === 'group' ? (s.groups[peer]?.title ?? 'Group') : (s.contacts[peer]?.username ?? peer);
    return { id: conversationId, kind, peer, title };
  }

  async sendText(
    conversationId: string,
    text: string,
    options: { replyTo?: string } = {},
  ): Promise<void> {
    this.calls.push(
      options.replyTo
        ? ['sendText', conversationId, text, options.replyTo]
        : ['sendText', conversationId, text],
    );
    const { id, kind, peer, title } = this.#summaryFor(conversationId);
    const quoted = options.replyTo
      ? this.getState().messages[conversationId]?.find((m) => m.id === options.replyTo)
      : undefined;
    this.#add(
      {
        id: `m${++this.#seq}`,
        conversationId,
        kind: 'text',
        direction: 'out',
        senderAccountId: this.getState().me?.accountId ?? '',
        timestamp: this.now(),
        text,
        status: 'sent',
        ...(quoted
          ? {
              quote: {
                id: quoted.id,
                authorAccountId: quoted.senderAccountId,
                text: quoted.text ?? '',
              },
            }
          : {}),
      },
      { id, kind, peer, title },
    );
  }

  /** Decrypted files by `<message id>/<index>`: what `openAttachment` returns. */
  readonly files = new Map<string, Blob>();
  /** Set: the next upload fails with this code; the next download with this message. */
  failUpload: string | undefined;
  failDownload: string | undefined;
  /** Uploads that were cancelled, by message id. */
  readonly cancelled: string[] = [];

  async sendFile(conversationId: string, file: File, options: { caption?: string } = {}) {
    this.calls.push(['sendFile', conversationId, file.name, options.caption]);
    const summary = this.#summaryFor(conversationId);
    const id = `m${++this.#seq}`;
    this.files.set(`${id}/0`, file);
    const failure = this.failUpload;
    this.failUpload = undefined;
    this.#add(
      {
        id,
        conversationId,
        kind: 'text',
        direction: 'out',
        senderAccountId: this.getState().me?.accountId ?? '',
        timestamp: this.now(),
        text: options.caption ?? '',
        status: failure ? 'failed' : 'sent',
        ...(failure ? { failure: { reason: 'upload_failed' as const, retryable: true } } : {}),
        attachments: [
          {
            fileName: file.name,
            contentType: file.type,
            size: file.size,
            upload: failure ? 'failed' : 'uploaded',
            ...(failure ? { uploadFailure: { code: failure, retryable: true } } : {}),
          },
        ],
      },
      summary,
    );
    if (failure) throw new Error(`Not sent: ${failure}.`);
  }

  cancelUpload(messageId: string): void {
    this.calls.push(['cancelUpload', messageId]);
    this.cancelled.push(messageId);
  }

  async openAttachment(
    conversationId: string,
    messageId: string,
    index: number,
    options: { signal?: AbortSignal } = {},
  ): Promise<Blob> {
    this.calls.push(['openAttachment', conversationId, messageId, index]);
    if (options.signal?.aborted) throw new Error('cancelled');
    const failure = this.failDownload;
    this.failDownload = undefined;
    if (failure) throw new Error(failure);
    const blob = this.files.get(`${messageId}/${index}`);
    if (!blob) throw new Error('That file is no longer here.');
    return blob;
  }

  async react(conversationId: string, messageId: string, emoji: string | null): Promise<void> {
    this.calls.push(['react', conversationId, messageId, emoji]);
    const me = this.getState().me?.accountId ?? '';
    this.#patchMessage(conversationId, messageId, (m) => {
      const reactions = { ...(m.reactions ?? {}) };
      if (emoji === null) delete reactions[me];
      else reactions[me] = emoji;
      return { ...m, reactions };
    });
  }

  async editMessage(conversationId: string, messageId: string, text: string): Promise<void> {
    this.calls.push(['editMessage', conversationId, messageId, text]);
    this.#patchMessage(conversationId, messageId, (m) => ({ ...m, text, edited: true }));
  }

  async deleteForEveryone(conversationId: string, messageId: string): Promise<void> {
    this.calls.push(['deleteForEveryone', conversationId, messageId]);
    this.#patchMessage(conversationId, messageId, ({ text: _t, quote: _q, ...m }) => ({
      ...m,
      deleted: true,
    }));
  }

  async deleteForMe(conversationId: string, messageId: string): Promise<void> {
    this.calls.push(['deleteForMe', conversationId, messageId]);
    this.update((s) => ({
      messages: {
        ...s.messages,
        [conversationId]: (s.messages[conversationId] ?? []).filter((m) => m.id !== messageId),
      },
    }));
  }

  async setExpireTimer(conversationId: string, seconds: number): Promise<void> {
    this.calls.push(['setExpireTimer', conversationId, seconds]);
    const me = this.getState().me?.accountId ?? '';
    const event: Message = {
      id: `timer-${this.calls.length}`,
      conversationId,
      kind: 'event',
      direction: 'in',
      senderAccountId: me,
      timestamp: Date.now(),
      event: 'timer_changed',
      timer: seconds,
    };
    this.update((s) => ({
      conversations: s.conversations.map((c) => {
        if (c.id !== conversationId) return c;
        const { expireTimer: _t, ...rest } = c;
        return seconds > 0 ? { ...rest, expireTimer: seconds } : rest;
      }),
      messages: {
        ...s.messages,
        [conversationId]: [...(s.messages[conversationId] ?? []), event],
      },
    }));
  }

  #patchMessage(conversationId: string, messageId: string, patch: (m: Message) => Message) {
    this.update((s) => ({
      messages: {
        ...s.messages,
        [conversationId]: (s.messages[conversationId] ?? []).map((m) =>
          m.id === messageId ? patch(m) : m,
        ),
      },
    }));
  }

  /** Simulates an outgoing message that failed for good (`failure` says why). */
  failedOutgoing(conversationId: string, text: string, failure: Message['failure']): string {
    const { id, kind, peer, title } = this.#summaryFor(conversationId);
    const messageId = `m${++this.#seq}`;
    this.#add(
      {
        id: messageId,
        conversationId,
        kind: 'text',
        direction: 'out',
        senderAccountId: this.getState().me?.accountId ?? '',
        timestamp: this.now(),
        text,
        status: 'failed',
        ...(failure ? { failure } : {}),
      },
      { id, kind, peer, title },
    );
    return messageId;
  }

  async retrySend(conversationId: string, messageId: string): Promise<void> {
    this.calls.push(['retrySend', conversationId, messageId]);
    this.update((s) => ({
      messages: {
        ...s.messages,
        [conversationId]: (s.messages[conversationId] ?? []).map((m) =>
          m.id === messageId
            ? {
                ...withoutFailure(m),
                status: 'sent' as const,
                ...(m.attachments
                  ? {
                      attachments: m.attachments.map((a) => {
                        const { uploadFailure: _f, ...rest } = a;
                        return { ...rest, upload: 'uploaded' as const };
                      }),
                    }
                  : {}),
              }
            : m,
        ),
      },
    }));
  }

  /** Simulates an incoming message. */
  receive(conversationId: string, from: string, text: string, timestamp = this.now()): void {
    const { id, kind, peer, title } = this.#summaryFor(conversationId);
    this.#add(
      {
        id: `m${++this.#seq}`,
        conversationId,
        kind: 'text',
        direction: 'in',
        senderAccountId: from,
        timestamp,
        text,
      },
      { id, kind, peer, title },
    );
  }

  /** Simulates an incoming message with a file (returns its message id). */
  receiveFile(
    conversationId: string,
    from: string,
    file: File,
    extra: { width?: number; height?: number; thumbnail?: Uint8Array } = {},
  ): string {
    const summary = this.#summaryFor(conversationId);
    const id = `m${++this.#seq}`;
    this.files.set(`${id}/0`, file);
    this.#add(
      {
        id,
        conversationId,
        kind: 'text',
        direction: 'in',
        senderAccountId: from,
        timestamp: this.now(),
        text: '',
        attachments: [{ fileName: file.name, contentType: file.type, size: file.size, ...extra }],
      },
      summary,
    );
    return id;
  }

  typingFrom(conversationId: string, accountIds: string[]): void {
    this.update((s) => ({ typing: { ...s.typing, [conversationId]: accountIds } }));
  }

  addContact(
    username: string,
    extra: { verified?: boolean; identityChanged?: boolean; sealedSender?: boolean } = {},
  ): string {
    const accountId = `acc-${username}`;
    this.directory.set(username, accountId);
    this.update((s) => ({
      contacts: {
        ...s.contacts,
        [accountId]: {
          accountId,
          username,
          verified: false,
          identityChanged: false,
          sealedSender: false,
          ...extra,
        },
      },
    }));
    return accountId;
  }

  async markRead(conversationId: string): Promise<void> {
    this.calls.push(['markRead', conversationId]);
    this.update((s) => ({
      conversations: s.conversations.map((c) =>
        c.id === conversationId ? { ...c, unread: 0 } : c,
      ),
    }));
  }

  setTyping(conversationId: string, typing: boolean): void {
    this.calls.push(['setTyping', conversationId, typing]);
  }

  async startDirect(username: string): Promise<string> {
    this.calls.push(['startDirect', username]);
    const accountId = this.directory.get(username.toLowerCase());
    if (!accountId) throw new Error(`No one is called "${username}".`);
    return `direct:${accountId}`;
  }

  async createGroup(title: string, usernames: string[]): Promise<string> {
    this.calls.push(['createGroup', title, usernames]);
    const groupId = `g${++this.#seq}`;
    const members = usernames.map((u) => ({ accountId: this.directory.get(u) ?? u, username: u }));
    this.update((s) => ({
      groups: { ...s.groups, [groupId]: { groupId, title, members, left: false } },
    }));
    return `group:${groupId}`;
  }

  async renameGroup(groupId: string, title: string): Promise<void> {
    this.calls.push(['renameGroup', groupId, title]);
  }
  async addMembers(groupId: string, usernames: string[]): Promise<void> {
    this.calls.push(['addMembers', groupId, usernames]);
  }
  async removeMember(groupId: string, accountId: string): Promise<void> {
    this.calls.push(['removeMember', groupId, accountId]);
  }
  async makeAdmin(groupId: string, accountId: string): Promise<void> {
    this.calls.push(['makeAdmin', groupId, accountId]);
    this.update((s) => {
      const g = s.groups[groupId];
      if (!g) return {};
      const admins = [...(g.admins ?? []), accountId];
      return { groups: { ...s.groups, [groupId]: { ...g, admins } } };
    });
  }

  async acceptRequest(conversationId: string): Promise<void> {
    this.calls.push(['acceptRequest', conversationId]);
    this.#setRequest(conversationId, false);
  }

  async deleteRequest(conversationId: string): Promise<void> {
    this.calls.push(['deleteRequest', conversationId]);
    this.update((s) => ({ conversations: s.conversations.filter((c) => c.id !== conversationId) }));
  }

  async blockRequest(conversationId: string): Promise<void> {
    this.calls.push(['blockRequest', conversationId]);
    const peer = conversationId.slice(conversationId.indexOf(':') + 1);
    if (conversationId.startsWith('direct:')) await this.setBlocked(peer, true);
    this.#setRequest(conversationId, false);
  }

  async setBlocked(accountId: string, blocked: boolean): Promise<void> {
    this.calls.push(['setBlocked', accountId, blocked]);
    this.update((s) => {
      const c = s.contacts[accountId] ?? {
        accountId,
        username: accountId,
        verified: false,
        identityChanged: false,
        sealedSender: false,
      };
      return { contacts: { ...s.contacts, [accountId]: { ...c, blocked } } };
    });
  }

  /** For tests: marks a conversation as a message request (or not). */
  setRequest(conversationId: string, request: boolean): void {
    this.#setRequest(conversationId, request);
  }

  #setRequest(conversationId: string, request: boolean): void {
    this.update((s) => ({
      conversations: s.conversations.map((c) => {
        if (c.id !== conversationId) return c;
        const { request: _r, ...rest } = c;
        return request ? { ...rest, request } : rest;
      }),
    }));
  }

  async leaveGroup(groupId: string): Promise<void> {
    this.calls.push(['leaveGroup', groupId]);
  }

  async listDevices(): Promise<Device[]> {
    return this.devices;
  }
  async approveDevice(uri: string, options?: { transferHistory?: boolean }): Promise<void> {
    this.calls.push(['approveDevice', uri, options?.transferHistory ?? false]);
    this.devices = [...this.devices, { deviceId: this.devices.length + 1, current: false }];
  }
  async unlinkDevice(deviceId: number): Promise<void> {
    this.calls.push(['unlinkDevice', deviceId]);
    this.devices = this.devices.filter((d) => d.deviceId !== deviceId);
  }

  async safetyNumber(accountId: string): Promise<SafetyNumber> {
    const c = this.getState().contacts[accountId];
    return {
      accountId,
      username: c?.username ?? accountId,
      digits: '123451234512345123451234512345123451234512345123451234512345',
      scannable: 'AAAA',
      verified: c?.verified ?? false,
    };
  }
  async setVerified(accountId: string, verified: boolean): Promise<void> {
    this.calls.push(['setVerified', accountId, verified]);
    this.#patchContact(accountId, { verified });
  }
  async acceptIdentityChange(accountId: string): Promise<void> {
    this.calls.push(['acceptIdentityChange', accountId]);
    this.#patchContact(accountId, { identityChanged: false, verified: false });
  }
  #patchContact(accountId: string, patch: { verified?: boolean; identityChanged?: boolean }) {
    this.update((s) => {
      const c = s.contacts[accountId];
      return c ? { contacts: { ...s.contacts, [accountId]: { ...c, ...patch } } } : {};
    });
  }

  async exportData(): Promise<Blob> {
    this.calls.push(['exportData']);
    return new Blob([JSON.stringify({ me: this.getState().me })], { type: 'application/json' });
  }
  async deleteAccount(): Promise<void> {
    this.calls.push(['deleteAccount']);
    this.update({ phase: { kind: 'welcome' }, me: undefined, conversations: [], messages: {} });
  }
}

function withoutFailure(m: Message): Message {
  const copy = { ...m };
  delete copy.failure;
  return copy;
}
