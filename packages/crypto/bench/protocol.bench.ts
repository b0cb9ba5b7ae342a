/**
 * Parley vs libsignal (0.90.0, Signal's Rust core through its Node binding), measured in one
 * process, interleaved: each round runs a batch of every case on each implementation in
 * alternating order, so drift in machine load hits both alike. Prints ops/s per
 * implementation and Parley's time per op as a multiple of libsignal's (lower is better).
 *
 *   pnpm --filter @parley/crypto bench            (BENCH_ROUNDS=N to change the round count)
 *
 * Both sides keep their state in stores of serialised records, as an application would.
 * No assertions on speed anywhere: this prints figures only.
 */
import { performance } from 'node:perf_hooks';
import { ProtocolAddress } from '../src/address.ts';
import { GroupCipher, InMemorySenderKeyStore } from '../src/group.ts';
import { ls090, u8 } from '../test/support/libsignal.ts';
import { LsParty, OurParty, type Party } from '../test/support/parties.ts';

type Impl = 'parley' | 'libsignal';
const IMPLS: Impl[] = ['parley', 'libsignal'];
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const PLAINTEXT = crypto.getRandomValues(new Uint8Array(256));

let names = 0;
const party = (impl: Impl, deviceId = 1): Party => {
  const name = `bench-${impl}-${++names}-${crypto.randomUUID()}`;
  return impl === 'parley' ? new OurParty(name, deviceId) : new LsParty(ls090, name, deviceId);
};

async function established(impl: Impl): Promise<[Party, Party]> {
  const a = party(impl);
  const b = party(impl, 2);
  await a.processBundle(b, await b.makeBundle({ kyber: true, oneTime: true }));
  await b.decrypt(a, await a.encrypt(b, PLAINTEXT));
  await a.decrypt(b, await b.encrypt(a, PLAINTEXT));
  return [a, b];
}

/** A case prepares state per implementation, then runs `ops` timed operations per batch. */
interface Case {
  name: string;
  batch: number;
  /** Returns the time (ms) spent in the measured part only. */
  run(impl: Impl, ops: number): Promise<number>;
}

const timeIt = async (fn: () => Promise<unknown>): Promise<number> => {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
};

function handshake(): Case {
  return {
    name: 'PQXDH handshake (bundle → first message → decrypt)',
    batch: 8,
    async run(impl, ops) {
      let ms = 0;
      for (let i = 0; i < ops; i++) {
        const alice = party(impl);
        const bob = party(impl, 2);
        const bundle = await bob.makeBundle({ kyber: true, oneTime: true });
        ms += await timeIt(async () => {
          await alice.processBundle(bob, bundle);
          await bob.decrypt(alice, await alice.encrypt(bob, PLAINTEXT));
        });
      }
      return ms;
    },
  };
}

function steady(): Case {
  const pairs = new Map<Impl, [Party, Party]>();
  return {
    name: '1:1 message, 256 B (encrypt + decrypt, same chain)',
    batch: 200,
    async run(impl, ops) {
      if (!pairs.has(impl)) pairs.set(impl, await established(impl));
      const [a, b] = pairs.get(impl)!;
      return timeIt(async () => {
        for (let i = 0; i < ops; i++) await b.decrypt(a, await a.encrypt(b, PLAINTEXT));
      });
    },
  };
}

function pingPong(): Case {
  const pairs = new Map<Impl, [Party, Party]>();
  return {
    name: '1:1 ping-pong, 256 B (a DH ratchet step every message)',
    batch: 60,
    async run(impl, ops) {
      if (!pairs.has(impl)) pairs.set(impl, await established(impl));
      const [a, b] = pairs.get(impl)!;
      return timeIt(async () => {
        for (let i = 0; i < ops; i++) {
          const [from, to] = i % 2 === 0 ? [a, b] : [b, a];
          await to.decrypt(from, await from.encrypt(to, PLAINTEXT));
        }
      });
    },
  };
}

