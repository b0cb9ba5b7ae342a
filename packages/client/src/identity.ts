/**
 * Identity: trust on first use, safety numbers, verification, and acknowledging a changed
 * safety number (which unblocks sending to that account).
 * @module
 */
import { IdentityKeyPair, PublicKey } from '@parley/crypto/curve.js';
import { Fingerprint, FINGERPRINT_ITERATIONS } from '@parley/crypto/fingerprint.js';
import type { ClientContext } from './context.ts';
import type { DirectDelivery } from './delivery/direct.ts';
import type { Outbox } from './delivery/outbox.ts';
import { ClientError, IdentityChangedError } from './errors.ts';
import {
  directConversationId,
  type ContactRecord,
  type GroupRecord,
  type IdentityRecord,
} from './model.ts';
import {
  contactOrNew,
  isVerified,
  listContacts,
  unverified,
  withVerified,
} from './records/contacts.ts';
import { forgetSenderKeyRecipients, groupState, isMember, listGroups } from './records/groups.ts';
import { storeEvent } from './records/messages.ts';
import type { Sessions } from './sessions.ts';

export class Identity {
  constructor(
    private readonly ctx: ClientContext,
    private readonly sessions: Sessions,
    private readonly direct: DirectDelivery,
    private readonly outbox: Outbox,
  ) {}

  async contacts(): Promise<ContactRecord[]> {
    return listContacts(this.ctx.storage);
  }

  async contact(accountId: string): Promise<ContactRecord | undefined> {
    const contact = await this.ctx.storage.get<ContactRecord>('contacts', accountId);
    if (!contact) return undefined;
    return withVerified(
      contact,
      await this.ctx.storage.get<IdentityRecord>('identities', accountId),
    );
  }

  /** The safety number with `accountId` (60 digits) and its scannable form. */
  async safetyNumber(accountId: string): Promise<{ digits: string; scannable: Uint8Array }> {
    const { ctx } = this;
    const account = ctx.requireAccount();
    let identity = await ctx.storage.get<IdentityRecord>('identities', accountId);
    if (!identity) {
      await this.sessions.ensureDevices(accountId);
      identity = await ctx.storage.get<IdentityRecord>('identities', accountId);
    }
    if (!identity)
      throw new ClientError('unknown_identity', `no identity key known for ${accountId}`);
    const ours = IdentityKeyPair.deserialize(account.identityKeyPair).publicKey;
    const fp = Fingerprint.create({
      version: 2,
      iterations: FINGERPRINT_ITERATIONS,
      localId: new TextEncoder().encode(account.accountId),
      localKey: ours,
      remoteId: new TextEncoder().encode(accountId),
      remoteKey: PublicKey.deserialize(identity.pendingKey ?? identity.publicKey),
    });
    return { digits: fp.displayable, scannable: fp.scannable };
  }

  /**
   * Marks a contact verified (the user compared safety numbers) or not verified. Verifying is
   * bound to the identity key trusted right now: it is refused with `IdentityChangedError`
   * while a changed key awaits `acknowledgeIdentity`, and, when `safetyNumber` (the 60 digits
   * the user compared) is given, unless it is still the current safety number. Any later
   * identity change clears it. Our other devices learn the decision (a `verified` sync they
   * apply only while they trust the same key).
   */
  async setVerified(
    accountId: string,
    verified: boolean,
    options: { safetyNumber?: string } = {},
  ): Promise<ContactRecord> {
    const { ctx } = this;
    if (verified) {
      // The safety number fetches their identity key if we have none yet.
      const { digits } = await this.safetyNumber(accountId);
      if (
        options.safetyNumber !== undefined &&
        digits !== options.safetyNumber.replace(/\s+/g, '')
      ) {
        throw new ClientError(
          'safety_number_mismatch',
          `the safety number with ${accountId} is not the one compared`,
        );
      }
    }
    // When we decided: a sync of an older decision from another device does not undo it.
    const decidedAt = ctx.now();
    return ctx.transaction(async (scope) => {
      const { tx } = scope;
      const identity = await tx.get<IdentityRecord>('identities', accountId);
      const existing = await contactOrNew(tx, accountId);
      if (verified) {
        if (existing.identityChanged || identity?.pendingKey) {
          throw new IdentityChangedError(accountId);
        }
        if (!identity) {
          throw new ClientError('unknown_identity', `no identity key known for ${accountId}`);
        }
      }
      const { verifiedKey: _old, ...rest } = existing;
      // An "unverified" decision is bound to the key too, so a stale contact list from another
      // device does not verify it again.
      const next: ContactRecord = {
        ...rest,
        verified,
        verifiedAt: decidedAt,
        ...(identity ? { verifiedKey: identity.publicKey } : {}),
      };
      await tx.put('contacts', accountId, next);
      // "You marked X verified / not verified", when the decision changes anything.
      if (isVerified(existing, identity) !== verified) {
        await storeEvent(
          ctx,
          scope,
          directConversationId(accountId),
          verified ? 'marked_verified' : 'marked_unverified',
          [accountId],
        );
      }
      scope.emit('contacts', await listContacts(tx));
      if (identity) {
        const sync = this.direct.content(
          {
            case: 'sync',
            value: {
              body: {
                case: 'verified',
                value: { accountId, identityKey: identity.publicKey, verified },
              },
            },
          },
          decidedAt,
        );
        await this.outbox.enqueue(scope, { legs: [this.outbox.leg(ctx.accountId, sync)] });
      }
      return withVerified(next, identity);
    });
  }

  /** Accepts a changed identity key: sending resumes, old sessions are dropped. */
  async acknowledgeIdentity(accountId: string): Promise<void> {
    const { ctx } = this;
    await ctx.transaction(async (scope) => {
      const { tx } = scope;
      const identity = await tx.get<IdentityRecord>('identities', accountId);
      if (identity?.pendingKey) {
        await tx.put('identities', accountId, {
          publicKey: identity.pendingKey,
          firstSeenAt: ctx.now(),
        } satisfies IdentityRecord);
      }
      const contact = await tx.get<ContactRecord>('contacts', accountId);
      if (!contact) return;
      await this.sessions.deleteSessions(tx, accountId);
      await tx.put('contacts', accountId, {
        ...unverified(contact),
        identityChanged: false,
        devices: {},
      } satisfies ContactRecord);
      // The new installation has none of our sender keys: send them again.
      const shared: GroupRecord[] = [];
      for (const g of await listGroups(tx)) {
        if (forgetSenderKeyRecipients(g, accountId)) await tx.put('groups', g.groupId, g);
        if (
          (contact.identityChanged || identity?.pendingKey) &&
          !g.left &&
          isMember(g, accountId)
        ) {
          shared.push(g);
        }
      }
      // Nothing went to them while the change was pending (and an update that found the change
      // on the way did not reach them): tell them the current state of the groups we share, as
      // a state with no action (merged, no conversation event).
      const legs = shared.map((g) =>
        this.outbox.leg(
          accountId,
          this.direct.content({ case: 'groupControl', value: { state: groupState(g) } }),
        ),
      );
      await this.outbox.enqueue(scope, { legs });
    });
  }
}
