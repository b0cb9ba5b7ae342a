/**
 * Property-based tests (fast-check). Groups of 3–5 members — each one ours or libsignal
 * 0.90's — send, drop, reorder, deliver and replay messages in random interleavings: every
 * delivered message decrypts to what was sent, every replay is rejected on either
 * implementation and changes nothing. Fuzzed bytes only ever raise ProtocolError and never
 * change a store.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { ProtocolAddress } from '../src/address.ts';
import { utf8 } from '../src/_bytes.ts';
import { ProtocolError } from '../src/errors.ts';
import { compareScanned, Fingerprint } from '../src/fingerprint.ts';
import { KeyPair } from '../src/curve.ts';
import {
  GroupCipher,
  InMemorySenderKeyStore,
  SenderKeyDistributionMessage,
  SenderKeyMessage,
  SenderKeyRecord,
} from '../src/group.ts';
import { ls090, lsb, u8 } from './support/libsignal.ts';

type LsAddress = ReturnType<typeof ls090.ProtocolAddress.new>;
type LsRecord = ReturnType<typeof ls090.SenderKeyRecord.deserialize>;

/** What the scenario needs from a member, whichever implementation backs it. */
interface Member {
  kind: 'ours' | 'libsignal';
  name: string;
  createSkdm(distributionId: string): Promise<Uint8Array>;
  processSkdm(from: string, skdm: Uint8Array): Promise<void>;
  encrypt(distributionId: string, plaintext: Uint8Array): Promise<Uint8Array>;
  decrypt(from: string, message: Uint8Array): Promise<Uint8Array>;
  /** The serialised records, to check that failures change nothing. */
  snapshot(): Map<string, Uint8Array>;
  isDuplicate(err: unknown): boolean;
}

const DEVICE = 1;

function ourMember(name: string): Member {
  const store = new InMemorySenderKeyStore();
  const cipher = new GroupCipher(store);
  const me = new ProtocolAddress(name, DEVICE);
  return {
    kind: 'ours',
    name,
    createSkdm: async (id) => (await cipher.createDistributionMessage(me, id)).serialize(),
    processSkdm: (from, skdm) =>
      cipher.processDistributionMessage(
        new ProtocolAddress(from, DEVICE),
        SenderKeyDistributionMessage.deserialize(skdm),
      ),
    encrypt: (id, p) => cipher.encrypt(me, id, p),
    decrypt: (from, m) => cipher.decrypt(new ProtocolAddress(from, DEVICE), m),
    snapshot: () => store.snapshot(),
    isDuplicate: (err) => err instanceof ProtocolError && err.code === 'DuplicatedMessage',
  };
}

function libsignalMember(name: string): Member {
  const records = new Map<string, Uint8Array>();
  const key = (a: LsAddress, id: string) => `${a.name()}.${a.deviceId()}::${id}`;
  class Store extends ls090.SenderKeyStore {
    async saveSenderKey(a: LsAddress, id: string, r: LsRecord) {
      records.set(key(a, id), u8(r.serialize()));
    }
    async getSenderKey(a: LsAddress, id: string) {
      const r = records.get(key(a, id));
      return r ? ls090.SenderKeyRecord.deserialize(lsb(r)) : null;
    }
  }
  const store = new Store();
  const me = ls090.ProtocolAddress.new(name, DEVICE);
  const addr = (n: string) => ls090.ProtocolAddress.new(n, DEVICE);
  return {
    kind: 'libsignal',
    name,
    createSkdm: async (id) =>
      u8((await ls090.SenderKeyDistributionMessage.create(me, id, store)).serialize()),
    processSkdm: (from, skdm) =>
      ls090.processSenderKeyDistributionMessage(
        addr(from),
        ls090.SenderKeyDistributionMessage.deserialize(lsb(skdm)),
        store,
      ),
    encrypt: async (id, p) => u8((await ls090.groupEncrypt(me, id, store, lsb(p))).serialize()),
    decrypt: async (from, m) => u8(await ls090.groupDecrypt(addr(from), store, lsb(m))),
    snapshot: () => new Map([...records].map(([k, v]) => [k, v.slice()])),
    isDuplicate: (err) =>
      ls090.LibSignalErrorBase.prototype.isPrototypeOf(err as object) &&
      (err as { code: unknown }).code === ls090.ErrorCode.DuplicatedMessage,
  };
}

type Op =
  | { kind: 'send'; from: number; size: number }
  | { kind: 'deliver'; to: number; pick: number }
  | { kind: 'drop'; to: number; pick: number }
  | { kind: 'replay'; to: number; pick: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('send' as const), from: fc.nat(), size: fc.nat({ max: 40 }) }),
  fc.record({ kind: fc.constant('deliver' as const), to: fc.nat(), pick: fc.nat() }),
  fc.record({ kind: fc.constant('deliver' as const), to: fc.nat(), pick: fc.nat() }),
  fc.record({ kind: fc.constant('drop' as const), to: fc.nat(), pick: fc.nat() }),
  fc.record({ kind: fc.constant('replay' as const), to: fc.nat(), pick: fc.nat() }),
);

interface Envelope {
  from: number;
  bytes: Uint8Array;
  plaintext: Uint8Array;
}

