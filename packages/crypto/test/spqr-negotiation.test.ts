/**
 * SPQR version negotiation with older libsignals: 0.90.0 offers SPQR v1 with minimum v0, so a
 * Parley session with it (default 'required') runs SPQR v1; 0.72.1 has no SPQR, so 'required'
 * refuses it (as libsignal ≥ 0.92 does) while 'offered' negotiates down to no SPQR.
 */
import { describe, expect, test } from 'vitest';
import { utf8 } from '../src/_bytes.ts';
import { ProtocolAddress } from '../src/address.ts';
import { SessionCipher, type CiphertextMessage } from '../src/session.ts';
import { readState } from '../src/spqr/state-proto.ts';
import type { SpqrMode } from '../src/spqr/session-spqr.ts';
import { ls072, ls090 } from './support/libsignal.ts';
import { LsParty, OurParty, type Ls, type Party } from './support/parties.ts';

const dec = (b: Uint8Array) => new TextDecoder().decode(b);

async function talk(a: Party, b: Party, n: number) {
  for (let i = 0; i < n; i++) {
    const [from, to] = i % 2 ? [b, a] : [a, b];
    const label = `m${i}`;
    expect(dec(await to.decrypt(from, await from.encrypt(to, utf8(label))))).toBe(label);
  }
}

async function pair(ls: Ls, spqr: SpqrMode, weInitiate: boolean) {
  const ours = new OurParty('ours', 1, { spqr });
  const theirs = new LsParty(ls, 'theirs', 2);
  const [a, b] = weInitiate ? [ours, theirs] : [theirs, ours];
  await a.processBundle(b, await b.makeBundle({ kyber: true, oneTime: true }));
  const spqrState = async () =>
    readState(
      (await ours.stores.session.loadSession(new ProtocolAddress('theirs', 2)))!.currentState!
        .pqRatchetState,
    );
  return { a, b, spqrState };
}

describe('SPQR negotiation with older libsignal', () => {
  test.each([true, false])('0.90.0: SPQR v1 is used (we initiate: %s)', async (weInitiate) => {
    const { a, b, spqrState } = await pair(ls090 as Ls, 'required', weInitiate);
    await talk(a, b, 160);
    const s = await spqrState();
    expect(s.v1).toBeDefined();
    expect(s.chain!.currentEpoch).toBeGreaterThanOrEqual(1);
  });

  test.each([true, false])(
    "0.72.1 with 'offered': negotiated down to no SPQR (we initiate: %s)",
    async (weInitiate) => {
      const { a, b, spqrState } = await pair(ls072 as unknown as Ls, 'offered', weInitiate);
      await talk(a, b, 12);
      expect(await spqrState()).toEqual({});
    },
  );

  test("0.72.1 with 'required': its message is refused with a typed error", async () => {
    const { a, b } = await pair(ls072 as unknown as Ls, 'required', false);
    const first = await a.encrypt(b, utf8('no spqr here'));
    await expect(b.decrypt(a, first)).rejects.toMatchObject({
      name: 'ProtocolError',
      code: 'InvalidMessage',
    });
  });
});

describe('sessions stored before SPQR', () => {
  test('keep working, without SPQR, after the upgrade to the SPQR default', async () => {
    const alice = new OurParty('alice', 1, { spqr: 'off' });
    const bob = new OurParty('bob', 1, { spqr: 'off' });
    await alice.processBundle(bob, await bob.makeBundle());
    await talk(alice, bob, 6);
    // "upgrade": new ciphers with the default mode over the same stores
    const upgraded = (p: OurParty) => {
      const cipher = new SessionCipher(p.stores);
      return {
        name: p.name,
        deviceId: p.deviceId,
        encrypt: (peer: Party, m: Uint8Array) =>
          cipher.encrypt(new ProtocolAddress(peer.name, peer.deviceId), m),
        decrypt: (peer: Party, m: CiphertextMessage) =>
          cipher.decrypt(new ProtocolAddress(peer.name, peer.deviceId), m),
      } as unknown as Party;
    };
    await talk(upgraded(alice), upgraded(bob), 20);
    const record = await alice.stores.session.loadSession(new ProtocolAddress('bob', 1));
    expect(record!.currentState!.pqRatchetState.length).toBe(0);
    // a fresh session after the upgrade uses SPQR
    const carol = new OurParty('carol', 1);
    await carol.processBundle(bob, await bob.makeBundle());
    const first = await carol.encrypt(bob, utf8('hi'));
    expect(dec(await upgraded(bob).decrypt(carol, first))).toBe('hi');
    const carolRecord = await carol.stores.session.loadSession(new ProtocolAddress('bob', 1));
    expect(readState(carolRecord!.currentState!.pqRatchetState).v1).toBeDefined();
  });
});
