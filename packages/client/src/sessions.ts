/**
 * Devices and sessions: which devices an account has (ours too), starting sessions from the
 * relay's prekey bundles, dropping them when a device goes or re-registers. Network reads here
 * happen outside storage transactions; each transaction only stores what was fetched.
 * @module
 */
import { ProtocolAddress } from '@parley/crypto/address.js';
import { isProtocolError } from '@parley/crypto/errors.js';
import type { DeviceBundle, DeviceInfo } from '@parley/protocol';
import type { ClientContext, Scope } from './context.ts';
import { storesFor, type TxStores } from './crypto-stores.ts';
import { IdentityChangedError } from './errors.ts';
import { META, sessionKey, sessionPrefix } from './keys.ts';
import {
  knownDevices,
  setOwnDevicesFetchedAt,
  updateDevices,
  type OwnDevicesRecord,
} from './records/contacts.ts';
import { isMember, listGroups, rotateSenderKey } from './records/groups.ts';
import { markIdentityChanged } from './records/identities.ts';
import { RelayHttpError } from './relay/index.ts';
import * as signal from './signal.ts';
import type { StorageTx } from './storage/index.ts';
import { fromBase64 } from './util/bytes.ts';

/** Our own device list is looked up again when empty and older than this. */
const OWN_DEVICES_REFRESH_MS = 60_000;

export class Sessions {
  constructor(private readonly ctx: ClientContext) {}

  /**
   * The protocol stores over `scope`'s transaction. An identity key replaced while decrypting
   * (the peer reinstalled) is recorded once the transaction committed.
   */
  stores(scope: Scope | StorageTx): TxStores {
    const ctx = this.ctx;
    if (!('tx' in scope)) return storesFor(scope, () => ctx.now());
    return storesFor(
      scope.tx,
      () => ctx.now(),
      (accountId) => {
        scope.after(() => ctx.transaction((s) => markIdentityChanged(ctx, s, accountId)));
      },
    );
  }

  cipher(stores: TxStores): signal.SessionOps {
    return signal.sessionCipher(stores, this.ctx.rng, this.ctx.clock);
  }

  /** The devices we know for `accountId` (for our own account: our other devices). */
  known(
    accountId: string,
    tx: Pick<StorageTx, 'get'> = this.ctx.storage,
  ): Promise<Record<string, number>> {
    return knownDevices(tx, accountId, this.ctx.isSelf(accountId));
  }

  setDevices(tx: StorageTx, accountId: string, update: (d: Record<string, number>) => void) {
    return updateDevices(tx, accountId, this.ctx.isSelf(accountId), update);
  }

  async hasSession(accountId: string, deviceId: number): Promise<boolean> {
    return (
      (await this.ctx.storage.get('sessions', sessionKey({ name: accountId, deviceId }))) !==
      undefined
    );
  }

  /** Fetches bundles (all devices, or some) and starts sessions with them. */
  async fetchAndProcessBundles(accountId: string, deviceIds: number[] | '*'): Promise<void> {
    const { ctx } = this;
    const bundles: DeviceBundle[] = [];
    let identityKey = '';
    if (deviceIds === '*') {
      const res = await ctx.http.getBundles(accountId, '*');
      identityKey = res.identityKey;
      bundles.push(...res.devices);
    } else {
      for (const id of deviceIds) {
        try {
          const res = await ctx.http.getBundles(accountId, id);
          identityKey = res.identityKey;
          bundles.push(...res.devices);
        } catch (err) {
          if (err instanceof RelayHttpError && err.status === 404) continue;
          throw err;
        }
      }
    }
    const self = ctx.requireAccount();
    const relevant = bundles.filter(
      (b) => !(accountId === self.accountId && b.deviceId === self.deviceId),
    );
    if (relevant.length === 0) return;
    try {
      await ctx.transaction(async (scope) => {
        const cipher = this.cipher(this.stores(scope));
        for (const b of relevant) {
          const address = new ProtocolAddress(accountId, b.deviceId);
          await cipher.processPreKeyBundle(address, signal.bundleFromRelay(identityKey, b));
        }
        await this.setDevices(scope.tx, accountId, (d) => {
          for (const b of relevant) d[String(b.deviceId)] = b.registrationId;
        });
      });
    } catch (err) {
      if (isProtocolError(err, 'UntrustedIdentity')) {
        // Sending found a new identity key in the relay's bundle: block and record it.
        await ctx.transaction((s) =>
          markIdentityChanged(ctx, s, accountId, fromBase64(identityKey)),
        );
        throw new IdentityChangedError(accountId);
      }
      throw err;
    }
  }

