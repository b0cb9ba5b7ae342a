/**
 * Who is connected: at most one delivery socket per device. A new connection for a device
 * replaces the old one (closed with `CloseCode.Replaced`), so two clients never race on acks.
 *
 * This registry is in-process. Running several relay processes needs a pub/sub fan-out in
 * `notify` (a later issue); the store already is the shared source of truth.
 * @module
 */
import { CloseCode } from '@parley/protocol';
import type { DeviceConnection } from './connection.ts';

const key = (accountId: string, deviceId: number) => `${accountId}.${deviceId}`;

export class DeliveryHub {
  readonly #connections = new Map<string, DeviceConnection>();

  get size(): number {
    return this.#connections.size;
  }

  /** Registers `connection`, closing any previous one for the same device. */
  add(connection: DeviceConnection): void {
    const id = key(connection.accountId, connection.deviceId);
    const previous = this.#connections.get(id);
    this.#connections.set(id, connection);
    previous?.close(CloseCode.Replaced, 'replaced by a newer connection');
  }

  /** Unregisters `connection` if it is still the current one for its device. */
  remove(connection: DeviceConnection): void {
    const id = key(connection.accountId, connection.deviceId);
    if (this.#connections.get(id) === connection) this.#connections.delete(id);
  }

  /** New envelopes were stored for the device: push them if it is connected. */
  notify(accountId: string, deviceId: number): void {
    this.#connections.get(key(accountId, deviceId))?.pump();
  }

  /** An envelope was deleted over HTTP: free the socket's in-flight slot. */
  forget(accountId: string, deviceId: number, envelopeId: string): void {
    this.#connections.get(key(accountId, deviceId))?.forget(envelopeId);
  }

  /** Closes the sockets of these devices (removed device, deleted account). */
  disconnect(accountId: string, deviceIds: readonly number[], code: number, reason: string): void {
    for (const deviceId of deviceIds) {
      this.#connections.get(key(accountId, deviceId))?.close(code, reason);
    }
  }

  /** Closes every socket; resolves once the acks they already sent have been applied. */
  async closeAll(code: number, reason: string): Promise<void> {
    const connections = [...this.#connections.values()];
    for (const connection of connections) connection.close(code, reason);
    await Promise.all(connections.map((c) => c.settled()));
  }
}
