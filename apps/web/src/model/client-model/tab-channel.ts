/**
 * What the tabs of one profile tell each other, over a `BroadcastChannel` named after the
 * profile's database. Storage commits are announced coalesced, so a burst of writes costs the
 * other tabs one re-read. Without `BroadcastChannel` (Node in tests) nothing is sent.
 * @module
 */
import type { Connection } from '../types.ts';

/** What tabs of one profile tell each other. */
export type TabMessage =
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

export class TabChannel {
  readonly #channel: BroadcastChannel | undefined;
  #notifyTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(dbName: string) {
    if (typeof BroadcastChannel !== 'undefined') {
      this.#channel = new BroadcastChannel(`parley:${dbName}`);
    }
  }

  /** Hands every message from another tab to `handler` (tab-events.ts). */
  listen(handler: (message: TabMessage) => void): void {
    if (this.#channel) this.#channel.onmessage = (ev: MessageEvent<TabMessage>) => handler(ev.data);
  }

  post(message: TabMessage): void {
    try {
      this.#channel?.postMessage(message);
    } catch {
      /* closed */
    }
  }

  /** Storage committed: tell the other tabs (coalesced, like our own refreshes). */
  committed(): void {
    if (!this.#channel || this.#notifyTimer) return;
    this.#notifyTimer = setTimeout(() => {
      this.#notifyTimer = undefined;
      this.post({ type: 'changed' });
    }, 20);
  }

  close(): void {
    clearTimeout(this.#notifyTimer);
    this.#channel?.close();
  }
}
