/**
 * 1:1 sessions against libsignal in one process, both directions: X3DH (v3) with 0.72.1 (with
 * the legacy `allowPreKyberSessions` option),
 * PQXDH (v4) with 0.72.1 and 0.90.0; bundles made by either side; long conversations with
 * DH ratchet steps both ways; out-of-order and dropped messages; duplicates and tampering
 * rejected on both sides (ours with a typed error and unchanged stores).
 */
import { describe, expect, test } from 'vitest';
import { utf8 } from '../src/_bytes.ts';
import type { CiphertextMessage } from '../src/session.ts';
import { KyberPreKeyRecord, PreKeyRecord, SignedPreKeyRecord } from '../src/prekeys.ts';
import { SessionRecord } from '../src/session/session-record.ts';
import { bytesFor, u8 } from './support/libsignal.ts';
import { LIBSIGNALS, LsParty, OurParty, type Party } from './support/parties.ts';

/** 0.72.1 predates SPQR: sessions with it need SPQR off (the build option for pre-SPQR peers). */
const spqrFor = (version: string) => (version === '0.72.1' ? { spqr: 'off' as const } : {});

const code = (c: string) => expect.objectContaining({ name: 'ProtocolError', code: c });

/** Flips one bit of a copy of the message body. */
function tamper(m: CiphertextMessage, at: number): CiphertextMessage {
  const body = m.body.slice();
  const i = ((at % body.length) + body.length) % body.length;
  body[i]! ^= 0x01;
  return { type: m.type, body };
}

