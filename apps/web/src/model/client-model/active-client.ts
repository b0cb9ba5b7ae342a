/**
 * The `ParleyClient` this tab works with, if any, and its event subscriptions: replaced when
 * storage is opened again or a device is linked, dropped when the tab locks or resets.
 * @module
 */
import type { ParleyClient } from '@parley/client';

export class ActiveClient {
  #client: ParleyClient | undefined;
  #unsubscribe: Array<() => void> = [];

  /** Undefined while storage is not open (locked, or between reopenings). */
  get current(): ParleyClient | undefined {
    return this.#client;
  }

  /** The client of a registered account; actions that need one call this. */
  require(): ParleyClient {
    if (!this.#client?.account) throw new Error('Not signed in.');
    return this.#client;
  }

  /** Makes `client` the active one, with the subscriptions `subscribe` returns. */
  attach(client: ParleyClient, subscribe: (client: ParleyClient) => Array<() => void>): void {
    this.#unsubscribeAll();
    this.#client = client;
    this.#unsubscribe = subscribe(client);
  }

  /** Disconnects the client and drops its subscriptions; it stays `current`. */
  async stop(): Promise<void> {
    await this.#client?.stop();
    this.#unsubscribeAll();
  }

  /** `stop`, then forgets the client. */
  async drop(): Promise<void> {
    await this.stop();
    this.#client = undefined;
  }

  #unsubscribeAll(): void {
    for (const off of this.#unsubscribe) off();
    this.#unsubscribe = [];
  }
}
