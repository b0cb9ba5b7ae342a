/**
 * The SPQR state as libsignal stores it in `SessionStructure.pq_ratchet_state` (field 15):
 * the `PqRatchetState` protobuf of SparsePostQuantumRatchet src/proto/pq_ratchet.proto,
 * written like prost writes proto3 (ascending tags, default scalars omitted).
 *
 * One difference: the encapsulation state `es` is ours (m ‖ header, 96 bytes), not libcrux's
 * 2080-byte internal encoding (r̂ ‖ e2 ‖ m). We read libcrux's where the state also holds the
 * header (Ct1Sampled, Ct1Acknowledged), not in EkReceivedCt1Sampled; libsignal cannot read
 * ours. So a record moves between Parley and libsignal except while its side is between
 * sampling ct1 and sending ct2.
 * @module
 */
import { ProtoFields, ProtoWriter } from '../_protobuf.ts';
import { concat } from '../_bytes.ts';
import { ProtocolError } from '../errors.ts';
import type { Authenticator } from './authenticator.ts';
import type { BraidState } from './braid.ts';
import type { Chain, ChainParams, Direction, EpochDirection } from './chain.ts';
import { NUM_POLYS, PolyDecoder, PolyEncoder } from './chunk-encoding.ts';

export interface VersionNegotiation {
  authKey: Uint8Array;
  direction: Direction;
  minVersion: number;
  chainParams: ChainParams;
}

export interface PqRatchetState {
  versionNegotiation?: VersionNegotiation;
  chain?: Chain;
  v1?: BraidState;
}

const nz = (n: number) => (n === 0 ? undefined : n);
const ne = (b: Uint8Array) => (b.length === 0 ? undefined : b);
const bad = (why: string) => new ProtocolError('InvalidRecord', `SPQR state: ${why}`);
const sub = (f: ProtoFields, field: number, what: string) =>
  ProtoFields.decode(f.bytes(field) ?? new Uint8Array(0), what, 'InvalidRecord');

function u16s(values: readonly number[]): Uint8Array {
  const out = new Uint8Array(values.length * 2);
  values.forEach((v, i) => {
    out[2 * i] = v >> 8;
    out[2 * i + 1] = v & 0xff;
  });
  return out;
}
function readU16s(b: Uint8Array): number[] {
  if (b.length % 2) throw bad('odd polynomial bytes');
  const out: number[] = [];
  for (let i = 0; i < b.length; i += 2) out.push((b[i]! << 8) | b[i + 1]!);
  return out;
}

function writeParams(p: ChainParams): Uint8Array {
  return new ProtoWriter().uint(1, nz(p.maxJump)).uint(2, nz(p.maxOooKeys)).finish();
}
function readParams(b: Uint8Array | undefined): ChainParams {
  if (b === undefined) throw bad('missing chain params');
  const f = ProtoFields.decode(b, 'ChainParams', 'InvalidRecord');
  return { maxJump: f.uint32(1) ?? 0, maxOooKeys: f.uint32(2) ?? 0 };
}

function writeDirection(d: EpochDirection): Uint8Array {
  return new ProtoWriter().uint(1, nz(d.ctr)).bytes(2, ne(d.next)).bytes(3, ne(d.prev)).finish();
}
function readDirection(b: Uint8Array | undefined): EpochDirection {
  if (b === undefined) throw bad('missing chain link');
  const f = ProtoFields.decode(b, 'EpochDirection', 'InvalidRecord');
  const next = f.bytes(2) ?? new Uint8Array(0);
  const prev = f.bytes(3) ?? new Uint8Array(0);
  if (next.length !== 0 && next.length !== 32) throw bad('chain key length');
  if (prev.length % 36) throw bad('skipped keys length');
  return { ctr: f.uint32(1) ?? 0, next: next.slice(), prev: prev.slice() };
}

