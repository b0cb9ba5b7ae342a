/**
 * A minimal proto2 codec for the handful of libsignal wire messages (varint and
 * length-delimited fields only). Internal: not exported from the package.
 *
 * Why not a protobuf library: this package depends on the noble libraries only, so that
 * what other clients reuse stays small and auditable; the subset libsignal needs is ~100 lines.
 * Fields are written in ascending tag order, as prost (libsignal's encoder) does, so our
 * bytes equal libsignal's for the same message. Unknown fields are skipped on read
 * (libsignal's `pq_ratchet` and `addresses`), and MACs/signatures always cover the bytes as
 * received, never a re-encoding.
 * @module
 */
import { ProtocolError, type ProtocolErrorCode } from './errors.ts';

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_BYTES = 2;
const WIRE_FIXED32 = 5;
const TWO_31 = 0x80000000;

/**
 * Writes into one growing buffer (no per-byte arrays, no parts list); `finish` copies out
 * exactly the bytes written. Output is the same byte for byte as field-by-field concatenation.
 */
export class ProtoWriter {
  private buf: Uint8Array;
  private pos = 0;

  constructor(capacity = 64) {
    this.buf = new Uint8Array(capacity);
  }

  private ensure(extra: number): void {
    const need = this.pos + extra;
    if (need <= this.buf.length) return;
    const next = new Uint8Array(Math.max(need, this.buf.length * 2));
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  private varint(n: number): void {
    // n is a non-negative integer ≤ 2^53; uint32 values are the common case.
    this.ensure(10);
    const buf = this.buf;
    let pos = this.pos;
    if (n >= 0 && n < TWO_31 && (n | 0) === n) {
      while (n > 0x7f) {
        buf[pos++] = (n & 0x7f) | 0x80;
        n >>>= 7;
      }
    } else {
      while (n > 0x7f) {
        buf[pos++] = (n % 128) | 0x80;
        n = Math.floor(n / 128);
      }
    }
    buf[pos++] = n;
    this.pos = pos;
  }

  private tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  /** A uint32/uint64 field. Omitted when `value` is undefined. */
  uint(field: number, value: number | undefined): this {
    if (value === undefined) return this;
    this.tag(field, WIRE_VARINT);
    this.varint(value);
    return this;
  }

  /** A fixed64 field (little-endian, 8 bytes), e.g. a millisecond timestamp. */
  fixed64(field: number, value: number | undefined): this {
    if (value === undefined) return this;
    this.tag(field, WIRE_FIXED64);
    this.ensure(8);
    for (let i = 0, n = value; i < 8; i++, n = Math.floor(n / 256)) this.buf[this.pos++] = n % 256;
    return this;
  }

  bool(field: number, value: boolean | undefined): this {
    return value === undefined ? this : this.uint(field, value ? 1 : 0);
  }

  /** A bytes field. Omitted when `value` is undefined. */
  bytes(field: number, value: Uint8Array | undefined): this {
    if (value === undefined) return this;
    this.tag(field, WIRE_BYTES);
    const len = value.length;
    this.varint(len);
    this.ensure(len);
    if (len <= 16) {
      const buf = this.buf;
      let pos = this.pos;
      for (let i = 0; i < len; i++) buf[pos++] = value[i]!;
    } else {
      this.buf.set(value, this.pos);
    }
    this.pos += len;
    return this;
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

/** Read position of `readVarint` (decoding is synchronous and never re-entered). */
let at = 0;

function malformed(what: string, code: ProtocolErrorCode, why: string): never {
  throw new ProtocolError(code, `${what} is not valid protobuf: ${why}`);
}

function readVarint(data: Uint8Array, what: string, code: ProtocolErrorCode): number {
  if (at < data.length && data[at]! < 0x80) return data[at++]!;
  let result = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (at >= data.length) malformed(what, code, 'truncated varint');
    const b = data[at++]!;
    result += (b & 0x7f) * scale;
    scale *= 128;
    if ((b & 0x80) === 0) return result;
  }
  return malformed(what, code, 'varint too long');
}

/**
 * The decoded fields of one message. Later occurrences of a scalar field win (proto rule).
 * Kept flat: per occurrence, four numbers (field, wire type, varint value or length, offset
 * of the bytes in `data`), looked up by a scan (messages have few fields; a repeated field's
 * occurrences are read once, in order).
 */
export class ProtoFields {
  private constructor(
    private readonly data: Uint8Array,
    private readonly entries: number[],
    private readonly what: string,
    private readonly code: ProtocolErrorCode,
  ) {}

  /** Parses `data`; any malformation is a ProtocolError with `code`, naming `what`. */
  static decode(data: Uint8Array, what: string, code: ProtocolErrorCode = 'InvalidMessage') {
    const entries: number[] = [];
    at = 0;
    while (at < data.length) {
      const key = readVarint(data, what, code);
      const field = Math.floor(key / 8);
      const wire = key % 8;
      if (field === 0) malformed(what, code, 'field number 0');
      switch (wire) {
        case WIRE_VARINT:
          entries.push(field, wire, readVarint(data, what, code), 0);
          break;
        case WIRE_BYTES: {
          const len = readVarint(data, what, code);
          if (len > data.length - at) malformed(what, code, 'length runs past the end');
          entries.push(field, wire, len, at);
          at += len;
          break;
        }
        case WIRE_FIXED64:
        case WIRE_FIXED32: {
          const len = wire === WIRE_FIXED64 ? 8 : 4;
          if (len > data.length - at) malformed(what, code, 'fixed field runs past the end');
          entries.push(field, wire, 0, at);
          at += len;
          break;
        }
        default:
          return malformed(what, code, `unsupported wire type ${wire}`);
      }
    }
    return new ProtoFields(data, entries, what, code);
  }

  /** Index in `entries` of the last occurrence of `field`, checked for `wire`; -1 if none. */
  private last(field: number, wire: number): number {
    const e = this.entries;
    for (let i = e.length - 4; i >= 0; i -= 4) {
      if (e[i] !== field) continue;
      if (e[i + 1] !== wire) {
        throw new ProtocolError(this.code, `${this.what} field ${field} has the wrong wire type`);
      }
      return i;
    }
    return -1;
  }

  private bytesAt(i: number, len: number): Uint8Array {
    const start = this.entries[i + 3]!;
    return this.data.subarray(start, start + len);
  }

  has(field: number): boolean {
    const e = this.entries;
    for (let i = 0; i < e.length; i += 4) if (e[i] === field) return true;
    return false;
  }

  /** A uint32 field (proto semantics: the low 32 bits of the varint). */
  uint32(field: number): number | undefined {
    const i = this.last(field, WIRE_VARINT);
    return i < 0 ? undefined : this.entries[i + 2]! % 0x100000000;
  }

  /** A uint64 field as a number (exact up to 2^53, enough for timestamps and counters). */
  uint64(field: number): number | undefined {
    const i = this.last(field, WIRE_VARINT);
    return i < 0 ? undefined : this.entries[i + 2];
  }

  /** A fixed64 field as a number (exact up to 2^53). */
  fixed64(field: number): number | undefined {
    const i = this.last(field, WIRE_FIXED64);
    if (i < 0) return undefined;
    const b = this.bytesAt(i, 8);
    let n = 0;
    for (let j = 7; j >= 0; j--) n = n * 256 + b[j]!;
    return n;
  }

  bool(field: number): boolean | undefined {
    const i = this.last(field, WIRE_VARINT);
    return i < 0 ? undefined : this.entries[i + 2] !== 0;
  }

  bytes(field: number): Uint8Array | undefined {
    const i = this.last(field, WIRE_BYTES);
    return i < 0 ? undefined : this.bytesAt(i, this.entries[i + 2]!);
  }

  /** Every occurrence of a repeated bytes field, in order. */
  repeatedBytes(field: number): Uint8Array[] {
    const e = this.entries;
    const out: Uint8Array[] = [];
    for (let i = 0; i < e.length; i += 4) {
      if (e[i] !== field) continue;
      if (e[i + 1] !== WIRE_BYTES) {
        throw new ProtocolError(this.code, `${this.what} field ${field} has the wrong wire type`);
      }
      out.push(this.bytesAt(i, e[i + 2]!));
    }
    return out;
  }

  requireUint32(field: number, name: string): number {
    const v = this.uint32(field);
    if (v === undefined) throw new ProtocolError(this.code, `${this.what} lacks ${name}`);
    return v;
  }

  requireBytes(field: number, name: string): Uint8Array {
    const v = this.bytes(field);
    if (v === undefined) throw new ProtocolError(this.code, `${this.what} lacks ${name}`);
    return v;
  }
}
