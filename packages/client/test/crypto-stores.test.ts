/** The adapters from client storage to @parley/crypto's store interfaces. */
import { describe, expect, it } from 'vitest';
import { ProtocolAddress } from '@parley/crypto/address.js';
import { IdentityKeyPair } from '@parley/crypto/curve.js';
import { GroupCipher } from '@parley/crypto/group.js';
import { systemRandom } from '@parley/crypto/random.js';
import { storesFor } from '../src/crypto-stores.ts';
import { newKyberPreKey } from '../src/signal.ts';
import type { AccountRecord } from '../src/model.ts';
import { MemoryBackend, Storage } from '../src/storage/index.ts';

const now = () => 1_700_000_000_000;

async function setup() {
  const storage = new Storage(new MemoryBackend());
  const identity = IdentityKeyPair.generate();
  const account: AccountRecord = {
    accountId: 'me',
    deviceId: 1,
    username: 'me',
    credential: 'x',
    registrationId: 1234,
    identityKeyPair: identity.serialize(),
    relayUrl: 'http://127.0.0.1',
    createdAt: 0,
  };
  await storage.put('meta', 'account', account);
  return { storage, identity };
}

describe('identity store (TOFU)', () => {
  it('serves our identity and registration id', async () => {
    const { storage, identity } = await setup();
    await storage.transaction(async (tx) => {
      const s = storesFor(tx, now);
      expect((await s.identity.getIdentityKeyPair()).publicKey.equals(identity.publicKey)).toBe(
        true,
      );
      expect(await s.identity.getLocalRegistrationId()).toBe(1234);
    });
  });

  it('trusts on first use, detects a change, and blocks sending until accepted', async () => {
    const { storage } = await setup();
    const bob = new ProtocolAddress('bob', 1);
    const k1 = IdentityKeyPair.generate().publicKey;
    const k2 = IdentityKeyPair.generate().publicKey;
    const replaced: string[] = [];
    await storage.transaction(async (tx) => {
      const s = storesFor(tx, now, (id) => replaced.push(id));
      expect(await s.identity.isTrustedIdentity(bob, k1, 'sending')).toBe(true); // unknown: TOFU
      expect(await s.identity.saveIdentity(bob, k1)).toBe('new');
      expect(await s.identity.saveIdentity(bob, k1)).toBe('unchanged');
      expect(await s.identity.isTrustedIdentity(bob, k1, 'sending')).toBe(true);
      // Same account, another device: same identity.
      expect(await s.identity.isTrustedIdentity(new ProtocolAddress('bob', 2), k1, 'sending')).toBe(
        true,
      );
      // A different key is refused for sending ...
      expect(await s.identity.isTrustedIdentity(bob, k2, 'sending')).toBe(false);
      // ... but accepted when receiving (the message is not lost), and reported.
      expect(await s.identity.isTrustedIdentity(bob, k2, 'receiving')).toBe(true);
      expect(await s.identity.saveIdentity(bob, k2)).toBe('replaced');
      expect((await s.identity.getIdentity(bob))!.equals(k2)).toBe(true);
    });
    expect(replaced).toEqual(['bob']);
  });

  it('writes nothing when the surrounding transaction fails', async () => {
    const { storage } = await setup();
    const bob = new ProtocolAddress('bob', 1);
    await expect(
      storage.transaction(async (tx) => {
        await storesFor(tx, now).identity.saveIdentity(bob, IdentityKeyPair.generate().publicKey);
        throw new Error('crash');
      }),
    ).rejects.toThrow('crash');
    await storage.transaction(async (tx) => {
      expect(await storesFor(tx, now).identity.getIdentity(bob)).toBeUndefined();
    });
  });
});

describe('sender key store', () => {
  it('lets GroupCipher round-trip through encrypted storage', async () => {
    const { storage } = await setup();
    const alice = new ProtocolAddress('alice', 1);
    const dist = '2f3c1e9a-8b7d-4c6e-9f10-1a2b3c4d5e6f';
    const skdm = await storage.transaction(async (tx) =>
      new GroupCipher(storesFor(tx, now).senderKey).createDistributionMessage(alice, dist),
    );
    const { storage: other } = await setup();
    await other.transaction(async (tx) =>
      new GroupCipher(storesFor(tx, now).senderKey).processDistributionMessage(alice, skdm),
    );
    const ct = await storage.transaction(async (tx) =>
      new GroupCipher(storesFor(tx, now).senderKey).encrypt(
        alice,
        dist,
        new TextEncoder().encode('hi'),
      ),
    );
    const pt = await other.transaction(async (tx) =>
      new GroupCipher(storesFor(tx, now).senderKey).decrypt(alice, ct),
    );
    expect(new TextDecoder().decode(pt)).toBe('hi');
  });
});

describe('Kyber prekey store', () => {
  it('deletes a used one-time key and refuses a last-resort key reused with the same base key', async () => {
    const { storage, identity } = await setup();
    const oneTime = newKyberPreKey(identity, 7, now(), systemRandom).record;
    const lastResort = newKyberPreKey(identity, 8, now(), systemRandom).record;
    const base1 = IdentityKeyPair.generate().publicKey;
    const base2 = IdentityKeyPair.generate().publicKey;
    await storage.transaction(async (tx) => {
      const s = storesFor(tx, now);
      await s.kyberPreKey.saveKyber(7, oneTime, false);
      await s.kyberPreKey.saveKyber(8, lastResort, true);
      await s.kyberPreKey.markKyberPreKeyUsed(7, 1, base1);
      expect(await s.kyberPreKey.getKyberPreKey(7)).toBeUndefined();
      await s.kyberPreKey.markKyberPreKeyUsed(8, 1, base1);
      await s.kyberPreKey.markKyberPreKeyUsed(8, 1, base2); // another session: fine
      await s.kyberPreKey.markKyberPreKeyUsed(8, 2, base1); // another signed prekey: fine
      expect(await s.kyberPreKey.getKyberPreKey(8)).toBeDefined();
    });
    // A replay, in a later transaction (the record was persisted): refused.
    await expect(
      storage.transaction((tx) => storesFor(tx, now).kyberPreKey.markKyberPreKeyUsed(8, 1, base1)),
    ).rejects.toMatchObject({ name: 'ProtocolError', code: 'InvalidMessage' });
  });
});
