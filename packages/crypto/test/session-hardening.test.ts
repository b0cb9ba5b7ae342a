/**
 * Hardening found in review (issue 14): each test here failed before its fix.
 * Failures are typed `ProtocolError`s and leave every stored byte as it was.
 */
import { describe, expect, test } from 'vitest';
import { utf8 } from '../src/_bytes.ts';
import { getCryptoBackendChoice } from '../src/_backend.ts';
import { nobleSymmetric, setSymmetricPrimitives } from '../src/_primitives.ts';
import { ProtocolAddress } from '../src/address.ts';
import { KeyPair } from '../src/curve.ts';
import { MAX_FORWARD_JUMPS, MAX_MESSAGE_KEYS } from '../src/consts.ts';
import { PreKeySignalMessage, SignalMessage } from '../src/messages.ts';
import { SessionCipher, type SessionCipherOptions } from '../src/session.ts';
import { SessionRecord } from '../src/session/session-record.ts';
import type { ProtocolStores, SessionStore } from '../src/stores.ts';
import { ls072 } from './support/libsignal.ts';
import { LsParty, OurParty } from './support/parties.ts';

const code = (c: string) => expect.objectContaining({ name: 'ProtocolError', code: c });
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

async function established(options: SessionCipherOptions = {}) {
  const alice = new OurParty('alice', 1, options);
  const bob = new OurParty('bob', 1, options);
  await alice.processBundle(bob, await bob.makeBundle());
  expect(dec(await bob.decrypt(alice, await alice.encrypt(bob, utf8('hi'))))).toBe('hi');
  expect(dec(await alice.decrypt(bob, await bob.encrypt(alice, utf8('yo'))))).toBe('yo');
  return { alice, bob };
}

/** Expects `op` to fail with `c` and every store of every party to stay as it was. */
async function failsCleanly(parties: OurParty[], op: () => Promise<unknown>, c: string) {
  const before = parties.map((p) => p.stores.snapshot());
  await expect(op()).rejects.toEqual(code(c));
  parties.forEach((p, i) => expect(p.stores.snapshot()).toEqual(before[i]));
}

/** A store that hands out the very object it keeps (as a caching store would). */
class ObjectSessionStore implements SessionStore {
  readonly records = new Map<string, SessionRecord>();
  async loadSession(address: ProtocolAddress) {
    return this.records.get(address.toString());
  }
  async storeSession(address: ProtocolAddress, record: SessionRecord) {
    this.records.set(address.toString(), record);
  }
}

describe('SessionCipher never mutates the record its store returned', () => {
  test('a PreKey message that fails after session setup leaves the stored object as it was', async () => {
    const { alice, bob } = await established();
    const sessions = new ObjectSessionStore();
    await sessions.storeSession(
      alice.address,
      (await bob.stores.session.loadSession(alice.address))!,
    );
    const cipher = new SessionCipher({
      ...bob.stores,
      identity: bob.stores.identity,
      session: sessions,
    });
    const kept = sessions.records.get(alice.address.toString())!;
    const before = kept.serialize();

    // Alice starts a new session; its first message has a broken MAC.
    await alice.processBundle(bob, await bob.makeBundle());
    const m = await alice.encrypt(bob, utf8('new'));
    const body = m.body.slice();
    body[body.length - 1]! ^= 1;
    await expect(cipher.decrypt(alice.address, { type: 'prekey', body })).rejects.toEqual(
      code('InvalidMac'),
    );
    expect(sessions.records.get(alice.address.toString())).toBe(kept);
    expect(kept.serialize()).toEqual(before);
    expect(kept.previousStates.length).toBe(0);

    // The intact message still works, and what is stored is a new object.
    expect(dec(await cipher.decrypt(alice.address, m))).toBe('new');
    expect(kept.serialize()).toEqual(before);
    expect(sessions.records.get(alice.address.toString())!.previousStates.length).toBe(1);
  });
});

