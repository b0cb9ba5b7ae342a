/**
 * SPQR v1 against libsignal 0.103.0 (which requires it), in both directions: PQXDH + SPQR
 * session setup, long conversations across many SPQR epochs, both sides sending at once, and
 * out-of-order and lost messages (so that SPQR chunks are lost).
 */
import { describe, expect, test } from 'vitest';
import { utf8 } from '../src/_bytes.ts';
import type { CiphertextMessage } from '../src/session.ts';
import { SessionRecord } from '../src/session/session-record.ts';
import { readState } from '../src/spqr/state-proto.ts';
import { deserializeMessage } from '../src/spqr/message.ts';
import { SignalMessage, PreKeySignalMessage } from '../src/messages.ts';
import { ls0103 } from './support/libsignal.ts';
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
