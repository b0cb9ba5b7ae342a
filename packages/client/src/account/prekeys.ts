/**
 * This device's prekeys: generated in memory, stored in one transaction, uploaded outside it.
 * The storage lock is never held across a relay request: keys are stored first (keys we hold
 * but the relay does not are harmless), then uploaded; a refused upload puts the key state
 * back, so the next maintenance run tries again.
 * @module
 */
import { IdentityKeyPair } from '@parley/crypto/curve.js';
import { randomUint } from '@parley/crypto/random.js';
import type { PreKeyUploadRequest } from '@parley/protocol';
import type { ClientContext } from '../context.ts';
import type { TxStores } from '../crypto-stores.ts';
import { META } from '../keys.ts';
import type { KeyStateRecord } from '../model.ts';
import type { Sessions } from '../sessions.ts';
import * as signal from '../signal.ts';
import type { StorageTx } from '../storage/index.ts';
import { turnTaker } from '../util/turns.ts';

/** Keys made in memory: what to upload, and how to store them. */
export interface GeneratedKeys {
  upload: PreKeyUploadRequest;
  keyState: KeyStateRecord;
  /** Stores the private halves and the key state. */
  save(tx: StorageTx, stores: TxStores): Promise<void>;
}

type Save = (stores: TxStores) => Promise<void>;

/** The keys a device registers with: signed prekey, Kyber last resort and both batches. */
export interface DeviceKeys extends GeneratedKeys {
  registrationId: number;
  upload: Required<
    Pick<PreKeyUploadRequest, 'signedPreKey' | 'pqLastResortPreKey' | 'preKeys' | 'pqPreKeys'>
  >;
}

export class PreKeys {
  constructor(
    private readonly ctx: ClientContext,
    private readonly sessions: Sessions,
  ) {}

  /**
   * A batch of one-time prekeys. Generating a hundred keys (ten of them ML-KEM) takes a few
   * hundred milliseconds in a browser: the event loop gets turns (util/turns.ts).
   */
  async #batches(identity: IdentityKeyPair, ks: KeyStateRecord, saves: Save[]) {
    const { ctx } = this;
    const now = ctx.now();
    const breathe = turnTaker();
    const preKeys = [];
    for (let i = 0; i < (ctx.options.preKeyBatch ?? 100); i++) {
      await breathe();
      const id = (ks.nextPreKeyId++ % 0xfffffe) + 1;
      const k = signal.newPreKey(id, ctx.rng);
      saves.push((s) => s.preKey.savePreKey(id, k.record));
      preKeys.push(k.upload);
    }
    const pqPreKeys = [];
    for (let i = 0; i < (ctx.options.kyberPreKeyBatch ?? 10); i++) {
      await breathe();
      const id = (ks.nextKyberPreKeyId++ % 0xfffffe) + 1;
      const k = signal.newKyberPreKey(identity, id, now, ctx.rng);
      saves.push((s) => s.kyberPreKey.saveKyber(id, k.record, false));
      pqPreKeys.push(k.upload);
    }
    return { preKeys, pqPreKeys };
  }

  #rotation(identity: IdentityKeyPair, ks: KeyStateRecord, saves: Save[]) {
    const { ctx } = this;
    const now = ctx.now();
    const sid = (ks.nextSignedPreKeyId++ % 0xfffffe) + 1;
    const signed = signal.newSignedPreKey(identity, sid, now, ctx.rng);
    saves.push((s) => s.signedPreKey.saveSignedPreKey(sid, signed.record));
    const kid = (ks.nextKyberPreKeyId++ % 0xfffffe) + 1;
    const lr = signal.newKyberPreKey(identity, kid, now, ctx.rng);
    saves.push((s) => s.kyberPreKey.saveKyber(kid, lr.record, true));
    ks.signedPreKeyId = sid;
    ks.signedPreKeyCreatedAt = now;
    ks.lastResortKyberPreKeyId = kid;
    return { signedPreKey: signed.upload, pqLastResortPreKey: lr.upload };
  }

  /** A new device's keys (registration, linking), in memory until `save`. */
  async generateDeviceKeys(identity: IdentityKeyPair): Promise<DeviceKeys> {
    const { ctx } = this;
    const saves: Save[] = [];
    const keyState: KeyStateRecord = {
      nextPreKeyId: 1 + randomUint(ctx.rng, 20),
      nextKyberPreKeyId: 1 + randomUint(ctx.rng, 20),
      nextSignedPreKeyId: 1 + randomUint(ctx.rng, 20),
      signedPreKeyId: 0,
      signedPreKeyCreatedAt: 0,
      lastResortKyberPreKeyId: 0,
    };
    const rotation = this.#rotation(identity, keyState, saves);
    const batches = await this.#batches(identity, keyState, saves);
    return {
      registrationId: signal.generateRegistrationId(ctx.rng),
      upload: { ...rotation, ...batches },
      keyState,
      save: async (tx, stores) => {
        for (const save of saves) await save(stores);
        await tx.put('meta', META.keys, keyState);
      },
    };
  }

  /** Uploads a fresh batch when the relay runs low; rotates signed prekeys when due. */
  async maintain(): Promise<{ uploadedPreKeys: boolean; rotatedSignedPreKey: boolean }> {
    const { ctx } = this;
    const account = ctx.requireAccount();
    const identity = IdentityKeyPair.deserialize(account.identityKeyPair);
    const status = await ctx.http.keyStatus();
    const low = ctx.options.preKeyLowWater ?? 20;
    const result = { uploadedPreKeys: false, rotatedSignedPreKey: false };
    const before = (await ctx.storage.get<KeyStateRecord>('meta', META.keys))!;
    const rotateDue =
      ctx.now() - before.signedPreKeyCreatedAt >=
      (ctx.options.signedPreKeyRotationMs ?? 7 * 86_400_000);
    const needBatch =
      status.preKeyCount < low ||
      status.pqPreKeyCount < Math.min(low, ctx.options.kyberPreKeyBatch ?? 10);
    if (!rotateDue && !needBatch) return result;
    let upload: PreKeyUploadRequest = {};
    // 1. Generate and store (the lock is held only for storage).
    await ctx.transaction(async (scope) => {
      const ks = (await scope.tx.get<KeyStateRecord>('meta', META.keys))!;
      const saves: Save[] = [];
      if (needBatch) {
        upload = { ...upload, ...(await this.#batches(identity, ks, saves)) };
        result.uploadedPreKeys = true;
      }
      if (rotateDue) {
        upload = { ...upload, ...this.#rotation(identity, ks, saves) };
        result.rotatedSignedPreKey = true;
      }
      const stores = this.sessions.stores(scope);
      for (const save of saves) await save(stores);
      await scope.tx.put('meta', META.keys, ks);
    });
    // 2. Upload, with no transaction open.
    try {
      await ctx.http.uploadKeys(upload);
    } catch (err) {
      // Not on the relay: rotation is due again (the stored keys stay, unused).
      if (rotateDue) {
        await ctx.transaction(async ({ tx }) => {
          const ks = (await tx.get<KeyStateRecord>('meta', META.keys))!;
          await tx.put('meta', META.keys, {
            ...ks,
            signedPreKeyCreatedAt: before.signedPreKeyCreatedAt,
          } satisfies KeyStateRecord);
        });
      }
      throw err;
    }
    return result;
  }
}
