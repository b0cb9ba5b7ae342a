/**
 * SPQR v1 against libsignal 0.103.0 (which requires it), in both directions: PQXDH + SPQR
 * session setup, long conversations across many SPQR epochs, both sides sending at once, and
 * out-of-order and lost messages (so that SPQR chunks are lost).
 */
import { describe, expect, test } from 'vitest';
import { utf8 } from '../src/_bytes.ts';
import type { CiphertextMessage } from '../src/session.ts';
import { SessionRecord } from '../src/session/session-record.ts';
import { readState, writeState } from '../src/spqr/state-proto.ts';
import { deserializeMessage } from '../src/spqr/message.ts';
import { SignalMessage, PreKeySignalMessage } from '../src/messages.ts';
import { ls0103, u8 } from './support/libsignal.ts';
import { ProtocolAddress } from '../src/address.ts';
import { IdentityKeyPair } from '../src/curve.ts';
import { InMemoryProtocolStore } from '../src/inmem-stores.ts';
import { SessionCipher } from '../src/session.ts';
import { LsParty, OurParty, type Ls, type Party } from './support/parties.ts';

const ALICE = '9d0652a3-dcc3-4d11-975f-74d61598733f';
const BOB = '1c1b5a6e-02b4-4a6b-8d8f-6f0d0f3a2c11';
const ls = ls0103 as unknown as Ls;
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

/** The SPQR epoch a message carries (field 5). */
function spqrEpoch(m: CiphertextMessage): number {
  const sm =
    m.type === 'prekey'
      ? PreKeySignalMessage.deserialize(m.body).message
      : SignalMessage.deserialize(m.body);
  const pq = sm.pqRatchet;
  expect(pq.length).toBeGreaterThan(0);
  return deserializeMessage(pq).msg.epoch;
}

async function send(from: Party, to: Party, label: string) {
  const m = await from.encrypt(to, utf8(label));
  return { m, label };
}

async function deliver(to: Party, from: Party, x: { m: CiphertextMessage; label: string }) {
  expect(dec(await to.decrypt(from, x.m))).toBe(x.label);
}

async function setup(weInitiate: boolean) {
  const ours = new OurParty(weInitiate ? ALICE : BOB, weInitiate ? 1 : 4, { spqr: 'required' });
  const theirs = new LsParty(ls, weInitiate ? BOB : ALICE, weInitiate ? 2 : 3);
  const [a, b] = weInitiate ? [ours, theirs] : [theirs, ours];
  await a.processBundle(b, await b.makeBundle({ kyber: true, oneTime: true }));
  const first = await send(a, b, 'hello');
  expect(first.m.type).toBe('prekey');
  await deliver(b, a, first);
  await deliver(a, b, await send(b, a, 'hello back'));
  return { ours, theirs, a, b };
}

describe('SPQR v1 with libsignal 0.103.0', () => {
  test.each([true, false])(
    'session setup and a long ping-pong (we initiate: %s)',
    async (weInitiate) => {
      const { ours, theirs, a, b } = await setup(weInitiate);
      let maxEpoch = 0;
      for (let i = 0; i < 500; i++) {
        const [from, to] = i % 2 ? [b, a] : [a, b];
        const x = await send(from, to, `msg ${i}`);
        maxEpoch = Math.max(maxEpoch, spqrEpoch(x.m));
        await deliver(to, from, x);
      }
      // many epochs went by: each needs the ek (1152 bytes = 36 chunks) and ct1 (30 chunks)
      expect(maxEpoch).toBeGreaterThanOrEqual(5);
      // our stored session carries a SPQR state with a chain past epoch 1
      const record = await ours.stores.session.loadSession(
        new (await import('../src/address.ts')).ProtocolAddress(theirs.name, theirs.deviceId),
      );
      const pq = readState((record as SessionRecord).currentState!.pqRatchetState);
      expect(pq.chain!.currentEpoch).toBeGreaterThanOrEqual(4);
    },
  );

  test.each([true, false])(
    'both sides sending at once, bursts, reordering and loss (we initiate: %s)',
    async (weInitiate) => {
      const { a, b } = await setup(weInitiate);
      let maxEpoch = 0;
      for (let round = 0; round < 60; round++) {
        const n = 2 + (round % 4);
        // both sides write before either reads
        const fromA = [];
        const fromB = [];
        for (let i = 0; i < n; i++) {
          fromA.push(await send(a, b, `a ${round}.${i}`));
          fromB.push(await send(b, a, `b ${round}.${i}`));
        }
        for (const x of [...fromA, ...fromB]) maxEpoch = Math.max(maxEpoch, spqrEpoch(x.m));
        // lose every third message of each burst (its SPQR chunk is lost too), reverse the rest
        const keep = <T>(xs: T[]) => xs.filter((_, i) => i % 3 !== 1).reverse();
        for (const x of keep(fromB)) await deliver(a, b, x);
        for (const x of keep(fromA)) await deliver(b, a, x);
      }
      expect(maxEpoch).toBeGreaterThan(2);
    },
  );
});

/** Our side of a session whose record (and identity) came from elsewhere. */
class MovedParty {
  readonly stores: InMemoryProtocolStore;
  readonly cipher: SessionCipher;
  constructor(
    readonly name: string,
    readonly deviceId: number,
    identity: IdentityKeyPair,
    registrationId: number,
  ) {
    this.stores = new InMemoryProtocolStore(identity, registrationId);
    this.cipher = new SessionCipher(this.stores, { spqr: 'required' });
  }
  encrypt(peer: Party, plaintext: Uint8Array) {
    return this.cipher.encrypt(new ProtocolAddress(peer.name, peer.deviceId), plaintext);
  }
  decrypt(peer: Party, message: CiphertextMessage) {
    return this.cipher.decrypt(new ProtocolAddress(peer.name, peer.deviceId), message);
  }
}

