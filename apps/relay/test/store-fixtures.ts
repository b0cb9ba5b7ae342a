/**
 * Shared fixtures of the `RelayStore` contract suites (`store-contract.ts`,
 * `store-contract-queues.ts`).
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { hashSecret } from '../src/credentials.ts';
import type { NewDevice, NewEnvelope, RelayStore, SendKey } from '../src/store/types.ts';
import { deviceKeys, ecPublicKey } from './helpers.ts';

/** Wraps a test body so it runs on a fresh store of the backend under test. */
export type WithStore = (test: (store: RelayStore) => Promise<void>) => () => Promise<void>;

export const T0 = Date.UTC(2026, 0, 1);

export function newDevice(options: { preKeys?: number; pqPreKeys?: number } = {}): NewDevice {
  return { credentialHash: hashSecret(randomUUID()), createdAt: T0, keys: deviceKeys(options) };
}

export async function account(
  store: RelayStore,
  options: { preKeys?: number; pqPreKeys?: number } = {},
) {
  const accountId = randomUUID();
  const device = newDevice(options);
  const username = `u${accountId.slice(0, 8)}`;
  const identityKey = ecPublicKey();
  const result = await store.createAccount(
    { accountId, username, identityKey, createdAt: T0 },
    device,
  );
  expect(result).toBe('created');
  return { accountId, username, identityKey, device, registrationId: device.keys.registrationId };
}

/** Adds a linked device through a fresh linking code; returns its id. */
export async function linked(store: RelayStore, accountId: string, device = newDevice()) {
  const code = hashSecret(randomUUID());
  await store.addLinkingCode(accountId, code, T0 + 60_000);
  const result = await store.linkDevice(code, T0, 10, device);
  if (!result.ok) throw new Error(`link failed: ${result.reason}`);
  return result.deviceId;
}

export const everything = { afterSeq: 0, limit: 1000, notBefore: 0 };

/** An envelope sent with a login (the store holds its source). */
export type IdentifiedNewEnvelope = Extract<NewEnvelope, { sourceAccountId: string }>;

/** A sealed envelope: no source at all. */
export function sealedEnvelope(to: string, deviceId: number, serverTimestamp = T0): NewEnvelope {
  return {
    id: randomUUID(),
    destinationAccountId: to,
    destinationDeviceId: deviceId,
    type: 'unidentified_sender',
    timestamp: 1,
    serverTimestamp,
    content: Buffer.from(randomUUID()).toString('base64'),
  };
}

export function envelope(
  to: string,
  deviceId: number,
  serverTimestamp = T0,
): IdentifiedNewEnvelope {
  return {
    id: randomUUID(),
    destinationAccountId: to,
    destinationDeviceId: deviceId,
    type: 'message',
    sourceAccountId: to,
    sourceDeviceId: 1,
    timestamp: 1,
    serverTimestamp,
    content: Buffer.from(randomUUID()).toString('base64'),
  };
}

export const accept = (envelopes: NewEnvelope[]) => () => ({ envelopes });

export function sendKey(
  from: string,
  sendId: string,
  serverTimestamp = T0,
  notBefore = 0,
): SendKey {
  return { sourceAccountId: from, sourceDeviceId: 1, sendId, serverTimestamp, notBefore };
}
