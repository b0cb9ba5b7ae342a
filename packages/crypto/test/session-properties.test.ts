/**
 * Property tests (fast-check) for 1:1 sessions:
 *  - random interleavings of sends, deliveries out of order, drops and duplicates between two
 *    parties decrypt exactly the right messages (ours ↔ ours, and ours ↔ libsignal 0.90);
 *  - fuzzed and mutated bytes given to decrypt only ever throw ProtocolError and never change
 *    any store.
 *
 * The model of which messages must decrypt: a receiver keeps a receiving chain per sender
 * ratchet key, at most MAX_RECEIVER_CHAINS, oldest evicted. A first delivery decrypts iff its
 * ratchet key is a kept chain or has never been seen (a new chain); a message whose chain was
 * evicted cannot. A repeat delivery is a DuplicatedMessage while its chain is kept.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { toHex, utf8 } from '../src/_bytes.ts';
import { MAX_RECEIVER_CHAINS } from '../src/consts.ts';
import { PreKeySignalMessage, SignalMessage } from '../src/messages.ts';
import type { CiphertextMessage } from '../src/session.ts';
import { ls090 } from './support/libsignal.ts';
import { LsParty, OurParty, type Party } from './support/parties.ts';

type Op = { kind: 'send'; from: 0 | 1 } | { kind: 'deliver' | 'drop' | 'dup'; i: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('send' as const),
      from: fc.constantFrom(0 as const, 1 as const),
    }),
  },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('deliver' as const), i: fc.nat(50) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('drop' as const), i: fc.nat(50) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('dup' as const), i: fc.nat(50) }) },
);

interface InFlight {
  from: 0 | 1;
  text: string;
  message: CiphertextMessage;
  ratchetKey: string;
}

const ratchetKeyOf = (m: CiphertextMessage) =>
  toHex(
    (m.type === 'prekey'
      ? PreKeySignalMessage.deserialize(m.body).message
      : SignalMessage.deserialize(m.body)
    ).senderRatchetKey.serialize(),
  );

/** Outcomes seen across runs, so the properties are shown to exercise every case. */
const seen = { decrypted: 0, evicted: 0, duplicate: 0 };

/** What one receiver knows about the sender's ratchet keys (see the module comment). */
class ReceiverModel {
  readonly kept: string[] = [];
  readonly seen = new Set<string>();

  constructor(initial?: string) {
    if (initial) this.#add(initial);
  }

  #add(key: string) {
    this.kept.push(key);
    this.seen.add(key);
    if (this.kept.length > MAX_RECEIVER_CHAINS) this.kept.shift();
  }

  /** Whether a first delivery with this key must decrypt; records a new chain if so. */
  firstDelivery(key: string): boolean {
    if (this.kept.includes(key)) return true;
    if (this.seen.has(key)) return false;
    this.#add(key);
    return true;
  }
}

async function runScenario(
  a: Party,
  b: OurParty | LsParty,
  ops: Op[],
  check: (p: Party) => (() => void) | undefined,
) {
  const parties = [a, b] as const;
  const bundle = await b.makeBundle();
  await a.processBundle(b, bundle);
  // Alice starts with a receiving chain for Bob's signed prekey; Bob with none.
  const models = [new ReceiverModel(toHex(bundle.signedPreKey.serialize())), new ReceiverModel()];
  let bobHasSession = false;
  let n = 0;
  const inFlight: InFlight[] = [];
  const delivered: InFlight[] = [];
  for (const op of ops) {
    if (op.kind === 'send') {
      if (op.from === 1 && !bobHasSession) continue;
      const text = `m${n++} from ${op.from}`;
      const message = await parties[op.from].encrypt(parties[1 - op.from]!, utf8(text));
      inFlight.push({ from: op.from, text, message, ratchetKey: ratchetKeyOf(message) });
      continue;
    }
    const pool = op.kind === 'dup' ? delivered : inFlight;
    if (pool.length === 0) continue;
    const idx = op.i % pool.length;
    const m = pool[idx]!;
    if (op.kind === 'drop') {
      inFlight.splice(idx, 1);
      continue;
    }
    const to = parties[1 - m.from]!;
    const model = models[1 - m.from]!;
    const unchanged = check(to);
    if (op.kind === 'deliver') {
      inFlight.splice(idx, 1);
      if (model.firstDelivery(m.ratchetKey)) {
        expect(new TextDecoder().decode(await to.decrypt(parties[m.from]!, m.message))).toBe(
          m.text,
        );
        delivered.push(m);
        seen.decrypted++;
        if (m.from === 0) bobHasSession = true;
      } else {
        await expect(to.decrypt(parties[m.from]!, m.message)).rejects.toBeTruthy();
        seen.evicted++;
        unchanged?.();
      }
    } else {
      const err = await to.decrypt(parties[m.from]!, m.message).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeDefined();
      if (model.kept.includes(m.ratchetKey) && to instanceof OurParty) {
        expect(err).toHaveProperty('code', 'DuplicatedMessage');
        seen.duplicate++;
      }
      unchanged?.();
    }
  }
}

