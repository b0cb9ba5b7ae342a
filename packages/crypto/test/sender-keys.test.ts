/**
 * Sender Keys on their own: KDF, wire parsing, limits, state rotation, clean failure,
 * serialised concurrency and secret hygiene. Interop is in group-interop.test.ts.
 */
import { inspect } from 'node:util';
import { describe, expect, test } from 'vitest';
import { ProtocolAddress } from '../src/address.ts';
import { concat, toHex, utf8 } from '../src/_bytes.ts';
import { aes256CbcEncrypt, hmacSha256 } from '../src/_primitives.ts';
import { ProtoWriter } from '../src/_protobuf.ts';
import { KeyPair } from '../src/curve.ts';
import {
  GroupCipher,
  InMemorySenderKeyStore,
  MAX_FORWARD_JUMPS,
  MAX_MESSAGE_KEYS,
  MAX_SENDER_KEY_STATES,
  SenderKeyDistributionMessage,
  SenderKeyMessage,
  SenderKeyRecord,
} from '../src/group.ts';
import { SenderChainKey } from '../src/sender-keys/sender-chain-key.ts';
import { ls090, lsb, u8 } from './support/libsignal.ts';

const code = (c: string) => expect.objectContaining({ code: c });
const alice = new ProtocolAddress('aaaaaaaa-0000-4000-8000-000000000001', 1);
const text = (s: string) => utf8(s);

async function group() {
  const id = crypto.randomUUID();
  const senderStore = new InMemorySenderKeyStore();
  const sender = new GroupCipher(senderStore);
  const skdm = await sender.createDistributionMessage(alice, id);
  const store = new InMemorySenderKeyStore();
  const receiver = new GroupCipher(store);
  await receiver.processDistributionMessage(alice, skdm);
  return { id, sender, senderStore, skdm, receiver, store };
}

describe('chain and message keys', () => {
  test('HMAC 0x01 seeds, HMAC 0x02 steps, HKDF "WhisperGroup" gives iv ‖ cipherKey', () => {
    const ck = crypto.getRandomValues(new Uint8Array(32));
    const chain = new SenderChainKey(7, ck);
    const seed = hmacSha256(ck, Uint8Array.of(1));
    expect(chain.messageKey().seed()).toEqual(seed);
    expect(chain.messageKey().iteration).toBe(7);
    expect(chain.next().seed()).toEqual(hmacSha256(ck, Uint8Array.of(2)));
    expect(chain.next().iteration).toBe(8);
    // Cross-checked with libsignal's own HKDF export.
    const okm = u8(ls090.hkdf(48, lsb(seed), lsb(utf8('WhisperGroup')), null));
    const { iv, cipherKey } = chain.messageKey().derive();
    expect(iv).toEqual(okm.subarray(0, 16));
    expect(cipherKey).toEqual(okm.subarray(16, 48));
  });

  test('the iteration is a u32: stepping past 2^32 − 1 is InvalidState', () => {
    const last = new SenderChainKey(0xffff_ffff, new Uint8Array(32));
    expect(() => last.next()).toThrow(code('InvalidState'));
    expect(() => new SenderChainKey(2 ** 32, new Uint8Array(32))).toThrow(code('InvalidArgument'));
    expect(() => new SenderChainKey(0, new Uint8Array(31))).toThrow(code('InvalidArgument'));
  });
});

