/**
 * SPQR (Sparse Post-Quantum Ratchet) v1, the API libsignal calls (SparsePostQuantumRatchet
 * src/lib.rs): `initialState`, then per message `spqrSend` / `spqrRecv`. States and messages
 * are opaque bytes, exactly as libsignal stores and sends them; a failed call throws and the
 * caller keeps its old state bytes. The message key returned salts the Double Ratchet's
 * message-key HKDF; undefined means "no salt".
 * @module
 */
import { ProtocolError } from '../errors.ts';
import { systemRandom, type RandomSource } from '../random.ts';
import { braidRecv, braidSend, initA, initB } from './braid.ts';
import {
  addEpoch,
  newChain,
  recvKey,
  sendKey,
  Direction,
  type Chain,
  type ChainParams,
} from './chain.ts';
import { deserializeMessage, serializeMessage } from './message.ts';
import {
  readState,
  writeState,
  type PqRatchetState,
  type VersionNegotiation,
} from './state-proto.ts';

export { Direction, type ChainParams } from './chain.ts';
export const VERSION_0 = 0;
export const VERSION_1 = 1;

export interface SpqrParams {
  direction: Direction;
  version: number;
  minVersion: number;
  authKey: Uint8Array;
  chainParams: ChainParams;
}

/** libsignal's chain params (MAX_FORWARD_JUMPS 25 000, MAX_MESSAGE_KEYS 2 000) stored as defaults. */
export const LIBSIGNAL_CHAIN_PARAMS: ChainParams = { maxJump: 0, maxOooKeys: 0 };

export function initialState(p: SpqrParams): Uint8Array {
  if (p.version === VERSION_0) return new Uint8Array(0);
  return writeState({
    versionNegotiation: {
      authKey: p.authKey,
      direction: p.direction,
      minVersion: p.minVersion,
      chainParams: p.chainParams,
    },
    v1: p.direction === Direction.A2B ? initA(p.authKey) : initB(p.authKey),
  });
}

function chainFrom(s: PqRatchetState): Chain {
  if (s.chain) return s.chain;
  const vn = s.versionNegotiation;
  if (!vn) throw new ProtocolError('InvalidState', 'SPQR chain not available');
  return newChain(vn.authKey, vn.direction, vn.chainParams);
}

export interface SpqrSend {
  state: Uint8Array;
  msg: Uint8Array;
  key: Uint8Array | undefined;
}

/** `spqrSend` on a decoded state, which it mutates: pass a copy you can drop on failure. */
export interface SpqrSendDecoded {
  state: PqRatchetState;
  msg: Uint8Array;
  key: Uint8Array | undefined;
}

export function spqrSendDecoded(
  s: PqRatchetState,
  rng: RandomSource = systemRandom,
): SpqrSendDecoded {
  if (!s.v1) return { state: {}, msg: new Uint8Array(0), key: undefined };
  const sent = braidSend(s.v1, rng);
  let chain: Chain | undefined;
  if (s.chain) chain = s.chain;
  else if (!s.versionNegotiation)
    throw new ProtocolError('InvalidState', 'SPQR chain not available');
  else if (s.versionNegotiation.minVersion > VERSION_0) chain = chainFrom(s);
  let index = 0;
  let key: Uint8Array | undefined;
  if (chain) {
    if (sent.key) addEpoch(chain, sent.key.epoch, sent.key.secret);
    [index, key] = sendKey(chain, sent.msg.epoch - 1);
  }
  const state: PqRatchetState = {};
  if (s.versionNegotiation) state.versionNegotiation = s.versionNegotiation;
  if (chain) state.chain = chain;
  state.v1 = sent.state;
  return { state, msg: serializeMessage(sent.msg, index), key };
}

export function spqrSend(stateBytes: Uint8Array, rng: RandomSource = systemRandom): SpqrSend {
  const out = spqrSendDecoded(readState(stateBytes), rng);
  return { state: writeState(out.state), msg: out.msg, key: out.key };
}

export interface SpqrRecv {
  state: Uint8Array;
  key: Uint8Array | undefined;
}

function negotiateDown(s: PqRatchetState, vn: VersionNegotiation, version: number): PqRatchetState {
  if (version < vn.minVersion) {
    throw new ProtocolError('InvalidMessage', 'SPQR: peer is below our minimum version');
  }
  // Only version 0 is below 1: SPQR switches off, and no further negotiation is allowed.
  return { chain: chainFrom(s) };
}

/**
 * `spqrRecv` on a decoded state, which it may mutate even when it throws: pass a copy you can
 * drop on failure. Returns `s` itself when the message leaves the state as it is.
 */
export function spqrRecvDecoded(
  s: PqRatchetState,
  msgBytes: Uint8Array,
): { state: PqRatchetState; key: Uint8Array | undefined } {
  const msgVersion = msgBytes.length === 0 ? VERSION_0 : msgBytes[0]!;
  if (msgVersion > VERSION_1) return { state: s, key: undefined };
  const ourVersion = s.v1 ? VERSION_1 : VERSION_0;
  if (msgVersion < ourVersion) {
    if (!s.versionNegotiation) throw new ProtocolError('InvalidMessage', 'SPQR version mismatch');
    s = negotiateDown(s, s.versionNegotiation, msgVersion);
  }
  if (!s.v1) return { state: {}, key: undefined };
  const { msg, index } = deserializeMessage(msgBytes);
  const received = braidRecv(s.v1, msg);
  const chain = chainFrom(s);
  if (received.key) addEpoch(chain, received.key.epoch, received.key.secret);
  const keyEpoch = msg.epoch - 1;
  const key = keyEpoch === 0 && index === 0 ? undefined : recvKey(chain, keyEpoch, index);
  return { state: { chain, v1: received.state }, key };
}

export function spqrRecv(stateBytes: Uint8Array, msgBytes: Uint8Array): SpqrRecv {
  const msgVersion = msgBytes.length === 0 ? VERSION_0 : msgBytes[0]!;
  const s = readState(stateBytes);
  if (msgVersion > VERSION_1) return { state: stateBytes, key: undefined };
  const out = spqrRecvDecoded(s, msgBytes);
  return { state: writeState(out.state), key: out.key };
}
