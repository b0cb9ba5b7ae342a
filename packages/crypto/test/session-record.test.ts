/**
 * Session records against a committed golden fixture (test/fixtures/session-records.json):
 * a deterministic conversation (seeded randomness, fixed clock) must produce exactly these
 * bytes, the fixture must load and re-serialise unchanged, libsignal 0.72.1 must read it
 * byte for byte, and the stored sessions must still work. Any change to the record format or
 * to the key schedule fails here. Regenerate deliberately with UPDATE_FIXTURES=1.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { fromHex, toHex, utf8 } from '../src/_bytes.ts';
import { ProtocolAddress } from '../src/address.ts';
import { IdentityKeyPair } from '../src/curve.ts';
import { InMemoryProtocolStore } from '../src/inmem-stores.ts';
import {
  KyberPreKeyRecord,
  PreKeyBundle,
  PreKeyRecord,
  SignedPreKeyRecord,
  generateKyberPreKey,
  generatePreKeys,
  generateSignedPreKey,
} from '../src/prekeys.ts';
import { SessionCipher } from '../src/session.ts';
import { SessionRecord } from '../src/session/session-record.ts';
import { seededRandom } from './support/deterministic.ts';
import { bytesFor, ls072, u8 } from './support/libsignal.ts';

const b072 = bytesFor(ls072);
const FIXTURE = new URL('./fixtures/session-records.json', import.meta.url);
const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);
const ALICE = new ProtocolAddress('alice', 1);
const BOB = new ProtocolAddress('bob', 2);

interface Fixture {
  v: 1;
  aliceUnacknowledged: string;
  alice: string;
  bob: string;
  bobPreKey: string;
  bobSignedPreKey: string;
  bobKyberPreKey: string;
}

async function deterministicParties() {
  const rngA = seededRandom('parley golden alice');
  const rngB = seededRandom('parley golden bob');
  const alice = new InMemoryProtocolStore(IdentityKeyPair.generate(rngA), 1111);
  const bobId = IdentityKeyPair.generate(rngB);
  const bob = new InMemoryProtocolStore(bobId, 2222);
  const [pre] = generatePreKeys(10, 1, rngB);
  const signed = generateSignedPreKey(bobId, 20, NOW, rngB);
  const kyber = generateKyberPreKey(bobId, 30, NOW, rngB);
  await bob.preKey.savePreKey(10, pre!);
  await bob.signedPreKey.saveSignedPreKey(20, signed);
  await bob.kyberPreKey.saveKyberPreKey(30, kyber);
  const clock = () => NOW;
  return {
    alice,
    bob,
    // The committed fixture is a pre-SPQR session (libsignal 0.72.1 reads it byte for byte).
    aliceCipher: new SessionCipher(alice, { rng: rngA, clock, spqr: 'off' }),
    bobCipher: new SessionCipher(bob, { rng: rngB, clock, spqr: 'off' }),
    bundle: new PreKeyBundle({
      registrationId: 2222,
      deviceId: 2,
      identityKey: bobId.publicKey,
      preKeyId: 10,
      preKey: pre!.publicKey,
      signedPreKeyId: 20,
      signedPreKey: signed.publicKey,
      signedPreKeySignature: signed.signature,
      kyberPreKeyId: 30,
      kyberPreKey: kyber.publicKey,
      kyberPreKeySignature: kyber.signature,
    }),
    records: { pre: pre!, signed, kyber },
  };
}

async function build(): Promise<Fixture> {
  const p = await deterministicParties();
  const prekeyRecords = {
    bobPreKey: toHex(p.records.pre.serialize()),
    bobSignedPreKey: toHex(p.records.signed.serialize()),
    bobKyberPreKey: toHex(p.records.kyber.serialize()),
  };
  await p.aliceCipher.processPreKeyBundle(BOB, p.bundle);
  const aliceUnacknowledged = toHex(p.alice.session.snapshot().get(BOB.toString())!);
  const one = await p.aliceCipher.encrypt(BOB, utf8('one'));
  const two = await p.aliceCipher.encrypt(BOB, utf8('two'));
  void one; // never delivered: Bob keeps a skipped key for it
  await p.bobCipher.decrypt(ALICE, two);
  await p.aliceCipher.decrypt(BOB, await p.bobCipher.encrypt(ALICE, utf8('three')));
  await p.bobCipher.decrypt(ALICE, await p.aliceCipher.encrypt(BOB, utf8('four')));
  return {
    v: 1,
    aliceUnacknowledged,
    alice: toHex(p.alice.session.snapshot().get(BOB.toString())!),
    bob: toHex(p.bob.session.snapshot().get(ALICE.toString())!),
    ...prekeyRecords,
  };
}

describe('session record golden fixture', () => {
  test('a deterministic conversation produces the committed bytes', async () => {
    const built = await build();
    if (process.env.UPDATE_FIXTURES === '1') {
      writeFileSync(FIXTURE, JSON.stringify(built, null, 2) + '\n');
    }
    const fixture = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Fixture;
    expect(built).toEqual(fixture);
  });

  test('the fixture loads, re-serialises unchanged, and libsignal 0.72.1 reads it byte for byte', () => {
    const fixture = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Fixture;
    for (const hex of [fixture.aliceUnacknowledged, fixture.alice, fixture.bob]) {
      const bytes = fromHex(hex);
      expect(SessionRecord.deserialize(bytes).serialize()).toEqual(bytes);
      expect(u8(ls072.SessionRecord.deserialize(b072(bytes)).serialize())).toEqual(bytes);
    }
    const unack = SessionRecord.deserialize(fromHex(fixture.aliceUnacknowledged)).currentState!;
    expect(unack.pendingPreKey).toMatchObject({
      preKeyId: 10,
      signedPreKeyId: 20,
      timestamp: NOW / 1000,
    });
    expect(unack.pendingKyberPreKey!.preKeyId).toBe(30);
    const bob = SessionRecord.deserialize(fromHex(fixture.bob)).currentState!;
    expect(bob.sessionVersion).toBe(4);
    expect(bob.receiverChains.flatMap((c) => c.messageKeys.map((k) => k.index))).toEqual([0]);
    for (const [hex, R] of [
      [fixture.bobPreKey, PreKeyRecord],
      [fixture.bobSignedPreKey, SignedPreKeyRecord],
      [fixture.bobKyberPreKey, KyberPreKeyRecord],
    ] as const) {
      expect(R.deserialize(fromHex(hex)).serialize()).toEqual(fromHex(hex));
    }
    expect(
      u8(ls072.SignedPreKeyRecord.deserialize(b072(fromHex(fixture.bobSignedPreKey))).serialize()),
    ).toEqual(fromHex(fixture.bobSignedPreKey));
  });

  test('sessions restored from the fixture keep working', async () => {
    const fixture = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Fixture;
    const p = await deterministicParties();
    await p.alice.session.storeSession(BOB, SessionRecord.deserialize(fromHex(fixture.alice)));
    await p.bob.session.storeSession(ALICE, SessionRecord.deserialize(fromHex(fixture.bob)));
    const m = await p.aliceCipher.encrypt(BOB, utf8('five'));
    expect(m.type).toBe('whisper');
    expect(new TextDecoder().decode(await p.bobCipher.decrypt(ALICE, m))).toBe('five');
    const r = await p.bobCipher.encrypt(ALICE, utf8('six'));
    expect(new TextDecoder().decode(await p.aliceCipher.decrypt(BOB, r))).toBe('six');
  });

  test('malformed records are InvalidRecord', () => {
    const fixture = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Fixture;
    const bytes = fromHex(fixture.bob);
    for (const n of [1, 10, 100, bytes.length - 1]) {
      expect(() => SessionRecord.deserialize(bytes.subarray(0, n))).toThrow(
        expect.objectContaining({ code: 'InvalidRecord' }),
      );
    }
    expect(() => SessionRecord.deserialize(Uint8Array.of(0x0a, 0x02, 0x08, 0x07))).toThrow(
      expect.objectContaining({ code: 'InvalidRecord' }),
    );
  });
});