describe('wire format', () => {
  const id = '0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0';
  const signing = KeyPair.generate();

  test('an SKM round-trips and verifies; its version byte is 0x33', () => {
    const m = SenderKeyMessage.create(
      { distributionId: id, chainId: 9, iteration: 2, ciphertext: new Uint8Array(16) },
      signing.privateKey,
    );
    const bytes = m.serialize();
    expect(bytes[0]).toBe(0x33);
    const back = SenderKeyMessage.deserialize(bytes);
    expect([back.distributionId, back.chainId, back.iteration]).toEqual([id, 9, 2]);
    expect(back.ciphertext()).toEqual(new Uint8Array(16));
    expect(back.verifySignature(signing.publicKey)).toBe(true);
    expect(back.verifySignature(KeyPair.generate().publicKey)).toBe(false);
  });

  const body = (fields: (w: ProtoWriter) => ProtoWriter) => fields(new ProtoWriter()).finish();
  const skm = (version: number, proto: Uint8Array) =>
    concat(Uint8Array.of(version), proto, new Uint8Array(64));
  const uuid = new Uint8Array(16).fill(7);
  const full = (w: ProtoWriter) =>
    w.bytes(1, uuid).uint(2, 1).uint(3, 0).bytes(4, new Uint8Array(16));

  test.each([
    ['too short', new Uint8Array(64), 'InvalidMessage'],
    ['version 2', skm(0x22, body(full)), 'LegacyCiphertextVersion'],
    ['version 4', skm(0x44, body(full)), 'UnrecognizedMessageVersion'],
    ['version 15', skm(0xf3, body(full)), 'UnrecognizedMessageVersion'],
    ['bad protobuf', skm(0x33, Uint8Array.of(0x0a, 0x7f)), 'InvalidMessage'],
    [
      '15-byte uuid',
      skm(
        0x33,
        body((w) => w.bytes(1, uuid.subarray(1)).uint(2, 1).uint(3, 0).bytes(4, uuid)),
      ),
      'InvalidMessage',
    ],
    [
      'no chain id',
      skm(
        0x33,
        body((w) => w.bytes(1, uuid).uint(3, 0).bytes(4, uuid)),
      ),
      'InvalidMessage',
    ],
    [
      'no iteration',
      skm(
        0x33,
        body((w) => w.bytes(1, uuid).uint(2, 0).bytes(4, uuid)),
      ),
      'InvalidMessage',
    ],
    [
      'no ciphertext',
      skm(
        0x33,
        body((w) => w.bytes(1, uuid).uint(2, 0).uint(3, 0)),
      ),
      'InvalidMessage',
    ],
  ])('an SKM that is %s is rejected with %s', (_name, bytes, c) => {
    expect(() => SenderKeyMessage.deserialize(bytes)).toThrow(code(c));
  });

  const skdmBody = (chainKey: Uint8Array, key: Uint8Array) =>
    body((w) => w.bytes(1, uuid).uint(2, 1).uint(3, 0).bytes(4, chainKey).bytes(5, key));
  const pub = signing.publicKey.serialize();

  test('an SKDM round-trips; the minimum length is 65', () => {
    const chainKey = new Uint8Array(32).fill(1);
    const m = SenderKeyDistributionMessage.create({
      distributionId: id.toUpperCase(),
      chainId: 2 ** 31 - 1,
      iteration: 12,
      chainKey,
      signingKey: signing.publicKey,
    });
    const back = SenderKeyDistributionMessage.deserialize(m.serialize());
    expect(back.distributionId).toBe(id);
    expect([back.chainId, back.iteration]).toEqual([2 ** 31 - 1, 12]);
    expect(back.chainKey()).toEqual(chainKey);
    expect(back.signingKey.equals(signing.publicKey)).toBe(true);
    expect(() => SenderKeyDistributionMessage.deserialize(m.serialize().subarray(0, 64))).toThrow(
      code('InvalidMessage'),
    );
  });

  test.each([
    [
      'version 2',
      concat(Uint8Array.of(0x22), skdmBody(new Uint8Array(32), pub)),
      'LegacyCiphertextVersion',
    ],
    [
      'version 4',
      concat(Uint8Array.of(0x44), skdmBody(new Uint8Array(32), pub)),
      'UnrecognizedMessageVersion',
    ],
    [
      'a 31-byte chain key',
      concat(Uint8Array.of(0x33), skdmBody(new Uint8Array(31), pub)),
      'InvalidMessage',
    ],
    [
      'a 34-byte signing key',
      concat(Uint8Array.of(0x33), skdmBody(new Uint8Array(32), concat(pub, Uint8Array.of(0)))),
      'InvalidMessage',
    ],
    [
      'a non-0x05 signing key',
      concat(
        Uint8Array.of(0x33),
        skdmBody(new Uint8Array(32), concat(Uint8Array.of(6), pub.subarray(1))),
      ),
      'InvalidKey',
    ],
    [
      'truncated protobuf',
      concat(Uint8Array.of(0x33), skdmBody(new Uint8Array(32), pub)).subarray(0, 80),
      'InvalidMessage',
    ],
  ])('an SKDM with %s is rejected with %s', (_name, bytes, c) => {
    expect(() => SenderKeyDistributionMessage.deserialize(bytes)).toThrow(code(c));
  });

  test.each([
    ['a bad distribution id', { distributionId: 'not-a-uuid' }],
    ['a negative chain id', { chainId: -1 }],
    ['a 2^32 iteration', { iteration: 2 ** 32 }],
    ['a short chain key', { chainKey: new Uint8Array(31) }],
    ['raw signing key bytes', { signingKey: pub }],
  ])('creating an SKDM with %s is InvalidArgument', (_name, override) => {
    const fields = {
      distributionId: id,
      chainId: 1,
      iteration: 0,
      chainKey: new Uint8Array(32),
      signingKey: signing.publicKey,
      ...override,
    };
    expect(() => SenderKeyDistributionMessage.create(fields as never)).toThrow(
      code('InvalidArgument'),
    );
  });
});

