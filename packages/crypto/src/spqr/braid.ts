/**
 * The SPQR V1 "braid" state machine (SparsePostQuantumRatchet src/v1/chunked/states.rs and
 * src/v1/{chunked,unchunked}/send_{ek,ct}.rs). Per epoch one side (A on odd epochs) samples an
 * ML-KEM-768 key and sends its header (+MAC) then its ek in chunks; the other encapsulates as
 * soon as it has the header, sends ct1, and ct2 (+MAC) once it has the ek. Each epoch yields
 * a 32-byte epoch secret for the chain, and the roles swap. Every state here matches one
 * `V1State.Chunked.*` protobuf message (state-proto.ts).
 * @module
 */
import { ProtocolError } from '../errors.ts';
import type { RandomSource } from '../random.ts';
import { concat } from '../_bytes.ts';
import * as kem from './incremental-mlkem768.ts';
import {
  MAC_SIZE,
  macCt,
  macHdr,
  newAuthenticator,
  sckaKey,
  updateAuthenticator,
  verifyCt,
  verifyHdr,
  type Authenticator,
} from './authenticator.ts';
import { PolyDecoder, PolyEncoder, type Chunk } from './chunk-encoding.ts';
import { PayloadType, type V1Message } from './message.ts';

interface Base {
  epoch: number;
  auth: Authenticator;
}
export type BraidState =
  | (Base & { kind: 'KeysUnsampled' })
  | (Base & { kind: 'KeysSampled'; ek: Uint8Array; dk: Uint8Array; sendingHdr: PolyEncoder })
  | (Base & {
      kind: 'HeaderSent';
      dk: Uint8Array;
      sendingEk: PolyEncoder;
      receivingCt1: PolyDecoder;
    })
  | (Base & { kind: 'Ct1Received'; dk: Uint8Array; ct1: Uint8Array; sendingEk: PolyEncoder })
  | (Base & {
      kind: 'EkSentCt1Received';
      dk: Uint8Array;
      ct1: Uint8Array;
      receivingCt2: PolyDecoder;
    })
  | (Base & { kind: 'NoHeaderReceived'; receivingHdr: PolyDecoder })
  | (Base & { kind: 'HeaderReceived'; hdr: Uint8Array; receivingEk: PolyDecoder })
  | (Base & {
      kind: 'Ct1Sampled';
      hdr: Uint8Array;
      es: Uint8Array;
      ct1: Uint8Array;
      sendingCt1: PolyEncoder;
      receivingEk: PolyDecoder;
    })
  | (Base & {
      kind: 'EkReceivedCt1Sampled';
      es: Uint8Array;
      ek: Uint8Array;
      ct1: Uint8Array;
      sendingCt1: PolyEncoder;
    })
  | (Base & {
      kind: 'Ct1Acknowledged';
      hdr: Uint8Array;
      es: Uint8Array;
      ct1: Uint8Array;
      receivingEk: PolyDecoder;
    })
  | (Base & { kind: 'Ct2Sampled'; sendingCt2: PolyEncoder });

export interface EpochSecret {
  epoch: number;
  secret: Uint8Array;
}

const HDR_LEN = kem.HEADER_SIZE + MAC_SIZE;
const CT2_LEN = kem.CIPHERTEXT2_SIZE + MAC_SIZE;

export function initA(authKey: Uint8Array): BraidState {
  return { kind: 'KeysUnsampled', epoch: 1, auth: newAuthenticator(authKey, 1) };
}

export function initB(authKey: Uint8Array): BraidState {
  return noHeaderReceived(1, newAuthenticator(authKey, 1));
}

function noHeaderReceived(epoch: number, auth: Authenticator): BraidState {
  return { kind: 'NoHeaderReceived', epoch, auth, receivingHdr: PolyDecoder.forLength(HDR_LEN) };
}

function ct2Sampled(
  epoch: number,
  auth: Authenticator,
  es: Uint8Array,
  ek: Uint8Array,
  ct1: Uint8Array,
): BraidState {
  const ct2 = kem.encaps2(ek, es);
  const mac = macCt(auth, epoch, concat(ct1, ct2));
  return { kind: 'Ct2Sampled', epoch, auth, sendingCt2: PolyEncoder.encode(concat(ct2, mac)) };
}

