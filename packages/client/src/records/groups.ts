/**
 * Groups as stored here, and the group state that travels in group control messages: storage
 * and conversion only.
 * @module
 */
import type { ProtocolAddress } from '@parley/crypto/address.js';
import type { RandomSource } from '@parley/crypto/random.js';
import { GroupStateSchema, create, type GroupState } from '../content/index.ts';
import { senderKeyKey } from '../keys.ts';
import type { GroupRecord } from '../model.ts';
import type { StorageTx } from '../storage/index.ts';
import { toHex } from '../util/bytes.ts';

/** A random v4 UUID from `rng` (sender-key distribution ids). */
export function uuid(rng: RandomSource): string {
  const b = rng(16);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = toHex(b);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The state of `g` as members send it to each other. */
export function groupState(g: GroupRecord): GroupState {
  return create(GroupStateSchema, {
    groupId: g.groupId,
    revision: g.revision,
    title: g.title,
    members: g.members.map((m) => ({ accountId: m.accountId, username: m.username ?? '' })),
    creator: g.creator,
    // groups/admins.ts `adminsOf`: a group from before admins existed has its creator.
    admins: g.admins && g.admins.length > 0 ? g.admins : [g.creator],
  });
}

export function isMember(g: GroupRecord, accountId: string): boolean {
  return g.members.some((m) => m.accountId === accountId);
}

export async function listGroups(tx: Pick<StorageTx, 'list'>): Promise<GroupRecord[]> {
  return (await tx.list<GroupRecord>('groups')).map(([, v]) => v);
}

/**
 * Starts a new sender key for `group` (a member or device left): the old one is deleted, so
 * nothing sent from now on can be read with it, and every device gets the new one.
 */
export async function rotateSenderKey(
  tx: StorageTx,
  group: GroupRecord,
  us: ProtocolAddress,
  rng: RandomSource,
): Promise<void> {
  const old = group.distributionId;
  group.distributionId = uuid(rng);
  group.senderKeySentTo = [];
  await tx.put('groups', group.groupId, group);
  await tx.delete('senderKeys', senderKeyKey(us, old));
}

/** Forgets which devices of `accountId` (or just `deviceIds`) have our sender key. */
export function forgetSenderKeyRecipients(
  g: GroupRecord,
  accountId: string,
  deviceIds?: number[],
): boolean {
  const kept = g.senderKeySentTo.filter((d) =>
    deviceIds
      ? !deviceIds.some((id) => d === `${accountId}.${id}`)
      : !d.startsWith(`${accountId}.`),
  );
  const changed = kept.length !== g.senderKeySentTo.length;
  g.senderKeySentTo = kept;
  return changed;
}