export function writeChain(c: Chain): Uint8Array {
  const w = new ProtoWriter().uint(1, nz(c.direction)).uint(2, nz(c.currentEpoch));
  for (const l of c.links) {
    w.bytes(
      3,
      new ProtoWriter().bytes(1, writeDirection(l.send)).bytes(2, writeDirection(l.recv)).finish(),
    );
  }
  return w
    .bytes(4, ne(c.nextRoot))
    .uint(5, nz(c.sendEpoch))
    .bytes(6, writeParams(c.params))
    .finish();
}
export function readChain(b: Uint8Array): Chain {
  const f = ProtoFields.decode(b, 'Chain', 'InvalidRecord');
  const direction = f.uint32(1) ?? 0;
  if (direction > 1) throw bad('direction');
  return {
    direction: direction as Direction,
    currentEpoch: f.uint64(2) ?? 0,
    links: f.repeatedBytes(3).map((l) => {
      const lf = ProtoFields.decode(l, 'Chain.Epoch', 'InvalidRecord');
      return { send: readDirection(lf.bytes(1)), recv: readDirection(lf.bytes(2)) };
    }),
    nextRoot: (f.bytes(4) ?? new Uint8Array(0)).slice(),
    sendEpoch: f.uint64(5) ?? 0,
    params: readParams(f.bytes(6)),
  };
}

function writeEncoder(e: PolyEncoder): Uint8Array {
  const w = new ProtoWriter().uint(1, nz(e.idx));
  for (const p of e.points ?? []) w.bytes(2, u16s(p));
  for (const p of e.polys ?? []) w.bytes(3, u16s(p));
  return w.finish();
}
function readEncoder(b: Uint8Array | undefined): PolyEncoder {
  const f = ProtoFields.decode(b ?? new Uint8Array(0), 'PolynomialEncoder', 'InvalidRecord');
  const pts = f.repeatedBytes(2);
  const polys = f.repeatedBytes(3);
  if (pts.length === NUM_POLYS && polys.length === 0)
    return new PolyEncoder(f.uint32(1) ?? 0, pts.map(readU16s), undefined);
  if (polys.length === NUM_POLYS && pts.length === 0)
    return new PolyEncoder(f.uint32(1) ?? 0, undefined, polys.map(readU16s));
  throw bad('encoder');
}

function writeDecoder(d: PolyDecoder): Uint8Array {
  const w = new ProtoWriter().uint(1, nz(d.ptsNeeded)).uint(2, NUM_POLYS);
  for (const set of d.pts) {
    const xs = [...set.keys()].sort((a, b) => a - b);
    w.bytes(3, u16s(xs.flatMap((x) => [x, set.get(x)!])));
  }
  return w.bool(4, d.isComplete || undefined).finish();
}
function readDecoder(b: Uint8Array | undefined): PolyDecoder {
  const f = ProtoFields.decode(b ?? new Uint8Array(0), 'PolynomialDecoder', 'InvalidRecord');
  const pts = f.repeatedBytes(3);
  if (pts.length !== NUM_POLYS) throw bad('decoder');
  const maps = pts.map((raw) => {
    if (raw.length % 4) throw bad('decoder points');
    const v = readU16s(raw);
    const m = new Map<number, number>();
    for (let i = 0; i < v.length; i += 2) m.set(v[i]!, v[i + 1]!);
    return m;
  });
  return new PolyDecoder(f.uint32(1) ?? 0, maps, f.bool(4) ?? false);
}

function writeAuth(a: Authenticator): Uint8Array {
  return new ProtoWriter().bytes(1, ne(a.rootKey)).bytes(2, ne(a.macKey)).finish();
}