export interface BraidSend {
  state: BraidState;
  msg: V1Message;
  key?: EpochSecret;
}

/** The chunk (or ack) to attach to our next message. Mutates the encoders of `s`. */
export function braidSend(s: BraidState, rng: RandomSource): BraidSend {
  const out = (
    state: BraidState,
    type: PayloadType,
    chunk?: Chunk,
    key?: EpochSecret,
  ): BraidSend => ({
    state,
    msg: { epoch: s.epoch, type, chunk },
    key,
  });
  switch (s.kind) {
    case 'KeysUnsampled': {
      const keys = kem.generate(rng);
      const sendingHdr = PolyEncoder.encode(concat(keys.hdr, macHdr(s.auth, s.epoch, keys.hdr)));
      const chunk = sendingHdr.nextChunk();
      const state: BraidState = {
        kind: 'KeysSampled',
        epoch: s.epoch,
        auth: s.auth,
        ek: keys.ek,
        dk: keys.dk,
        sendingHdr,
      };
      return out(state, PayloadType.Hdr, chunk);
    }
    case 'KeysSampled':
      return out(s, PayloadType.Hdr, s.sendingHdr.nextChunk());
    case 'HeaderSent':
      return out(s, PayloadType.Ek, s.sendingEk.nextChunk());
    case 'Ct1Received':
      return out(s, PayloadType.EkCt1Ack, s.sendingEk.nextChunk());
    case 'EkSentCt1Received':
      return out(s, PayloadType.Ct1Ack);
    case 'NoHeaderReceived':
    case 'Ct1Acknowledged':
      return out(s, PayloadType.None);
    case 'HeaderReceived': {
      const { ct1, es, sharedSecret } = kem.encaps1(s.hdr, rng);
      const secret = sckaKey(sharedSecret, s.epoch);
      const auth = updateAuthenticator(s.auth, s.epoch, secret);
      const sendingCt1 = PolyEncoder.encode(ct1);
      const chunk = sendingCt1.nextChunk();
      const state: BraidState = {
        kind: 'Ct1Sampled',
        epoch: s.epoch,
        auth,
        hdr: s.hdr,
        es,
        ct1,
        sendingCt1,
        receivingEk: s.receivingEk,
      };
      return out(state, PayloadType.Ct1, chunk, { epoch: s.epoch, secret });
    }
    case 'Ct1Sampled':
    case 'EkReceivedCt1Sampled':
      return out(s, PayloadType.Ct1, s.sendingCt1.nextChunk());
    case 'Ct2Sampled':
      return out(s, PayloadType.Ct2, s.sendingCt2.nextChunk());
  }
}

function erroneous(): ProtocolError {
  return new ProtocolError('InvalidMessage', 'SPQR encapsulation key does not match its header');
}

