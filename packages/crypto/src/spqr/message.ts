/**
 * The SPQR V1 message carried in SignalMessage field 5 (SparsePostQuantumRatchet
 * src/v1/chunked/states/serialize.rs): 0x01 ‖ varint epoch ‖ varint chain index ‖ type byte
 * ‖ [varint chunk index ‖ 32-byte chunk]. An empty field is "version 0" (no SPQR).
 * @module
 */
import { ProtocolError } from '../errors.ts';
import { CHUNK_SIZE, type Chunk } from './chunk-encoding.ts';

export const enum PayloadType {
  None = 0,
  Hdr = 1,
  Ek = 2,
  EkCt1Ack = 3,
  Ct1Ack = 4,
  Ct1 = 5,
  Ct2 = 6,
}

export interface V1Message {
  epoch: number;
  type: PayloadType;
  chunk?: Chunk;
}

const hasChunk = (t: PayloadType) => t !== PayloadType.None && t !== PayloadType.Ct1Ack;

function pushVarint(out: number[], n: number): void {
  while (n >= 0x80) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
}

export function serializeMessage(msg: V1Message, index: number): Uint8Array {
  const out: number[] = [1];
  pushVarint(out, msg.epoch);
  pushVarint(out, index);
  out.push(msg.type);
  if (hasChunk(msg.type)) {
    pushVarint(out, msg.chunk!.index);
    out.push(...msg.chunk!.data);
  }
  return Uint8Array.from(out);
}

const bad = (why: string) => new ProtocolError('InvalidMessage', `SPQR message: ${why}`);

/** Read position of `varint` (parsing is synchronous and never re-entered). */
let at = 0;

function varint(from: Uint8Array): number {
  let out = 0;
  let scale = 1;
  for (let i = 0; i < 10 && at < from.length; i++) {
    const b = from[at++]!;
    out += (b & 0x7f) * scale;
    scale *= 128;
    if ((b & 0x80) === 0) {
      if (!Number.isSafeInteger(out)) throw bad('varint too large');
      return out;
    }
  }
  throw bad('truncated varint');
}

export function deserializeMessage(from: Uint8Array): { msg: V1Message; index: number } {
  if (from.length === 0 || from[0] !== 1) throw bad('not version 1');
  at = 1;
  const epoch = varint(from);
  if (epoch === 0) throw bad('epoch 0');
  const index = varint(from);
  if (index > 0xffffffff) throw bad('index too large');
  if (at >= from.length) throw bad('no payload type');
  const type = from[at++]!;
  if (type > PayloadType.Ct2) throw bad('unknown payload type');
  let chunk: Chunk | undefined;
  if (hasChunk(type)) {
    const chunkIndex = varint(from);
    if (chunkIndex > 0xffff || at + CHUNK_SIZE > from.length) throw bad('bad chunk');
    chunk = { index: chunkIndex, data: from.slice(at, at + CHUNK_SIZE) };
  }
  return { msg: { epoch, type, chunk }, index };
}
