/**
 * Importing a history archive on a newly linked device, in one storage transaction: either all
 * of it is stored or (on any error) nothing is, and the device goes on as without history.
 *
 * Messages already here (same sender and id: one that arrived live, or a second import) are
 * skipped, and every imported message is marked processed, so a copy arriving later is
 * dropped as a duplicate. Conversations keep what is already known and take the archive's
 * unread count and latest time. Groups this device already has (from the provisioning message)
 * stay as they are; the archive only adds groups we left, for their old conversations.
 * @module
 */
import { PROCESSED, messageKey } from '../keys.ts';
import type { ConversationRecord, GroupRecord, MessageRecord } from '../model.ts';
import type { StorageTx } from '../storage/types.ts';
import type { HistoryArchive } from './archive.ts';
import { HistoryTransferError } from './errors.ts';

export interface ImportResult {
  /** Messages stored (not counting ones already here). */
  messages: number;
  conversations: number;
}

/** How many messages are imported between two progress reports. */
const PROGRESS_STEP = 200;

export async function importArchive(
  tx: StorageTx,
  archive: HistoryArchive,
  ourAccountId: string,
  now: number,
  onProgress?: (done: number, total: number) => void,
): Promise<ImportResult> {
  if (archive.accountId !== ourAccountId) {
    throw new HistoryTransferError('malformed', 'the history archive is from another account');
  }
  for (const g of archive.groups) {
    if (await tx.get<GroupRecord>('groups', g.groupId)) continue;
    // Only groups we had left are missing here: keep them left, with no sender-key state.
    await tx.put('groups', g.groupId, {
      ...g,
      left: true,
      senderKeySentTo: [],
    } satisfies GroupRecord);
  }
  const total = archive.messages.length;
  let imported = 0;
  for (let i = 0; i < total; i++) {
    const m = archive.messages[i]!;
    const index = PROCESSED.messageIndex(m.senderAccountId, m.id);
    if (!(await tx.get<string>('processed', index))) {
      const key = messageKey(m.conversationId, m.timestamp, m.id);
      await tx.put('messages', key, m satisfies MessageRecord);
      await tx.put('processed', index, key);
      await tx.put('processed', PROCESSED.message(m.senderAccountId, m.id), now);
      imported++;
    }
    if ((i + 1) % PROGRESS_STEP === 0) onProgress?.(i + 1, total);
  }
  onProgress?.(total, total);
  for (const c of archive.conversations) {
    const here = await tx.get<ConversationRecord>('conversations', c.id);
    await tx.put('conversations', c.id, {
      ...c,
      ...here,
      lastMessageAt: Math.max(here?.lastMessageAt ?? 0, c.lastMessageAt),
      unread: Math.max(here?.unread ?? 0, c.unread),
    } satisfies ConversationRecord);
  }
  return { messages: imported, conversations: archive.conversations.length };
}
