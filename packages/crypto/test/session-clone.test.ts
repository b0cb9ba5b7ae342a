/**
 * Session states are copied structurally (`SessionState.clone`, no protobuf round trip) and
 * keep their SPQR state decoded between saves. These tests pin both: a copy must equal
 * `decode(encode(…))` in every SPQR phase, and a record that a caching store hands out while
 * its SPQR state is decoded (not yet re-encoded) must come through failed and successful
 * operations exactly as it was.
 */
import { describe, expect, test } from 'vitest';
import { utf8 } from '../src/_bytes.ts';
import { PreKeySignalMessage } from '../src/messages.ts';
import type { ProtocolAddress } from '../src/address.ts';
import type { CiphertextMessage } from '../src/session.ts';
import { SessionCipher } from '../src/session.ts';
import { SessionRecord } from '../src/session/session-record.ts';
import { readState } from '../src/spqr/state-proto.ts';
import type { SessionStore } from '../src/stores.ts';
import { OurParty } from './support/parties.ts';

const code = (c: string) => expect.objectContaining({ name: 'ProtocolError', code: c });
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

/** A store that hands out the very object it keeps (as the client's decoded cache does). */
class ObjectSessionStore implements SessionStore {
  readonly records = new Map<string, SessionRecord>();
  async loadSession(address: ProtocolAddress) {
    return this.records.get(address.toString());
  }
  async storeSession(address: ProtocolAddress, record: SessionRecord) {
    this.records.set(address.toString(), record);
  }
}

/** The bytes of `record` without asking `record` itself to encode (which caches the bytes). */
const bytesOf = (record: SessionRecord) => record.clone().serialize();

function expectSameAsRoundTrip(record: SessionRecord) {
  const viaClone = record.clone();
  const viaBytes = SessionRecord.deserialize(record.clone().serialize());
  expect(viaClone.serialize()).toEqual(viaBytes.serialize());
  expect(viaClone.serialize()).toEqual(record.serialize());
}

describe('SessionState.clone equals the protobuf round trip', () => {
  test('through every SPQR phase of a conversation, both sides', async () => {
    const alice = new OurParty('alice');
    const bob = new OurParty('bob');
    await alice.processBundle(bob, await bob.makeBundle());
    const kinds = new Set<string>();
    // Bursts of different lengths each way, so both braids cycle through their states.
    const pattern = [1, 1, 3, 2, 5, 1, 4, 4, 2, 7, 1, 1, 6, 3, 2, 2, 8, 1, 3, 5];
    for (const [turn, n] of pattern.entries()) {
      const [from, to] = turn % 2 === 0 ? [alice, bob] : [bob, alice];
      for (let i = 0; i < n; i++) {
        const m = await from.encrypt(to, utf8(`${turn}.${i}`));
        expect(dec(await to.decrypt(from, m))).toBe(`${turn}.${i}`);
      }
      for (const [p, peer] of [
        [alice, bob],
        [bob, alice],
      ] as const) {
        const record = (await p.stores.session.loadSession(peer.address))!;
        kinds.add(readState(record.currentState!.pqRatchetState).v1!.kind);
        expectSameAsRoundTrip(record);
        // A copy of a copy whose SPQR state is decoded and not yet encoded.
        const working = record.clone();
        working.currentState!.pqState();
        expectSameAsRoundTrip(working);
      }
    }
    // The conversation went through several braid states (sampling, chunks, ciphertexts).
    expect(kinds.size).toBeGreaterThanOrEqual(4);
  });
});

describe('a record kept decoded by a caching store is never changed by the ciphers', () => {
  test('tampered, replayed and successful messages leave the kept object as it was', async () => {
    const alice = new OurParty('alice');
    const bob = new OurParty('bob');
    await alice.processBundle(bob, await bob.makeBundle());
    expect(dec(await bob.decrypt(alice, await alice.encrypt(bob, utf8('hi'))))).toBe('hi');
    expect(dec(await alice.decrypt(bob, await bob.encrypt(alice, utf8('yo'))))).toBe('yo');

    const sessions = new ObjectSessionStore();
    await sessions.storeSession(
      alice.address,
      (await bob.stores.session.loadSession(alice.address))!,
    );
    const cipher = new SessionCipher({ ...bob.stores, session: sessions });
    const receive = (m: CiphertextMessage) => cipher.decrypt(alice.address, m);

    // A few messages through the caching store: what it keeps now holds SPQR decoded.
    const sent: CiphertextMessage[] = [];
    for (let i = 0; i < 12; i++) sent.push(await alice.encrypt(bob, utf8(`m${i}`)));
    expect(sent.every((m) => m.type === 'whisper')).toBe(true);
    for (let i = 0; i < 6; i++) expect(dec(await receive(sent[i]!))).toBe(`m${i}`);
    await cipher.encrypt(alice.address, utf8('reply')); // our own SPQR send step, too
    const kept = sessions.records.get(alice.address.toString())!;
    const before = bytesOf(kept);

    // Tampered: typed error, nothing stored, the kept object unchanged.
    const tampered = { type: sent[7]!.type, body: sent[7]!.body.slice() };
    tampered.body[tampered.body.length - 1]! ^= 1;
    await expect(receive(tampered)).rejects.toEqual(code('InvalidMac'));
    expect(sessions.records.get(alice.address.toString())).toBe(kept);
    expect(bytesOf(kept)).toEqual(before);

    // Replayed: typed error, unchanged.
    await expect(receive(sent[3]!)).rejects.toEqual(code('DuplicatedMessage'));
    expect(bytesOf(kept)).toEqual(before);

    // Out of order, then in order: each success stores a new object; the kept one stays.
    expect(dec(await receive(sent[9]!))).toBe('m9');
    expect(sessions.records.get(alice.address.toString())).not.toBe(kept);
    expect(bytesOf(kept)).toEqual(before);
    for (const i of [7, 6, 8, 10, 11]) expect(dec(await receive(sent[i]!))).toBe(`m${i}`);
    expect(bytesOf(kept)).toEqual(before);

    // The kept object still works as it was: restored, it decrypts message 7 again.
    await sessions.storeSession(alice.address, kept);
    expect(dec(await receive(sent[7]!))).toBe('m7');
    expect(bytesOf(kept)).toEqual(before);
  });
});

