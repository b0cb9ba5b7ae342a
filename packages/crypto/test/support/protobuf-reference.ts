/**
 * The protobuf codec as it was before the single-buffer writer and the flat decoder (commit
 * e44d398), kept only as the reference the differential test in protobuf.test.ts compares
 * the current codec with. Not used by the package.
 */
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
import { ProtocolError, type ProtocolErrorCode } from '../../src/errors.ts';

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_BYTES = 2;
const WIRE_FIXED32 = 5;

export class ReferenceWriter {
  private chunks: number[] = [];
  private parts: Uint8Array[] = [];
  private length = 0;

  private flush(): void {
    if (this.chunks.length) {
      this.parts.push(Uint8Array.from(this.chunks));
      this.length += this.chunks.length;
      this.chunks = [];
    }
  }

  private varint(n: number): void {
    // n is a non-negative integer ≤ 2^53; uint32 values are the common case.
    while (n > 0x7f) {
      this.chunks.push((n % 128) | 0x80);
      n = Math.floor(n / 128);
    }
    this.chunks.push(n);
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
    for (let i = 0, n = value; i < 8; i++, n = Math.floor(n / 256)) this.chunks.push(n % 256);
    return this;
  }

  bool(field: number, value: boolean | undefined): this {
    return value === undefined ? this : this.uint(field, value ? 1 : 0);
  }

  /** A bytes field. Omitted when `value` is undefined. */
  bytes(field: number, value: Uint8Array | undefined): this {
    if (value === undefined) return this;
    this.tag(field, WIRE_BYTES);
    this.varint(value.length);
    this.flush();
    this.parts.push(value);
    this.length += value.length;
    return this;
  }

  finish(): Uint8Array {
    this.flush();
    const out = new Uint8Array(this.length);
    let offset = 0;
    for (const p of this.parts) {
      out.set(p, offset);
      offset += p.length;
    }
    return out;
  }
}

type FieldValue = { wire: number; num: number; bytes?: Uint8Array };

/** The decoded fields of one message. Later occurrences of a scalar field win (proto rule). */
export class ReferenceFields {
  private constructor(
    private readonly fields: Map<number, FieldValue[]>,
    private readonly what: string,
    private readonly code: ProtocolErrorCode,
  ) {}

  /** Parses `data`; any malformation is a ProtocolError with `code`, naming `what`. */
  static decode(data: Uint8Array, what: string, code: ProtocolErrorCode = 'InvalidMessage') {
    const fail = (why: string): never => {
      throw new ProtocolError(code, `${what} is not valid protobuf: ${why}`);
    };
    const fields = new Map<number, FieldValue[]>();
    let pos = 0;
    const readVarint = (): number => {
      let result = 0;
      let scale = 1;
      for (let i = 0; i < 10; i++) {
        if (pos >= data.length) fail('truncated varint');
        const b = data[pos++]!;
        result += (b & 0x7f) * scale;
        scale *= 128;
        if ((b & 0x80) === 0) return result;
      }
      return fail('varint too long');
    };
    while (pos < data.length) {
      const key = readVarint();
      const field = Math.floor(key / 8);
      const wire = key % 8;
      if (field === 0) fail('field number 0');
      let value: FieldValue;
      switch (wire) {
        case WIRE_VARINT:
          value = { wire, num: readVarint() };
          break;
        case WIRE_BYTES: {
          const len = readVarint();
          if (len > data.length - pos) fail('length runs past the end');
          value = { wire, num: len, bytes: data.subarray(pos, pos + len) };
          pos += len;
          break;
        }
        case WIRE_FIXED64:
        case WIRE_FIXED32: {
          const len = wire === WIRE_FIXED64 ? 8 : 4;
          if (len > data.length - pos) fail('fixed field runs past the end');
          value = { wire, num: 0, bytes: data.subarray(pos, pos + len) };
          pos += len;
          break;
        }
        default:
          return fail(`unsupported wire type ${wire}`);
      }
      const list = fields.get(field);
      if (list) list.push(value);
      else fields.set(field, [value]);
    }
    return new ReferenceFields(fields, what, code);
  }

  private last(field: number, wire: number): FieldValue | undefined {
    const list = this.fields.get(field);
    const v = list?.[list.length - 1];
    if (v && v.wire !== wire) {
      throw new ProtocolError(this.code, `${this.what} field ${field} has the wrong wire type`);
    }
    return v;
  }

  has(field: number): boolean {
    return this.fields.has(field);
  }

  /** A uint32 field (proto semantics: the low 32 bits of the varint). */
  uint32(field: number): number | undefined {
    const v = this.last(field, WIRE_VARINT);
    return v === undefined ? undefined : v.num % 0x100000000;
  }

  /** A uint64 field as a number (exact up to 2^53, enough for timestamps and counters). */
  uint64(field: number): number | undefined {
    return this.last(field, WIRE_VARINT)?.num;
  }

  /** A fixed64 field as a number (exact up to 2^53). */
  fixed64(field: number): number | undefined {
    const b = this.last(field, WIRE_FIXED64)?.bytes;
    if (b === undefined) return undefined;
    let n = 0;
    for (let i = 7; i >= 0; i--) n = n * 256 + b[i]!;
    return n;
  }

  bool(field: number): boolean | undefined {
    const v = this.last(field, WIRE_VARINT);
    return v === undefined ? undefined : v.num !== 0;
  }

  bytes(field: number): Uint8Array | undefined {
    return this.last(field, WIRE_BYTES)?.bytes;
  }

  /** Every occurrence of a repeated bytes field, in order. */
  repeatedBytes(field: number): Uint8Array[] {
    return (this.fields.get(field) ?? []).map((v) => {
      if (v.wire !== WIRE_BYTES || !v.bytes) {
        throw new ProtocolError(this.code, `${this.what} field ${field} has the wrong wire type`);
      }
      return v.bytes;
    });
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
