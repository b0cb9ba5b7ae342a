/**
 * The account on this device: registering, our username, housekeeping of the dedupe ids,
 * deleting and exporting. Registration talks to the relay first and stores the result after,
 * so no storage transaction waits on the network.
 * @module
 */
import { clearCryptoCaches } from '@parley/crypto/backend.js';
import { IdentityKeyPair } from '@parley/crypto/curve.js';
import type { ClientContext } from '../context.ts';
import { ClientError } from '../errors.ts';
import { META, PROCESSED } from '../keys.ts';
import type { AccountRecord } from '../model.ts';
import { sealDeviceName } from '../provisioning.ts';
import type { OwnDevicesRecord } from '../records/contacts.ts';
import type { Sessions } from '../sessions.ts';
import { STORE_NAMES, type Storage } from '../storage/index.ts';
import { toBase64 } from '../util/bytes.ts';
import type { PreKeys } from './prekeys.ts';

/** How often maintenance prunes the dedupe records. */
const PRUNE_EVERY_MS = 86_400_000;

export class Account {
  constructor(
    private readonly ctx: ClientContext,
    private readonly sessions: Sessions,
    readonly preKeys: PreKeys,
  ) {}

  /**
   * Creates a new account with this device as its primary device. `deviceName` is sealed so
   * only the account's devices can read it (see `sealDeviceName`).
   */
  async register(
    username: string,
    relayUrl = this.ctx.options.relayUrl,
    deviceName?: string,
  ): Promise<AccountRecord> {
    const { ctx } = this;
    if (ctx.account)
      throw new ClientError('already_registered', 'this device already has an account');
    if (!relayUrl) throw new ClientError('no_relay', 'relayUrl is required to register');
    const http = ctx.anonymousHttp(relayUrl);
    const identity = IdentityKeyPair.generate(ctx.rng);
    const keys = await this.preKeys.generateDeviceKeys(identity);
    const name = deviceName
      ? toBase64(await sealDeviceName(identity.privateKey.serialize(), deviceName, ctx.rng))
      : undefined;
    const res = await http.register({
      username,
      identityKey: toBase64(identity.publicKey.serialize()),
      registrationId: keys.registrationId,
      ...keys.upload,
      ...(name ? { name } : {}),
    });
    const account: AccountRecord = {
      accountId: res.accountId,
      deviceId: res.deviceId,
      username: res.username,
      credential: res.credential,
      registrationId: keys.registrationId,
      identityKeyPair: identity.serialize(),
      relayUrl: http.baseUrl,
      createdAt: ctx.now(),
    };
    await ctx.transaction(async (scope) => {
      // The identity store reads the account: it goes in first.
      await scope.tx.put('meta', META.account, account);
      await keys.save(scope.tx, this.sessions.stores(scope.tx));
      await scope.tx.put('meta', META.ownDevices, {
        devices: {},
        fetchedAt: ctx.now(),
      } satisfies OwnDevicesRecord);
    });
    ctx.setAccount(account);
    return account;
  }

  /** `GET /v1/accounts/me` plus what we know locally. */
  async whoami() {
    const account = this.ctx.requireAccount();
    const me = await this.ctx.http.whoami();
    return {
      accountId: me.accountId,
      deviceId: me.deviceId,
      username: me.username,
      identityKey: toBase64(
        IdentityKeyPair.deserialize(account.identityKeyPair).publicKey.serialize(),
      ),
    };
  }

  /** Stores `username` as ours (the relay has it already). */
  async #storeUsername(username: string): Promise<AccountRecord> {
    const account = await this.ctx.transaction(async ({ tx }) => {
      const current = (await tx.get<AccountRecord>('meta', META.account))!;
      const next: AccountRecord = { ...current, username };
      await tx.put('meta', META.account, next);
      return next;
    });
    this.ctx.setAccount(account);
    return account;
  }

  /**
   * Changes our username on the relay. Messages we send from now on carry the new name, and
   * the people we write to pick it up once the relay confirms it.
   */
  async setUsername(username: string): Promise<AccountRecord> {
    this.ctx.requireAccount();
    const res = await this.ctx.http.setUsername(username);
    return this.#storeUsername(res.username);
  }

  /** Takes our username as the relay has it (another of our devices may have changed it). */
  async refreshOwnUsername(): Promise<void> {
    const me = await this.ctx.http.whoami();
    if (!this.ctx.account || me.username === this.ctx.account.username) return;
    await this.#storeUsername(me.username);
  }

  /**
   * At most once a day from the connection's maintenance (`maintain`): it opens every dedupe
   * record, tens of thousands after a catch-up, and a record only ages out after 60 days.
   */
  async pruneProcessedIfDue(): Promise<number> {
    const last = (await this.ctx.storage.get<number>('meta', META.processedPrunedAt)) ?? 0;
    if (this.ctx.now() - last < PRUNE_EVERY_MS) return 0;
    const removed = await this.pruneProcessed();
    await this.ctx.storage.put('meta', META.processedPrunedAt, this.ctx.now());
    return removed;
  }

  /**
   * Forgets envelope and message ids older than `maxAgeMs` (default 60 days, twice the relay's
   * default retention): the relay cannot redeliver anything that old, so dedupe no longer
   * needs them. Message-key indexes (for receipts) are kept.
   */
  async pruneProcessed(maxAgeMs = 60 * 86_400_000): Promise<number> {
    const cutoff = this.ctx.now() - maxAgeMs;
    return this.ctx.transaction(async ({ tx }) => {
      let removed = 0;
      for (const prefix of PROCESSED.agedPrefixes) {
        for (const [key, at] of await tx.list<number>('processed', prefix)) {
          if (typeof at === 'number' && at < cutoff) {
            await tx.delete('processed', key);
            removed++;
          }
        }
      }
      return removed;
    });
  }

  /** Deletes everything this device stores, in every keyspace. */
  async wipe(): Promise<void> {
    await this.ctx.transaction(async ({ tx }) => {
      for (const store of STORE_NAMES) {
        for (const [k] of await tx.list(store)) await tx.delete(store, k);
      }
    });
    this.ctx.setAccount(undefined);
    // No private key of the wiped account stays in a backend's cache.
    clearCryptoCaches();
  }

  /** Everything this device stores about the user, secrets excluded, plus the relay's export. */
  async exportData() {
    const { ctx } = this;
    const account = ctx.requireAccount();
    const list = async (store: Parameters<Storage['list']>[0]) =>
      (await ctx.storage.list(store)).map(([, v]) => v);
    return {
      exportedAt: ctx.now(),
      account: {
        accountId: account.accountId,
        deviceId: account.deviceId,
        username: account.username,
        relayUrl: account.relayUrl,
        createdAt: account.createdAt,
      },
      contacts: await list('contacts'),
      conversations: await list('conversations'),
      messages: await list('messages'),
      groups: await list('groups'),
      relay: await ctx.http.exportAccount(),
    };
  }
}