  /** Makes sure we know (and have sessions with) the devices of `accountId`. */
  async ensureDevices(accountId: string): Promise<Record<string, number>> {
    const { ctx } = this;
    let devices = await this.known(accountId);
    if (ctx.isSelf(accountId)) {
      const rec = await ctx.storage.get<OwnDevicesRecord>('meta', META.ownDevices);
      if (
        Object.keys(devices).length === 0 &&
        ctx.now() - (rec?.fetchedAt ?? 0) > OWN_DEVICES_REFRESH_MS
      ) {
        await this.refreshOwnDevices();
        devices = await this.known(accountId);
      }
      return devices;
    }
    if (Object.keys(devices).length === 0) {
      await this.fetchAndProcessBundles(accountId, '*');
      devices = await this.known(accountId);
    }
    return devices;
  }

  /** Asks the relay for our device list; starts sessions with devices we did not know. */
  async refreshOwnDevices(): Promise<DeviceInfo[]> {
    const { ctx } = this;
    const self = ctx.requireAccount();
    const { devices } = await ctx.http.listDevices();
    const known = await this.known(self.accountId);
    const others = devices.map((d) => d.deviceId).filter((id) => id !== self.deviceId);
    const missing = others.filter((id) => !(String(id) in known));
    const gone = Object.keys(known).filter((id) => !others.includes(Number(id)));
    if (gone.length > 0) await this.removeDevices(self.accountId, gone.map(Number));
    if (missing.length > 0) await this.fetchAndProcessBundles(self.accountId, missing);
    await ctx.transaction((s) => setOwnDevicesFetchedAt(s.tx, ctx.now()));
    return devices;
  }

  /** Forgets devices (sessions and list entries) and rotates our sender keys in shared groups. */
  async removeDevices(accountId: string, deviceIds: number[]): Promise<void> {
    if (deviceIds.length === 0) return;
    const { ctx } = this;
    await ctx.transaction(async ({ tx }) => {
      for (const id of deviceIds)
        await tx.delete('sessions', sessionKey({ name: accountId, deviceId: id }));
      await this.setDevices(tx, accountId, (d) => {
        for (const id of deviceIds) delete d[String(id)];
      });
      for (const group of await listGroups(tx)) {
        if (ctx.isSelf(accountId) || isMember(group, accountId)) {
          await rotateSenderKey(tx, group, ctx.ourAddress(), ctx.rng);
        }
      }
    });
  }

  /** Sessions to re-create: the devices re-registered (410). */
  async dropStaleSessions(accountId: string, deviceIds: number[]): Promise<void> {
    await this.ctx.transaction(async ({ tx }) => {
      for (const id of deviceIds)
        await tx.delete('sessions', sessionKey({ name: accountId, deviceId: id }));
      await this.setDevices(tx, accountId, (d) => {
        for (const id of deviceIds) delete d[String(id)];
      });
    });
    await this.fetchAndProcessBundles(accountId, deviceIds);
  }

  /** Deletes every session with `accountId` (their identity changed). */
  async deleteSessions(tx: StorageTx, accountId: string): Promise<void> {
    for (const [k] of await tx.list('sessions', sessionPrefix(accountId)))
      await tx.delete('sessions', k);
  }
}
