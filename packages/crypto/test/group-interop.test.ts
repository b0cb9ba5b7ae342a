/**
 * Sender Keys against libsignal 0.72.1, 0.90.0 and 0.103.0 in one process, both directions:
 * distribution messages, group messages out of order and with gaps, duplicates and tampering
 * rejected on both sides, identical wire bytes, and records that move between the two.
 */
import { describe, expect, test } from 'vitest';
import { ProtocolAddress } from '../src/address.ts';
import { KeyPair } from '../src/curve.ts';
import { utf8 } from '../src/_bytes.ts';
import {
  GroupCipher,
  InMemorySenderKeyStore,
  SenderKeyDistributionMessage,
  SenderKeyMessage,
  SenderKeyRecord,
} from '../src/group.ts';
import { bytesFor, ls072, ls090, ls0103, u8 } from './support/libsignal.ts';

type Ls = typeof ls090;
type LsAddress = ReturnType<Ls['ProtocolAddress']['new']>;
type LsRecord = ReturnType<Ls['SenderKeyRecord']['deserialize']>;
const code = (c: string) => expect.objectContaining({ code: c });
const SENDER = { name: '9d0652a3-dcc3-4d11-975f-74d61598733f', deviceId: 3 };

/** A libsignal SenderKeyStore that keeps serialised records, like ours. */
function libsignalStore(ls: Ls) {
  const b = bytesFor(ls);
  const records = new Map<string, Uint8Array>();
  const key = (a: { name(): string; deviceId(): number }, id: string) =>
    `${a.name()}.${a.deviceId()}::${id.toLowerCase()}`;
  class Store extends ls.SenderKeyStore {
    async saveSenderKey(sender: LsAddress, id: string, record: LsRecord) {
      records.set(key(sender, id), u8(record.serialize()));
    }
    async getSenderKey(sender: LsAddress, id: string) {
      const r = records.get(key(sender, id));
      return r ? ls.SenderKeyRecord.deserialize(b(r)) : null;
    }
  }
  return {
    store: new Store(),
    records,
    key: (id: string) => `${SENDER.name}.${SENDER.deviceId}::${id}`,
  };
}

const message = (i: number) => utf8(`group message #${i} ${'x'.repeat(i * 7)}`);

