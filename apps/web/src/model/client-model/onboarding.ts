/**
 * Getting this browser an account: registering a new one, or linking this browser as a new
 * device of an existing account (it shows a link code for the other device to approve). Either
 * way the tab then claims the socket and tells the other tabs to reopen storage.
 * @module
 */
import { ParleyClient, RelayHttpError } from '@parley/client';
import type { StateStore } from '../store.ts';
import type { LinkOffer } from '../types.ts';
import type { ActiveClient } from './active-client.ts';
import type { ClientLifecycle } from './client-lifecycle.ts';
import { friendly } from './errors.ts';
import type { Profile } from './profile.ts';
import type { Snapshot } from './snapshot.ts';
import type { SocketLeader } from './socket-leader.ts';
import type { TabChannel } from './tab-channel.ts';

export class Onboarding {
  constructor(
    private readonly store: StateStore,
    private readonly profile: Profile,
    private readonly active: ActiveClient,
    private readonly snapshot: Snapshot,
    private readonly socket: SocketLeader,
    private readonly tabs: TabChannel,
    private readonly lifecycle: ClientLifecycle,
  ) {}

  async register(username: string): Promise<void> {
    const client = this.active.current;
    if (!client) throw new Error('Storage is not open.');
    try {
      await client.register(username, this.profile.options.relayUrl, browserName());
    } catch (err) {
      if (err instanceof RelayHttpError && err.status === 409) {
        throw new Error(`The username “${username}” is taken.`);
      }
      throw new Error(friendly(err));
    }
    await this.snapshot.refresh();
    this.store.update({ phase: { kind: 'ready' } });
    // Claim the socket first, then wake the other tabs: they queue behind us.
    this.socket.connect();
    this.tabs.post({ type: 'account' });
  }

  async startLinking(onOffer: (offer: LinkOffer) => void, signal: AbortSignal): Promise<void> {
    const current = this.active.current;
    if (!current) throw new Error('Storage is not open.');
    const client = await ParleyClient.link(
      { ...this.profile.clientOptions(current.storage), deviceName: browserName() },
      (uri) => {
        if (!signal.aborted) onOffer({ uri });
      },
    );
    this.lifecycle.attach(client);
    await this.snapshot.refresh();
    this.store.update({ phase: { kind: 'ready' } });
    this.socket.connect();
    this.tabs.post({ type: 'account' });
    await client.announceToOwnDevices().catch((err: unknown) => {
      console.warn('parley: could not announce this device', friendly(err));
    });
    this.snapshot.schedule();
  }
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
