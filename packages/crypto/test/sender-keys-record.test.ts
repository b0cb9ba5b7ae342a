/**
 * Sender-key records: libsignal's SenderKeyRecordStructure, pinned by golden fixtures (made
 * with a seeded RandomSource: a sender after 4 messages, a receiver that got iterations 3
 * and 1), checked against libsignal, and strict about malformed input.
 */
import { describe, expect, test } from 'vitest';
import { ProtocolAddress } from '../src/address.ts';
import { sha256 } from '@noble/hashes/sha2.js';
import { concat, fromHex, toHex, u32be, utf8 } from '../src/_bytes.ts';
import { ProtoWriter } from '../src/_protobuf.ts';
import { KeyPair } from '../src/curve.ts';
import {
  GroupCipher,
  InMemorySenderKeyStore,
  MAX_SENDER_KEY_STATES,
  SenderKeyRecord,
} from '../src/group.ts';
import { ls072, ls090, ls0103, bytesFor, u8 } from './support/libsignal.ts';

const SENDER_RECORD_V1 = fromHex(
  '0a7508e9e9ecbd02122408041220cd4b3ee651c327259196658c579d3e97aecd2c2b480fac6c8312a8464faaac43' +
    '1a450a210586f04227bd88c1d01a6dd5a7eae8e1141f5ed734c330149cfbaf4df1cfaa5d251220b888e25c9efe86' +
    '0d854648655c7f113d75ac764e86a4d079e84b81ac43cb1e492803',
);
const RECEIVER_RECORD_V1 = fromHex(
  '0a9d0108e9e9ecbd02122408041220cd4b3ee651c327259196658c579d3e97aecd2c2b480fac6c8312a8464faaac' +
    '431a230a210586f04227bd88c1d01a6dd5a7eae8e1141f5ed734c330149cfbaf4df1cfaa5d25222212202b32cb10' +
    'e94e6f08b12419a9acc98e34e4c026f74c6ba4d745e9c58ae30380b1222408021220d332678c71835573a9a11abf' +
    '04692c20842ddb3d43a177e19e678cfa1beed6632803',
);
const SIGNING_PUBLIC = '0586f04227bd88c1d01a6dd5a7eae8e1141f5ed734c330149cfbaf4df1cfaa5d25';
const CHAIN_KEY_AT_4 = 'cd4b3ee651c327259196658c579d3e97aecd2c2b480fac6c8312a8464faaac43';
const alice = new ProtocolAddress('aaaaaaaa-0000-4000-8000-000000000001', 1);
const id = '2bb8d0a3-5d1e-4c8f-9a57-0e4f7c3b1d62';
const code = (c: string) => expect.objectContaining({ code: c });

describe('golden fixtures (format v1 = libsignal storage.proto)', () => {
  test('the sender record decodes to its known contents and re-encodes identically', () => {
    const record = SenderKeyRecord.deserialize(SENDER_RECORD_V1);
    expect(record.states.length).toBe(1);
    const s = record.currentState()!;
    expect(s.messageVersion).toBe(3);
    expect(s.chainId).toBe(666_580_201);
    expect(s.chainKey.iteration).toBe(4);
    expect(toHex(s.chainKey.seed())).toBe(CHAIN_KEY_AT_4);
    expect(toHex(s.signingKey.serialize())).toBe(SIGNING_PUBLIC);
    expect(s.signingPrivateKey?.publicKey().equals(s.signingKey)).toBe(true);
    expect(s.skippedKeyCount).toBe(0);
    expect(record.serialize()).toEqual(SENDER_RECORD_V1);
  });

  test('the receiver record holds the skipped iterations 0 and 2, no private key', () => {
    const record = SenderKeyRecord.deserialize(RECEIVER_RECORD_V1);
    const s = record.currentState()!;
    expect([s.chainId, s.chainKey.iteration, s.skippedKeyCount]).toEqual([666_580_201, 4, 2]);
    expect(toHex(s.chainKey.seed())).toBe(CHAIN_KEY_AT_4);
    expect(s.signingPrivateKey).toBeUndefined();
    expect(record.serialize()).toEqual(RECEIVER_RECORD_V1);
  });

  test('a seeded RandomSource reproduces them exactly (all randomness is injected)', async () => {
    let counter = 0;
    const rng = (n: number) => {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i += 32) {
        const block = sha256(concat(utf8('parley sender-key fixture'), u32be(counter++)));
        out.set(block.subarray(0, Math.min(32, n - i)), i);
      }
      return out;
    };
    const senderStore = new InMemorySenderKeyStore();
    const sender = new GroupCipher(senderStore, { rng });
    const skdm = await sender.createDistributionMessage(alice, id);
    const receiverStore = new InMemorySenderKeyStore();
    const receiver = new GroupCipher(receiverStore, { rng });
    await receiver.processDistributionMessage(alice, skdm);
    const sent = [];
    for (let i = 0; i < 4; i++) sent.push(await sender.encrypt(alice, id, utf8(`m${i}`)));
    await receiver.decrypt(alice, sent[3]!);
    await receiver.decrypt(alice, sent[1]!);
    expect([...senderStore.snapshot().values()]).toEqual([SENDER_RECORD_V1]);
    expect([...receiverStore.snapshot().values()]).toEqual([RECEIVER_RECORD_V1]);
  });

  test('the fixtures still work: the sender encrypts, the receiver decrypts', async () => {
    const senderStore = new InMemorySenderKeyStore();
    await senderStore.storeSenderKey(alice, id, SenderKeyRecord.deserialize(SENDER_RECORD_V1));
    const receiverStore = new InMemorySenderKeyStore();
    await receiverStore.storeSenderKey(alice, id, SenderKeyRecord.deserialize(RECEIVER_RECORD_V1));
    const m = await new GroupCipher(senderStore).encrypt(alice, id, utf8('still here'));
    expect(await new GroupCipher(receiverStore).decrypt(alice, m)).toEqual(utf8('still here'));
  });

  test.each([
    ['0.72.1', ls072],
    ['0.90.0', ls090],
    ['0.103.0', ls0103],
  ] as const)('libsignal %s reads and re-writes them byte for byte', (_v, ls) => {
    for (const fixture of [SENDER_RECORD_V1, RECEIVER_RECORD_V1]) {
      expect(
        u8(ls.SenderKeyRecord.deserialize(bytesFor(ls)(fixture) as never).serialize()),
      ).toEqual(fixture);
    }
  });
});

