/**
 * Opening and closing the client: storage is opened at start (or the lock screen shown), and
 * again when another tab created, linked or dropped the account; locking drops the client and
 * its keys; a reset (account deleted, device unlinked) starts over on empty storage with a
 * fresh key; closing disconnects for good.
 * @module
 */
import type { ParleyClient } from '@parley/client';
import type { FileTransfers } from '../attachments.ts';
import type { StateStore } from '../store.ts';
import type { ActiveClient } from './active-client.ts';
import { subscribeClientEvents } from './client-events.ts';
import { friendly } from './errors.ts';
import type { Profile } from './profile.ts';
import type { Snapshot } from './snapshot.ts';
import type { SocketLeader } from './socket-leader.ts';
import type { TabChannel } from './tab-channel.ts';
import type { TypingIndicators } from './typing-indicators.ts';

export class ClientLifecycle {
  constructor(
    private readonly store: StateStore,
    private readonly profile: Profile,
    private readonly active: ActiveClient,
    private readonly snapshot: Snapshot,
    private readonly typing: TypingIndicators,
    private readonly tabs: TabChannel,
    private readonly socket: SocketLeader,
    private readonly files: FileTransfers,
  ) {}

  /** Opens storage; shows the lock screen, onboarding or the chats. */
  async init(): Promise<void> {
    try {
      const keyring = await this.profile.openKeyring();
      if (await keyring.hasPassphrase()) {
        this.store.update({ phase: { kind: 'locked' }, hasPassphrase: true });
        return;
      }
      await this.openClient();
    } catch (err) {
      this.store.update({ phase: { kind: 'error', message: friendly(err) } });
    }
  }

  async openClient(passphrase?: string): Promise<void> {
    const keyring = this.profile.keyring!;
    this.attach(await this.profile.openClient(passphrase));
    this.store.update({ hasPassphrase: await keyring.hasPassphrase() });
    if (this.active.current?.account) {
      await this.snapshot.refresh();
      this.store.update({ phase: { kind: 'ready' } });
      this.socket.connect();
    } else {
      this.store.update({ phase: { kind: 'welcome' } });
    }
  }

  /** Makes `client` this tab's client, its events reaching the model. */
  attach(client: ParleyClient): void {
    const { store, snapshot, typing, tabs, socket, files } = this;
    this.active.attach(client, (c) =>
      subscribeClientEvents(c, {
        store,
        snapshot,
        typing,
        tabs,
        socket,
        files,
        reset: (message) => this.reset(message),
      }),
    );
  }

  /** Another tab created, linked or dropped the account: start over from storage. */
  async reopen(): Promise<void> {
    const phase = this.store.getState().phase.kind;
    if (phase !== 'welcome' && phase !== 'ready') return;
    this.socket.resign();
    await this.active.drop();
    this.snapshot.open.clear();
    this.store.update({
      conversations: [],
      contacts: {},
      groups: {},
      messages: {},
      typing: {},
      me: undefined,
    });
    await this.init();
  }

  /** Locks this tab: the client and the keys leave memory. */
  async lockHere(): Promise<void> {
    this.socket.stop();
    await this.active.drop();
    this.profile.keyring?.lock();
    this.snapshot.open.clear();
    this.store.update({
      phase: { kind: 'locked' },
      messages: {},
      conversations: [],
      contacts: {},
      groups: {},
    });
  }

  /** Back to onboarding with empty storage and a fresh key. */
  async reset(message?: string): Promise<void> {
    this.socket.stop();
    await this.active.drop();
    this.snapshot.open.clear();
    await this.profile.keyring?.destroy();
    this.store.update({
      conversations: [],
      contacts: {},
      groups: {},
      messages: {},
      typing: {},
      me: undefined,
    });
    await this.openClient();
    this.tabs.post({ type: 'account' });
    if (message) console.warn(`parley: ${message}`);
  }

  /** Disconnects (tests; a page simply goes away). */
  async close(): Promise<void> {
    this.socket.close();
    this.tabs.close();
    await this.active.stop();
    this.typing.close();
  }
}