describe('a repeated PreKey message must carry the identity key of its session', () => {
  test('a rewritten outer identity key is refused even where every identity is trusted', async () => {
    const alice = new OurParty('alice');
    const bob = new OurParty('bob');
    await alice.processBundle(bob, await bob.makeBundle());
    const first = await alice.encrypt(bob, utf8('one'));
    const second = await alice.encrypt(bob, utf8('two'));
    expect(second.type).toBe('prekey');
    expect(dec(await bob.decrypt(alice, first))).toBe('one');

    // An application that trusts every identity (the attacker's key included).
    const trusting: ProtocolStores = {
      ...bob.stores,
      identity: {
        getIdentityKeyPair: () => bob.stores.identity.getIdentityKeyPair(),
        getLocalRegistrationId: () => bob.stores.identity.getLocalRegistrationId(),
        saveIdentity: (a, k) => bob.stores.identity.saveIdentity(a, k),
        getIdentity: (a) => bob.stores.identity.getIdentity(a),
        isTrustedIdentity: async () => true,
      },
    };
    const cipher = new SessionCipher(trusting);
    const m = PreKeySignalMessage.deserialize(second.body);
    const forged = PreKeySignalMessage.create({
      messageVersion: m.messageVersion,
      registrationId: m.registrationId,
      preKeyId: m.preKeyId,
      signedPreKeyId: m.signedPreKeyId,
      kyberPreKeyId: m.kyberPreKeyId,
      kyberCiphertext: m.kyberCiphertext,
      baseKey: m.baseKey,
      identityKey: KeyPair.generate().publicKey,
      message: m.message,
    });
    await failsCleanly(
      [bob],
      () => cipher.decrypt(alice.address, { type: 'prekey', body: forged.serialize() }),
      'InvalidMessage',
    );
    expect((await bob.stores.identity.getIdentity(alice.address))!.equals(alice.identityKey)).toBe(
      true,
    );
    // The genuine repeat still decrypts.
    expect(dec(await bob.decrypt(alice, second))).toBe('two');
  });
});

describe('downgrade: X3DH (v3) sessions are refused unless the legacy option is set', () => {
  test('a bundle without a Kyber prekey builds no session', async () => {
    const alice = new OurParty('alice');
    const bob = new OurParty('bob');
    const bundle = await bob.makeBundle({ kyber: false });
    await failsCleanly([alice], () => alice.processBundle(bob, bundle), 'LegacyCiphertextVersion');
    expect(await alice.cipher.hasSession(bob.address)).toBe(false);
    // The legacy option (libsignal 0.72 interop tests only) still builds it.
    const legacy = new OurParty('carol', 1, { allowPreKyberSessions: true });
    await legacy.processBundle(bob, bundle);
    expect((await legacy.encrypt(bob, utf8('x'))).body[0]).toBe(0x34);
  });

  test('a version 3 PreKey message is refused; nothing is stored or consumed', async () => {
    const bob = new OurParty('bob');
    const legacyBob = new SessionCipher(bob.stores, { allowPreKyberSessions: true });
    for (const alice of [
      new OurParty('alice', 1, { allowPreKyberSessions: true }),
      new LsParty(ls072, 'mallory', 2),
    ]) {
      await alice.processBundle(bob, await bob.makeBundle({ kyber: false }));
      const m = await alice.encrypt(bob, utf8('v3'));
      expect(m.type).toBe('prekey');
      expect(m.body[0]).toBe(0x34);
      await failsCleanly([bob], () => bob.decrypt(alice, m), 'LegacyCiphertextVersion');
      const from = new ProtocolAddress(alice.name, alice.deviceId);
      expect(dec(await legacyBob.decrypt(from, m))).toBe('v3');
    }
  });
});

describe('last-resort Kyber prekeys: a reused base key is refused', () => {
  test('a PreKey message replayed after its session is gone does not decrypt again', async () => {
    const alice = new OurParty('alice');
    const bob = new OurParty('bob');
    await alice.processBundle(bob, await bob.makeBundle({ oneTime: false, lastResort: true }));
    const m = await alice.encrypt(bob, utf8('once'));
    expect(dec(await bob.decrypt(alice, m))).toBe('once');
    // The session leaves Bob's record (evicted from the archive, or the record was reset).
    await bob.stores.session.storeSession(alice.address, new SessionRecord());
    await failsCleanly([bob], () => bob.decrypt(alice, m), 'InvalidMessage');

    // The last-resort key itself still serves new sessions (a new base key).
    const carol = new OurParty('carol');
    const bundle = await bob.makeBundle({ oneTime: false, lastResort: true });
    await carol.processBundle(bob, bundle);
    await alice.processBundle(bob, bundle);
    expect(dec(await bob.decrypt(carol, await carol.encrypt(bob, utf8('c'))))).toBe('c');
    expect(dec(await bob.decrypt(alice, await alice.encrypt(bob, utf8('a'))))).toBe('a');
  });
});

