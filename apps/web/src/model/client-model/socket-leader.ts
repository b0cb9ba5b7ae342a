/**
 * One relay socket per device, held by one tab: the tab holding the `parley:<db>:socket` Web
 * Lock connects it; the others queue for the lock (sending over HTTP meanwhile, and hearing of
 * changes from the tab channel), and the next in the queue connects when the leader goes away.
 * Without Web Locks every tab connects, and a tab whose socket the relay replaced retries later.
 * @module
 */
import type { ParleyClient } from '@parley/client';
import { runAsSocketLeader } from '@parley/client/web-locks.js';
import type { StateStore } from '../store.ts';
import type { ActiveClient } from './active-client.ts';
import { friendly } from './errors.ts';
import type { Profile } from './profile.ts';
import type { Snapshot } from './snapshot.ts';
import type { TabChannel } from './tab-channel.ts';

/** A tab whose socket was replaced by one this tab's locks do not cover waits, then retries. */
const REPLACED_RETRY_MS = 2_000;
const REPLACED_RETRY_MAX_MS = 60_000;

export class SocketLeader {
  /** This tab holds the relay socket. */
  #leader = false;
  /** Bumped whenever this tab gives up (or must not take) the socket. */
  #leadership = 0;
  #resign: (() => void) | undefined;
  #replaced = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** close() was called: nothing connects again. */
  #closed = false;

  constructor(
    private readonly store: StateStore,
    private readonly profile: Profile,
    private readonly active: ActiveClient,
    private readonly snapshot: Snapshot,
    private readonly tabs: TabChannel,
  ) {}

  /** This tab holds the relay socket. */
  get leader(): boolean {
    return this.#leader;
  }

  /**
   * Connects the relay socket in exactly one tab of this profile: the one holding the socket
   * lock. The others queue for it and take over, one of them, when that tab goes away.
   */
  connect(): void {
    const client = this.active.current;
    // After close(), a late caller (a registration or refresh still settling) must not
    // reconnect a model that is gone.
    if (!client?.account || this.#closed) return;
    clearTimeout(this.#retryTimer);
    this.resign();
    const term = this.#leadership;
    if (!this.profile.lock) {
      void this.#hold(client, term);
      return;
    }
    this.store.update({ connection: 'connecting', tab: 'follower' });
    this.tabs.post({ type: 'hello' });
    runAsSocketLeader(() => this.#hold(client, term), `parley:${this.profile.dbName}:socket`).catch(
      (err: unknown) => console.warn('parley: socket leadership failed', friendly(err)),
    );
  }

  /** While leader: the socket is open; resolves (releasing the lock) after `resign`. */
  async #hold(client: ParleyClient, term: number): Promise<void> {
    if (term !== this.#leadership || this.active.current !== client || this.#closed) return;
    const resigned = new Promise<void>((resolve) => (this.#resign = resolve));
    this.#leader = true;
    this.store.update({ connection: 'connecting', tab: 'leader' });
    this.tabs.post({ type: 'connection', state: 'connecting' });
    client.start().then(
      () => this.snapshot.schedule(),
      (err: unknown) => console.warn('parley: could not connect', friendly(err)),
    );
    await resigned;
    this.#leader = false;
    await client.stop().catch(() => {});
  }

  /** Gives up the socket (and a pending claim on it). */
  resign(): void {
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
  replaced(): void {
    const wasLeader = this.#leader;
    this.resign();
    this.store.update({ connection: 'offline' });
    if (wasLeader) this.tabs.post({ type: 'connection', state: 'offline' });
    const delay = Math.min(REPLACED_RETRY_MAX_MS, REPLACED_RETRY_MS * 2 ** this.#replaced++);
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => this.connect(), delay);
  }

  /** Cancels a pending retry and gives up the socket (the tab locks or resets). */
  stop(): void {
    clearTimeout(this.#retryTimer);
    this.resign();
  }

  /** For good: nothing connects again. */
  close(): void {
    this.#closed = true;
    this.stop();
  }
}
