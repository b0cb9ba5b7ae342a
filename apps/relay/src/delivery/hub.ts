/**
 * Who is connected: at most one delivery socket per device. A new connection for a device
 * replaces the old one (closed with `CloseCode.Replaced`), so two clients never race on acks.
 *
 * The registry is in-process; with a `ClusterFanout` (Redis, see `cluster.ts`) every event is also
 * published to the other relay nodes, so a device connected to any node gets pushes for sends
 * through any node, and a newer socket on another node replaces this one. The store is the shared
 * source of truth either way.
 * @module
 */
import { CloseCode } from '@parley/protocol';
import type { ClusterEvent, ClusterFanout } from './cluster.ts';
import type { DeviceConnection } from './connection.ts';

const key = (accountId: string, deviceId: number) => `${accountId}.${deviceId}`;

export class DeliveryHub {
  readonly #connections = new Map<string, DeviceConnection>();
  /** When each current connection opened (ms), to tell which of two nodes' sockets is newer. */
  readonly #since = new Map<DeviceConnection, number>();
  readonly #cluster: ClusterFanout | undefined;

  constructor(cluster?: ClusterFanout) {
    this.#cluster = cluster;
    cluster?.onEvent((accountId, deviceId, event, from) =>
      this.#onRemote(accountId, deviceId, event, from),
    );
  }

  get size(): number {
    return this.#connections.size;
  }

  /** Registers `connection`, closing any previous one for the same device. */
  add(connection: DeviceConnection): void {
    const id = key(connection.accountId, connection.deviceId);
    const previous = this.#connections.get(id);
    this.#connections.set(id, connection);
    previous?.close(CloseCode.Replaced, 'replaced by a newer connection');
    if (previous) this.#since.delete(previous);
    const since = Date.now();
    this.#since.set(connection, since);
    // Once subscribed, look at the queue again: a notify published before the subscription
    // took effect would otherwise wait for the next one.
    this.#cluster?.attach(connection.accountId, connection.deviceId, since).then(
      () => {
        if (this.#connections.get(id) === connection) connection.pump();
      },
      () => undefined,
    );
  }

  /** Unregisters `connection` if it is still the current one for its device. */
  remove(connection: DeviceConnection): void {
    const id = key(connection.accountId, connection.deviceId);
    this.#since.delete(connection);
    if (this.#connections.get(id) === connection) {
      this.#connections.delete(id);
      this.#cluster?.detach(connection.accountId, connection.deviceId);
    }
  }

  /** New envelopes were stored for the device: push them if it is connected. */
  notify(accountId: string, deviceId: number): void {
    this.#connections.get(key(accountId, deviceId))?.pump();
    this.#cluster?.publish(accountId, deviceId, { type: 'notify' });
  }

  /** An envelope was deleted over HTTP: free the socket's in-flight slot. */
  forget(accountId: string, deviceId: number, envelopeId: string): void {
    this.#connections.get(key(accountId, deviceId))?.forget(envelopeId);
    this.#cluster?.publish(accountId, deviceId, { type: 'forget', envelopeId });
  }

  /** Closes the sockets of these devices (removed device, deleted account). */
  disconnect(accountId: string, deviceIds: readonly number[], code: number, reason: string): void {
    for (const deviceId of deviceIds) {
      this.#connections.get(key(accountId, deviceId))?.close(code, reason);
      this.#cluster?.publish(accountId, deviceId, { type: 'disconnect', code, reason });
    }
  }

  /** An event another node published for a device whose socket may be here. */
  #onRemote(accountId: string, deviceId: number, event: ClusterEvent, from: string): void {
    const connection = this.#connections.get(key(accountId, deviceId));
    if (!connection) return;
    switch (event.type) {
      case 'notify':
        connection.pump();
        return;
      case 'forget':
        connection.forget(event.envelopeId);
        return;
      case 'disconnect':
        connection.close(event.code, event.reason);
        return;
      case 'replaced': {
        // The newer socket wins; on a tie, the larger node id (both nodes agree on which).
        const mine = this.#since.get(connection) ?? 0;
        const nodeId = this.#cluster?.nodeId ?? '';
        if (event.since > mine || (event.since === mine && from > nodeId)) {
          connection.close(CloseCode.Replaced, 'replaced by a newer connection');
        }
        return;
      }
    }
  }

  /** Closes every socket; resolves once the acks they already sent have been applied. */
  async closeAll(code: number, reason: string): Promise<void> {
    const connections = [...this.#connections.values()];
    for (const connection of connections) connection.close(code, reason);
    await Promise.all(connections.map((c) => c.settled()));
  }
}
