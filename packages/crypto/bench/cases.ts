/**
 * The benchmark cases, shared by the Node run (with libsignal) and the browser run (the two
 * Parley backends only). No Node imports here: this file is bundled for Chromium.
 *
 * Each round runs a batch of every case on each implementation in alternating order, so
 * drift in machine load hits all alike. Both sides keep their state in stores of serialised
 * records, as an application would. Figures only: nothing here asserts on speed.
 */
import { ProtocolAddress } from '../src/address.ts';
import { IdentityKeyPair, type PublicKey } from '../src/curve.ts';
import { GroupCipher, InMemorySenderKeyStore } from '../src/group.ts';
import { InMemoryProtocolStore } from '../src/inmem-stores.ts';
import {
  PreKeyBundle,
  generateKyberPreKey,
  generatePreKeys,
  generateSignedPreKey,
} from '../src/prekeys.ts';
import { SessionCipher, type CiphertextMessage } from '../src/session.ts';
import { setCryptoBackend, type CryptoBackendChoice } from '../src/backend.ts';

export interface Party {
  readonly name: string;
  readonly deviceId: number;
  makeBundle(options?: { oneTime?: boolean; kyber?: boolean }): Promise<PreKeyBundle>;
  processBundle(peer: Party, bundle: PreKeyBundle): Promise<void>;
  encrypt(peer: Party, plaintext: Uint8Array): Promise<CiphertextMessage>;
  decrypt(peer: Party, message: CiphertextMessage): Promise<Uint8Array>;
}

/** One sender and one receiver of a sender-key group. */
export interface Group {
  ensure(): Promise<void>;
  encrypt(): Promise<Uint8Array>;
  decrypt(message: Uint8Array): Promise<Uint8Array>;
}

export interface Impl {
  readonly label: string;
  /** Called before each batch (selects the Parley backend). */
  activate(): void;
  party(deviceId?: number): Party;
  group(): Group;
}

export const PLAINTEXT = /* @__PURE__ */ crypto.getRandomValues(new Uint8Array(256));
let names = 0;
let ids = 1;
const freshId = () => ids++ & 0xffffff;

/** A Parley party over the in-memory stores (which hold serialised records). */
export class ParleyParty implements Party {
  readonly identity = IdentityKeyPair.generate();
  readonly registrationId = 1 + Math.floor(Math.random() * 16380);
  readonly stores = new InMemoryProtocolStore(this.identity, this.registrationId);
  readonly cipher = new SessionCipher(this.stores);
  constructor(
    readonly name: string,
    readonly deviceId = 1,
  ) {}
  get identityKey(): PublicKey {
    return this.identity.publicKey;
  }
  async makeBundle({ oneTime = true, kyber = true } = {}) {
    const [pre] = generatePreKeys(freshId(), 1);
    const signed = generateSignedPreKey(this.identity, freshId(), Date.now());
    await this.stores.signedPreKey.saveSignedPreKey(signed.id, signed);
    if (oneTime) await this.stores.preKey.savePreKey(pre!.id, pre!);
    const k = kyber ? generateKyberPreKey(this.identity, freshId(), Date.now()) : undefined;
    if (k) await this.stores.kyberPreKey.saveKyberPreKey(k.id, k, false);
    return new PreKeyBundle({
      registrationId: this.registrationId,
      deviceId: this.deviceId,
      identityKey: this.identity.publicKey,
      preKeyId: oneTime ? pre!.id : undefined,
      preKey: oneTime ? pre!.publicKey : undefined,
      signedPreKeyId: signed.id,
      signedPreKey: signed.publicKey,
      signedPreKeySignature: signed.signature,
      kyberPreKeyId: k?.id,
      kyberPreKey: k?.publicKey,
      kyberPreKeySignature: k?.signature,
    });
  }
  processBundle(peer: Party, bundle: PreKeyBundle) {
    return this.cipher.processPreKeyBundle(new ProtocolAddress(peer.name, peer.deviceId), bundle);
  }
  encrypt(peer: Party, plaintext: Uint8Array) {
    return this.cipher.encrypt(new ProtocolAddress(peer.name, peer.deviceId), plaintext);
  }
  decrypt(peer: Party, message: CiphertextMessage) {
    return this.cipher.decrypt(new ProtocolAddress(peer.name, peer.deviceId), message);
  }
}

function parleyGroup(): Group {
  const distributionId = crypto.randomUUID();
  const sender = new GroupCipher(new InMemorySenderKeyStore());
  const receiver = new GroupCipher(new InMemorySenderKeyStore());
  const address = new ProtocolAddress(crypto.randomUUID(), 1);
  let ready = false;
  return {
    async ensure() {
      if (ready) return;
      const skdm = await sender.createDistributionMessage(address, distributionId);
      await receiver.processDistributionMessage(address, skdm);
      ready = true;
    },
    encrypt: () => sender.encrypt(address, distributionId, PLAINTEXT),
    decrypt: (m) => receiver.decrypt(address, m),
  };
}

