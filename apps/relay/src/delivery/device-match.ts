/**
 * Signal-Server's rule for a send: the sender must address exactly the destination's current
 * devices (minus itself when writing to its own account), with their current registration ids.
 * Otherwise the relay stores nothing and tells the sender what to fix:
 * 409 `missingDevices`/`extraDevices` (fetch bundles for the missing, drop the extra), or
 * 410 `staleDevices` (the device re-registered: start a new session).
 * @module
 */
import type { DeviceSnapshot } from '../store/types.ts';

export interface AddressedDevice {
  deviceId: number;
  registrationId: number;
}

export type DeviceMatch =
  | { kind: 'ok' }
  | { kind: 'mismatched'; missingDevices: number[]; extraDevices: number[] }
  | { kind: 'stale'; staleDevices: number[] };

export function matchDevices(
  current: readonly DeviceSnapshot[],
  addressed: readonly AddressedDevice[],
  excludeDeviceId?: number,
): DeviceMatch {
  const expected = new Map(
    current
      .filter((d) => d.deviceId !== excludeDeviceId)
      .map((d) => [d.deviceId, d.registrationId]),
  );
  const sent = new Map(addressed.map((d) => [d.deviceId, d.registrationId]));
  const missingDevices = [...expected.keys()].filter((id) => !sent.has(id)).sort((a, b) => a - b);
  const extraDevices = [...sent.keys()].filter((id) => !expected.has(id)).sort((a, b) => a - b);
  if (missingDevices.length > 0 || extraDevices.length > 0) {
    return { kind: 'mismatched', missingDevices, extraDevices };
  }
  const staleDevices = addressed
    .filter((d) => expected.get(d.deviceId) !== d.registrationId)
    .map((d) => d.deviceId)
    .sort((a, b) => a - b);
  return staleDevices.length > 0 ? { kind: 'stale', staleDevices } : { kind: 'ok' };
}

/** Device ids listed more than once (a malformed request, answered 400). */
export function duplicateIds(ids: readonly string[]): string[] {
  const seen = new Set<string>();
  const duplicates = new Set<string>();
  for (const id of ids) (seen.has(id) ? duplicates : seen).add(id);
  return [...duplicates];
}
