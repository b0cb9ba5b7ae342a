/**
 * Keepalive for every relay WebSocket: one timer pings all sockets; a socket that did not answer
 * the previous ping with a pong is terminated (its TCP peer is gone or stuck). Browsers answer
 * pings automatically. One interval for all sockets costs O(1) timers, not one per connection.
 * @module
 */
import type { WebSocket } from 'ws';

export class Keepalive {
  readonly #alive = new Map<WebSocket, boolean>();
  readonly #timer: NodeJS.Timeout;

  constructor(intervalMs: number) {
    this.#timer = setInterval(() => this.#tick(), intervalMs);
    this.#timer.unref();
  }

  track(socket: WebSocket): void {
    this.#alive.set(socket, true);
    socket.on('pong', () => this.#alive.set(socket, true));
    socket.once('close', () => this.#alive.delete(socket));
  }

  #tick(): void {
    for (const [socket, alive] of this.#alive) {
      if (!alive) {
        this.#alive.delete(socket);
        socket.terminate();
        continue;
      }
      this.#alive.set(socket, false);
      socket.ping();
    }
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