describe('random group interleavings', () => {
  test('deliver exactly what was sent, reject every replay, mixed with libsignal', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.boolean(), { minLength: 3, maxLength: 5 }),
        fc.array(opArb, { minLength: 20, maxLength: 40 }),
        async (useLibsignal, ops) => {
          const id = crypto.randomUUID();
          const members = useLibsignal.map((ls, i) =>
            (ls ? libsignalMember : ourMember)(`member-${i}-${crypto.randomUUID()}`),
          );
          const n = members.length;
          for (const m of members) {
            const skdm = await m.createSkdm(id);
            for (const other of members) if (other !== m) await other.processSkdm(m.name, skdm);
          }
          const pending: Envelope[][] = members.map(() => []);
          const delivered: Envelope[][] = members.map(() => []);
          let counter = 0;
          for (const op of ops) {
            if (op.kind === 'send') {
              const from = op.from % n;
              const plaintext = utf8(`#${counter++} from ${from} ${'.'.repeat(op.size)}`);
              const bytes = await members[from]!.encrypt(id, plaintext);
              for (let to = 0; to < n; to++) {
                if (to !== from) pending[to]!.push({ from, bytes, plaintext });
              }
              continue;
            }
            const to = op.to % n;
            const list = op.kind === 'replay' ? delivered[to]! : pending[to]!;
            if (list.length === 0) continue;
            const index = op.pick % list.length;
            const env = list[index]!;
            const member = members[to]!;
            const sender = members[env.from]!.name;
            if (op.kind === 'drop') {
              list.splice(index, 1);
            } else if (op.kind === 'deliver') {
              list.splice(index, 1);
              expect(await member.decrypt(sender, env.bytes)).toEqual(env.plaintext);
              delivered[to]!.push(env);
            } else {
              const before = member.snapshot();
              const err = await member.decrypt(sender, env.bytes).then(
                () => undefined,
                (e: unknown) => e,
              );
              expect(member.isDuplicate(err)).toBe(true);
              expect(member.snapshot()).toEqual(before);
            }
          }
          // Whatever is still pending (dropped messages aside) decrypts, in any order.
          for (let to = 0; to < n; to++) {
            for (const env of pending[to]!.reverse()) {
              expect(await members[to]!.decrypt(members[env.from]!.name, env.bytes)).toEqual(
                env.plaintext,
              );
            }
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('fuzzing', () => {
  const isProtocolErrorOnly = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      expect(err).toBeInstanceOf(ProtocolError);
    }
  };

  test('parsers raise only ProtocolError on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        isProtocolErrorOnly(() => SenderKeyMessage.deserialize(bytes));
        isProtocolErrorOnly(() => SenderKeyDistributionMessage.deserialize(bytes));
        isProtocolErrorOnly(() => SenderKeyRecord.deserialize(bytes));
        isProtocolErrorOnly(() => compareScanned(scannable, bytes));
        // Same with a valid version byte, to get past the first check.
        const v3 = Uint8Array.of(0x33, ...bytes);
        isProtocolErrorOnly(() => SenderKeyMessage.deserialize(v3));
        isProtocolErrorOnly(() => SenderKeyDistributionMessage.deserialize(v3));
      }),
      { numRuns: 500 },
    );
  });

  const scannable = Fingerprint.create({
    version: 2,
    iterations: 2,
    localId: utf8('a'),
    localKey: KeyPair.generate().publicKey,
    remoteId: utf8('b'),
    remoteKey: KeyPair.generate().publicKey,
  }).scannable;

  test('mutated and random messages never decrypt, raise only ProtocolError, change nothing', async () => {
    const id = crypto.randomUUID();
    const alice = new ProtocolAddress('fuzz-alice', 1);
    const sender = new GroupCipher(new InMemorySenderKeyStore());
    const store = new InMemorySenderKeyStore();
    const receiver = new GroupCipher(store);
    await receiver.processDistributionMessage(
      alice,
      await sender.createDistributionMessage(alice, id),
    );
    const valid: Uint8Array[] = [];
    for (let i = 0; i < 4; i++) valid.push(await sender.encrypt(alice, id, utf8(`valid ${i}`)));
    await receiver.decrypt(alice, valid[1]!); // leaves a skipped key for iteration 0

    const mutation = fc.oneof(
      // Flip bits at random positions.
      fc
        .record({
          which: fc.nat(3),
          flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 7 })), {
            minLength: 1,
            maxLength: 4,
          }),
        })
        .map(({ which, flips }) => {
          const m = valid[which]!.slice();
          for (const [pos, bit] of flips) m[pos % m.length]! ^= 1 << bit;
          return m;
        }),
      // Truncate or extend.
      fc
        .record({ which: fc.nat(3), cut: fc.nat(), extra: fc.uint8Array({ maxLength: 8 }) })
        .map(({ which, cut, extra }) => {
          const m = valid[which]!;
          return Uint8Array.of(...m.subarray(0, cut % m.length), ...extra);
        }),
      fc.uint8Array({ maxLength: 200 }),
    );
    await fc.assert(
      fc.asyncProperty(mutation, async (bytes) => {
        if (valid.some((v) => v.length === bytes.length && v.every((b, i) => b === bytes[i]))) {
          return;
        }
        const before = store.snapshot();
        const err = await receiver.decrypt(alice, bytes).then(
          () => 'decrypted',
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(ProtocolError);
        expect(store.snapshot()).toEqual(before);
      }),
      { numRuns: 300 },
    );
    // The real messages are still fine afterwards.
    for (const i of [0, 2, 3])
      expect(await receiver.decrypt(alice, valid[i]!)).toEqual(utf8(`valid ${i}`));
  });
});
