/**
 * Planning a sealed send inside the store's enqueue transaction: the same device rule as an
 * authenticated send (`delivery/device-match.ts`: every current device of each recipient, with
 * its registration id) and the same queue caps. There is no sender, so there is no sender share
 * of a queue to check and no own-account exemption: a sealed send always addresses every device
 * of each recipient account.
 * @module
 */
import { ErrorCode } from '@parley/protocol';
import type { RelayConfig } from '../config.ts';
import { matchDevices } from '../delivery/device-match.ts';
import { checkQueues, contentBytes } from '../delivery/queue-limits.ts';
import { RelayError } from '../errors.ts';
import type { DeviceSnapshot, EnqueuePlanner, NewEnvelope } from '../store/types.ts';
import { wrongAccessKey } from './access.ts';

/** One sealed envelope for one device. */
export interface SealedDevice {
  deviceId: number;
  registrationId: number;
  content: string;
  timestamp: number;
}

/**
 * Per recipient account, its sealed envelopes. `single`: the single-recipient route, whose 409
 * and 410 name devices directly (the multi-recipient route's name accounts).
 */
export type SealedDelivery = Map<string, { single: boolean; devices: SealedDevice[] }>;

type Planned = ReturnType<EnqueuePlanner<RelayError>>;

export function planSealed(
  snapshot: ReadonlyMap<string, readonly DeviceSnapshot[]>,
  delivery: SealedDelivery,
  config: RelayConfig,
  make: (d: {
    destinationAccountId: string;
    destinationDeviceId: number;
    timestamp: number;
    content: string;
  }) => NewEnvelope,
): Planned {
  const mismatched = [];
  const stale = [];
  let single = false;
  for (const [accountId, entry] of delivery) {
    single = entry.single;
    const devices = snapshot.get(accountId);
    // Deleted since its access key was checked: the same answer as a wrong key.
    if (!devices) return { reject: wrongAccessKey() };
    const match = matchDevices(devices, entry.devices);
    if (match.kind === 'mismatched') {
      const { missingDevices, extraDevices } = match;
      mismatched.push({ accountId, missingDevices, extraDevices });
    } else if (match.kind === 'stale') {
      stale.push({ accountId, staleDevices: match.staleDevices });
    }
  }
  const [firstMismatch] = mismatched;
  if (firstMismatch) {
    const details = single
      ? { missingDevices: firstMismatch.missingDevices, extraDevices: firstMismatch.extraDevices }
      : { accounts: mismatched };
    return {
      reject: new RelayError(
        409,
        ErrorCode.MismatchedDevices,
        'device list does not match',
        details,
      ),
    };
  }
  const [firstStale] = stale;
  if (firstStale) {
    const details = single ? { staleDevices: firstStale.staleDevices } : { accounts: stale };
    return {
      reject: new RelayError(
        410,
        ErrorCode.StaleDevices,
        'some devices have re-registered',
        details,
      ),
    };
  }
  const limits = {
    envelopes: config.queueCapPerDevice,
    bytes: config.queueCapBytesPerDevice,
    senderSharePercent: config.queueSenderSharePercent,
  };
  const envelopes: NewEnvelope[] = [];
  for (const [accountId, entry] of delivery) {
    const sizes = entry.devices.map((d) => ({
      deviceId: d.deviceId,
      bytes: contentBytes(d.content),
    }));
    // No sender to hold to a share: only the caps apply.
    const verdict = checkQueues(snapshot.get(accountId) ?? [], sizes, limits, true);
    if (verdict.kind !== 'ok') {
      return {
        reject: new RelayError(
          507,
          ErrorCode.QueueFull,
          "a recipient device's queue is full; retry later",
          {
            accountId,
            deviceIds: verdict.deviceIds,
          },
        ),
      };
    }
    for (const d of entry.devices) {
      envelopes.push(
        make({
          destinationAccountId: accountId,
          destinationDeviceId: d.deviceId,
          timestamp: d.timestamp,
          content: d.content,
        }),
      );
    }
  }
  return { envelopes };
}