describe('states shared between records (shareStates) are never changed in place', () => {
  test('decrypting on an archived state, and encrypting, leave the kept record as it was', async () => {
    const alice = new OurParty('alice');
    const bob = new OurParty('bob');
    await alice.processBundle(bob, await bob.makeBundle());
    expect(dec(await bob.decrypt(alice, await alice.encrypt(bob, utf8('hi'))))).toBe('hi');
    expect(dec(await alice.decrypt(bob, await bob.encrypt(alice, utf8('yo'))))).toBe('yo');
    // Alice starts over: her first session is archived, the new one is unacknowledged.
    await alice.processBundle(bob, await bob.makeBundle());

    const sessions = new ObjectSessionStore();
    await sessions.storeSession(
      bob.address,
      (await alice.stores.session.loadSession(bob.address))!,
    );
    const cipher = new SessionCipher({ ...alice.stores, session: sessions });
    const kept = sessions.records.get(bob.address.toString())!;
    expect(kept.previousStates.length).toBe(1);
    expect(kept.currentState!.pendingPreKey).toBeDefined();
    const before = bytesOf(kept);

    // Bob still sends on the first session: it decrypts on Alice's archived state.
    const late = [
      await bob.encrypt(alice, utf8('late 1')),
      await bob.encrypt(alice, utf8('late 2')),
    ];
    const tampered = { type: late[0]!.type, body: late[0]!.body.slice() };
    tampered.body[tampered.body.length - 1]! ^= 1;
    await expect(cipher.decrypt(bob.address, tampered)).rejects.toEqual(code('InvalidMac'));
    expect(bytesOf(kept)).toEqual(before);

    expect(dec(await cipher.decrypt(bob.address, late[0]!))).toBe('late 1');
    const promoted = sessions.records.get(bob.address.toString())!;
    expect(promoted).not.toBe(kept);
    // The unacknowledged state was archived with its PreKey data cleared — on a copy.
    expect(promoted.previousStates[0]!.pendingPreKey).toBeUndefined();
    expect(kept.currentState!.pendingPreKey).toBeDefined();
    expect(bytesOf(kept)).toEqual(before);

    // Encrypting on the promoted record leaves it as it was, too.
    const promotedBefore = bytesOf(promoted);
    const reply = await cipher.encrypt(bob.address, utf8('back'));
    expect(bytesOf(promoted)).toEqual(promotedBefore);
    expect(dec(await bob.decrypt(alice, reply))).toBe('back');

    // The kept record still works as it was: restored, it decrypts the second late message
    // on its archived state.
    await sessions.storeSession(bob.address, kept);
    expect(dec(await cipher.decrypt(bob.address, late[1]!))).toBe('late 2');
    expect(bytesOf(kept)).toEqual(before);
  });
});

describe('PreKey messages on a shared record', () => {
  test('repeated PreKey messages of an unacknowledged session leave the kept record as it was', async () => {
    const alice = new OurParty('alice');
    const bob = new OurParty('bob');
    await alice.processBundle(bob, await bob.makeBundle());
    // Alice never hears back: every message is a PreKey message (as in a catch-up backlog).
    const sent: CiphertextMessage[] = [];
    for (let i = 0; i < 6; i++) sent.push(await alice.encrypt(bob, utf8(`p${i}`)));
    expect(sent.every((m) => m.type === 'prekey')).toBe(true);
    expect(dec(await bob.decrypt(alice, sent[0]!))).toBe('p0');

    const sessions = new ObjectSessionStore();
    await sessions.storeSession(
      alice.address,
      (await bob.stores.session.loadSession(alice.address))!,
    );
    const cipher = new SessionCipher({ ...bob.stores, session: sessions });
    const receive = (m: CiphertextMessage) => cipher.decrypt(alice.address, m);
    expect(dec(await receive(sent[1]!))).toBe('p1');
    const kept = sessions.records.get(alice.address.toString())!;
    const before = bytesOf(kept);

    // The inner SignalMessage's MAC is the last 8 bytes of field 4: flip a byte inside it.
    const tampered = { type: sent[3]!.type, body: sent[3]!.body.slice() };
    const inner = PreKeySignalMessage.deserialize(tampered.body).message.serialize();
    const at = indexOf(tampered.body, inner) + inner.length - 1;
    tampered.body[at]! ^= 1;
    await expect(receive(tampered)).rejects.toEqual(code('InvalidMac'));
    expect(bytesOf(kept)).toEqual(before);
    await expect(receive(sent[1]!)).rejects.toEqual(code('DuplicatedMessage'));
    expect(bytesOf(kept)).toEqual(before);

    for (const i of [3, 2, 5, 4]) expect(dec(await receive(sent[i]!))).toBe(`p${i}`);
    expect(bytesOf(kept)).toEqual(before);
    await sessions.storeSession(alice.address, kept);
    expect(dec(await receive(sent[2]!))).toBe('p2');
  });
});

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  throw new Error('not found');
}