/** Parley on one backend. */
export function parley(label: string, backend: CryptoBackendChoice): Impl {
  return {
    label,
    activate: () => setCryptoBackend(backend),
    party: (deviceId = 1) => new ParleyParty(`bench-${label}-${++names}`, deviceId),
    group: parleyGroup,
  };
}

/** A case prepares state per implementation, then runs `ops` timed operations per batch. */
export interface Case {
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

async function established(impl: Impl): Promise<[Party, Party]> {
  const a = impl.party();
  const b = impl.party(2);
  await a.processBundle(b, await b.makeBundle({ kyber: true, oneTime: true }));
  await b.decrypt(a, await a.encrypt(b, PLAINTEXT));
  await a.decrypt(b, await b.encrypt(a, PLAINTEXT));
  return [a, b];
}

function handshake(): Case {
  return {
    name: 'PQXDH handshake (bundle → first message → decrypt)',
    batch: 8,
    async run(impl, ops) {
      let ms = 0;
      for (let i = 0; i < ops; i++) {
        const alice = impl.party();
        const bob = impl.party(2);
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

function senderKeyEncrypt(): Case {
  const groups = new Map<Impl, Group>();
  return {
    name: 'Sender-key encrypt, 256 B',
    batch: 200,
    async run(impl, ops) {
      if (!groups.has(impl)) groups.set(impl, impl.group());
      const g = groups.get(impl)!;
      await g.ensure();
      return timeIt(async () => {
        for (let i = 0; i < ops; i++) await g.encrypt();
      });
    },
  };
}

function senderKeyDecrypt(): Case {
  const groups = new Map<Impl, Group>();
  return {
    name: 'Sender-key decrypt, 256 B',
    batch: 200,
    async run(impl, ops) {
      if (!groups.has(impl)) groups.set(impl, impl.group());
      const g = groups.get(impl)!;
      await g.ensure();
      const messages: Uint8Array[] = [];
      for (let i = 0; i < ops; i++) messages.push(await g.encrypt());
      return timeIt(async () => {
        for (const m of messages) await g.decrypt(m);
      });
    },
  };
}

function bundleGeneration(): Case {
  return {
    name: 'Bundle generation (one-time + signed + Kyber prekey)',
    batch: 20,
    async run(impl, ops) {
      const p = impl.party();
      return timeIt(async () => {
        for (let i = 0; i < ops; i++) await p.makeBundle({ kyber: true, oneTime: true });
      });
    },
  };
}

export const allCases = (): Case[] => [
  handshake(),
  steady(),
  pingPong(),
  senderKeyEncrypt(),
  senderKeyDecrypt(),
  bundleGeneration(),
];

export interface Row {
  case: string;
  /** ops/s per implementation label. */
  opsPerSecond: Record<string, number>;
}

/** Runs every case on every implementation, interleaved; returns ops/s. */
export async function runAll(impls: Impl[], rounds: number, cases = allCases()): Promise<Row[]> {
  const totals = new Map<string, { ms: number; ops: number }>();
  const key = (c: Case, impl: Impl) => `${c.name}\u0000${impl.label}`;
  // Warm-up round (JIT, lazy tables, caches of long-lived keys), not counted.
  for (const c of cases) {
    for (const impl of impls) {
      impl.activate();
      await c.run(impl, Math.ceil(c.batch / 4));
    }
  }
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? impls : [...impls].reverse();
    for (const c of cases) {
      for (const impl of order) {
        impl.activate();
        const ms = await c.run(impl, c.batch);
        const t = totals.get(key(c, impl)) ?? { ms: 0, ops: 0 };
        t.ms += ms;
        t.ops += c.batch;
        totals.set(key(c, impl), t);
      }
    }
  }
  return cases.map((c) => ({
    case: c.name,
    opsPerSecond: Object.fromEntries(
      impls.map((impl) => {
        const t = totals.get(key(c, impl))!;
        return [impl.label, (t.ops / t.ms) * 1000];
      }),
    ),
  }));
}

/** A plain-text table: ops/s per implementation, then time ratios to `baseline`. */
export function formatTable(rows: Row[], labels: string[], baseline: string): string {
  const w = Math.max(4, ...rows.map((r) => r.case.length));
  const fmt = (n: number) => n.toFixed(n < 100 ? 1 : 0);
  const others = labels.filter((l) => l !== baseline);
  const cols = [...labels.map((l) => `${l}/s`), ...others.map((l) => `${l} ×${baseline}`)];
  const cw = cols.map((c) => Math.max(10, c.length));
  const lines = [`${'case'.padEnd(w)}  ${cols.map((c, i) => c.padStart(cw[i]!)).join('  ')}`];
  for (const r of rows) {
    const cells = [
      ...labels.map((l) => fmt(r.opsPerSecond[l]!)),
      ...others.map((l) => `${(r.opsPerSecond[baseline]! / r.opsPerSecond[l]!).toFixed(2)}×`),
    ];
    lines.push(`${r.case.padEnd(w)}  ${cells.map((c, i) => c.padStart(cw[i]!)).join('  ')}`);
  }
  return lines.join('\n');
}