/** Applies a peer's message. Throws (ProtocolError) on a bad MAC, key or epoch. */
export function braidRecv(s: BraidState, msg: V1Message): { state: BraidState; key?: EpochSecret } {
  if (msg.epoch > s.epoch) {
    if (s.kind === 'Ct2Sampled' && msg.epoch === s.epoch + 1) {
      return { state: { kind: 'KeysUnsampled', epoch: s.epoch + 1, auth: s.auth } };
    }
    throw new ProtocolError('InvalidMessage', `SPQR epoch ${msg.epoch} out of range`);
  }
  if (msg.epoch < s.epoch) return { state: s };
  const { type, chunk } = msg;
  switch (s.kind) {
    case 'KeysSampled':
      if (type !== PayloadType.Ct1) break;
      {
        const receivingCt1 = PolyDecoder.forLength(kem.CIPHERTEXT1_SIZE);
        receivingCt1.addChunk(chunk!);
        const sendingEk = PolyEncoder.encode(s.ek);
        return {
          state: {
            kind: 'HeaderSent',
            epoch: s.epoch,
            auth: s.auth,
            dk: s.dk,
            sendingEk,
            receivingCt1,
          },
        };
      }
    case 'HeaderSent': {
      if (type !== PayloadType.Ct1) break;
      s.receivingCt1.addChunk(chunk!);
      const ct1 = s.receivingCt1.decodedMessage();
      if (ct1 === undefined) return { state: s };
      return {
        state: {
          kind: 'Ct1Received',
          epoch: s.epoch,
          auth: s.auth,
          dk: s.dk,
          ct1,
          sendingEk: s.sendingEk,
        },
      };
    }
    case 'Ct1Received': {
      if (type !== PayloadType.Ct2) break;
      const receivingCt2 = PolyDecoder.forLength(CT2_LEN);
      receivingCt2.addChunk(chunk!);
      return {
        state: {
          kind: 'EkSentCt1Received',
          epoch: s.epoch,
          auth: s.auth,
          dk: s.dk,
          ct1: s.ct1,
          receivingCt2,
        },
      };
    }
    case 'EkSentCt1Received': {
      if (type !== PayloadType.Ct2) break;
      s.receivingCt2.addChunk(chunk!);
      const decoded = s.receivingCt2.decodedMessage();
      if (decoded === undefined) return { state: s };
      const ct2 = decoded.subarray(0, kem.CIPHERTEXT2_SIZE);
      const secret = sckaKey(kem.decaps(s.dk, s.ct1, ct2), s.epoch);
      const auth = updateAuthenticator(s.auth, s.epoch, secret);
      verifyCt(auth, s.epoch, concat(s.ct1, ct2), decoded.subarray(kem.CIPHERTEXT2_SIZE));
      return { state: noHeaderReceived(s.epoch + 1, auth), key: { epoch: s.epoch, secret } };
    }
    case 'NoHeaderReceived': {
      if (type !== PayloadType.Hdr) break;
      s.receivingHdr.addChunk(chunk!);
      const decoded = s.receivingHdr.decodedMessage();
      if (decoded === undefined) return { state: s };
      const hdr = decoded.slice(0, kem.HEADER_SIZE);
      verifyHdr(s.auth, s.epoch, hdr, decoded.subarray(kem.HEADER_SIZE));
      const receivingEk = PolyDecoder.forLength(kem.ENCAPSULATION_KEY_SIZE);
      return { state: { kind: 'HeaderReceived', epoch: s.epoch, auth: s.auth, hdr, receivingEk } };
    }
    case 'Ct1Sampled': {
      if (type !== PayloadType.Ek && type !== PayloadType.EkCt1Ack) break;
      const ack = type === PayloadType.EkCt1Ack;
      s.receivingEk.addChunk(chunk!);
      const ek = s.receivingEk.decodedMessage();
      const base = { epoch: s.epoch, auth: s.auth, es: s.es, ct1: s.ct1 };
      if (ek !== undefined) {
        if (!kem.ekMatchesHeader(ek, s.hdr)) throw erroneous();
        if (ack) return { state: ct2Sampled(s.epoch, s.auth, s.es, ek, s.ct1) };
        return { state: { kind: 'EkReceivedCt1Sampled', ...base, ek, sendingCt1: s.sendingCt1 } };
      }
      if (ack)
        return {
          state: { kind: 'Ct1Acknowledged', ...base, hdr: s.hdr, receivingEk: s.receivingEk },
        };
      return { state: s };
    }
    case 'EkReceivedCt1Sampled':
      if (type !== PayloadType.Ct1Ack && type !== PayloadType.EkCt1Ack) break;
      return { state: ct2Sampled(s.epoch, s.auth, s.es, s.ek, s.ct1) };
    case 'Ct1Acknowledged': {
      if (type !== PayloadType.Ek && type !== PayloadType.EkCt1Ack) break;
      s.receivingEk.addChunk(chunk!);
      const ek = s.receivingEk.decodedMessage();
      if (ek === undefined) return { state: s };
      if (!kem.ekMatchesHeader(ek, s.hdr)) throw erroneous();
      return { state: ct2Sampled(s.epoch, s.auth, s.es, ek, s.ct1) };
    }
    case 'KeysUnsampled':
    case 'HeaderReceived':
    case 'Ct2Sampled':
      break;
  }
  return { state: s };
}
