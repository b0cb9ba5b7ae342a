/**
 * SPQR's symmetric chain (SparsePostQuantumRatchet src/chain.rs): each epoch secret starts a
 * send and a receive chain; every message takes the next key of the current send chain, and
 * a receiver keeps skipped keys (bounded) for out-of-order delivery. The structure mirrors the
 * `Chain` protobuf libsignal stores, field for field.
 * @module
 */
import { hkdfSha256 } from '../_primitives.ts';
import { concat } from '../_bytes.ts';
import { ProtocolError } from '../errors.ts';

export const enum Direction {
  A2B = 0,
  B2A = 1,
}

export interface ChainParams {
  /** 0 means the default (25 000), as stored. */
  maxJump: number;
  /** 0 means the default (2 000), as stored. */
  maxOooKeys: number;
}

export interface EpochDirection {
  ctr: number;
  /** 32 bytes, or empty once the chain is closed for sending. */
  next: Uint8Array;
  /** Skipped keys: (u32 BE index ‖ 32-byte key)*, in libsignal's order. */
  prev: Uint8Array;
}

export interface Chain {
  direction: Direction;
  currentEpoch: number;
  sendEpoch: number;
  links: { send: EpochDirection; recv: EpochDirection }[];
  nextRoot: Uint8Array;
  params: ChainParams;
}

const DEFAULT_MAX_JUMP = 25_000;
const DEFAULT_MAX_OOO = 2_000;
const KEY_ENTRY = 36;
const ZERO32 = new Uint8Array(32);
const enc = (s: string) => new TextEncoder().encode(s);
// The double space is in the reference implementation's label.
const START_INFO = enc('Signal PQ Ratchet V1 Chain  Start');
const ADD_EPOCH_INFO = enc('Signal PQ Ratchet V1 Chain Add Epoch');
const NEXT_INFO = enc('Signal PQ Ratchet V1 Chain Next');
const EPOCHS_TO_KEEP_PRIOR_TO_SEND_EPOCH = 1;

const maxJump = (p: ChainParams) => (p.maxJump > 0 ? p.maxJump : DEFAULT_MAX_JUMP);
const maxOoo = (p: ChainParams) => (p.maxOooKeys > 0 ? p.maxOooKeys : DEFAULT_MAX_OOO);
const trimSize = (p: ChainParams) => Math.floor((maxOoo(p) * 11) / 10) + 1;

// Every SPQR failure is InvalidMessage, as libsignal reports it: the Double Ratchet has already
// classified replays (DuplicatedMessage) and jumps, and another session state may still fit.
function chainError(message: string): ProtocolError {
  return new ProtocolError('InvalidMessage', `SPQR chain: ${message}`);
}

function link(genr8r: Uint8Array, dir: Direction) {
  const part = (d: Direction): EpochDirection => ({
    ctr: 0,
    next: genr8r.slice(d === Direction.A2B ? 32 : 64, d === Direction.A2B ? 64 : 96),
    prev: new Uint8Array(0),
  });
  return { send: part(dir), recv: part(dir === Direction.A2B ? Direction.B2A : Direction.A2B) };
}

export function newChain(initialKey: Uint8Array, direction: Direction, params: ChainParams): Chain {
  const genr8r = hkdfSha256(initialKey, ZERO32, START_INFO, 96);
  return {
    direction,
    currentEpoch: 0,
    sendEpoch: 0,
    links: [link(genr8r, direction)],
    nextRoot: genr8r.slice(0, 32),
    params,
  };
}

export function addEpoch(chain: Chain, epoch: number, secret: Uint8Array): void {
  if (epoch !== chain.currentEpoch + 1) throw chainError('epoch does not follow');
  const genr8r = hkdfSha256(secret, chain.nextRoot, ADD_EPOCH_INFO, 96);
  chain.currentEpoch = epoch;
  chain.nextRoot = genr8r.slice(0, 32);
  chain.links.push(link(genr8r, chain.direction));
}

function u32be(n: number): Uint8Array {
  return Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

function readU32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

/** Advances one step: returns (new ctr, message key). */
function nextKey(d: EpochDirection): [number, Uint8Array] {
  if (d.next.length !== 32) throw chainError('chain is closed');
  d.ctr += 1;
  const genr8r = hkdfSha256(d.next, ZERO32, concat(u32be(d.ctr), NEXT_INFO), 64);
  d.next = genr8r.slice(0, 32);
  return [d.ctr, genr8r.slice(32)];
}

/** Removes the entry at byte offset `at` the way the reference does (swap in the last entry). */
function removeEntry(d: EpochDirection, at: number): void {
  const prev = d.prev.slice();
  let end = at;
  if (at + KEY_ENTRY < prev.length) {
    end = prev.length - KEY_ENTRY;
    prev.copyWithin(at, end);
  }
  d.prev = prev.slice(0, end);
}

function gc(d: EpochDirection, current: number, params: ChainParams): void {
  if (d.prev.length < trimSize(params) * KEY_ENTRY) return;
  const horizon = current - maxOoo(params);
  let i = 0;
  while (i < d.prev.length) {
    if (horizon > readU32(d.prev, i)) removeEntry(d, i);
    else i += KEY_ENTRY;
  }
}

function recvKeyAt(d: EpochDirection, at: number, params: ChainParams): Uint8Array {
  if (at < d.ctr) {
    if (at + maxOoo(params) < d.ctr) throw chainError(`key ${at} was trimmed`);
    for (let i = 0; i < d.prev.length; i += KEY_ENTRY) {
      if (readU32(d.prev, i) === at) {
        const key = d.prev.slice(i + 4, i + KEY_ENTRY);
        removeEntry(d, i);
        return key;
      }
    }
    throw chainError(`key ${at} was already used`);
  }
  if (at === d.ctr) throw chainError(`key ${at} was already used`);
  if (at - d.ctr > maxJump(params)) throw chainError('key jump too large');
  if (at > d.ctr + maxOoo(params)) d.prev = new Uint8Array(0);
  const added: Uint8Array[] = [d.prev];
  while (at > d.ctr + 1) {
    const [ctr, key] = nextKey(d);
    if (ctr + maxOoo(params) >= at) added.push(u32be(ctr), key);
  }
  d.prev = concat(...added);
  gc(d, d.ctr, params);
  return nextKey(d)[1];
}

function epochIndex(chain: Chain, epoch: number): number {
  if (epoch > chain.currentEpoch) throw chainError(`epoch ${epoch} out of range`);
  const back = chain.currentEpoch - epoch;
  if (back >= chain.links.length) throw chainError(`epoch ${epoch} out of range`);
  return chain.links.length - 1 - back;
}

export function sendKey(chain: Chain, epoch: number): [number, Uint8Array] {
  if (epoch < chain.sendEpoch) throw chainError('send epoch decreased');
  let index = epochIndex(chain, epoch);
  if (chain.sendEpoch !== epoch) {
    chain.sendEpoch = epoch;
    while (index > EPOCHS_TO_KEEP_PRIOR_TO_SEND_EPOCH) {
      chain.links.shift();
      index -= 1;
    }
    for (let i = 0; i < index; i++) chain.links[i]!.send.next = new Uint8Array(0);
  }
  return nextKey(chain.links[index]!.send);
}

export function recvKey(chain: Chain, epoch: number, index: number): Uint8Array {
  return recvKeyAt(chain.links[epochIndex(chain, epoch)]!.recv, index, chain.params);
}