describe('GroupCipher', () => {
  test('libsignal group_basic_ratchet: in order, out of order, then a replay', async () => {
    const { id, sender, receiver } = await group();
    const m = [];
    for (let i = 0; i < 3; i++) m.push(await sender.encrypt(alice, id, text(`m${i}`)));
    expect(await receiver.decrypt(alice, m[0]!)).toEqual(text('m0'));
    expect(await receiver.decrypt(alice, m[2]!)).toEqual(text('m2'));
    expect(await receiver.decrypt(alice, m[1]!)).toEqual(text('m1'));
    await expect(receiver.decrypt(alice, m[1]!)).rejects.toThrow(code('DuplicatedMessage'));
  });

  test('creating the distribution message twice reuses the state', async () => {
    const { id, sender, senderStore, skdm } = await group();
    const before = senderStore.snapshot();
    const again = await sender.createDistributionMessage(alice, id);
    expect(again.serialize()).toEqual(skdm.serialize());
    expect(senderStore.snapshot()).toEqual(before);
    await sender.encrypt(alice, id, text('x'));
    expect((await sender.createDistributionMessage(alice, id)).iteration).toBe(1);
  });

  test('an SKDM created later starts at the current iteration', async () => {
    const { id, sender } = await group();
    const m0 = await sender.encrypt(alice, id, text('before'));
    const late = new GroupCipher(new InMemorySenderKeyStore());
    await late.processDistributionMessage(alice, await sender.createDistributionMessage(alice, id));
    await expect(late.decrypt(alice, m0)).rejects.toThrow(code('DuplicatedMessage'));
    expect(await late.decrypt(alice, await sender.encrypt(alice, id, text('after')))).toEqual(
      text('after'),
    );
  });

  test('re-processing an old SKDM does not rewind the chain (no replays)', async () => {
    const { id, sender, receiver, store, skdm } = await group();
    const m0 = await sender.encrypt(alice, id, text('once'));
    await receiver.decrypt(alice, m0);
    await receiver.processDistributionMessage(alice, skdm);
    await expect(receiver.decrypt(alice, m0)).rejects.toThrow(code('DuplicatedMessage'));
    const record = (await store.loadSenderKey(alice, id))!;
    expect(record.states.length).toBe(1);
  });

  /** A receiver that holds a chain whose keys the test knows, to forge any iteration. */
  async function knownChain() {
    const id = crypto.randomUUID();
    const signing = KeyPair.generate();
    const start = new SenderChainKey(0, crypto.getRandomValues(new Uint8Array(32)));
    const store = new InMemorySenderKeyStore();
    const receiver = new GroupCipher(store);
    await receiver.processDistributionMessage(
      alice,
      SenderKeyDistributionMessage.create({
        distributionId: id,
        chainId: 77,
        iteration: 0,
        chainKey: start.seed(),
        signingKey: signing.publicKey,
      }),
    );
    let cursor = start;
    const at = (iteration: number) => {
      if (cursor.iteration > iteration) cursor = start;
      while (cursor.iteration < iteration) cursor = cursor.next();
      const { iv, cipherKey } = cursor.messageKey().derive();
      return SenderKeyMessage.create(
        {
          distributionId: id,
          chainId: 77,
          iteration,
          ciphertext: aes256CbcEncrypt(cipherKey, iv, text(`at ${iteration}`)),
        },
        signing.privateKey,
      ).serialize();
    };
    const state = async () => (await store.loadSenderKey(alice, id))!.currentState()!;
    return { receiver, store, at, state };
  }

  test(`the forward jump is bounded by ${MAX_FORWARD_JUMPS}`, async () => {
    const { receiver, store, at, state } = await knownChain();
    const before = store.snapshot();
    await expect(receiver.decrypt(alice, at(MAX_FORWARD_JUMPS + 1))).rejects.toThrow(
      code('TooFarIntoFuture'),
    );
    expect(store.snapshot()).toEqual(before);
    expect(await receiver.decrypt(alice, at(MAX_FORWARD_JUMPS))).toEqual(
      text(`at ${MAX_FORWARD_JUMPS}`),
    );
    expect((await state()).chainKey.iteration).toBe(MAX_FORWARD_JUMPS + 1);
    expect((await state()).skippedKeyCount).toBe(MAX_MESSAGE_KEYS);
    expect(await receiver.decrypt(alice, at(MAX_FORWARD_JUMPS - 1))).toEqual(
      text(`at ${MAX_FORWARD_JUMPS - 1}`),
    );
  });

  test(`at most ${MAX_MESSAGE_KEYS} skipped keys are kept, oldest evicted`, async () => {
    const { receiver, at, state } = await knownChain();
    // Skip 0..9, then 11..MAX+11 (2,001 more): only the newest MAX keys, 12..MAX+11, remain.
    expect(await receiver.decrypt(alice, at(10))).toEqual(text('at 10'));
    expect((await state()).skippedKeyCount).toBe(10);
    const last = MAX_MESSAGE_KEYS + 12;
    expect(await receiver.decrypt(alice, at(last))).toEqual(text(`at ${last}`));
    expect((await state()).skippedKeyCount).toBe(MAX_MESSAGE_KEYS);
    // 0..9 and 11 fell off the end: they now look like replays, as in libsignal.
    for (const i of [0, 9, 11]) {
      await expect(receiver.decrypt(alice, at(i))).rejects.toThrow(code('DuplicatedMessage'));
    }
    expect(await receiver.decrypt(alice, at(12))).toEqual(text('at 12'));
    expect(await receiver.decrypt(alice, at(last - 1))).toEqual(text(`at ${last - 1}`));
    expect((await state()).skippedKeyCount).toBe(MAX_MESSAGE_KEYS - 2);
  });

  test(`keeps ${MAX_SENDER_KEY_STATES} states per sender: older chains decrypt until evicted`, async () => {
    const id = crypto.randomUUID();
    const store = new InMemorySenderKeyStore();
    const receiver = new GroupCipher(store);
    const senders = [];
    for (let k = 0; k < MAX_SENDER_KEY_STATES + 1; k++) {
      const senderStore = new InMemorySenderKeyStore();
      const sender = new GroupCipher(senderStore);
      await receiver.processDistributionMessage(
        alice,
        await sender.createDistributionMessage(alice, id),
      );
      senders.push(sender);
    }
    const record = (await store.loadSenderKey(alice, id))!;
    expect(record.states.length).toBe(MAX_SENDER_KEY_STATES);
    await expect(
      receiver.decrypt(alice, await senders[0]!.encrypt(alice, id, text('old'))),
    ).rejects.toThrow(code('NoSenderKeyState'));
    expect(
      await receiver.decrypt(alice, await senders[1]!.encrypt(alice, id, text('kept'))),
    ).toEqual(text('kept'));
  });

  test('a chain id reused with a new signing key replaces the old state', async () => {
    const { id, receiver, store, skdm } = await group();
    const signing = KeyPair.generate();
    await receiver.processDistributionMessage(
      alice,
      SenderKeyDistributionMessage.create({
        distributionId: id,
        chainId: skdm.chainId,
        iteration: 0,
        chainKey: new Uint8Array(32),
        signingKey: signing.publicKey,
      }),
    );
    const record = (await store.loadSenderKey(alice, id))!;
    expect(record.states.length).toBe(1);
    expect(record.currentState()!.signingKey.equals(signing.publicKey)).toBe(true);
  });

  test('typed errors, and the store unchanged, for every failure', async () => {
    const { id, sender, receiver, store } = await group();
    const good = await sender.encrypt(alice, id, text('hello'));
    const before = store.snapshot();
    const other = new ProtocolAddress('bbbbbbbb-0000-4000-8000-000000000002', 1);
    await expect(receiver.decrypt(other, good)).rejects.toThrow(code('NoSenderKeyState'));
    await expect(receiver.decrypt(alice, good.subarray(1))).rejects.toThrow();
    await expect(receiver.decrypt(alice, new Uint8Array(3))).rejects.toThrow(
      code('InvalidMessage'),
    );
    await expect(receiver.decrypt(alice, 'x' as never)).rejects.toThrow(code('InvalidMessage'));
    await expect(receiver.decrypt({} as never, good)).rejects.toThrow(code('InvalidArgument'));
    expect(store.snapshot()).toEqual(before);
    expect(await receiver.decrypt(alice, good)).toEqual(text('hello'));

    await expect(receiver.encrypt(alice, id, text('x'))).rejects.toThrow(code('InvalidState'));
    await expect(receiver.encrypt(other, id, text('x'))).rejects.toThrow(code('NoSenderKeyState'));
    await expect(receiver.encrypt(alice, 'nope', text('x'))).rejects.toThrow(
      code('InvalidArgument'),
    );
    await expect(sender.encrypt(alice, id, 'text' as never)).rejects.toThrow(
      code('InvalidArgument'),
    );
    expect(() => new GroupCipher({} as never)).toThrow(code('InvalidArgument'));
  });

  test('a signed message with a bad ciphertext is InvalidMessage, store unchanged', async () => {
    const id = crypto.randomUUID();
    const signing = KeyPair.generate();
    const store = new InMemorySenderKeyStore();
    const receiver = new GroupCipher(store);
    await receiver.processDistributionMessage(
      alice,
      SenderKeyDistributionMessage.create({
        distributionId: id,
        chainId: 1,
        iteration: 0,
        chainKey: new Uint8Array(32),
        signingKey: signing.publicKey,
      }),
    );
    const before = store.snapshot();
    for (const ciphertext of [new Uint8Array(15), new Uint8Array(32)]) {
      const m = SenderKeyMessage.create(
        { distributionId: id, chainId: 1, iteration: 0, ciphertext },
        signing.privateKey,
      );
      await expect(receiver.decrypt(alice, m.serialize())).rejects.toThrow(code('InvalidMessage'));
    }
    expect(store.snapshot()).toEqual(before);
  });

  test('the end of the chain is an InvalidState error, store unchanged', async () => {
    const id = crypto.randomUUID();
    const signing = KeyPair.generate();
    const record = new SenderKeyRecord();
    record.addState({
      messageVersion: 3,
      chainId: 4,
      iteration: 0xffff_ffff,
      chainKey: new Uint8Array(32),
      signingKey: signing.publicKey,
      signingPrivateKey: signing.privateKey,
    });
    const store = new InMemorySenderKeyStore();
    await store.storeSenderKey(alice, id, record);
    const before = store.snapshot();
    await expect(new GroupCipher(store).encrypt(alice, id, text('x'))).rejects.toThrow(
      code('InvalidState'),
    );
    expect(store.snapshot()).toEqual(before);
  });

  test('concurrent encrypts and decrypts are serialised per (sender, distribution)', async () => {
    const { id, sender, receiver } = await group();
    const n = 20;
    const sent = await Promise.all(
      Array.from({ length: n }, (_, i) => sender.encrypt(alice, id, text(`c${i}`))),
    );
    expect(
      sent.map((m) => SenderKeyMessage.deserialize(m).iteration).sort((a, b) => a - b),
    ).toEqual(Array.from({ length: n }, (_, i) => i));
    const shuffled = [...sent].reverse();
    const got = await Promise.all(shuffled.map((m) => receiver.decrypt(alice, m)));
    expect(got.map((p) => new TextDecoder().decode(p)).sort()).toEqual(
      Array.from({ length: n }, (_, i) => `c${i}`).sort(),
    );
    const dup = await Promise.allSettled([
      receiver.decrypt(alice, sent[3]!),
      receiver.decrypt(alice, sent[3]!),
    ]);
    expect(dup.every((r) => r.status === 'rejected')).toBe(true);
  });

  test('distribution ids are case-insensitive and stored canonically', async () => {
    const id = crypto.randomUUID();
    const senderStore = new InMemorySenderKeyStore();
    const sender = new GroupCipher(senderStore);
    await sender.createDistributionMessage(alice, id.toUpperCase());
    expect([...senderStore.snapshot().keys()]).toEqual([`${alice}::${id}`]);
    expect(
      SenderKeyMessage.deserialize(await sender.encrypt(alice, id, text('x'))).distributionId,
    ).toBe(id);
  });
});