/** Runs `op` counting HMAC-SHA256 calls (each chain step and each message-key seed is one). */
async function countingHmacs(op: () => Promise<unknown>): Promise<number> {
  const choice = getCryptoBackendChoice();
  const base = (typeof choice === 'object' && choice.symmetric) || nobleSymmetric;
  let calls = 0;
  setSymmetricPrimitives({
    ...base,
    hmacSha256: (key, data) => {
      calls++;
      return base.hmacSha256(key, data);
    },
  });
  try {
    await op();
  } catch {
    // the caller checks the outcome separately
  } finally {
    setSymmetricPrimitives(typeof choice === 'object' ? choice.symmetric : undefined);
  }
  return calls;
}

describe('bounded work per decrypt', () => {
  // The chain-walk bounds are stated for the classical ratchet (a forged message needs no SPQR
  // part there); the last test shows the same bound with SPQR, the default.
  const classical: SessionCipherOptions = { spqr: 'off' };

  /** Bob with a session with Alice and `n` archived copies of it. */
  async function withArchive(n: number, options = classical) {
    const { alice, bob } = await established(options);
    const record = (await bob.stores.session.loadSession(alice.address))!;
    for (let i = 0; i < n; i++) record.promoteState(record.currentState!.clone());
    await bob.stores.session.storeSession(alice.address, record);
    return { alice, bob };
  }

  const forged = (alice: OurParty, bob: OurParty, counter: number) => ({
    type: 'whisper' as const,
    body: SignalMessage.create({
      messageVersion: 4,
      macKey: new Uint8Array(32).fill(7),
      senderRatchetKey: KeyPair.generate().publicKey,
      counter,
      previousCounter: 0,
      ciphertext: new Uint8Array(32).fill(1),
      senderIdentity: alice.identityKey,
      receiverIdentity: bob.identityKey,
    }).serialize(),
  });

  test('a forged message at the forward-jump limit costs one chain walk, not one per state', async () => {
    const { alice, bob } = await withArchive(5);
    const m = forged(alice, bob, MAX_FORWARD_JUMPS);
    const before = bob.stores.snapshot();
    const hmacs = await countingHmacs(() => bob.decrypt(alice, m));
    await failsCleanly([bob], () => bob.decrypt(alice, m), 'InvalidMac');
    expect(bob.stores.snapshot()).toEqual(before);
    // One walk of MAX_FORWARD_JUMPS steps, seeds only for the keys that would be kept, plus
    // the message key; six states walking 25,000 steps with a seed each would be 300,000.
    expect(hmacs).toBeGreaterThan(MAX_FORWARD_JUMPS);
    expect(hmacs).toBeLessThanOrEqual(MAX_FORWARD_JUMPS + MAX_MESSAGE_KEYS + 10);
  });

  test('many states are still tried for a cheap message, and a real one on the oldest decrypts', async () => {
    const { alice, bob } = await established(classical);
    const old = await alice.encrypt(bob, utf8('from the oldest session'));
    // 39 newer sessions from Alice archive Bob's first one.
    for (let i = 0; i < 39; i++) {
      await alice.processBundle(bob, await bob.makeBundle({ oneTime: false }));
      expect(dec(await bob.decrypt(alice, await alice.encrypt(bob, utf8(`s${i}`))))).toBe(`s${i}`);
    }
    const record = (await bob.stores.session.loadSession(alice.address))!;
    expect(record.previousStates.length).toBe(39);
    const hmacs = await countingHmacs(() => bob.decrypt(alice, forged(alice, bob, 20)));
    // Every one of the 40 states walked a new chain to 20 (21 steps, 20 skipped seeds, the
    // message's seed) and checked a MAC.
    expect(hmacs).toBeGreaterThanOrEqual(40 * 43);
    expect(hmacs).toBeLessThan(41 * 43);
    expect(dec(await bob.decrypt(alice, old))).toBe('from the oldest session');
  });

  test('with SPQR, a forged message also costs at most one chain walk', async () => {
    const { alice, bob } = await withArchive(5, {});
    const m = forged(alice, bob, MAX_FORWARD_JUMPS);
    const hmacs = await countingHmacs(() => bob.decrypt(alice, m));
    await failsCleanly([bob], () => bob.decrypt(alice, m), 'InvalidMessage');
    expect(hmacs).toBeLessThanOrEqual(MAX_FORWARD_JUMPS + MAX_MESSAGE_KEYS + 10);
  });
});
