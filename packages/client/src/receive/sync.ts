/**
 * Sync content from our own devices: sent transcripts, contact and group lists, verification
 * decisions, messages read, and a new device's request for everything.
 * @module
 */
import type { Envelope } from '@parley/protocol';
import { timestampOf, type Content } from '../content/index.ts';
import type { ClientContext, Scope } from '../context.ts';
import { mergeGroupState } from '../groups/state.ts';
import { PROCESSED } from '../keys.ts';
import {
  directConversationId,
  groupConversationId,
  type ContactRecord,
  type ConversationRecord,
  type IdentityRecord,
  type MessageRecord,
} from '../model.ts';
import { adoptVerified, contactOrNew, isVerified, listContacts } from '../records/contacts.ts';
import { ensureConversation, storeEvent, storeMessage } from '../records/messages.ts';
import { applyIncoming, quoteOf, removeMessages } from '../message-actions.ts';
import { attachmentsOf } from '../attachments/pointer.ts';
import type { SelfSync } from '../sync/index.ts';
import type { HistoryGaps } from '../history/gap.ts';
import { storeUsername, type Usernames } from '../usernames.ts';
import { bytesEqual } from '../util/bytes.ts';
import { adoptGroupRequests, knownGroupIds, markAccepted } from '../records/trust.ts';
import { applyBlockedSync, applyRequestResponse } from './trust.ts';
import { startCountdown } from '../disappearing/countdown.ts';
import { applyReceivedTimer } from '../disappearing/timer.ts';

export class SyncHandler {
  constructor(
    private readonly ctx: ClientContext,
    private readonly usernames: Usernames,
    private readonly selfSync: SelfSync,
    private readonly gaps: HistoryGaps,
  ) {}