async function pingPong(a: Party, b: Party, n: number, tag: string) {
  let maxEpoch = 0;
  for (let i = 0; i < n; i++) {
    const [from, to] = i % 2 ? [b, a] : [a, b];
    const x = await send(from, to, `${tag} ${i}`);
    maxEpoch = Math.max(maxEpoch, spqrEpoch(x.m));
    await deliver(to, from, x);
  }
  return maxEpoch;
}

/** Our reading of a record's SPQR state, or undefined where it is libcrux-only (see state-proto.ts). */
function spqrKind(record: Uint8Array): string | undefined {
  try {
    return readState(SessionRecord.deserialize(record).currentState!.pqRatchetState).v1?.kind;
  } catch {
    return undefined;
  }
}
const LIBCRUX_ONLY = new Set(['Ct1Sampled', 'EkReceivedCt1Sampled', 'Ct1Acknowledged']);

describe('SPQR session records move between libsignal 0.103.0 and Parley', () => {
  test('a record libsignal wrote mid-conversation is continued by Parley', async () => {
    const alice = new LsParty(ls, ALICE, 3);
    const bob = new LsParty(ls, BOB, 4);
    await alice.processBundle(bob, await bob.makeBundle({ kyber: true, oneTime: true }));
    let before = 0;
    let roundTripped = 0;
    for (let i = 0; i < 75; i++) {
      before = Math.max(before, await pingPong(alice, bob, 2, `ls↔ls ${i}`));
      // libsignal's stored SPQR state re-encodes byte for byte (except libcrux's es, see above)
      for (const record of [alice.session(bob)!, bob.session(alice)!]) {
        const pq = SessionRecord.deserialize(record).currentState!.pqRatchetState;
        const kind = spqrKind(record);
        if (kind === undefined || LIBCRUX_ONLY.has(kind)) continue;
        expect(writeState(readState(pq))).toEqual(pq);
        roundTripped++;
      }
    }
    expect(roundTripped).toBeGreaterThan(75);
    // move when Bob's SPQR side is in a state we can read (it almost always is)
    let extra = 0;
    while (spqrKind(bob.session(alice)!) === undefined && extra < 200) {
      await pingPong(alice, bob, 2, `extra ${extra++}`);
    }
    expect(spqrKind(bob.session(alice)!)).toBeDefined();
    const record = bob.session(alice)!;
    const moved = new MovedParty(
      BOB,
      4,
      IdentityKeyPair.deserialize(u8(bob.identity.serialize())),
      bob.registrationId,
    );
    const aliceAddress = new ProtocolAddress(ALICE, 3);
    await moved.stores.identity.saveIdentity(aliceAddress, alice.identityKey);
    await moved.stores.session.storeSession(aliceAddress, SessionRecord.deserialize(record));
    const after = await pingPong(alice, moved as unknown as Party, 300, 'ls↔parley');
    expect(after).toBeGreaterThan(before);
  });

  test('a record Parley wrote mid-conversation is continued by libsignal', async () => {
    const alice = new OurParty(ALICE, 1, { spqr: 'required' });
    const bob = new LsParty(ls, BOB, 2);
    await alice.processBundle(bob, await bob.makeBundle({ kyber: true, oneTime: true }));
    const bobAddress = new ProtocolAddress(BOB, 2);
    const ourRecord = async () => (await alice.stores.session.loadSession(bobAddress))!;
    const before = await pingPong(alice, bob, 150, 'parley↔ls');
    let extra = 0;
    while (LIBCRUX_ONLY.has(spqrKind((await ourRecord()).serialize())!) && extra < 200) {
      await pingPong(alice, bob, 2, `extra ${extra++}`);
    }
    expect(LIBCRUX_ONLY.has(spqrKind((await ourRecord()).serialize())!)).toBe(false);
    const moved = new LsParty(ls, ALICE, 1);
    const writable = moved as unknown as { identity: unknown; registrationId: number };
    writable.identity = ls.IdentityKeyPair.deserialize(alice.identity.serialize() as never);
    writable.registrationId = alice.registrationId;
    moved.sessions.set(`${BOB}.2`, (await ourRecord()).serialize());
    moved.identities.set(`${BOB}.2`, bob.identityKey.serialize());
    const after = await pingPong(moved, bob, 300, 'ls↔ls');
    expect(after).toBeGreaterThan(before);
  });
});

describe('tampered SPQR fields from libsignal 0.103.0', () => {
  test('are refused with a ProtocolError and change nothing; the genuine message then decrypts', async () => {
    const { ours, theirs } = await setup(false);
    const address = new ProtocolAddress(theirs.name, theirs.deviceId);
    for (let i = 0; i < 40; i++) {
      const x = await send(theirs, ours, `m${i}`);
      const pq = SignalMessage.deserialize(x.m.body).pqRatchet;
      // flip a bit inside the pq_ratchet bytes (located in the body by content)
      const body = x.m.body;
      let at = -1;
      for (let j = 0; j + pq.length <= body.length && at < 0; j++) {
        if (body.subarray(j, j + pq.length).every((v, k) => v === pq[k])) at = j;
      }
      expect(at).toBeGreaterThan(0);
      const bad = body.slice();
      bad[at + (i % pq.length)]! ^= 1 << (i % 8);
      const before = (await ours.stores.session.loadSession(address))!.serialize();
      await expect(ours.decrypt(theirs, { type: x.m.type, body: bad })).rejects.toMatchObject({
        name: 'ProtocolError',
      });
      expect((await ours.stores.session.loadSession(address))!.serialize()).toEqual(before);
      await deliver(ours, theirs, x);
    }
  });
});
