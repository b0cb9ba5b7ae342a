/**
 * A protocol address: who a session is with. `name` is an account id (a UUID in Parley),
 * `deviceId` the device of that account (1..127, libsignal's range since v0.75).
 * @module
 */
import { ProtocolError } from './errors.ts';

export const MAX_DEVICE_ID = 127;

export class ProtocolAddress {
  constructor(
    readonly name: string,
    readonly deviceId: number,
  ) {
    if (typeof name !== 'string' || name.length === 0 || name.length > 256) {
      throw new ProtocolError('InvalidArgument', 'address name must be a non-empty string');
    }
    if (!Number.isInteger(deviceId) || deviceId < 1 || deviceId > MAX_DEVICE_ID) {
      throw new ProtocolError('InvalidArgument', `device id must be in 1..${MAX_DEVICE_ID}`);
    }
  }

  /** `name.deviceId`: a stable key for maps and store rows. */
  toString(): string {
    return `${this.name}.${this.deviceId}`;
  }

  equals(other: ProtocolAddress): boolean {
    return this.name === other.name && this.deviceId === other.deviceId;
  }
}