/** Per state kind: its V1State field number and the byte fields of its unchunked `uc`. */
const KINDS: Record<BraidState['kind'], { tag: number; uc: [number, string][] }> = {
  KeysUnsampled: { tag: 1, uc: [] },
  KeysSampled: {
    tag: 2,
    uc: [
      [3, 'ek'],
      [4, 'dk'],
    ],
  },
  HeaderSent: { tag: 3, uc: [[3, 'dk']] },
  Ct1Received: {
    tag: 4,
    uc: [
      [3, 'dk'],
      [4, 'ct1'],
    ],
  },
  EkSentCt1Received: {
    tag: 5,
    uc: [
      [3, 'dk'],
      [4, 'ct1'],
    ],
  },
  NoHeaderReceived: { tag: 6, uc: [] },
  HeaderReceived: { tag: 7, uc: [[3, 'hdr']] },
  Ct1Sampled: {
    tag: 8,
    uc: [
      [3, 'hdr'],
      [4, 'es'],
      [5, 'ct1'],
    ],
  },
  EkReceivedCt1Sampled: {
    tag: 9,
    uc: [
      [3, 'es'],
      [4, 'ek'],
      [5, 'ct1'],
    ],
  },
  Ct1Acknowledged: {
    tag: 10,
    uc: [
      [3, 'hdr'],
      [4, 'es'],
      [5, 'ct1'],
    ],
  },
  Ct2Sampled: { tag: 11, uc: [] },
};
/** Per state kind: the coder fields after `uc` (tag, property, encoder or decoder). */
const CODERS: Record<BraidState['kind'], [number, string, 'enc' | 'dec'][]> = {
  KeysUnsampled: [],
  KeysSampled: [[2, 'sendingHdr', 'enc']],
  HeaderSent: [
    [2, 'sendingEk', 'enc'],
    [3, 'receivingCt1', 'dec'],
  ],
  Ct1Received: [[2, 'sendingEk', 'enc']],
  EkSentCt1Received: [[3, 'receivingCt2', 'dec']],
  NoHeaderReceived: [[2, 'receivingHdr', 'dec']],
  HeaderReceived: [[2, 'receivingEk', 'dec']],
  Ct1Sampled: [
    [2, 'sendingCt1', 'enc'],
    [3, 'receivingEk', 'dec'],
  ],
  EkReceivedCt1Sampled: [[2, 'sendingCt1', 'enc']],
  Ct1Acknowledged: [[2, 'receivingEk', 'dec']],
  Ct2Sampled: [[2, 'sendingCt2', 'enc']],
};
const LENGTHS: Record<string, number> = { ek: 1152, dk: 2400, ct1: 960, hdr: 64, es: 96 };
/** libcrux's EncapsState encoding: r̂ (3·256 i16) ‖ e2 (256 i16) ‖ m (32 bytes). */
const LIBCRUX_ES_LENGTH = 2080;

export function writeV1(s: BraidState): Uint8Array {
  const fields = s as unknown as Record<string, Uint8Array & PolyEncoder & PolyDecoder>;
  const uc = new ProtoWriter().uint(1, nz(s.epoch)).bytes(2, writeAuth(s.auth));
  for (const [tag, name] of KINDS[s.kind].uc) uc.bytes(tag, fields[name]);
  const chunked = new ProtoWriter().bytes(1, uc.finish());
  for (const [tag, name, type] of CODERS[s.kind]) {
    chunked.bytes(tag, type === 'enc' ? writeEncoder(fields[name]!) : writeDecoder(fields[name]!));
  }
  return new ProtoWriter().bytes(KINDS[s.kind].tag, chunked.finish()).finish();
}

export function readV1(b: Uint8Array): BraidState {
  const f = ProtoFields.decode(b, 'V1State', 'InvalidRecord');
  const kind = (Object.keys(KINDS) as BraidState['kind'][]).find((k) => f.has(KINDS[k].tag));
  if (kind === undefined) throw bad('no inner state');
  const chunked = sub(f, KINDS[kind].tag, 'V1State.Chunked');
  const uc = sub(chunked, 1, 'V1State.Unchunked');
  const auth = sub(uc, 2, 'Authenticator');
  const rootKey = auth.bytes(1)?.slice();
  const macKey = auth.bytes(2)?.slice();
  if (rootKey?.length !== 32 || macKey?.length !== 32) throw bad('authenticator');
  const epoch = uc.uint64(1) ?? 0;
  if (epoch === 0) throw bad('epoch 0');
  const out: Record<string, unknown> = { kind, epoch, auth: { rootKey, macKey } };
  for (const [tag, name] of KINDS[kind].uc) {
    const v = uc.bytes(tag);
    if (name === 'es' && v?.length === LIBCRUX_ES_LENGTH) continue; // converted below
    if (v === undefined || v.length !== LENGTHS[name]) throw bad(`${name} length`);
    out[name] = v.slice();
  }
  if (out.es === undefined && KINDS[kind].uc.some(([, n]) => n === 'es')) {
    // libsignal's (libcrux's) es is r̂ ‖ e2 ‖ m; with the header at hand, m ‖ header is ours.
    if (out.hdr === undefined) throw bad('libcrux encapsulation state without its header');
    const es = uc.bytes(KINDS[kind].uc.find(([, n]) => n === 'es')![0])!;
    out.es = concat(es.subarray(LIBCRUX_ES_LENGTH - 32), out.hdr as Uint8Array);
  }
  for (const [tag, name, type] of CODERS[kind]) {
    out[name] = type === 'enc' ? readEncoder(chunked.bytes(tag)) : readDecoder(chunked.bytes(tag));
  }
  return out as unknown as BraidState;
}

