/**
 * Group updates that arrive before the update they build on. Updates from different members
 * are not ordered: when an admin promotes Bo and Bo then removes Cy, a member may get Bo's
 * removal first, while Bo is no admin yet there. An update refused by the admin rules whose
 * revision skips ahead of ours is therefore parked (one per group) instead of refused, and
 * checked again, with the state it builds on, as soon as the group moves on; only then is it
 * applied, or refused and shown as refused.
 * @module
 */
import type { Envelope } from '@parley/protocol';
import { ContentSchema, decodeContent, toBinary, type Content } from '../content/index.ts';
import { PROCESSED } from '../keys.ts';
import type { StorageTx } from '../storage/index.ts';

interface ParkedUpdate {
  env: Envelope;
  content: Uint8Array;
  revision: number;
}

/** Parks an update that skips ahead of our revision (`ours`); false if it does not. */
export async function parkIfAhead(
  tx: StorageTx,
  env: Envelope,
  content: Content,
  groupId: string,
  revision: number,
  ours: number,
): Promise<boolean> {
  if (revision <= ours + 1) return false;
  // One per group: the one closest to ours stays (a later one cannot push it out).
  const key = PROCESSED.pendingGroupUpdate(groupId);
  const held = await tx.get<ParkedUpdate>('processed', key);
  if (held && held.revision <= revision) return true;
  const parked: ParkedUpdate = { env, content: toBinary(ContentSchema, content), revision };
  await tx.put('processed', key, parked);
  return true;
}

/** The parked update for `groupId`, taken out, once our revision caught up with it. */
export async function takeParked(
  tx: StorageTx,
  groupId: string,
  ours: number,
): Promise<{ env: Envelope; content: Content } | undefined> {
  const key = PROCESSED.pendingGroupUpdate(groupId);
  const parked = await tx.get<ParkedUpdate>('processed', key);
  if (!parked || parked.revision > ours + 1) return undefined;
  await tx.delete('processed', key);
  if (parked.revision <= ours) return undefined; // overtaken
  return { env: parked.env, content: decodeContent(parked.content) };
}
