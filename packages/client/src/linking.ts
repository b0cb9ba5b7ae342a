/**
 * Linking devices. The new device opens a provisioning channel and shows a `parley://link`
 * URI; the primary device approves it by sealing our identity, a linking code, contacts and
 * groups to the new device's ephemeral key. Device names are sealed so only our devices can
 * read them.
 * @module
 */
import { IdentityKeyPair, KeyPair } from '@parley/crypto/curve.js';
import { PRIMARY_DEVICE_ID, type DeviceInfo } from '@parley/protocol';
import type { PreKeys } from './account/prekeys.ts';
import { ProvisionMessageSchema, create } from './content/index.ts';
import type { ClientContext } from './context.ts';
import { ClientError } from './errors.ts';
import { mergeGroupState } from './groups/state.ts';
import {
  recordHistoryOffer,
  type ApproveOptions,
  type HistoryTransfer,
} from './history/transfer.ts';
import { META } from './keys.ts';
import {
  groupConversationId,
  type AccountRecord,
  type ContactRecord,
  type IdentityRecord,
} from './model.ts';
import {
  encodeLinkUri,
  LinkError,
  openDeviceName,
  openProvisionMessage,
  parseLinkUri,
  sealDeviceName,
  sealProvisionMessage,
} from './provisioning.ts';
import {
  adoptVerified,
  setOwnDevicesFetchedAt,
  type OwnDevicesRecord,
} from './records/contacts.ts';
import { ensureConversation } from './records/messages.ts';
import { openProvisioningChannel } from './relay/index.ts';
import { adoptGroupRequests } from './records/trust.ts';
import type { Sessions } from './sessions.ts';
import { contactList, groupList, type SelfSync } from './sync/index.ts';
import { fromBase64, toBase64 } from './util/bytes.ts';

export class Linking {
  constructor(
    private readonly ctx: ClientContext,
    private readonly sessions: Sessions,
    private readonly preKeys: PreKeys,
    private readonly selfSync: SelfSync,
    private readonly history: HistoryTransfer,
  ) {}

  /**
   * New-device side: calls `onUri` with the URI to show (as text or QR); resolves once an
   * existing device approved it and this device registered as another device of the account.
   */
  async link(relayUrl: string, deviceName: string | undefined, onUri: (uri: string) => void) {
    const { ctx } = this;
    if (ctx.account)
      throw new ClientError('already_registered', 'this device already has an account');
    const ephemeral = KeyPair.generate(ctx.rng);
    const channel = await openProvisioningChannel(relayUrl, ctx.options.WebSocket);
    try {
      onUri(encodeLinkUri({ address: channel.address, publicKey: ephemeral.publicKey }));
      const msg = await openProvisionMessage(ephemeral, fromBase64(await channel.message));
      const identity = IdentityKeyPair.deserialize(msg.identityKeyPair);
      const http = ctx.anonymousHttp(relayUrl);
      const keys = await this.preKeys.generateDeviceKeys(identity);
      const name = deviceName
        ? toBase64(await sealDeviceName(identity.privateKey.serialize(), deviceName, ctx.rng))
        : undefined;
      const res = await http.linkDevice({
        linkingCode: msg.linkingCode,
        registrationId: keys.registrationId,
        ...keys.upload,
        ...(name ? { name } : {}),
      });
      const account: AccountRecord = {
        accountId: res.accountId,
        deviceId: res.deviceId,
        username: msg.username,
        credential: res.credential,
        registrationId: keys.registrationId,
        identityKeyPair: identity.serialize(),
        relayUrl: http.baseUrl,
        createdAt: ctx.now(),
      };
      ctx.setAccount(account); // merging groups needs our account id
      try {
        await ctx.transaction(async (scope) => {
          const { tx } = scope;
          await tx.put('meta', META.account, account);
          await keys.save(tx, this.sessions.stores(tx));
          await tx.put('meta', META.ownDevices, {
            devices: {},
            fetchedAt: 0,
          } satisfies OwnDevicesRecord);
          for (const c of msg.contacts?.contacts ?? []) {
            const contact: ContactRecord = {
              accountId: c.accountId,
              ...(c.username ? { username: c.username } : {}),
              ...(c.accepted ? { accepted: true } : {}),
              ...(c.blocked ? { blocked: true } : {}),
              devices: {},
            };
            let known: IdentityRecord | undefined;
            if (c.identityKey.length > 0) {
              known = { publicKey: c.identityKey, firstSeenAt: ctx.now() };
              await tx.put('identities', c.accountId, known);
            }
            await tx.put(
              'contacts',
              c.accountId,
              c.verified ? adoptVerified(contact, known, c.identityKey) : contact,
            );
          }
          for (const g of msg.groups?.groups ?? []) {
            const group = await mergeGroupState(ctx, scope, g);
            // Listed at once, not only once someone posts to it.
            if (group && !group.left) {
              await ensureConversation(tx, groupConversationId(group.groupId), ctx.now());
            }
          }
          await adoptGroupRequests(tx, msg.groups?.requests ?? [], new Set());
          // Imported at the first start(), before anything is received.
          await recordHistoryOffer(tx, msg, ctx.now());
        });
      } catch (err) {
        ctx.setAccount(undefined);
        throw err;
      }
    } finally {
      channel.close();
    }
  }