/** For our parties: a check that the stores did not change since this call. */
const snapshotCheck = (p: Party) => {
  if (!(p instanceof OurParty)) return undefined;
  const before = p.stores.snapshot();
  return () => expect(p.stores.snapshot()).toEqual(before);
};

describe('random interleavings decrypt exactly the right messages', () => {
  test('ours ↔ ours', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 20, maxLength: 80 }), async (ops) => {
        await runScenario(new OurParty('alice', 1), new OurParty('bob', 2), ops, snapshotCheck);
      }),
      { numRuns: 40 },
    );
    expect(seen.decrypted).toBeGreaterThan(150);
    expect(seen.duplicate).toBeGreaterThan(3);
  });

  test('ours ↔ libsignal 0.90 (both roles)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(opArb, { minLength: 20, maxLength: 50 }),
        fc.boolean(),
        async (ops, weStart) => {
          const ours = new OurParty('alice', 1);
          const theirs = new LsParty(ls090, 'bob', 2);
          if (weStart) await runScenario(ours, theirs, ops, snapshotCheck);
          else await runScenario(theirs, new OurParty('carol', 3), ops, snapshotCheck);
        },
      ),
      { numRuns: 15 },
    );
  });
});

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'overwrite'; at: number; bytes: Uint8Array }
  | { kind: 'random'; bytes: Uint8Array };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(4000), bit: fc.nat(7) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat(4000) }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(4000),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
  }),
  fc.record({
    kind: fc.constant('overwrite' as const),
    at: fc.nat(4000),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 40 }),
  }),
  fc.record({ kind: fc.constant('random' as const), bytes: fc.uint8Array({ maxLength: 200 }) }),
);

function mutate(body: Uint8Array, m: Mutation): Uint8Array {
  const at = body.length ? (m.kind === 'random' ? 0 : m.at % body.length) : 0;
  switch (m.kind) {
    case 'flip': {
      const out = body.slice();
      if (out.length) out[at]! ^= 1 << m.bit;
      return out;
    }
    case 'truncate':
      return body.slice(0, at);
    case 'insert':
      return Uint8Array.from([...body.subarray(0, at), ...m.bytes, ...body.subarray(at)]);
    case 'overwrite': {
      const out = body.slice();
      out.set(m.bytes.subarray(0, out.length - at), at);
      return out;
    }
    case 'random':
      return m.bytes;
  }
}

describe('fuzzed bytes', () => {
  test('only ProtocolError, and no store changes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(mutationArb, { minLength: 1, maxLength: 3 }),
        fc.constantFrom('prekey', 'whisper'),
        fc.constantFrom('prekey', 'whisper'),
        async (mutations, which, claimed) => {
          const alice = new OurParty('alice', 1);
          const bob = new OurParty('bob', 2);
          await alice.processBundle(bob, await bob.makeBundle());
          const first = await alice.encrypt(bob, utf8('first'));
          let target = first;
          if (which === 'whisper') {
            await bob.decrypt(alice, first);
            await alice.decrypt(bob, await bob.encrypt(alice, utf8('reply')));
            target = await alice.encrypt(bob, utf8('second'));
          }
          const body = mutations.reduce(mutate, target.body);
          const before = bob.stores.snapshot();
          const result = await bob.decrypt(alice, { type: claimed as 'prekey', body }).then(
            (p) => ({ ok: true as const, p }),
            (e: unknown) => ({ ok: false as const, e }),
          );
          if (result.ok) {
            // Harmless mutations exist (the version byte's low nibble, the registration id).
            expect(new TextDecoder().decode(result.p)).toBe(
              which === 'prekey' ? 'first' : 'second',
            );
          } else {
            expect(result.e).toHaveProperty('name', 'ProtocolError');
            expect(bob.stores.snapshot()).toEqual(before);
          }
        },
      ),
      { numRuns: 120 },
    );
  });
});
