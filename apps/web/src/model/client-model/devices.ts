/**
 * This account's devices: the list (names decrypted), approving a new device's link code
 * (with or without message history), and unlinking one.
 * @module
 */
import type { Device } from '../types.ts';
import type { ActiveClient } from './active-client.ts';
import { friendly } from './errors.ts';

export class DeviceActions {
  constructor(private readonly active: ActiveClient) {}

  async listDevices(): Promise<Device[]> {
    const client = this.active.require();
    const devices = await client.devices();
    return devices
      .map((d) => ({
        deviceId: d.deviceId,
        // The relay holds names sealed to the account: only the decrypted one is shown.
        ...(d.displayName ? { name: d.displayName } : {}),
        createdAt: d.createdAt,
        lastSeenAt: d.lastSeenAt,
        current: d.deviceId === client.deviceId,
      }))
      .sort((a, b) => a.deviceId - b.deviceId);
  }

  async approveDevice(uri: string, options?: { transferHistory?: boolean }): Promise<void> {
    try {
      await this.active.require().approveLink(uri, options);
    } catch (err) {
      throw new Error(friendly(err));
    }
  }

  async unlinkDevice(deviceId: number): Promise<void> {
    await this.active.require().unlinkDevice(deviceId);
  }
}
