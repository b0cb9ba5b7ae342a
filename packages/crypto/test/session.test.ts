/**
 * 1:1 sessions between two of our own parties: session setup rules, identity trust (TOFU),
 * unacknowledged sessions, simultaneous initiation, archived sessions, limits, concurrency,
 * clean failure (typed error, every store byte-for-byte unchanged) and secret redaction.
 */
import { describe, expect, test } from 'vitest';
import { concat, toHex, utf8 } from '../src/_bytes.ts';
import { hmacSha256 } from '../src/_primitives.ts';
import { ProtocolAddress } from '../src/address.ts';
import {
  MAX_FORWARD_JUMPS,
  MAX_MESSAGE_KEYS,
  MAX_UNACKNOWLEDGED_SESSION_AGE_MS,
} from '../src/consts.ts';
import { IdentityKeyPair, KeyPair } from '../src/curve.ts';
import { InMemoryKyberPreKeyStore } from '../src/inmem-stores.ts';
import { MAC_LENGTH, PreKeySignalMessage, SignalMessage } from '../src/messages.ts';
import { PreKeyBundle, generateKyberPreKey } from '../src/prekeys.ts';
import type { CiphertextMessage } from '../src/session.ts';
import { SessionCipher } from '../src/session.ts';
import { manualClock } from './support/deterministic.ts';
import { OurParty } from './support/parties.ts';