describe.each([
  ['0.72.1', ls072],
  ['0.90.0', ls090],
  // The typings differ only in native-handle brands; the calls are the same.
  ['0.103.0', ls0103 as unknown as Ls],
] as const)('Sender Keys with libsignal %s', (_v, ls) => {
  const b = bytesFor(ls);
  const ourSender = new ProtocolAddress(SENDER.name, SENDER.deviceId);
  const theirSender = ls.ProtocolAddress.new(SENDER.name, SENDER.deviceId);

  test('libsignal sends, we receive: out of order, gaps, duplicates, tampering', async () => {
    const id = crypto.randomUUID();
    const alice = libsignalStore(ls); // the libsignal sender
    const witness = libsignalStore(ls); // a libsignal receiver, to compare records with
    const skdm = await ls.SenderKeyDistributionMessage.create(theirSender, id, alice.store);
    await ls.processSenderKeyDistributionMessage(theirSender, skdm, witness.store);

    const store = new InMemorySenderKeyStore();
    const bob = new GroupCipher(store);
    await bob.processDistributionMessage(
      ourSender,
      SenderKeyDistributionMessage.deserialize(u8(skdm.serialize())),
    );
    // Same SKDM, same record bytes.
    expect(store.snapshot().get(witness.key(id))).toEqual(witness.records.get(witness.key(id)));

    const sent: Uint8Array[] = [];
    for (let i = 0; i < 8; i++) {
      const c = await ls.groupEncrypt(theirSender, id, alice.store, b(message(i)));
      sent.push(u8(c.serialize()));
    }
    for (const i of [2, 0, 5, 1, 7, 3]) {
      expect(await bob.decrypt(ourSender, sent[i]!)).toEqual(message(i));
      expect(u8(await ls.groupDecrypt(theirSender, witness.store, b(sent[i]!)))).toEqual(
        message(i),
      );
      // After every step both receivers hold the same record (skipped keys in the same order).
      expect(store.snapshot().get(witness.key(id))).toEqual(witness.records.get(witness.key(id)));
    }

    const before = store.snapshot();
    await expect(bob.decrypt(ourSender, sent[5]!)).rejects.toThrow(code('DuplicatedMessage'));
    await expect(bob.decrypt(ourSender, sent[0]!)).rejects.toThrow(code('DuplicatedMessage'));
    const badSignature = sent[4]!.slice();
    badSignature[badSignature.length - 1]! ^= 0x01;
    await expect(bob.decrypt(ourSender, badSignature)).rejects.toThrow(code('InvalidSignature'));
    const badBody = sent[4]!.slice();
    badBody[badBody.length - 64 - 3]! ^= 0x80;
    await expect(bob.decrypt(ourSender, badBody)).rejects.toThrow(code('InvalidSignature'));
    await expect(bob.decrypt(ourSender, sent[4]!.subarray(0, 60))).rejects.toThrow(
      code('InvalidMessage'),
    );
    expect(store.snapshot()).toEqual(before);
    // The untouched original still decrypts after all that.
    expect(await bob.decrypt(ourSender, sent[4]!)).toEqual(message(4));
    expect(await bob.decrypt(ourSender, sent[6]!)).toEqual(message(6));
  });

  test('we send, libsignal receives: out of order, gaps, duplicates, tampering', async () => {
    const id = crypto.randomUUID();
    const ours = new InMemorySenderKeyStore();
    const alice = new GroupCipher(ours);
    const skdm = await alice.createDistributionMessage(ourSender, id);
    expect(skdm.serialize()[0]).toBe(0x33);
    expect(skdm.chainId).toBeLessThan(2 ** 31);

    const bob = libsignalStore(ls);
    await ls.processSenderKeyDistributionMessage(
      theirSender,
      ls.SenderKeyDistributionMessage.deserialize(b(skdm.serialize())),
      bob.store,
    );
    // An SKDM re-encoded by libsignal from our fields is byte-identical to ours.
    const theirs = ls.SenderKeyDistributionMessage.deserialize(b(skdm.serialize()));
    expect(theirs.chainId()).toBe(skdm.chainId);
    expect(theirs.iteration()).toBe(0);
    expect(u8(theirs.chainKey())).toEqual(skdm.chainKey());
    expect(theirs.distributionId()).toBe(id);

    // Our receiver record equals libsignal's for the same SKDM.
    const ourReceiver = new InMemorySenderKeyStore();
    const carol = new GroupCipher(ourReceiver);
    await carol.processDistributionMessage(ourSender, skdm);
    expect(ourReceiver.snapshot().get(bob.key(id))).toEqual(bob.records.get(bob.key(id)));

    const sent: Uint8Array[] = [];
    for (let i = 0; i < 8; i++) sent.push(await alice.encrypt(ourSender, id, message(i)));
    expect(sent.map((m) => SenderKeyMessage.deserialize(m).iteration)).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7,
    ]);
    for (const i of [6, 1, 0, 4, 2]) {
      expect(u8(await ls.groupDecrypt(theirSender, bob.store, b(sent[i]!)))).toEqual(message(i));
      expect(await carol.decrypt(ourSender, sent[i]!)).toEqual(message(i));
      expect(ourReceiver.snapshot().get(bob.key(id))).toEqual(bob.records.get(bob.key(id)));
    }
    await expect(ls.groupDecrypt(theirSender, bob.store, b(sent[4]!))).rejects.toThrow(
      expect.objectContaining({ code: ls.ErrorCode.DuplicatedMessage }),
    );
    const tampered = sent[3]!.slice();
    tampered[5]! ^= 0x01;
    await expect(ls.groupDecrypt(theirSender, bob.store, b(tampered))).rejects.toThrow();
    expect(u8(await ls.groupDecrypt(theirSender, bob.store, b(sent[3]!)))).toEqual(message(3));
    expect(u8(await ls.groupDecrypt(theirSender, bob.store, b(sent[7]!)))).toEqual(message(7));
  });

  test('long gaps: skipped-key eviction matches libsignal record for record', async () => {
    const id = crypto.randomUUID();
    const alice = libsignalStore(ls);
    const witness = libsignalStore(ls);
    const skdm = await ls.SenderKeyDistributionMessage.create(theirSender, id, alice.store);
    await ls.processSenderKeyDistributionMessage(theirSender, skdm, witness.store);
    const store = new InMemorySenderKeyStore();
    const bob = new GroupCipher(store);
    await bob.processDistributionMessage(
      ourSender,
      SenderKeyDistributionMessage.deserialize(u8(skdm.serialize())),
    );
    const sent: Uint8Array[] = [];
    for (let i = 0; i <= 2012; i++) {
      sent.push(
        u8((await ls.groupEncrypt(theirSender, id, alice.store, b(utf8(`${i}`)))).serialize()),
      );
    }
    const same = () =>
      expect(store.snapshot().get(witness.key(id))).toEqual(witness.records.get(witness.key(id)));
    for (const i of [10, 2012]) {
      expect(await bob.decrypt(ourSender, sent[i]!)).toEqual(utf8(`${i}`));
      await ls.groupDecrypt(theirSender, witness.store, b(sent[i]!));
      same();
    }
    for (const i of [0, 11]) {
      await expect(bob.decrypt(ourSender, sent[i]!)).rejects.toThrow(code('DuplicatedMessage'));
      await expect(ls.groupDecrypt(theirSender, witness.store, b(sent[i]!))).rejects.toThrow(
        expect.objectContaining({ code: ls.ErrorCode.DuplicatedMessage }),
      );
    }
    for (const i of [12, 1500, 2011]) {
      expect(await bob.decrypt(ourSender, sent[i]!)).toEqual(utf8(`${i}`));
      await ls.groupDecrypt(theirSender, witness.store, b(sent[i]!));
    }
    same();
  });

  test('wire bytes equal libsignal’s for the same fields', () => {
    const id = crypto.randomUUID();
    const signing = KeyPair.generate();
    const chainKey = crypto.getRandomValues(new Uint8Array(32));
    const fields = { distributionId: id, chainId: 0x7abcdef0, iteration: 300, chainKey };
    const ours = SenderKeyDistributionMessage.create({ ...fields, signingKey: signing.publicKey });
    const theirs = ls.SenderKeyDistributionMessage._new(
      3,
      id,
      fields.chainId,
      fields.iteration,
      b(chainKey),
      ls.PublicKey.deserialize(b(signing.publicKey.serialize())),
    );
    expect(ours.serialize()).toEqual(u8(theirs.serialize()));

    const ciphertext = crypto.getRandomValues(new Uint8Array(48));
    const skm = SenderKeyMessage.create(
      { distributionId: id, chainId: 5, iteration: 70000, ciphertext },
      signing.privateKey,
    );
    const theirSkm = ls.SenderKeyMessage._new(
      3,
      id,
      5,
      70000,
      b(ciphertext),
      ls.PrivateKey.deserialize(b(signing.privateKey.serialize())),
    );
    const ourBytes = skm.serialize();
    const theirBytes = u8(theirSkm.serialize());
    // Identical up to the (randomised) signature; each verifies the other's.
    expect(ourBytes.subarray(0, -64)).toEqual(theirBytes.subarray(0, -64));
    expect(SenderKeyMessage.deserialize(theirBytes).verifySignature(signing.publicKey)).toBe(true);
    expect(
      ls.SenderKeyMessage.deserialize(b(ourBytes)).verifySignature(
        ls.PublicKey.deserialize(b(signing.publicKey.serialize())),
      ),
    ).toBe(true);
  });

  test('sender records move between the implementations', async () => {
    const id = crypto.randomUUID();
    // Our sending record, used by libsignal to encrypt; we decrypt.
    const ours = new InMemorySenderKeyStore();
    const alice = new GroupCipher(ours);
    const skdm = await alice.createDistributionMessage(ourSender, id);
    await alice.encrypt(ourSender, id, message(0));
    const bytes = ours.snapshot().get(`${SENDER.name}.${SENDER.deviceId}::${id}`)!;
    expect(u8(ls.SenderKeyRecord.deserialize(b(bytes)).serialize())).toEqual(bytes);

    const theirCopy = libsignalStore(ls);
    theirCopy.records.set(theirCopy.key(id), bytes);
    const receiver = new GroupCipher(new InMemorySenderKeyStore());
    await receiver.processDistributionMessage(ourSender, skdm);
    const m1 = u8(
      (await ls.groupEncrypt(theirSender, id, theirCopy.store, b(message(1)))).serialize(),
    );
    expect(SenderKeyMessage.deserialize(m1).iteration).toBe(1);
    expect(await receiver.decrypt(ourSender, m1)).toEqual(message(1));

    // libsignal's sending record, used by us to encrypt; libsignal decrypts.
    const bobLs = libsignalStore(ls);
    const lsSkdm = await ls.SenderKeyDistributionMessage.create(theirSender, id, bobLs.store);
    const lsBytes = bobLs.records.get(bobLs.key(id))!;
    const record = SenderKeyRecord.deserialize(lsBytes);
    expect(record.serialize()).toEqual(lsBytes);
    expect(record.currentState()?.signingPrivateKey).toBeDefined();
    const ourCopy = new InMemorySenderKeyStore();
    await ourCopy.storeSenderKey(ourSender, id, record);
    const m0 = await new GroupCipher(ourCopy).encrypt(ourSender, id, message(0));
    const lsReceiver = libsignalStore(ls);
    await ls.processSenderKeyDistributionMessage(theirSender, lsSkdm, lsReceiver.store);
    expect(u8(await ls.groupDecrypt(theirSender, lsReceiver.store, b(m0)))).toEqual(message(0));
  });
});