const ALICE = '9d0652a3-dcc3-4d11-975f-74d61598733f';
const BOB = '1c1b5a6e-02b4-4a6b-8d8f-6f0d0f3a2c11';
const text = (s: string) => utf8(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

async function converse(a: Party, b: Party, rounds: number) {
  for (let r = 0; r < rounds; r++) {
    // Bursts of varying length each way, so both sides ratchet many times.
    for (let i = 0; i <= r % 3; i++) {
      const m = `a→b ${r}.${i}`;
      expect(dec(await b.decrypt(a, await a.encrypt(b, text(m))))).toBe(m);
    }
    for (let i = 0; i <= (r + 1) % 3; i++) {
      const m = `b→a ${r}.${i} ${'x'.repeat(r)}`;
      expect(dec(await a.decrypt(b, await b.encrypt(a, text(m))))).toBe(m);
    }
  }
}

describe.each(LIBSIGNALS)('1:1 sessions with libsignal %s', (version, ls) => {
  const modes = version === '0.72.1' ? ([true, false] as const) : ([true] as const);
  describe.each(modes)('Kyber %s', (kyber) => {
    const v = kyber ? 0x44 : 0x34;
    // X3DH (v3) is refused by default; the legacy option is for exactly these tests.
    const legacy = { allowPreKyberSessions: !kyber };

    test.each([true, false])(
      'we initiate (one-time prekey %s); libsignal answers',
      async (oneTime) => {
        const alice = new OurParty(ALICE, 1, { ...spqrFor(version), ...legacy });
        const bob = new LsParty(ls, BOB, 2);
        await alice.processBundle(bob, await bob.makeBundle({ kyber, oneTime }));
        const first = await alice.encrypt(bob, text('hello libsignal'));
        expect(first.type).toBe('prekey');
        expect(first.body[0]).toBe(v);
        // Until Bob answers, every message is a PreKey message.
        const second = await alice.encrypt(bob, text('still unanswered'));
        expect(second.type).toBe('prekey');
        expect(dec(await bob.decrypt(alice, second))).toBe('still unanswered');
        expect(dec(await bob.decrypt(alice, first))).toBe('hello libsignal');
        const reply = await bob.encrypt(alice, text('hello parley'));
        expect(reply.type).toBe('whisper');
        expect(dec(await alice.decrypt(bob, reply))).toBe('hello parley');
        const after = await alice.encrypt(bob, text('acknowledged'));
        expect(after.type).toBe('whisper');
        expect(dec(await bob.decrypt(alice, after))).toBe('acknowledged');
        await converse(alice, bob, 12);
      },
    );

    test.each([true, false])(
      'libsignal initiates (one-time prekey %s); we answer',
      async (oneTime) => {
        const alice = new LsParty(ls, ALICE, 3);
        const bob = new OurParty(BOB, 4, { ...spqrFor(version), ...legacy });
        await alice.processBundle(bob, await bob.makeBundle({ kyber, oneTime }));
        const first = await alice.encrypt(bob, text('hello parley'));
        expect(first.type).toBe('prekey');
        expect(first.body[0]).toBe(v);
        expect(dec(await bob.decrypt(alice, first))).toBe('hello parley');
        // The one-time prekey and the (one-time) Kyber prekey are used up.
        expect(bob.stores.preKey.snapshot().size).toBe(0);
        expect(bob.stores.kyberPreKey.snapshot().size).toBe(0);
        const reply = await bob.encrypt(alice, text('hello libsignal'));
        expect(reply.type).toBe('whisper');
        expect(dec(await alice.decrypt(bob, reply))).toBe('hello libsignal');
        await converse(alice, bob, 12);
      },
    );
  });
});

describe.each(LIBSIGNALS)(
  'out of order, drops, duplicates, tampering with libsignal %s',
  (version, ls) => {
    const kyber = true;

    /** Sets up a session (first side initiates) and one reply, so both send whisper messages. */
    async function established(a: Party, b: Party) {
      await a.processBundle(b, await b.makeBundle({ kyber }));
      expect(dec(await b.decrypt(a, await a.encrypt(b, text('hi'))))).toBe('hi');
      expect(dec(await a.decrypt(b, await b.encrypt(a, text('hi back'))))).toBe('hi back');
    }

    /** `from` sends a burst that `to` receives shuffled, with some dropped and some late. */
    async function disorderly(from: Party, to: Party, rounds: number) {
      const late: [string, CiphertextMessage][] = [];
      for (let r = 0; r < rounds; r++) {
        const burst: [string, CiphertextMessage][] = [];
        for (let i = 0; i < 7; i++) {
          const m = `${r}.${i}`;
          burst.push([m, await from.encrypt(to, text(m))]);
        }
        // Deliver in a fixed scrambled order: 5, 1, 6, 3; drop 0; keep 2 and 4 for later.
        for (const i of [5, 1, 6, 3])
          expect(dec(await to.decrypt(from, burst[i]![1]))).toBe(burst[i]![0]);
        late.push(burst[2]!, burst[4]!);
        // The receiver answers, so the next burst is on a new chain (a DH ratchet step).
        expect(dec(await from.decrypt(to, await to.encrypt(from, text(`ack ${r}`))))).toBe(
          `ack ${r}`,
        );
      }
      // Late messages from old chains (up to MAX_RECEIVER_CHAINS back) still decrypt, once.
      for (const [m, c] of late.slice(-8)) expect(dec(await to.decrypt(from, c))).toBe(m);
      return late.slice(-8);
    }

    test('libsignal sends out of order; we receive, reject duplicates and tampering', async () => {
      const alice = new LsParty(ls, ALICE, 5);
      const bob = new OurParty(BOB, 6, spqrFor(version));
      await established(alice, bob);
      const late = await disorderly(alice, bob, 4);
      for (const [, c] of late) {
        const before = bob.stores.snapshot();
        await expect(bob.decrypt(alice, c)).rejects.toEqual(code('DuplicatedMessage'));
        expect(bob.stores.snapshot()).toEqual(before);
      }
      const fresh = await alice.encrypt(bob, text('fresh'));
      const before = bob.stores.snapshot();
      for (const at of [1, 10, 40, -9, -1]) {
        await expect(bob.decrypt(alice, tamper(fresh, at))).rejects.toHaveProperty(
          'name',
          'ProtocolError',
        );
        expect(bob.stores.snapshot()).toEqual(before);
      }
      expect(dec(await bob.decrypt(alice, fresh))).toBe('fresh');
    });

    test('we send out of order; libsignal receives, rejects duplicates and tampering', async () => {
      const alice = new OurParty(ALICE, 7, spqrFor(version));
      const bob = new LsParty(ls, BOB, 8);
      await established(alice, bob);
      const late = await disorderly(alice, bob, 4);
      for (const [, c] of late) {
        await expect(bob.decrypt(alice, c)).rejects.toHaveProperty(
          'code',
          ls.ErrorCode.DuplicatedMessage,
        );
      }
      const fresh = await alice.encrypt(bob, text('fresh'));
      const before = bob.session(alice);
      for (const at of [1, 10, 40, -9, -1]) {
        await expect(bob.decrypt(alice, tamper(fresh, at))).rejects.toThrow();
        expect(bob.session(alice)).toEqual(before);
      }
      expect(dec(await bob.decrypt(alice, fresh))).toBe('fresh');
    });

    test('a tampered PreKey message is rejected both ways and changes nothing', async () => {
      const ours = new OurParty(ALICE, 9, spqrFor(version));
      const theirs = new LsParty(ls, BOB, 10);
      // libsignal → us
      await theirs.processBundle(ours, await ours.makeBundle({ kyber }));
      const toUs = await theirs.encrypt(ours, text('first'));
      const before = ours.stores.snapshot();
      // Not byte 0: its low nibble is ignored by design (libsignal writes 4, readers skip it).
      // Not the registration id either: it is informational and unauthenticated in libsignal too.
      for (const at of [1, 5, 40, 90, 200, 1700, -30, -3]) {
        await expect(ours.decrypt(theirs, tamper(toUs, at))).rejects.toHaveProperty(
          'name',
          'ProtocolError',
        );
        expect(ours.stores.snapshot()).toEqual(before);
      }
      expect(dec(await ours.decrypt(theirs, toUs))).toBe('first');
      // us → libsignal
      const ours2 = new OurParty(ALICE, 11, spqrFor(version));
      const theirs2 = new LsParty(ls, BOB, 12);
      await ours2.processBundle(theirs2, await theirs2.makeBundle({ kyber }));
      const toThem = await ours2.encrypt(theirs2, text('first'));
      for (const at of [5, 200, -3]) {
        await expect(theirs2.decrypt(ours2, tamper(toThem, at))).rejects.toThrow();
      }
      expect(dec(await theirs2.decrypt(ours2, toThem))).toBe('first');
    });

    test('prekey records move between libsignal and us byte for byte', async () => {
      const b = bytesFor(ls);
      const party = new OurParty(ALICE, 13, spqrFor(version));
      await party.makeBundle({ kyber: true });
      for (const [, bytes] of party.stores.preKey.snapshot()) {
        expect(u8(ls.PreKeyRecord.deserialize(b(bytes)).serialize())).toEqual(bytes);
      }
      for (const [id, bytes] of party.stores.signedPreKey.snapshot()) {
        const theirs = ls.SignedPreKeyRecord.deserialize(b(bytes));
        expect(theirs.id()).toBe(id);
        expect(u8(theirs.serialize())).toEqual(bytes);
      }
      for (const [id, bytes] of party.stores.kyberPreKey.snapshot()) {
        const theirs = ls.KyberPreKeyRecord.deserialize(b(bytes));
        expect(theirs.id()).toBe(id);
        expect(u8(theirs.serialize())).toEqual(bytes);
      }
      const lsParty = new LsParty(ls, BOB, 14);
      await lsParty.makeBundle({ kyber: true });
      for (const bytes of lsParty.preKeys.values()) {
        expect(PreKeyRecord.deserialize(bytes).serialize()).toEqual(bytes);
      }
      for (const bytes of lsParty.signedPreKeys.values()) {
        expect(SignedPreKeyRecord.deserialize(bytes).serialize()).toEqual(bytes);
      }
      for (const bytes of lsParty.kyberPreKeys.values()) {
        expect(KyberPreKeyRecord.deserialize(bytes).serialize()).toEqual(bytes);
      }
    });

    test('session records load in libsignal and back', async () => {
      const b = bytesFor(ls);
      const alice = new OurParty(ALICE, 15, spqrFor(version));
      const bob = new LsParty(ls, BOB, 16);
      await established(alice, bob);
      await converse(alice, bob, 3);
      // A skipped key on our side, so the record has message keys too.
      await bob.encrypt(alice, text('skipped'));
      await alice.decrypt(bob, await bob.encrypt(alice, text('after skip')));
      const ours = alice.stores.session.snapshot().get(`${BOB}.16`)!;
      const theirs = ls.SessionRecord.deserialize(b(ours));
      expect(theirs.hasCurrentState()).toBe(true);
      expect(theirs.remoteRegistrationId()).toBe(bob.registrationId);
      if (version === '0.72.1') expect(u8(theirs.serialize())).toEqual(ours);
      const bobRecord = bob.session(alice)!;
      const loaded = SessionRecord.deserialize(bobRecord);
      expect(loaded.currentState!.remoteIdentity.equals(alice.identityKey)).toBe(true);
      if (version === '0.72.1') expect(loaded.serialize()).toEqual(bobRecord);
    });
  },
);