  async apply(scope: Scope, env: Envelope, content: Content): Promise<void> {
    if (content.body.case !== 'sync') return;
    const { ctx } = this;
    const { tx } = scope;
    const sync = content.body.value.body;
    switch (sync.case) {
      case 'sent': {
        const inner = sync.value.content;
        if (!inner || inner.body.case !== 'data') return;
        const to = sync.value.destinationAccountId;
        const data = inner.body.value;
        const sentAt = timestampOf(inner);
        const self = { accountId: env.sourceAccountId, deviceId: env.sourceDeviceId };
        if (await applyReceivedTimer(ctx, scope, self, directConversationId(to), data, sentAt)) {
          return; // we changed the timer on another of our devices
        }
        if (
          await applyIncoming(
            scope,
            env.sourceAccountId,
            true,
            directConversationId(to),
            data,
            sentAt,
          )
        ) {
          return; // our reaction, edit or deletion, made on another of our devices
        }
        const record: MessageRecord = {
          id: inner.messageId,
          conversationId: directConversationId(to),
          kind: 'text',
          direction: 'out',
          senderAccountId: env.sourceAccountId,
          senderDeviceId: env.sourceDeviceId,
          timestamp: timestampOf(inner),
          storedAt: ctx.now(),
          text: data.text,
          ...quoteOf(data),
          ...attachmentsOf(data),
          status: 'sent',
          ...(data.expireTimer > 0 ? { expiresIn: data.expireTimer } : {}),
        };
        if (await tx.get('processed', PROCESSED.messageIndex(record.senderAccountId, record.id))) {
          return;
        }
        await startCountdown(ctx, scope, record); // ours count down from when we have them
        await storeMessage(tx, record);
        await tx.put('processed', PROCESSED.sentDirect(to, record.timestamp), record.id);
        if (!(await tx.get('contacts', to))) {
          await tx.put('contacts', to, { accountId: to, devices: {} } satisfies ContactRecord);
        }
        // Which username our device wrote to: confirmed with the relay like any other claim.
        await this.usernames.claim(scope, to, sync.value.destinationUsername);
        await markAccepted(tx, to); // our device wrote to them
        scope.emit('message', record);
        return;
      }
      case 'deleteForMe':
        return removeMessages(scope, sync.value.conversationId, sync.value.messageIds);
      case 'contacts': {
        for (const c of sync.value.contacts) {
          const existing = await tx.get<ContactRecord>('contacts', c.accountId);
          let identity = await tx.get<IdentityRecord>('identities', c.accountId);
          if (c.identityKey.length > 0 && !identity) {
            identity = { publicKey: c.identityKey, firstSeenAt: ctx.now() };
            await tx.put('identities', c.accountId, identity);
          }
          const contact: ContactRecord = {
            ...(existing ?? { accountId: c.accountId, devices: {} }),
            ...(c.username ? { username: c.username } : {}),
            ...(c.accepted ? { accepted: true } : {}),
            // A list fills in blocking only where this device has no decision of its own.
            ...(c.blocked && existing?.blockedAt === undefined ? { blocked: true } : {}),
          };
          // A list only fills in a verification we have made no decision about for that key.
          const decided =
            contact.verifiedKey !== undefined &&
            identity !== undefined &&
            bytesEqual(contact.verifiedKey, identity.publicKey);
          await tx.put(
            'contacts',
            c.accountId,
            c.verified && !decided ? adoptVerified(contact, identity, c.identityKey) : contact,
          );
          // Our own device's list is trusted: its names reach group member lists too.
          if (c.username) {
            for (const g of await storeUsername(tx, c.accountId, c.username)) {
              scope.emit('group', g);
            }
          }
        }
        scope.emit('contacts', await listContacts(tx));
        return;
      }
      case 'verified': {
        const { accountId, identityKey, verified } = sync.value;
        if (ctx.isSelf(accountId) || identityKey.length === 0) return;
        const contact = await contactOrNew(tx, accountId);
        let identity = await tx.get<IdentityRecord>('identities', accountId);
        if (!identity) {
          // A key we have not seen yet: our own device's word is trusted, as in a contact list.
          identity = { publicKey: identityKey, firstSeenAt: ctx.now() };
          await tx.put('identities', accountId, identity);
        }
        if (identity.pendingKey || contact.identityChanged) return;
        // Bound to the key: a device that trusts another key for them ignores it.
        if (!bytesEqual(identity.publicKey, identityKey)) return;
        // Syncs may cross: a decision older than the one we have (for this key) is stale.
        const decidedAt = timestampOf(content);
        if (
          contact.verifiedAt !== undefined &&
          contact.verifiedKey !== undefined &&
          bytesEqual(contact.verifiedKey, identity.publicKey) &&
          decidedAt < contact.verifiedAt
        ) {
          return;
        }
        await tx.put('contacts', accountId, {
          ...contact,
          verified,
          verifiedAt: decidedAt,
          verifiedKey: identity.publicKey,
        } satisfies ContactRecord);
        if (isVerified(contact, identity) !== verified) {
          await storeEvent(
            ctx,
            scope,
            directConversationId(accountId),
            verified ? 'marked_verified' : 'marked_unverified',
            [accountId],
            { accountId: env.sourceAccountId, deviceId: env.sourceDeviceId },
            decidedAt, // shown when it was decided
          );
        }
        scope.emit('contacts', await listContacts(tx));
        return;
      }
      case 'groups': {
        const known = await knownGroupIds(tx);
        for (const g of sync.value.groups) {
          const group = await mergeGroupState(ctx, scope, g, this.usernames);
          if (group && !group.left) {
            await ensureConversation(tx, groupConversationId(group.groupId), ctx.now());
          }
        }
        await adoptGroupRequests(tx, sync.value.requests, known);
        return;
      }
      case 'request':
        // A device of ours (newly linked) asks for our lists: it is in our device list now.
        scope.emit('ownDevices', { deviceId: env.sourceDeviceId });
        scope.after(() => this.selfSync.sendListsNow());
        return;
      case 'read': {
        const { conversationId, messageIds } = sync.value;
        if (!/^(direct|group):/.test(conversationId)) return;
        const read = new Set(messageIds);
        for (const [key, m] of await tx.list<MessageRecord>('messages', `${conversationId}/`)) {
          if (m.direction === 'in' && read.has(m.id) && m.status !== 'read') {
            const marked: MessageRecord = { ...m, status: 'read' };
            await startCountdown(ctx, scope, marked); // read on our other device: counts down
            await tx.put('messages', key, marked);
          }
        }
        const conv = await tx.get<ConversationRecord>('conversations', conversationId);
        if (conv) await tx.put('conversations', conversationId, { ...conv, unread: 0 });
        return;
      }
      case 'blocked':
        return applyBlockedSync(ctx, scope, env, content, sync.value);
      case 'requestResponse':
        return applyRequestResponse(ctx, scope, sync.value);
      case 'historyGapRequest':
        return this.gaps.onRequest(scope, env, sync.value);
      case 'historyGap':
        return this.gaps.onAnswer(scope, env, sync.value);
      case undefined:
        return;
    }
  }
}
