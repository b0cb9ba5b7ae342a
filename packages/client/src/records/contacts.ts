/**
 * Contacts and the device lists we keep for them (and for our own account): storage only.
 * Verification is bound to an identity key; these helpers say whether it still holds.
 * @module
 */
import type { StorageTx } from '../storage/index.ts';
import { META } from '../keys.ts';
import type { ContactRecord, IdentityRecord } from '../model.ts';
import { bytesEqual } from '../util/bytes.ts';

/** Our other devices, as last listed by the relay. `meta/ownDevices`. */
export interface OwnDevicesRecord {
  devices: Record<string, number>;
  fetchedAt: number;
}

type Reader = Pick<StorageTx, 'get'>;

/** A contact, or a new empty one. */
export async function contactOrNew(tx: Reader, accountId: string): Promise<ContactRecord> {
  return (await tx.get<ContactRecord>('contacts', accountId)) ?? { accountId, devices: {} };
}

/** `contact` without its verification (the identity key changed, or is about to). */
export function unverified(contact: ContactRecord): ContactRecord {
  const { verifiedKey: _key, ...rest } = contact;
  return { ...rest, verified: false };
}

/** Whether `contact` is verified for the identity key trusted now (`identity`). */
export function isVerified(contact: ContactRecord, identity: IdentityRecord | undefined): boolean {
  return (
    contact.verified === true &&
    !contact.identityChanged &&
    contact.verifiedKey !== undefined &&
    identity !== undefined &&
    identity.pendingKey === undefined &&
    bytesEqual(contact.verifiedKey, identity.publicKey)
  );
}

/** `contact` verified, as another of our devices says, if it is for the key we trust too. */
export function adoptVerified(
  contact: ContactRecord,
  identity: IdentityRecord | undefined,
  key: Uint8Array,
): ContactRecord {
  if (!identity || identity.pendingKey || contact.identityChanged) return contact;
  if (!bytesEqual(identity.publicKey, key)) return contact;
  return { ...contact, verified: true, verifiedKey: identity.publicKey };
}

/** `contact` as handed out: `verified` only while the verified key is the trusted one. */
export function withVerified(
  contact: ContactRecord,
  identity: IdentityRecord | undefined,
): ContactRecord {
  return isVerified(contact, identity) ? contact : unverified(contact);
}

/** Every contact as handed out (verification checked against the trusted keys). */
export async function listContacts(tx: Pick<StorageTx, 'list'>): Promise<ContactRecord[]> {
  const identities = new Map(await tx.list<IdentityRecord>('identities'));
  return (await tx.list<ContactRecord>('contacts')).map(([id, c]) =>
    withVerified(c, identities.get(id)),
  );
}

/** The devices we know for `accountId`; for our own account (`self`), our other devices. */
export async function knownDevices(
  tx: Reader,
  accountId: string,
  self: boolean,
): Promise<Record<string, number>> {
  if (self) return (await tx.get<OwnDevicesRecord>('meta', META.ownDevices))?.devices ?? {};
  return (await tx.get<ContactRecord>('contacts', accountId))?.devices ?? {};
}

/** Changes the device list of `accountId` (ours when `self`). */
export async function updateDevices(
  tx: StorageTx,
  accountId: string,
  self: boolean,
  update: (devices: Record<string, number>) => void,
): Promise<void> {
  if (self) {
    const rec = (await tx.get<OwnDevicesRecord>('meta', META.ownDevices)) ?? {
      devices: {},
      fetchedAt: 0,
    };
    update(rec.devices);
    await tx.put('meta', META.ownDevices, rec);
  } else {
    const contact = await contactOrNew(tx, accountId);
    update(contact.devices);
    await tx.put('contacts', accountId, contact);
  }
}

/** Says when our own device list was last fetched (0: look again before the next send). */
export async function setOwnDevicesFetchedAt(tx: StorageTx, fetchedAt: number): Promise<void> {
  const rec = await tx.get<OwnDevicesRecord>('meta', META.ownDevices);
  await tx.put('meta', META.ownDevices, { devices: rec?.devices ?? {}, fetchedAt });
}