describe('strict decoding', () => {
  const state = (f: (w: ProtoWriter) => ProtoWriter) => f(new ProtoWriter()).finish();
  const chain = (key: Uint8Array) => new ProtoWriter().uint(1, 3).bytes(2, key).finish();
  const signing = (pub: Uint8Array, priv?: Uint8Array) =>
    new ProtoWriter().bytes(1, pub).bytes(2, priv).finish();
  const pub = KeyPair.generate().publicKey.serialize();
  const record = (...states: Uint8Array[]) => {
    const w = new ProtoWriter();
    for (const s of states) w.bytes(1, s);
    return w.finish();
  };
  const good = state((w) =>
    w
      .uint(1, 5)
      .bytes(2, chain(new Uint8Array(32)))
      .bytes(3, signing(pub))
      .uint(5, 3),
  );

  test('an empty record is valid (no states), as libsignal', () => {
    expect(SenderKeyRecord.deserialize(new Uint8Array()).states).toEqual([]);
    expect(SenderKeyRecord.deserialize(record(good)).states.length).toBe(1);
  });

  test('message_version 0 means 3 (libsignal: "the first SenderKey version")', () => {
    const s = state((w) =>
      w
        .uint(1, 5)
        .bytes(2, chain(new Uint8Array(32)))
        .bytes(3, signing(pub)),
    );
    expect(SenderKeyRecord.deserialize(record(s)).currentState()!.messageVersion).toBe(3);
  });

  test.each([
    ['garbage', Uint8Array.of(0xff, 0xff)],
    ['a state that is not a message', record(Uint8Array.of(0x08))],
    [`more than ${MAX_SENDER_KEY_STATES} states`, record(...Array(6).fill(good))],
    ['no chain key', record(state((w) => w.uint(1, 5).bytes(3, signing(pub))))],
    ['no signing key', record(state((w) => w.uint(1, 5).bytes(2, chain(new Uint8Array(32)))))],
    [
      'a 31-byte chain key',
      record(state((w) => w.bytes(2, chain(new Uint8Array(31))).bytes(3, signing(pub)))),
    ],
    [
      'a bad public key',
      record(
        state((w) => w.bytes(2, chain(new Uint8Array(32))).bytes(3, signing(pub.subarray(1)))),
      ),
    ],
    [
      'a 31-byte private key',
      record(
        state((w) =>
          w.bytes(2, chain(new Uint8Array(32))).bytes(3, signing(pub, new Uint8Array(31))),
        ),
      ),
    ],
    [
      'a 16-byte message key seed',
      record(
        concat(
          good,
          new ProtoWriter()
            .bytes(4, new ProtoWriter().uint(1, 1).bytes(2, new Uint8Array(16)).finish())
            .finish(),
        ),
      ),
    ],
    ['a non-bytes input', 'abc' as never],
  ])('a record with %s is InvalidRecord', (_name, bytes) => {
    expect(() => SenderKeyRecord.deserialize(bytes)).toThrow(code('InvalidRecord'));
  });
});