export function writeState(s: PqRatchetState): Uint8Array {
  const w = new ProtoWriter();
  const vn = s.versionNegotiation;
  if (vn) {
    w.bytes(
      1,
      new ProtoWriter()
        .bytes(1, ne(vn.authKey))
        .uint(2, nz(vn.direction))
        .uint(3, nz(vn.minVersion))
        .bytes(4, writeParams(vn.chainParams))
        .finish(),
    );
  }
  if (s.chain) w.bytes(2, writeChain(s.chain));
  if (s.v1) w.bytes(3, writeV1(s.v1));
  return w.finish();
}

export function readState(b: Uint8Array): PqRatchetState {
  if (b.length === 0) return {};
  const f = ProtoFields.decode(b, 'PqRatchetState', 'InvalidRecord');
  const out: PqRatchetState = {};
  const vnBytes = f.bytes(1);
  if (vnBytes !== undefined) {
    const vn = ProtoFields.decode(vnBytes, 'VersionNegotiation', 'InvalidRecord');
    const direction = vn.uint32(2) ?? 0;
    if (direction > 1) throw bad('direction');
    out.versionNegotiation = {
      authKey: (vn.bytes(1) ?? new Uint8Array(0)).slice(),
      direction: direction as Direction,
      minVersion: vn.uint32(3) ?? 0,
      chainParams: readParams(vn.bytes(4)),
    };
  }
  const chain = f.bytes(2);
  if (chain !== undefined) out.chain = readChain(chain);
  const v1 = f.bytes(3);
  if (v1 !== undefined) out.v1 = readV1(v1);
  return out;
}

function cloneDirection(d: EpochDirection): EpochDirection {
  return { ctr: d.ctr, next: d.next.slice(), prev: d.prev.slice() };
}

function cloneChain(c: Chain): Chain {
  return {
    direction: c.direction,
    currentEpoch: c.currentEpoch,
    sendEpoch: c.sendEpoch,
    links: c.links.map((l) => ({ send: cloneDirection(l.send), recv: cloneDirection(l.recv) })),
    nextRoot: c.nextRoot.slice(),
    params: { maxJump: c.params.maxJump, maxOooKeys: c.params.maxOooKeys },
  };
}

function cloneV1(s: BraidState): BraidState {
  const from = s as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = {
    kind: s.kind,
    epoch: s.epoch,
    auth: { rootKey: s.auth.rootKey.slice(), macKey: s.auth.macKey.slice() },
  };
  for (const [, name] of KINDS[s.kind].uc) out[name] = (from[name] as Uint8Array).slice();
  for (const [, name, type] of CODERS[s.kind]) {
    if (type === 'enc') {
      const e = from[name] as PolyEncoder;
      out[name] = new PolyEncoder(
        e.idx,
        e.points?.map((p) => p.slice()),
        e.polys?.map((p) => p.slice()),
      );
    } else {
      const d = from[name] as PolyDecoder;
      out[name] = new PolyDecoder(
        d.ptsNeeded,
        d.pts.map((m) => new Map(m)),
        d.isComplete,
      );
    }
  }
  return out as unknown as BraidState;
}

/**
 * A deep copy of a decoded state, equal to `readState(writeState(s))` but without the
 * protobuf round trip: the SPQR operations mutate their state in place, so a session state
 * that is copied to be worked on (and rolled back by dropping the copy) copies this too.
 */
export function cloneState(s: PqRatchetState): PqRatchetState {
  const out: PqRatchetState = {};
  const vn = s.versionNegotiation;
  if (vn) {
    out.versionNegotiation = {
      authKey: vn.authKey.slice(),
      direction: vn.direction,
      minVersion: vn.minVersion,
      chainParams: { maxJump: vn.chainParams.maxJump, maxOooKeys: vn.chainParams.maxOooKeys },
    };
  }
  if (s.chain) out.chain = cloneChain(s.chain);
  if (s.v1) out.v1 = cloneV1(s.v1);
  return out;
}