  /**
   * Existing-device side: approves a link request shown by a new device; with
   * `transferHistory`, our message history goes along (history/transfer.ts).
   */
  async approve(uri: string, options: ApproveOptions = {}): Promise<void> {
    const { ctx } = this;
    const self = ctx.requireAccount();
    if (self.deviceId !== PRIMARY_DEVICE_ID) {
      throw new LinkError('only the primary device can link new devices');
    }
    const request = parseLinkUri(uri);
    // Before the linking code is issued: its lifetime is not spent on the upload.
    const history = options.transferHistory ? await this.history.prepare() : {};
    const { code } = await ctx.http.linkingCode();
    const message = create(ProvisionMessageSchema, {
      identityKeyPair: self.identityKeyPair,
      accountId: self.accountId,
      username: self.username,
      linkingCode: code,
      contacts: await contactList(ctx.storage),
      groups: await groupList(ctx.storage),
      provisioningDeviceId: self.deviceId,
      ...history,
    });
    const sealed = await sealProvisionMessage(request.publicKey, message, ctx.rng);
    await ctx.http.sendProvisioningMessage(request.address, toBase64(sealed));
    // Our device list changed: look again before the next send to our own devices.
    await ctx.transaction((s) => setOwnDevicesFetchedAt(s.tx, 0));
  }

  /** Our devices, as the relay lists them, with their names decrypted where we can. */
  async devices(): Promise<Array<DeviceInfo & { displayName?: string }>> {
    const list = await this.sessions.refreshOwnDevices();
    const secret = IdentityKeyPair.deserialize(
      this.ctx.requireAccount().identityKeyPair,
    ).privateKey;
    return Promise.all(
      list.map(async (d) => {
        const displayName = d.name
          ? await openDeviceName(secret.serialize(), fromBase64(d.name))
          : undefined;
        return displayName ? { ...d, displayName } : d;
      }),
    );
  }

  /**
   * Removes a device from the account (the primary removes any; a linked one itself). Returns
   * true when it was this device (its data is then to be wiped by the caller once stopped).
   */
  async unlink(deviceId: number): Promise<boolean> {
    const self = this.ctx.requireAccount();
    await this.ctx.http.removeDevice(deviceId);
    if (deviceId === self.deviceId) return true;
    await this.sessions.removeDevices(self.accountId, [deviceId]);
    return false;
  }

  /** Announces this (new) device to our other devices and asks them for contacts and groups. */
  async announce(): Promise<void> {
    await this.sessions.refreshOwnDevices();
    await this.ctx.transaction((scope) => this.selfSync.request(scope));
  }
}
