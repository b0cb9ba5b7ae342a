/**
 * Group fan-out: our sender key goes (over 1:1 sessions) to every member device that lacks
 * it, then one ciphertext goes to the relay's multi-recipient send. Refused up front while a
 * member's safety number change is unacknowledged (`IdentityChangedError` naming them all).
 * @module
 */
import { GroupCipher } from '@parley/crypto/group.js';
import type { MultiRecipient } from '@parley/protocol';
import type { ClientContext } from '../context.ts';
import { ClientError, GroupMembershipError, IdentityChangedError } from '../errors.ts';
import { decodeContent, timestampOf } from '../content/index.ts';
import { deviceTag } from '../keys.ts';
import type { ContactRecord, GroupRecord } from '../model.ts';
import { forgetSenderKeyRecipients } from '../records/groups.ts';
import { RelayHttpError } from '../relay/index.ts';
import type { Sessions } from '../sessions.ts';
import type { StorageTx } from '../storage/index.ts';
import { MAX_SEND_ATTEMPTS, type DirectDelivery } from './direct.ts';
import { sendGroupCiphertext } from './group-sealed.ts';
import { goneFromError, type GoneAccounts } from './gone.ts';

/**
 * Refuses a send while any of `accountIds` has an identity change awaiting acknowledgement:
 * nothing goes silently to a changed safety number.
 */
export async function refuseChangedIdentities(
  ctx: ClientContext,
  accountIds: Iterable<string>,
  tx: Pick<StorageTx, 'get'> = ctx.storage,
): Promise<void> {
  const changed: string[] = [];
  for (const accountId of new Set(accountIds)) {
    if (ctx.isSelf(accountId)) continue;
    if ((await tx.get<ContactRecord>('contacts', accountId))?.identityChanged) {
      changed.push(accountId);
    }
  }
  if (changed.length > 0) throw new IdentityChangedError(changed[0]!, changed);
}

export class GroupDelivery {
  constructor(
    private readonly ctx: ClientContext,
    private readonly sessions: Sessions,
    private readonly direct: DirectDelivery,
    private readonly gone?: GoneAccounts,
  ) {}

