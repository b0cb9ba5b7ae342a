/**
 * Provisioning sockets: a new device connects (unauthenticated), gets a random address, and
 * waits for one opaque message from an existing device of the account it is joining. The
 * address is a capability — 256 random bits — and is forgotten as soon as it is used, when the
 * socket closes, or after `ttlMs`.
 * @module
 */
import {
  CloseCode,
  encodeFrame,
  parseProvisioningClientFrame,
  type ProvisioningServerFrame,
} from '@parley/protocol';
import type { WebSocket } from 'ws';
import { generateProvisioningAddress } from '../credentials.ts';
import type { RedisCluster } from './cluster.ts';

/** How provisioning messages reach a socket on another relay node (see `cluster.ts`). */
export type ProvisioningFanout = Pick<
  RedisCluster,
  'watchProvisioning' | 'unwatchProvisioning' | 'deliverProvisioning'
>;

interface Waiting {
  socket: WebSocket;
  timer: NodeJS.Timeout;
}

const send = (socket: WebSocket, frame: ProvisioningServerFrame) => socket.send(encodeFrame(frame));

export class ProvisioningHub {
  readonly #waiting = new Map<string, Waiting>();
  readonly #cluster: ProvisioningFanout | undefined;

  constructor(cluster?: ProvisioningFanout) {
    this.#cluster = cluster;
  }

  get size(): number {
    return this.#waiting.size;
  }

  /** Gives the socket an address and tells it; the socket closes itself after `ttlMs`. */
  open(socket: WebSocket, ttlMs: number, now: number): string {
    const address = generateProvisioningAddress();
    const timer = setTimeout(() => {
      socket.close(CloseCode.ProvisioningExpired, 'provisioning address expired');
    }, ttlMs);
    timer.unref();
    this.#waiting.set(address, { socket, timer });
    socket.on('message', (data, isBinary) => {
      const text = !isBinary && Buffer.isBuffer(data) ? data.toString('utf8') : undefined;
      const parsed =
        text === undefined
          ? { ok: false as const, error: 'frames must be text' }
          : parseProvisioningClientFrame(text);
      if (!parsed.ok) {
        send(socket, { type: 'error', error: 'invalid_frame', message: parsed.error });
        socket.close(CloseCode.InvalidFrame, 'invalid frame');
        return;
      }
      const { id } = parsed.frame;
      send(socket, id === undefined ? { type: 'pong' } : { type: 'pong', id });
    });
    socket.once('close', () => this.#forget(address));
    const announce = () => {
      if (this.#waiting.has(address)) {
        send(socket, { type: 'provisioning_address', address, expiresAt: now + ttlMs });
      }
    };
    if (this.#cluster) {
      // Reachable from every node before the address is shown to anyone.
      this.#cluster
        .watchProvisioning(address, (body) => this.deliver(address, body))
        .then(announce, () => socket.close(CloseCode.InternalError, 'internal error'));
    } else {
      announce();
    }
    return address;
  }

  /** Delivers `body` to the socket waiting at `address` and closes it; false if none waits. */
  deliver(address: string, body: string): boolean {
    const waiting = this.#waiting.get(address);
    if (!waiting) return false;
    this.#forget(address);
    send(waiting.socket, { type: 'provisioning_message', body });
    waiting.socket.close(CloseCode.Normal, 'provisioned');
    return true;
  }

  /** `deliver` here, or on whichever relay node holds the socket. */
  async deliverAnywhere(address: string, body: string): Promise<boolean> {
    if (this.deliver(address, body)) return true;
    return (await this.#cluster?.deliverProvisioning(address, body)) ?? false;
  }

  closeAll(code: number, reason: string): void {
    for (const [address, { socket }] of this.#waiting) {
      this.#forget(address);
      socket.close(code, reason);
    }
  }

  #forget(address: string): void {
    const waiting = this.#waiting.get(address);
    if (!waiting) return;
    clearTimeout(waiting.timer);
    this.#waiting.delete(address);
    this.#cluster?.unwatchProvisioning(address);
  }
}
