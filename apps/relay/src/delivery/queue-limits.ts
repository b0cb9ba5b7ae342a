/**
 * Queue limits for a send: every device queue has a cap in envelopes and in bytes, and one
 * sending account may fill only a share of either. A sender over its share is the one refused
 * (429, its own limit), so one abuser cannot fill a victim's queue and lock the victim's other
 * contacts out; only a queue filled by many senders is full for everyone (507).
 * @module
 */
import type { DeviceSnapshot } from '../store/types.ts';

export interface QueueLimits {
  envelopes: number;
  bytes: number;
  senderSharePercent: number;
}

/** One envelope about to be queued for a device. */
export interface Addressed {
  deviceId: number;
  bytes: number;
}

export type QueueVerdict =
  | { kind: 'ok' }
  | { kind: 'sender_over_share'; deviceIds: number[] }
  | { kind: 'full'; deviceIds: number[] };

export function checkQueues(
  devices: readonly DeviceSnapshot[],
  addressed: readonly Addressed[],
  limits: QueueLimits,
  /** Sends to the sender's own devices: nobody else to protect, no share applies. */
  ownAccount: boolean,
): QueueVerdict {
  const share = (cap: number) => Math.max(1, Math.floor((cap * limits.senderSharePercent) / 100));
  const shareEnvelopes = share(limits.envelopes);
  const shareBytes = share(limits.bytes);
  const byId = new Map(devices.map((d) => [d.deviceId, d]));
  const overShare: number[] = [];
  const full: number[] = [];
  for (const { deviceId, bytes } of addressed) {
    const d = byId.get(deviceId);
    if (!d) continue;
    if (
      !ownAccount &&
      (d.senderQueued + 1 > shareEnvelopes || d.senderQueuedBytes + bytes > shareBytes)
    ) {
      overShare.push(deviceId);
    }
    if (d.queued + 1 > limits.envelopes || d.queuedBytes + bytes > limits.bytes) {
      full.push(deviceId);
    }
  }
  if (overShare.length > 0) return { kind: 'sender_over_share', deviceIds: overShare };
  if (full.length > 0) return { kind: 'full', deviceIds: full };
  return { kind: 'ok' };
}

/** Content bytes of a base64 envelope body. */
export const contentBytes = (base64: string): number => Buffer.byteLength(base64, 'base64');
