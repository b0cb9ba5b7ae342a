/**
 * The protobuf codec against its previous implementation (test/support/protobuf-reference.ts):
 * the writer must produce the same bytes for any sequence of fields, and the decoder must give
 * the same answers — values, or the same typed error — for any input, well-formed or not.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { ProtoFields, ProtoWriter } from '../src/_protobuf.ts';
import { ReferenceFields, ReferenceWriter } from './support/protobuf-reference.ts';

type Op =
  | { kind: 'uint'; field: number; value: number | undefined }
  | { kind: 'fixed64'; field: number; value: number | undefined }
  | { kind: 'bool'; field: number; value: boolean | undefined }
  | { kind: 'bytes'; field: number; value: Uint8Array | undefined };

const field = fc.integer({ min: 1, max: 40 });
const uintValue = fc.oneof(
  fc.integer({ min: 0, max: 0x7f }),
  fc.integer({ min: 0, max: 0xffff_ffff }),
  fc.maxSafeInteger().map((n) => Math.abs(n)),
  fc.constantFrom(0, 127, 128, 16383, 16384, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53),
);
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('uint' as const),
    field,
    value: fc.option(uintValue, { nil: undefined }),
  }),
  fc.record({
    kind: fc.constant('fixed64' as const),
    field,
    value: fc.option(uintValue, { nil: undefined }),
  }),
  fc.record({
    kind: fc.constant('bool' as const),
    field,
    value: fc.option(fc.boolean(), { nil: undefined }),
  }),
  fc.record({
    kind: fc.constant('bytes' as const),
    field,
    value: fc.option(fc.uint8Array({ maxLength: 300 }), { nil: undefined }),
  }),
);

function write<W extends ProtoWriter | ReferenceWriter>(w: W, ops: readonly Op[]): Uint8Array {
  for (const o of ops) {
    if (o.kind === 'uint') w.uint(o.field, o.value);
    else if (o.kind === 'fixed64') w.fixed64(o.field, o.value);
    else if (o.kind === 'bool') w.bool(o.field, o.value);
    else w.bytes(o.field, o.value);
  }
  return w.finish();
}

/** Every accessor's answer for fields 0–41 (a value, or the error's code and message). */
function answers(f: ProtoFields | ReferenceFields): unknown[] {
  const out: unknown[] = [];
  const ask = (get: () => unknown) => {
    try {
      const v = get();
      out.push(v instanceof Uint8Array ? ['bytes', [...v]] : v);
    } catch (e) {
      const err = e as { code?: string; message: string };
      out.push(['error', err.code, err.message]);
    }
  };
  for (let n = 0; n <= 41; n++) {
    ask(() => f.has(n));
    ask(() => f.uint32(n));
    ask(() => f.uint64(n));
    ask(() => f.fixed64(n));
    ask(() => f.bool(n));
    ask(() => f.bytes(n));
    ask(() => f.repeatedBytes(n).map((b) => [...b]));
    ask(() => f.requireUint32(n, 'x'));
    ask(() => f.requireBytes(n, 'y'));
  }
  return out;
}

function decodeBoth(bytes: Uint8Array) {
  const run = (decode: () => ProtoFields | ReferenceFields) => {
    try {
      return answers(decode());
    } catch (e) {
      const err = e as { code?: string; message: string };
      return ['error', err.code, err.message];
    }
  };
  return {
    ours: run(() => ProtoFields.decode(bytes, 'thing', 'InvalidRecord')),
    reference: run(() => ReferenceFields.decode(bytes, 'thing', 'InvalidRecord')),
  };
}

describe('protobuf codec matches its previous implementation', () => {
  test('the writer produces the same bytes', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        expect(write(new ProtoWriter(), ops)).toEqual(write(new ReferenceWriter(), ops));
      }),
      { numRuns: 500 },
    );
  });

  test('nested messages, and a writer that grows far beyond its first buffer', () => {
    const big = new Uint8Array(5000).map((_, i) => i & 0xff);
    const inner = (W: typeof ProtoWriter | typeof ReferenceWriter) =>
      new W()
        .uint(1, 7)
        .bytes(2, big)
        .bytes(3, new W().uint(1, 2 ** 40).finish())
        .finish();
    const outer = (W: typeof ProtoWriter | typeof ReferenceWriter) =>
      new W().bytes(1, inner(W)).bytes(2, new Uint8Array(0)).uint(3, 0).finish();
    expect(outer(ProtoWriter)).toEqual(outer(ReferenceWriter));
  });

  test('the decoder gives the same answers on well-formed input', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
        const { ours, reference } = decodeBoth(write(new ReferenceWriter(), ops));
        expect(ours).toEqual(reference);
      }),
      { numRuns: 300 },
    );
  });

  test('the decoder gives the same answers (or the same typed error) on mangled input', () => {
    const mangled = fc
      .tuple(
        fc.array(op, { maxLength: 10 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        fc.nat(),
      )
      .map(([ops, flips, cut]) => {
        const bytes = write(new ReferenceWriter(), ops);
        for (const [at, v] of flips) if (bytes.length) bytes[at % bytes.length] = v;
        return bytes.subarray(0, bytes.length ? cut % (bytes.length + 1) : 0);
      });
    fc.assert(
      fc.property(fc.oneof(mangled, fc.uint8Array({ maxLength: 64 })), (bytes) => {
        const { ours, reference } = decodeBoth(bytes);
        expect(ours).toEqual(reference);
      }),
      { numRuns: 1000 },
    );
  });
});
