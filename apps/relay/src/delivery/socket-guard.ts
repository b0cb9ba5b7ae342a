/**
 * Limits every WebSocket the relay accepts: a frame budget per socket (a fixed window), and —
 * behind a trusted proxy, where the TCP-level per-IP cap cannot see clients — a cap on
 * concurrent sockets per forwarded client IP. Either closes the socket with 1008.
 * @module
 */
import { CloseCode } from '@parley/protocol';
import type { WebSocket } from 'ws';
import type { RelayConfig } from '../config.ts';
import { ConnectionCounter } from '../plugins/connections.ts';

export class SocketGuard {
  readonly #config: RelayConfig;
  readonly #perIp: ConnectionCounter | undefined;

  constructor(config: RelayConfig) {
    this.#config = config;
    this.#perIp = config.trustProxy
      ? new ConnectionCounter(config.connections.maxPerIp)
      : undefined;
  }

  /**
   * Applies the limits to a newly opened socket; false (and the socket is closing) if refused.
   * Call before anything else listens to the socket's messages, so an over-budget frame is
   * never acted on.
   */
  admit(socket: WebSocket, ip: string): boolean {
    const perIp = this.#perIp;
    if (perIp) {
      if (!perIp.enter(ip)) {
        socket.close(CloseCode.PolicyViolation, 'too many connections');
        return false;
      }
      socket.once('close', () => perIp.leave(ip));
    }
    const { max, windowMs } = this.#config.connections.socketFrames;
    let windowStart = Date.now();
    let frames = 0;
    socket.on('message', () => {
      const now = Date.now();
      if (now - windowStart >= windowMs) {
        windowStart = now;
        frames = 0;
      }
      if (++frames > max && socket.readyState === socket.OPEN) {
        socket.close(CloseCode.PolicyViolation, 'too many frames');
      }
    });
    return true;
  }
}