const code = (c: string) => expect.objectContaining({ name: 'ProtocolError', code: c });
const text = (s: string) => utf8(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

async function pair(kyber = true) {
  const legacy = { allowPreKyberSessions: !kyber };
  const alice = new OurParty('alice', 1, legacy);
  const bob = new OurParty('bob', 1, legacy);
  await alice.processBundle(bob, await bob.makeBundle({ kyber }));
  return { alice, bob };
}

async function established(kyber = true) {
  const { alice, bob } = await pair(kyber);
  expect(dec(await bob.decrypt(alice, await alice.encrypt(bob, text('hi'))))).toBe('hi');
  expect(dec(await alice.decrypt(bob, await bob.encrypt(alice, text('yo'))))).toBe('yo');
  return { alice, bob };
}

/** Expects `op` to fail with `c` and every store of every party to stay as it was. */
async function failsCleanly(parties: OurParty[], op: () => Promise<unknown>, c: string) {
  const before = parties.map((p) => p.stores.snapshot());
  await expect(op()).rejects.toEqual(code(c));
  parties.forEach((p, i) => expect(p.stores.snapshot()).toEqual(before[i]));
}

describe('wire messages', () => {
  const identityA = KeyPair.generate().publicKey;
  const identityB = KeyPair.generate().publicKey;
  const macKey = new Uint8Array(32).fill(9);
  const make = (version = 4) =>
    SignalMessage.create({
      messageVersion: version,
      macKey,
      senderRatchetKey: KeyPair.generate().publicKey,
      counter: 7,
      previousCounter: 3,
      ciphertext: new Uint8Array(32).fill(1),
      senderIdentity: identityA,
      receiverIdentity: identityB,
    });

  test('round trip, version byte and MAC over both identities', () => {
    const m = make(3);
    const bytes = m.serialize();
    expect(bytes[0]).toBe(0x34);
    const back = SignalMessage.deserialize(bytes);
    expect([back.messageVersion, back.counter, back.previousCounter]).toEqual([3, 7, 3]);
    expect(back.verifyMac(macKey, identityA, identityB)).toBe(true);
    expect(back.verifyMac(macKey, identityB, identityA)).toBe(false);
    expect(make(4).serialize()[0]).toBe(0x44);
  });

  test('version nibbles: any low nibble; high < 3 legacy, > 4 unknown', () => {
    const bytes = make().serialize();
    for (const [byte, c] of [
      [0x24, 'LegacyCiphertextVersion'],
      [0x14, 'LegacyCiphertextVersion'],
      [0x54, 'UnrecognizedMessageVersion'],
      [0xf4, 'UnrecognizedMessageVersion'],
    ] as const) {
      const b = bytes.slice();
      b[0] = byte;
      expect(() => SignalMessage.deserialize(b)).toThrow(code(c));
      expect(() => PreKeySignalMessage.deserialize(b)).toThrow(code(c));
    }
    const low = bytes.slice();
    low[0] = 0x4f;
    expect(SignalMessage.deserialize(low).messageVersion).toBe(4);
  });

  test('unknown fields 5 and 6 are skipped and covered by the MAC as received', () => {
    const m = make();
    const bytes = m.serialize();
    const proto = bytes.subarray(1, bytes.length - MAC_LENGTH);
    const extra = concat(Uint8Array.of(0x2a, 3, 1, 2, 3, 0x32, 2, 4, 5)); // fields 5 and 6
    const signed = concat(bytes.subarray(0, 1), proto, extra);
    const mac = hmacSha256(macKey, concat(identityA.serialize(), identityB.serialize(), signed));
    const withExtra = SignalMessage.deserialize(concat(signed, mac.subarray(0, MAC_LENGTH)));
    expect(withExtra.counter).toBe(7);
    expect(withExtra.verifyMac(macKey, identityA, identityB)).toBe(true);
    // The original MAC does not cover the extra fields.
    const spliced = concat(signed, bytes.subarray(bytes.length - MAC_LENGTH));
    expect(SignalMessage.deserialize(spliced).verifyMac(macKey, identityA, identityB)).toBe(false);
  });

  test('truncated or malformed input is InvalidMessage', () => {
    const bytes = make().serialize();
    for (let n = 0; n < bytes.length; n += 5) {
      expect(() => SignalMessage.deserialize(bytes.subarray(0, n))).toThrow(
        expect.objectContaining({ name: 'ProtocolError' }),
      );
    }
    expect(() => SignalMessage.deserialize(new Uint8Array(8))).toThrow(code('InvalidMessage'));
    expect(() => PreKeySignalMessage.deserialize(new Uint8Array(0))).toThrow(
      code('InvalidMessage'),
    );
    expect(() => PreKeySignalMessage.deserialize(Uint8Array.of(0x44, 0x08, 0x01))).toThrow(
      code('InvalidMessage'),
    );
  });

  test('a version 4 PreKey message without Kyber fields is rejected', () => {
    const build = (version: number) =>
      PreKeySignalMessage.create({
        messageVersion: version,
        registrationId: 5,
        signedPreKeyId: 2,
        baseKey: identityA,
        identityKey: identityB,
        message: make(version),
      });
    expect(() => build(4)).toThrow(code('InvalidArgument'));
    const v3 = build(3).serialize();
    expect(v3[0]).toBe(0x34);
    const v4 = v3.slice();
    v4[0] = 0x44;
    expect(() => PreKeySignalMessage.deserialize(v4)).toThrow(code('InvalidMessage'));
  });
});

describe('session setup', () => {
  test('X3DH (legacy option) and PQXDH sessions both work; versions follow the bundle', async () => {
    for (const kyber of [false, true]) {
      const { alice, bob } = await pair(kyber);
      const m = await alice.encrypt(bob, text('x'));
      expect(m.body[0]).toBe(kyber ? 0x44 : 0x34);
      expect(dec(await bob.decrypt(alice, m))).toBe('x');
    }
  });

  test('bundle signatures are checked first; nothing changes on failure', async () => {
    const alice = new OurParty('alice');
    const bob = new OurParty('bob');
    const good = await bob.makeBundle();
    const badSig = (s: Uint8Array) => {
      const c = s.slice();
      c[5]! ^= 1;
      return c;
    };
    const fields = {
      registrationId: good.registrationId,
      deviceId: good.deviceId,
      identityKey: good.identityKey,
      preKeyId: good.preKeyId,
      preKey: good.preKey,
      signedPreKeyId: good.signedPreKeyId,
      signedPreKey: good.signedPreKey,
      signedPreKeySignature: good.signedPreKeySignature,
      kyberPreKeyId: good.kyberPreKeyId,
      kyberPreKey: good.kyberPreKey,
      kyberPreKeySignature: good.kyberPreKeySignature,
    };
    const spk = new PreKeyBundle({
      ...fields,
      signedPreKeySignature: badSig(good.signedPreKeySignature),
    });
    const kyb = new PreKeyBundle({
      ...fields,
      kyberPreKeySignature: badSig(good.kyberPreKeySignature!),
    });
    // Signed by someone else's identity.
    const other = IdentityKeyPair.generate();
    const foreign = generateKyberPreKey(other, 9);
    const wrongSigner = new PreKeyBundle({
      ...fields,
      kyberPreKey: foreign.publicKey,
      kyberPreKeySignature: foreign.signature,
    });
    for (const b of [spk, kyb, wrongSigner]) {
      await failsCleanly([alice], () => alice.processBundle(bob, b), 'InvalidSignature');
    }
    expect(await alice.cipher.hasSession(bob.address)).toBe(false);
    await alice.processBundle(bob, good);
    expect(await alice.cipher.hasSession(bob.address)).toBe(true);
  });

  test('bundle shapes are checked at the boundary', () => {
    const kp = KeyPair.generate();
    const base = {
      registrationId: 1,
      deviceId: 1,
      identityKey: kp.publicKey,
      signedPreKeyId: 1,
      signedPreKey: kp.publicKey,
      signedPreKeySignature: new Uint8Array(64),
    };
    expect(() => new PreKeyBundle({ ...base, deviceId: 0 })).toThrow(code('InvalidArgument'));
    expect(() => new PreKeyBundle({ ...base, preKeyId: 3 })).toThrow(code('InvalidArgument'));
    expect(() => new PreKeyBundle({ ...base, kyberPreKeyId: 3 })).toThrow(code('InvalidArgument'));
    expect(() => new PreKeyBundle({ ...base, signedPreKeySignature: new Uint8Array(63) })).toThrow(
      code('InvalidArgument'),
    );
    expect(() => new PreKeyBundle({ ...base, signedPreKeyId: 2 ** 31 })).toThrow(
      code('InvalidArgument'),
    );
  });

  test('missing prekeys are typed errors and change nothing', async () => {
    for (const [store, c] of [
      ['preKey', 'InvalidPreKeyId'],
      ['signedPreKey', 'InvalidSignedPreKeyId'],
      ['kyberPreKey', 'InvalidKyberPreKeyId'],
    ] as const) {
      const { alice, bob } = await pair();
      const m = await alice.encrypt(bob, text('x'));
      const parsed = PreKeySignalMessage.deserialize(m.body);
      const fresh = new OurParty('bob');
      // Bob's stores minus the one prekey this message needs.
      const copy = async () => {
        for (const [id] of bob.stores.signedPreKey.snapshot()) {
          if (!(store === 'signedPreKey' && id === parsed.signedPreKeyId)) {
            await fresh.stores.signedPreKey.saveSignedPreKey(
              id,
              (await bob.stores.signedPreKey.getSignedPreKey(id))!,
            );
          }
        }
        for (const [id] of bob.stores.preKey.snapshot()) {
          if (!(store === 'preKey' && id === parsed.preKeyId)) {
            await fresh.stores.preKey.savePreKey(id, (await bob.stores.preKey.getPreKey(id))!);
          }
        }
        for (const [id] of bob.stores.kyberPreKey.snapshot()) {
          if (!(store === 'kyberPreKey' && id === parsed.kyberPreKeyId)) {
            await fresh.stores.kyberPreKey.saveKyberPreKey(
              id,
              (await bob.stores.kyberPreKey.getKyberPreKey(id))!,
            );
          }
        }
      };
      await copy();
      await failsCleanly([fresh], () => fresh.decrypt(alice, m), c);
    }
  });

  test('one-time prekeys are removed only after success; last-resort Kyber keys stay', async () => {
    const alice = new OurParty('alice');
    const bob = new OurParty('bob');
    await alice.processBundle(bob, await bob.makeBundle({ lastResort: true }));
    const m = await alice.encrypt(bob, text('x'));
    await failsCleanly(
      [bob],
      () => bob.decrypt(alice, { type: 'prekey', body: m.body.subarray(0, m.body.length - 1) }),
      'InvalidMessage',
    );
    await bob.decrypt(alice, m);
    expect(bob.stores.preKey.snapshot().size).toBe(0);
    expect(bob.stores.kyberPreKey.snapshot().size).toBe(1);
    const s = new InMemoryKyberPreKeyStore();
    const k = generateKyberPreKey(IdentityKeyPair.generate(), 4);
    await s.saveKyberPreKey(4, k);
    await s.markKyberPreKeyUsed(4, 1, KeyPair.generate().publicKey);
    expect(await s.getKyberPreKey(4)).toBeUndefined();
  });

  test('a replayed PreKey message is a DuplicatedMessage, and prekeys are not reused', async () => {
    const { alice, bob } = await pair();
    const m = await alice.encrypt(bob, text('x'));
    await bob.decrypt(alice, m);
    await failsCleanly([bob], () => bob.decrypt(alice, m), 'DuplicatedMessage');
    // After Bob answered and time passed, a replay still finds its session.
    await alice.decrypt(bob, await bob.encrypt(alice, text('y')));
    await failsCleanly([bob], () => bob.decrypt(alice, m), 'DuplicatedMessage');
  });

  test('the initiator keeps sending PreKey messages until the first reply decrypts', async () => {
    const { alice, bob } = await pair();
    const sent: CiphertextMessage[] = [];
    for (let i = 0; i < 4; i++) sent.push(await alice.encrypt(bob, text(`m${i}`)));
    expect(sent.map((m) => m.type)).toEqual(['prekey', 'prekey', 'prekey', 'prekey']);
    // Bob gets only the third; a reply Alice fails to read does not acknowledge.
    expect(dec(await bob.decrypt(alice, sent[2]!))).toBe('m2');
    const reply = await bob.encrypt(alice, text('r'));
    expect(reply.type).toBe('whisper');
    await expect(
      alice.decrypt(bob, {
        type: 'whisper',
        body: reply.body.map((b, i) => (i === 40 ? b ^ 1 : b)),
      }),
    ).rejects.toHaveProperty('name', 'ProtocolError');
    expect((await alice.encrypt(bob, text('m4'))).type).toBe('prekey');
    expect(dec(await alice.decrypt(bob, reply))).toBe('r');
    expect((await alice.encrypt(bob, text('m5'))).type).toBe('whisper');
    // The earlier PreKey messages still decrypt on Bob's side, in any order.
    for (const i of [3, 0, 1]) expect(dec(await bob.decrypt(alice, sent[i]!))).toBe(`m${i}`);
  });

  test('an unacknowledged session older than 30 days cannot send', async () => {
    const { clock, advance } = manualClock();
    const alice = new OurParty('alice', 1, { clock });
    const bob = new OurParty('bob');
    await alice.processBundle(bob, await bob.makeBundle());
    advance(MAX_UNACKNOWLEDGED_SESSION_AGE_MS);
    expect((await alice.encrypt(bob, text('still ok'))).type).toBe('prekey');
    advance(1000);
    expect(await alice.cipher.hasSession(bob.address)).toBe(false);
    await failsCleanly([alice], () => alice.encrypt(bob, text('too late')), 'InvalidState');
    // A fresh bundle starts over.
    await alice.processBundle(bob, await bob.makeBundle());
    expect(await alice.cipher.hasSession(bob.address)).toBe(true);
  });

  test('no session: SessionNotFound, nothing stored', async () => {
    const { alice, bob } = await established();
    const carol = new OurParty('carol');
    await failsCleanly([carol], () => carol.encrypt(alice, text('x')), 'SessionNotFound');
    const m = await alice.encrypt(bob, text('for bob'));
    await failsCleanly([carol], () => carol.decrypt(alice, m), 'SessionNotFound');
    // Bob's message to Alice given to Bob as if from Alice: wrong session, bad MAC.
    const toAlice = await bob.encrypt(alice, text('for alice'));
    await failsCleanly([bob], () => bob.decrypt(alice, toAlice), 'InvalidMac');
  });
});

describe('identity trust (TOFU)', () => {
  test('a changed identity is refused until the application accepts it', async () => {
    const { alice, bob } = await established();
    // Bob reinstalls: same address, new identity.
    const bob2 = new OurParty('bob', 1);
    const bundle = await bob2.makeBundle();
    await failsCleanly([alice], () => alice.processBundle(bob2, bundle), 'UntrustedIdentity');
    // Bob2 initiates instead: his PreKey message is refused too.
    await bob2.processBundle(alice, await alice.makeBundle());
    const m = await bob2.encrypt(alice, text('new phone'));
    await failsCleanly([alice], () => alice.decrypt(bob2, m), 'UntrustedIdentity');
    // Encrypting on the old session is refused once the app knows of a different key? Not
    // until it saves it: the stored identity is still Bob's first key, so the old session works.
    expect((await alice.encrypt(bob, text('old'))).type).toBe('whisper');
    expect(await alice.stores.identity.saveIdentity(bob2.address, bob2.identityKey)).toBe(
      'replaced',
    );
    expect(await alice.stores.identity.saveIdentity(bob2.address, bob2.identityKey)).toBe(
      'unchanged',
    );
    // Now the old session's identity is the untrusted one.
    await failsCleanly([alice], () => alice.encrypt(bob, text('old')), 'UntrustedIdentity');
    expect(dec(await alice.decrypt(bob2, m))).toBe('new phone');
    expect(dec(await bob2.decrypt(alice, await alice.encrypt(bob2, text('welcome'))))).toBe(
      'welcome',
    );
  });

  test('saveIdentity reports new, unchanged, replaced', async () => {
    const { alice, bob } = await established();
    const addr = new ProtocolAddress('dave', 2);
    expect(await alice.stores.identity.saveIdentity(addr, bob.identityKey)).toBe('new');
    expect(await alice.stores.identity.isTrustedIdentity(addr, bob.identityKey, 'sending')).toBe(
      true,
    );
    expect(await alice.stores.identity.isTrustedIdentity(addr, alice.identityKey, 'sending')).toBe(
      false,
    );
    expect((await alice.stores.identity.getIdentity(bob.address))!.equals(bob.identityKey)).toBe(
      true,
    );
  });
});

describe('session records over time', () => {
  test('simultaneous initiation converges on one working session', async () => {
    const alice = new OurParty('alice');
    const bob = new OurParty('bob');
    await alice.processBundle(bob, await bob.makeBundle());
    await bob.processBundle(alice, await alice.makeBundle());
    const a1 = await alice.encrypt(bob, text('a1'));
    const b1 = await bob.encrypt(alice, text('b1'));
    expect([a1.type, b1.type]).toEqual(['prekey', 'prekey']);
    expect(dec(await bob.decrypt(alice, a1))).toBe('a1');
    expect(dec(await alice.decrypt(bob, b1))).toBe('b1');
    // Each side now sends on the session the other started; the archived ones catch up.
    for (let i = 0; i < 4; i++) {
      expect(dec(await bob.decrypt(alice, await alice.encrypt(bob, text(`a${i}`))))).toBe(`a${i}`);
      expect(dec(await alice.decrypt(bob, await bob.encrypt(alice, text(`b${i}`))))).toBe(`b${i}`);
    }
    const aliceRec = (await alice.stores.session.loadSession(bob.address))!;
    const bobRec = (await bob.stores.session.loadSession(alice.address))!;
    expect(toHex(aliceRec.currentState!.aliceBaseKey)).toBe(
      toHex(bobRec.currentState!.aliceBaseKey),
    );
    expect((await alice.encrypt(bob, text('z'))).type).toBe('whisper');
    expect((await bob.encrypt(alice, text('z'))).type).toBe('whisper');
  });

  test('messages on an archived session still decrypt after a new session starts', async () => {
    const { alice, bob } = await established();
    const old = await alice.encrypt(bob, text('old session'));
    // Alice starts over (e.g. a fresh bundle); Bob promotes the new session.
    await alice.processBundle(bob, await bob.makeBundle());
    const fresh = await alice.encrypt(bob, text('new session'));
    expect(fresh.type).toBe('prekey');
    expect(dec(await bob.decrypt(alice, fresh))).toBe('new session');
    expect(dec(await bob.decrypt(alice, old))).toBe('old session');
    const rec = (await bob.stores.session.loadSession(alice.address))!;
    expect(rec.previousStates.length).toBe(1);
  });

  test('forward jumps: up to MAX_FORWARD_JUMPS; older skipped keys evicted past MAX_MESSAGE_KEYS', async () => {
    const { alice, bob } = await established();
    // Advance Alice's sending chain without sending (as if the messages were lost).
    const skip = async (n: number) => {
      const rec = (await alice.stores.session.loadSession(bob.address))!;
      const chain = rec.currentState!.senderChain!;
      for (let i = 0; i < n; i++) chain.chainKey = chain.chainKey.next();
      await alice.stores.session.storeSession(bob.address, rec);
    };
    const first = await alice.encrypt(bob, text('first'));
    // 'first' has counter 0 on a chain Bob has not seen; 'far' lands exactly at the limit.
    await skip(MAX_FORWARD_JUMPS - 1);
    const far = await alice.encrypt(bob, text('far'));
    expect(dec(await bob.decrypt(alice, far))).toBe('far');
    // Only the newest MAX_MESSAGE_KEYS skipped keys are kept: the first message is gone.
    await failsCleanly([bob], () => bob.decrypt(alice, first), 'DuplicatedMessage');
    const rec = (await bob.stores.session.loadSession(alice.address))!;
    expect(rec.currentState!.receiverChains.at(-1)!.messageKeys.length).toBe(MAX_MESSAGE_KEYS);
    await skip(MAX_FORWARD_JUMPS + 1);
    const tooFar = await alice.encrypt(bob, text('too far'));
    await failsCleanly([bob], () => bob.decrypt(alice, tooFar), 'TooFarIntoFuture');
  });

  test('only MAX_RECEIVER_CHAINS receiving chains are kept', async () => {
    const { alice, bob } = await established();
    const stale = await alice.encrypt(bob, text('stale'));
    for (let i = 0; i < 6; i++) {
      await bob.decrypt(alice, await alice.encrypt(bob, text('ping')));
      await alice.decrypt(bob, await bob.encrypt(alice, text('pong')));
    }
    const rec = (await bob.stores.session.loadSession(alice.address))!;
    expect(rec.currentState!.receiverChains.length).toBe(5);
    await expect(bob.decrypt(alice, stale)).rejects.toHaveProperty('name', 'ProtocolError');
  });
});

describe('concurrency', () => {
  test('many interleaved encrypts and decrypts on one address keep the session intact', async () => {
    const { alice, bob } = await established();
    const n = 40;
    // Encrypt concurrently on both sides while decrypting what already arrived.
    const fromAlice = await Promise.all(
      Array.from({ length: n }, (_, i) => alice.encrypt(bob, text(`a${i}`))),
    );
    const fromBob = await Promise.all(
      Array.from({ length: n }, (_, i) => bob.encrypt(alice, text(`b${i}`))),
    );
    const counters = fromAlice.map((m) => SignalMessage.deserialize(m.body).counter);
    expect(new Set(counters).size).toBe(n);
    const results = await Promise.all([
      ...fromAlice.map((m, i) => bob.decrypt(alice, m).then((p) => [`a${i}`, dec(p)])),
      ...fromBob.map((m, i) => alice.decrypt(bob, m).then((p) => [`b${i}`, dec(p)])),
      ...Array.from({ length: n }, (_, i) =>
        alice.encrypt(bob, text(`c${i}`)).then(() => ['', '']),
      ),
      ...Array.from({ length: n }, (_, i) =>
        bob.encrypt(alice, text(`d${i}`)).then(() => ['', '']),
      ),
    ]);
    for (const [want, got] of results) expect(got).toBe(want);
    // Replays of everything, concurrently: all duplicates.
    const replays = await Promise.allSettled(fromAlice.map((m) => bob.decrypt(alice, m)));
    expect(
      replays.every((r) => r.status === 'rejected' && r.reason.code === 'DuplicatedMessage'),
    ).toBe(true);
    expect(dec(await bob.decrypt(alice, await alice.encrypt(bob, text('still fine'))))).toBe(
      'still fine',
    );
  });
});

describe('secrets never leak through toString / JSON.stringify', () => {
  test('records, states, keys, stores, messages and the cipher are redacted', async () => {
    const { alice, bob } = await established();
    const rec = (await alice.stores.session.loadSession(bob.address))!;
    const state = rec.currentState!;
    const secrets = [
      state.rootKey.key,
      state.senderChain!.chainKey.key,
      state.senderChain!.ratchetKey.privateKey.serialize(),
      ...state.receiverChains.map((c) => c.chainKey.key),
      alice.identity.privateKey.serialize(),
      state.senderChain!.chainKey.messageKeys().cipherKey,
    ].map(toHex);
    const pre = await bob.stores.preKey.getPreKey(
      [...bob.stores.preKey.snapshot().keys()][0] ?? -1,
    );
    const spk = (await bob.stores.signedPreKey.getSignedPreKey(
      [...bob.stores.signedPreKey.snapshot().keys()][0]!,
    ))!;
    secrets.push(toHex(spk.keyPair.privateKey.serialize()));
    const objects: unknown[] = [
      rec,
      state,
      state.rootKey,
      state.senderChain!.chainKey,
      state.senderChain!.chainKey.messageKeys(),
      state.senderChain!.ratchetKey,
      state,
      alice.stores,
      alice.stores.identity,
      alice.stores.session,
      alice.cipher,
      spk,
      pre,
      { nested: [rec, spk] },
    ];
    for (const o of objects) {
      const shown = `${JSON.stringify(o)} ${String(o)}`.toLowerCase();
      for (const s of secrets) expect(shown).not.toContain(s);
    }
    expect(String(state.rootKey)).toBe('RootKey([redacted])');
  });
});

describe('arguments are checked at the boundary', () => {
  test('wrong types are InvalidArgument rejections', async () => {
    const { alice, bob } = await established();
    const c = alice.cipher;
    await expect(c.encrypt(bob.address, 'x' as unknown as Uint8Array)).rejects.toEqual(
      code('InvalidArgument'),
    );
    await expect(c.encrypt({} as ProtocolAddress, text('x'))).rejects.toEqual(
      code('InvalidArgument'),
    );
    await expect(
      c.decrypt(bob.address, { type: 'other' as 'prekey', body: new Uint8Array(9) }),
    ).rejects.toEqual(code('InvalidArgument'));
    await expect(c.processPreKeyBundle(bob.address, {} as PreKeyBundle)).rejects.toEqual(
      code('InvalidArgument'),
    );
    expect(() => new SessionCipher({} as never)).toThrow(code('InvalidArgument'));
  });
});