  /**
   * Runs `fn` for `accountId`; if it finds the account deleted, adds it to `gone` instead of
   * failing (a group send skips deleted members and goes to everyone else).
   */
  async #unlessGone(accountId: string, gone: string[], fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      const ids = this.gone ? goneFromError(err, accountId) : undefined;
      if (!ids) throw err;
      gone.push(...ids);
    }
  }

  async #group(groupId: string): Promise<GroupRecord> {
    const g = await this.ctx.storage.get<GroupRecord>('groups', groupId);
    if (!g || g.left) throw new GroupMembershipError(groupId, g !== undefined);
    return g;
  }

  async #updateGroup(groupId: string, fn: (g: GroupRecord) => boolean | void): Promise<void> {
    await this.ctx.transaction(async ({ tx }) => {
      const g = await tx.get<GroupRecord>('groups', groupId);
      if (g && fn(g) !== false) await tx.put('groups', groupId, g);
    });
  }

  /** Sends encoded group content (a data message with its group context) to every member. */
  async send(groupId: string, plaintext: Uint8Array, sendId?: string): Promise<void> {
    const { ctx, sessions } = this;
    const first = await this.#group(groupId);
    await refuseChangedIdentities(
      ctx,
      first.members.map((m) => m.accountId),
    );
    const self = ctx.requireAccount();
    const me = ctx.ourAddress();
    const timestamp = timestampOf(decodeContent(plaintext));
    let ciphertext: Uint8Array | undefined;
    let distributionId = '';
    for (let attempt = 0; attempt < MAX_SEND_ATTEMPTS; attempt++) {
      const group = await this.#group(groupId);
      const accounts = [...new Set([...group.members.map((m) => m.accountId), self.accountId])];
      // Members whose accounts turn out deleted: dropped (everywhere), then we go again.
      const gone: string[] = [];
      // 1. Device lists and sessions for everyone.
      const recipients: MultiRecipient[] = [];
      for (const accountId of accounts) {
        await this.#unlessGone(accountId, gone, async () => {
          const devices = await sessions.ensureDevices(accountId);
          for (const [id, registrationId] of Object.entries(devices)) {
            recipients.push({ accountId, deviceId: Number(id), registrationId });
          }
        });
      }
      if (gone.length > 0) {
        await this.gone?.mark(gone);
        continue;
      }
      // 2. Our sender key to every device that lacks it (over 1:1 sessions, per account).
      if (distributionId !== group.distributionId) {
        ciphertext = undefined; // rotated meanwhile: re-encrypt under the new key
        distributionId = group.distributionId;
      }
      const sentTo = new Set(group.senderKeySentTo);
      const needing = [
        ...new Set(
          recipients
            .filter((r) => !sentTo.has(deviceTag(r.accountId, r.deviceId)))
            .map((r) => r.accountId),
        ),
      ];
      if (needing.length > 0) {
        // The distribution message starts at the chain's current iteration: a ciphertext made
        // before it would be "old" to the new devices, so encrypt afresh after distributing.
        ciphertext = undefined;
        const skdm = await ctx.transaction(async (scope) =>
          new GroupCipher(sessions.stores(scope).senderKey, {
            rng: ctx.rng,
          }).createDistributionMessage(me, distributionId),
        );
        const skdmContent = this.direct.content({
          case: 'senderKeyDistribution',
          value: { groupId, distributionMessage: skdm.serialize() },
        });
        for (const accountId of needing) {
          await this.#unlessGone(accountId, gone, async () => {
            await this.direct.send(accountId, skdmContent);
          });
          if (gone.includes(accountId)) continue;
          const devices = await sessions.known(accountId);
          await this.#updateGroup(groupId, (g) => {
            if (g.distributionId !== distributionId) return false;
            const set = new Set(g.senderKeySentTo);
            for (const id of Object.keys(devices)) set.add(deviceTag(accountId, id));
            g.senderKeySentTo = [...set];
          });
        }
      }
      if (gone.length > 0) {
        await this.gone?.mark(gone);
        continue;
      }
      if (recipients.length === 0) return;
      // 3. One ciphertext for everyone.
      ciphertext ??= await ctx.transaction(async (scope) =>
        new GroupCipher(sessions.stores(scope).senderKey, { rng: ctx.rng }).encrypt(
          me,
          distributionId,
          plaintext,
        ),
      );
      try {
        // Sealed to those whose access secret we hold (`delivery/group-sealed.ts`).
        await sendGroupCiphertext(ctx, sessions, this.direct.sealed, {
          timestamp,
          ciphertext,
          recipients,
          groupId,
          sendId,
        });
        return;
      } catch (err) {
        if (!(err instanceof RelayHttpError)) throw err;
        const deleted = this.gone ? goneFromError(err) : undefined;
        if (deleted && deleted.length > 0) {
          await this.gone?.mark(deleted);
          continue;
        }
        if (err.multiMismatched) {
          for (const a of err.multiMismatched.accounts) {
            await sessions.removeDevices(a.accountId, a.extraDevices);
            if (a.missingDevices.length > 0) {
              await sessions.fetchAndProcessBundles(a.accountId, a.missingDevices);
            }
          }
          continue;
        }
        if (err.multiStale) {
          for (const a of err.multiStale.accounts) {
            await sessions.dropStaleSessions(a.accountId, a.staleDevices);
            await this.#updateGroup(groupId, (g) =>
              forgetSenderKeyRecipients(g, a.accountId, a.staleDevices),
            );
          }
          continue;
        }
        throw err;
      }
    }
    throw new ClientError('devices_unstable', 'group send failed: device lists kept changing');
  }
}