describe('secrets never show in toString, JSON or inspect', () => {
  test('chain keys, message keys, signing keys, SKDMs, states, records, ciphers, stores', async () => {
    const { id, sender, senderStore, receiver, store, skdm } = await group();
    await sender.encrypt(alice, id, text('x'));
    await sender.encrypt(alice, id, text('y'));
    const m2 = await sender.encrypt(alice, id, text('z'));
    await receiver.decrypt(alice, m2); // leaves two skipped keys in the receiver's state
    const own = (await senderStore.loadSenderKey(alice, id))!;
    const theirs = (await store.loadSenderKey(alice, id))!;
    const ownState = own.currentState()!;
    const secrets = [
      toHex(skdm.chainKey()),
      toHex(ownState.chainKey.seed()),
      toHex(ownState.signingPrivateKey!.serialize()),
      toHex(theirs.currentState()!.chainKey.seed()),
      toHex(ownState.chainKey.messageKey().seed()),
      toHex(ownState.chainKey.messageKey().derive().cipherKey),
    ];
    const objects: unknown[] = [
      skdm,
      own,
      theirs,
      ownState,
      ownState.chainKey,
      ownState.chainKey.messageKey(),
      ownState.signingPrivateKey,
      sender,
      senderStore,
      SenderKeyMessage.deserialize(m2),
    ];
    for (const o of objects) {
      const shown = [String(o), JSON.stringify(o), inspect(o, { depth: 10, showHidden: true })]
        .join('\n')
        .toLowerCase();
      for (const s of secrets) expect(shown).not.toContain(s);
    }
    expect(String(skdm)).toContain('[redacted]');
  });
});