/** Sender keys: one sender, one receiver, both with the same implementation. */
function groupSetup() {
  const distributionId = crypto.randomUUID();
  const senderName = crypto.randomUUID();
  const ours = {
    sender: new GroupCipher(new InMemorySenderKeyStore()),
    receiver: new GroupCipher(new InMemorySenderKeyStore()),
    address: new ProtocolAddress(senderName, 1),
    ready: false,
  };
  const records = (ls: typeof ls090) => {
    const map = new Map<string, Uint8Array>();
    type Addr = ReturnType<(typeof ls090)['ProtocolAddress']['new']>;
    type Rec = ReturnType<(typeof ls090)['SenderKeyRecord']['deserialize']>;
    return new (class extends ls.SenderKeyStore {
      async saveSenderKey(a: Addr, id: string, r: Rec) {
        map.set(`${a.name()}.${a.deviceId()}:${id}`, u8(r.serialize()));
      }
      async getSenderKey(a: Addr, id: string) {
        const r = map.get(`${a.name()}.${a.deviceId()}:${id}`);
        return r ? ls.SenderKeyRecord.deserialize(r as Uint8Array<ArrayBuffer>) : null;
      }
    })();
  };
  const theirs = {
    sender: records(ls090),
    receiver: records(ls090),
    address: ls090.ProtocolAddress.new(senderName, 1),
    ready: false,
  };
  const ensure = async (impl: Impl) => {
    if (impl === 'parley' && !ours.ready) {
      const skdm = await ours.sender.createDistributionMessage(ours.address, distributionId);
      await ours.receiver.processDistributionMessage(ours.address, skdm);
      ours.ready = true;
    } else if (impl === 'libsignal' && !theirs.ready) {
      const skdm = await ls090.SenderKeyDistributionMessage.create(
        theirs.address,
        distributionId,
        theirs.sender,
      );
      await ls090.processSenderKeyDistributionMessage(theirs.address, skdm, theirs.receiver);
      theirs.ready = true;
    }
  };
  const encrypt = (impl: Impl): Promise<Uint8Array> =>
    impl === 'parley'
      ? ours.sender.encrypt(ours.address, distributionId, PLAINTEXT)
      : ls090
          .groupEncrypt(
            theirs.address,
            distributionId,
            theirs.sender,
            PLAINTEXT as Uint8Array<ArrayBuffer>,
          )
          .then((m) => m.serialize());
  const decrypt = (impl: Impl, m: Uint8Array): Promise<Uint8Array> =>
    impl === 'parley'
      ? ours.receiver.decrypt(ours.address, m)
      : ls090.groupDecrypt(theirs.address, theirs.receiver, m as Uint8Array<ArrayBuffer>);
  return { ensure, encrypt, decrypt };
}

function senderKeyEncrypt(): Case {
  const g = groupSetup();
  return {
    name: 'Sender-key encrypt, 256 B',
    batch: 200,
    async run(impl, ops) {
      await g.ensure(impl);
      return timeIt(async () => {
        for (let i = 0; i < ops; i++) await g.encrypt(impl);
      });
    },
  };
}

function senderKeyDecrypt(): Case {
  const g = groupSetup();
  return {
    name: 'Sender-key decrypt, 256 B',
    batch: 200,
    async run(impl, ops) {
      await g.ensure(impl);
      const messages: Uint8Array[] = [];
      for (let i = 0; i < ops; i++) messages.push(await g.encrypt(impl));
      return timeIt(async () => {
        for (const m of messages) await g.decrypt(impl, m);
      });
    },
  };
}

async function main() {
  const cases = [handshake(), steady(), pingPong(), senderKeyEncrypt(), senderKeyDecrypt()];
  const totals = new Map<string, { ms: number; ops: number }>();
  const key = (c: Case, impl: Impl) => `${c.name}\u0000${impl}`;
  // Warm-up round (JIT, lazy tables), not counted.
  for (const c of cases) for (const impl of IMPLS) await c.run(impl, Math.ceil(c.batch / 4));
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? IMPLS : [...IMPLS].reverse();
    for (const c of cases) {
      for (const impl of order) {
        const ms = await c.run(impl, c.batch);
        const t = totals.get(key(c, impl)) ?? { ms: 0, ops: 0 };
        t.ms += ms;
        t.ops += c.batch;
        totals.set(key(c, impl), t);
      }
    }
  }
  console.log(
    `\n@parley/crypto vs @signalapp/libsignal-client 0.90.0 — Node ${process.version}, ${ROUNDS} interleaved rounds\n`,
  );
  const rows = cases.map((c) => {
    const p = totals.get(key(c, 'parley'))!;
    const l = totals.get(key(c, 'libsignal'))!;
    const pOps = (p.ops / p.ms) * 1000;
    const lOps = (l.ops / l.ms) * 1000;
    return { case: c.name, parley: pOps, libsignal: lOps, ratio: lOps / pOps };
  });
  const w = Math.max(...rows.map((r) => r.case.length));
  const fmt = (n: number) => n.toFixed(n < 100 ? 1 : 0).padStart(10);
  console.log(
    `${'case'.padEnd(w)}  ${'parley/s'.padStart(10)}  ${'libsignal/s'.padStart(11)}  time ×libsignal`,
  );
  for (const r of rows) {
    console.log(
      `${r.case.padEnd(w)}  ${fmt(r.parley)}  ${fmt(r.libsignal).padStart(11)}  ${r.ratio.toFixed(2)}×`,
    );
  }
}

await main();
