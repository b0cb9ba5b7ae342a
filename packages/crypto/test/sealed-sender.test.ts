/**
 * Sealed sender envelopes between our own parties: v1 and v2 round trips; every bit flip of an
 * envelope refused with a typed error and no store changed; expired, wrong-root, revoked and
 * self-sent envelopes refused before any session is touched; an inner message whose identity
 * is not the certificate's refused; bounded work per envelope (agreements and signature checks
 * counted); the relay-side SentMessage parser on malformed input; argument checks.
 */
import { afterEach, describe, expect, test, vi } from 'vitest';
import { utf8 } from '../src/_bytes.ts';
import { ProtocolAddress } from '../src/address.ts';
import { KeyPair, PrivateKey, PublicKey } from '../src/curve.ts';
import { ProtocolError } from '../src/errors.ts';
import {
  ContentHint,
  MAX_SEALED_SENDER_V2_RECIPIENTS,
  SealedSenderMultiRecipientMessage,
  ServerCertificate,
  UnidentifiedSenderMessageContent,
  sealedSenderDecrypt,
  sealedSenderDecryptToUsmc,
  sealedSenderEncrypt,
  sealedSenderEncryptFromUsmc,
  sealedSenderMultiRecipientEncrypt,
} from '../src/sealed-sender.ts';
import { ls090 } from './support/libsignal.ts';
import { OurParty } from './support/parties.ts';
import { seededRandom } from './support/deterministic.ts';
import { Trust, code } from './support/sealed.ts';

const ALICE = '9d0652a3-dcc3-4d11-975f-74d61598733f';
const BOB = '1c1b5a6e-02b4-4a6b-8d8f-6f0d0f3a2c11';
const CAROL = '796abedb-ca4e-4f18-8803-1fde5b921f9f';
const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const ENVELOPE_ERRORS = ['InvalidSealedSenderMessage', 'UnknownSealedSenderVersion'];

afterEach(() => {
  vi.restoreAllMocks();
});

/** Alice and Bob with sessions both ways, certificates from one trust root. */
async function pair() {
  const trust = new Trust(ls090, 'parley');
  const alice = new OurParty(ALICE, 1);
  const bob = new OurParty(BOB, 2);
  const aliceCert = trust.certify(alice);
  const bobCert = trust.certify(bob);
  const seal = (
    from: OurParty,
    to: OurParty,
    text: string,
    cert = from === alice ? aliceCert : bobCert,
  ) =>
    sealedSenderEncrypt(to.address, cert, utf8(text), {
      sessionCipher: from.cipher,
      identityStore: from.stores.identity,
    });
  const open = (
    to: OurParty,
    envelope: Uint8Array,
    extra: Partial<Parameters<typeof sealedSenderDecrypt>[1]> = {},
  ) =>
    sealedSenderDecrypt(envelope, {
      trustRoot: trust.rootPublic,
      localAddress: to.address,
      identityStore: to.stores.identity,
      sessionCipher: to.cipher,
      ...extra,
    });
  await alice.processBundle(bob, await bob.makeBundle());
  expect(dec((await open(bob, await seal(alice, bob, 'hi'))).plaintext)).toBe('hi');
  expect(dec((await open(alice, await seal(bob, alice, 'hi back'))).plaintext)).toBe('hi back');
  return { trust, alice, bob, aliceCert, bobCert, seal, open };
}

/** Every envelope bit flip (but the version byte's) fails with an envelope error; no store changes. */
async function flipEveryBit(
  envelope: Uint8Array,
  to: OurParty,
  open: (e: Uint8Array) => Promise<unknown>,
) {
  const before = to.stores.snapshot();
  for (let bit = 8; bit < envelope.length * 8; bit++) {
    const flipped = envelope.slice();
    flipped[bit >> 3]! ^= 1 << (bit & 7);
    const err = await open(flipped).then(
      () => new Error(`bit ${bit} flipped still opens`),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ProtocolError);
    expect(ENVELOPE_ERRORS).toContain((err as ProtocolError).code);
  }
  expect(to.stores.snapshot()).toEqual(before);
}

describe('v1', () => {
  test('round trips, with content hint and group id through the USMC', async () => {
    const { alice, bob, aliceCert, open } = await pair();
    const inner = await alice.cipher.encrypt(bob.address, utf8('hinted'));
    const usmc = UnidentifiedSenderMessageContent.create({
      type: inner.type,
      sender: aliceCert,
      contents: inner.body,
      contentHint: 77, // unknown hints are carried as they are
      groupId: Uint8Array.of(1, 2, 3),
    });
    const envelope = await sealedSenderEncryptFromUsmc(bob.address, usmc, alice.stores.identity);
    expect(envelope[0]).toBe(0x11);
    const opened = await sealedSenderDecryptToUsmc(envelope, bob.stores.identity);
    expect(opened.serialize()).toEqual(usmc.serialize());
    expect(opened.contentHint).toBe(77);
    const r = await open(bob, envelope);
    expect(dec(r.plaintext)).toBe('hinted');
    expect(r.groupId).toEqual(Uint8Array.of(1, 2, 3));
    // Default hint and an empty group id are left out of the encoding, as prost does.
    const plain = UnidentifiedSenderMessageContent.create({
      type: 'whisper',
      sender: aliceCert,
      contents: Uint8Array.of(9),
      groupId: new Uint8Array(0),
    });
    const again = UnidentifiedSenderMessageContent.deserialize(plain.serialize());
    expect(again.contentHint).toBe(ContentHint.Default);
    expect(again.groupId()).toBeUndefined();
    expect(String(again)).not.toContain('09');
  });

  test('every bit flip is refused; the stores stay as they were', async () => {
    const { alice, bob, seal, open } = await pair();
    const envelope = await seal(alice, bob, 'flip me');
    await flipEveryBit(envelope, bob, (e) => open(bob, e));
    // The untouched envelope still opens afterwards: nothing was consumed.
    expect(dec((await open(bob, envelope)).plaintext)).toBe('flip me');
  });

  test('a version byte of 0x0? is read as v1 (as libsignal); 0x3? and above are refused', async () => {
    const { alice, bob, seal, open } = await pair();
    const envelope = await seal(alice, bob, 'old');
    const v0 = envelope.slice();
    v0[0] = 0x01;
    expect(dec((await open(bob, v0)).plaintext)).toBe('old');
    for (const v of [0x31, 0x41, 0xf1]) {
      const bad = envelope.slice();
      bad[0] = v;
      await expect(open(bob, bad)).rejects.toEqual(code('UnknownSealedSenderVersion'));
    }
    await expect(open(bob, new Uint8Array(0))).rejects.toEqual(code('InvalidSealedSenderMessage'));
  });
});

describe('refusals before any state is touched', () => {
  test('expired, other trust root, revoked id, unknown signer', async () => {
    const { trust, alice, bob, seal, open } = await pair();
    const before = bob.stores.snapshot();
    const expired = trust.certify(alice, Date.now() - 1);
    await expect(open(bob, await seal(alice, bob, 'x', expired))).rejects.toEqual(
      code('ExpiredCertificate'),
    );
    const other = new Trust(ls090, 'parley');
    await expect(open(bob, await seal(alice, bob, 'x', other.certify(alice)))).rejects.toEqual(
      code('InvalidCertificate'),
    );
    await expect(
      open(bob, await seal(alice, bob, 'x'), { validation: { revokedServerKeyIds: [1] } }),
    ).rejects.toEqual(code('RevokedCertificate'));
    const revoked = new Trust(ls090, 'parley', 0xdeadc357);
    await expect(
      open(bob, await seal(alice, bob, 'x', revoked.certify(alice)), {
        trustRoot: revoked.rootPublic,
      }),
    ).rejects.toEqual(code('RevokedCertificate'));
    expect(bob.stores.snapshot()).toEqual(before);
  });

  test('a certificate naming the receiving device itself: SealedSenderSelfSend', async () => {
    const { trust, alice, bob, open } = await pair();
    // Alice's key, but a certificate that says Bob's device sent it.
    const impersonating = trust.certify({ ...bob, identityKey: alice.identityKey });
    const usmc = UnidentifiedSenderMessageContent.create({
      type: 'whisper',
      sender: impersonating,
      contents: Uint8Array.of(1),
    });
    const before = bob.stores.snapshot();
    const env = await sealedSenderEncryptFromUsmc(bob.address, usmc, alice.stores.identity);
    await expect(open(bob, env)).rejects.toEqual(code('SealedSenderSelfSend'));
    expect(bob.stores.snapshot()).toEqual(before);
  });

  test("an inner message whose identity is not the certificate's", async () => {
    const { trust, alice, bob, open } = await pair();
    // Mallory starts a session with Bob; Alice (with her own valid certificate) wraps it.
    const mallory = new OurParty('0badbad0-0000-4000-8000-000000000000', 9);
    const carol = new OurParty(CAROL, 9);
    await mallory.processBundle(bob, await bob.makeBundle());
    const prekey = await mallory.encrypt(bob, utf8('not from alice'));
    const wrapInner = async (type: 'prekey' | 'whisper', body: Uint8Array) =>
      sealedSenderEncryptFromUsmc(
        bob.address,
        UnidentifiedSenderMessageContent.create({
          type,
          sender: trust.certify(alice),
          contents: body,
        }),
        alice.stores.identity,
      );
    const before = bob.stores.snapshot();
    await expect(open(bob, await wrapInner('prekey', prekey.body))).rejects.toEqual(
      code('InvalidSealedSenderMessage'),
    );
    expect(bob.stores.snapshot()).toEqual(before);
    // Whisper: Bob holds one identity key for Carol; a certificate for Carol with another key
    // (her new one, say) is refused before the session is tried.
    await bob.stores.identity.saveIdentity(carol.address, alice.identityKey);
    await carol.stores.identity.saveIdentity(bob.address, bob.identityKey);
    const env = await sealedSenderEncryptFromUsmc(
      bob.address,
      UnidentifiedSenderMessageContent.create({
        type: 'whisper',
        sender: trust.certify(carol),
        contents: prekey.body,
      }),
      carol.stores.identity,
    );
    const before2 = bob.stores.snapshot();
    await expect(open(bob, env)).rejects.toEqual(code('InvalidSealedSenderMessage'));
    expect(bob.stores.snapshot()).toEqual(before2);
  });

  test('a tampered inner message: the inner error, stores unchanged', async () => {
    const { alice, bob, aliceCert, open } = await pair();
    const inner = await alice.cipher.encrypt(bob.address, utf8('inner'));
    const body = inner.body.slice();
    body[body.length - 1]! ^= 1; // the SignalMessage MAC
    const env = await sealedSenderEncryptFromUsmc(
      bob.address,
      UnidentifiedSenderMessageContent.create({
        type: inner.type,
        sender: aliceCert,
        contents: body,
      }),
      alice.stores.identity,
    );
    const before = bob.stores.snapshot();
    await expect(open(bob, env)).rejects.toBeInstanceOf(ProtocolError);
    expect(bob.stores.snapshot()).toEqual(before);
  });

  test('sender-key and plaintext contents need the right decrypter', async () => {
    const { alice, bob, aliceCert, open } = await pair();
    for (const type of ['senderkey', 'plaintext'] as const) {
      const env = await sealedSenderEncryptFromUsmc(
        bob.address,
        UnidentifiedSenderMessageContent.create({
          type,
          sender: aliceCert,
          contents: Uint8Array.of(1),
        }),
        alice.stores.identity,
      );
      await expect(open(bob, env)).rejects.toEqual(code('InvalidMessage'));
    }
  });
});

describe('v2', () => {
  async function group() {
    const p = await pair();
    const carol = new OurParty(CAROL, 3);
    await p.alice.processBundle(carol, await carol.makeBundle());
    const carolInner = await p.alice.cipher.encrypt(carol.address, utf8('hi carol'));
    const bobInner = await p.alice.cipher.encrypt(p.bob.address, utf8('hi bob'));
    return { ...p, carol, carolInner, bobInner };
  }

  test('one SentMessage, split for each recipient; each opens its own', async () => {
    const { alice, bob, carol, aliceCert, bobInner, open } = await group();
    const content = UnidentifiedSenderMessageContent.create({
      type: bobInner.type,
      sender: aliceCert,
      contents: bobInner.body,
    });
    const sent = await sealedSenderMultiRecipientEncrypt({
      content,
      recipients: [bob.address, carol.address],
      excludedRecipients: ['PNI:' + ALICE.toUpperCase()],
      identityStore: alice.stores.identity,
      sessionStore: alice.stores.session,
    });
    const parsed = SealedSenderMultiRecipientMessage.parse(sent);
    expect(parsed.version).toBe(0x23);
    expect([...parsed.recipients().keys()]).toEqual([BOB, CAROL]);
    expect(parsed.excludedRecipients()).toEqual(['PNI:' + ALICE]);
    const forBob = parsed.messageForRecipient(BOB.toUpperCase());
    expect(forBob[0]).toBe(0x22);
    expect(dec((await open(bob, forBob)).plaintext)).toBe('hi bob');
    // Carol can open the envelope (it is hers) but the inner message was Bob's.
    const usmc = await sealedSenderDecryptToUsmc(
      parsed.messageForRecipient(CAROL),
      carol.stores.identity,
    );
    expect(usmc.serialize()).toEqual(content.serialize());
    // Bob's piece is useless to Carol.
    await expect(sealedSenderDecryptToUsmc(forBob, carol.stores.identity)).rejects.toEqual(
      code('InvalidSealedSenderMessage'),
    );
    expect(() => parsed.messageForRecipient(ALICE)).toThrow(code('InvalidArgument'));
    expect(() => parsed.messageForRecipient('PNI:' + ALICE)).toThrow(code('InvalidArgument'));
  });

  test('every bit flip of a received message is refused; the stores stay as they were', async () => {
    const { alice, bob, aliceCert, bobInner, open } = await group();
    const sent = await sealedSenderMultiRecipientEncrypt({
      content: UnidentifiedSenderMessageContent.create({
        type: bobInner.type,
        sender: aliceCert,
        contents: bobInner.body,
      }),
      recipients: [bob.address],
      identityStore: alice.stores.identity,
      sessionStore: alice.stores.session,
    });
    const received = SealedSenderMultiRecipientMessage.parse(sent).messageForRecipient(BOB);
    await flipEveryBit(received, bob, (e) => open(bob, e));
    expect(dec((await open(bob, received)).plaintext)).toBe('hi bob');
  });

  test('sending needs identities, sessions, 14-bit registration ids and service-id names', async () => {
    const { alice, bob, carol, aliceCert } = await group();
    const content = UnidentifiedSenderMessageContent.create({
      type: 'senderkey',
      sender: aliceCert,
      contents: Uint8Array.of(1),
    });
    const send = (recipients: ProtocolAddress[], excludedRecipients: string[] = []) =>
      sealedSenderMultiRecipientEncrypt({
        content,
        recipients,
        excludedRecipients,
        identityStore: alice.stores.identity,
        sessionStore: alice.stores.session,
      });
    await expect(send([new ProtocolAddress('not-a-uuid', 1)])).rejects.toEqual(
      code('InvalidArgument'),
    );
    // No identity key for an account: SessionNotFound, as libsignal.
    await expect(send([new ProtocolAddress(crypto.randomUUID(), 1)])).rejects.toEqual(
      code('SessionNotFound'),
    );
    await expect(send([new ProtocolAddress(BOB, 99)])).rejects.toEqual(code('SessionNotFound'));
    await expect(send([bob.address], [BOB])).rejects.toEqual(code('InvalidArgument'));
    await expect(send([], ['nope'])).rejects.toEqual(code('InvalidArgument'));
    await expect(send([], [CAROL, CAROL.toUpperCase()])).rejects.toEqual(code('InvalidArgument'));
    const many = Array.from(
      { length: MAX_SEALED_SENDER_V2_RECIPIENTS + 1 },
      (_, i) => new ProtocolAddress(crypto.randomUUID(), 1 + (i % 127)),
    );
    await expect(send(many)).rejects.toEqual(code('InvalidArgument'));
    // A session whose peer registered with a registration id over 14 bits.
    const dave = new OurParty('0c0ffee0-0000-4000-8000-000000000001', 1);
    (dave as { registrationId: number }).registrationId = 0x4000;
    await alice.processBundle(dave, await dave.makeBundle());
    await expect(send([dave.address])).rejects.toEqual(code('InvalidRegistrationId'));
    // Good recipients still work, and the SentMessage groups one account's devices.
    const ok = await send([bob.address, carol.address]);
    expect(SealedSenderMultiRecipientMessage.parse(ok).recipients().size).toBe(2);
  });
});

describe('the SentMessage parser (the relay side)', () => {
  const KEY = new Uint8Array(32).fill(9);
  const CAT = new Uint8Array(48).fill(7);
  const sid = (kind: number, fill: number) => Uint8Array.of(kind, ...new Uint8Array(16).fill(fill));
  const msg = (...parts: (number | Uint8Array)[]) =>
    Uint8Array.from(parts.flatMap((p) => (typeof p === 'number' ? [p] : [...p])));
  const bad = (bytes: Uint8Array, c = 'InvalidSealedSenderMessage') =>
    expect(() => SealedSenderMultiRecipientMessage.parse(bytes)).toThrow(code(c));

  test('well-formed: devices, registration ids, merging, 0x22 UUID form', () => {
    const m = SealedSenderMultiRecipientMessage.parse(
      msg(
        0x23,
        3,
        sid(0, 1),
        1,
        0x80,
        5,
        2,
        0x00,
        6,
        CAT,
        sid(1, 2),
        0,
        sid(0, 1),
        3,
        0x3f,
        0xff,
        CAT,
        KEY,
        0xaa,
      ),
    );
    const a = '01010101-0101-0101-0101-010101010101';
    expect(m.recipients().get(a)).toEqual([
      { deviceId: 1, registrationId: 5 },
      { deviceId: 2, registrationId: 6 },
      { deviceId: 3, registrationId: 0x3fff },
    ]);
    expect(m.excludedRecipients()).toEqual(['PNI:02020202-0202-0202-0202-020202020202']);
    expect(m.messageForRecipient(a)).toEqual(msg(0x22, CAT, KEY, 0xaa));
    const old = SealedSenderMultiRecipientMessage.parse(
      msg(0x22, 1, new Uint8Array(16).fill(1), 4, 0, 1, CAT, KEY),
    );
    expect([...old.recipients().keys()]).toEqual([a]);
  });

  test('malformed: typed errors', () => {
    bad(new Uint8Array(0));
    bad(msg(0x11, 0, KEY), 'UnknownSealedSenderVersion');
    bad(msg(0x24, 0, KEY), 'UnknownSealedSenderVersion');
    bad(msg(0x23, 0)); // no E.pub
    bad(msg(0x23, 1, sid(0, 1))); // truncated
    bad(msg(0x23, 1, sid(2, 1), 0, KEY)); // unknown kind
    bad(msg(0x23, 1, sid(0, 1), 128, 0, 1, CAT, KEY)); // device id 128
    bad(msg(0x23, 1, sid(0, 1), 1, 0x80, 1, 0, CAT, KEY)); // device 0 after a device
    bad(msg(0x23, 2, sid(0, 1), 0, sid(0, 1), 0, KEY)); // excluded twice
    bad(msg(0x23, 2, sid(0, 1), 1, 0, 1, CAT, sid(0, 1), 0, KEY)); // included and excluded
    bad(msg(0x23, 0xff, 0xff, 0xff, 0xff, 0x0f, KEY)); // 2^32 - 1 recipients
    bad(msg(0x23, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, KEY)); // a varint over 32 bits
    expect(() => SealedSenderMultiRecipientMessage.parse('x' as never)).toThrow(ProtocolError);
  });

  test('bounded work: a claimed count over the limit is refused before reading recipients', () => {
    const count = MAX_SEALED_SENDER_V2_RECIPIENTS + 1;
    const varint = [(count & 0x7f) | 0x80, count >> 7];
    // Plenty of bytes follow, but the count alone decides: no recipient is read.
    const bytes = msg(0x23, ...varint, new Uint8Array(20 * count));
    expect(() => SealedSenderMultiRecipientMessage.parse(bytes)).toThrow(/more than 6000/);
    // At the limit, the parser reads recipients and stops at the first truncation.
    const atLimit = [
      (MAX_SEALED_SENDER_V2_RECIPIENTS & 0x7f) | 0x80,
      MAX_SEALED_SENDER_V2_RECIPIENTS >> 7,
    ];
    expect(() => SealedSenderMultiRecipientMessage.parse(msg(0x23, ...atLimit, sid(0, 1)))).toThrow(
      /truncated/,
    );
  });
});

describe('bounded work per envelope', () => {
  test('opening costs at most two X25519 agreements and the certificate at most |roots| + 1 signature checks', async () => {
    const { alice, bob, trust, seal, open } = await pair();
    const agree = vi.spyOn(PrivateKey.prototype, 'agreeAsync');
    const verify = vi.spyOn(PublicKey.prototype, 'verifySignatureAsync');
    const envelope = await seal(alice, bob, 'counted');
    agree.mockClear();
    await sealedSenderDecryptToUsmc(envelope, bob.stores.identity);
    expect(agree).toHaveBeenCalledTimes(2);
    // A broken static-key MAC stops after the first agreement.
    agree.mockClear();
    const broken = envelope.slice();
    broken[45]! ^= 1;
    await expect(sealedSenderDecryptToUsmc(broken, bob.stores.identity)).rejects.toBeInstanceOf(
      ProtocolError,
    );
    expect(agree.mock.calls.length).toBeLessThanOrEqual(1);
    verify.mockClear();
    const roots = [KeyPair.generate().publicKey, KeyPair.generate().publicKey, trust.rootPublic];
    await open(bob, await seal(alice, bob, 'roots'), { trustRoot: roots });
    expect(verify).toHaveBeenCalledTimes(roots.length + 1);
  });
});

describe('randomness', () => {
  test('comes only from the injected RandomSource: same seed, same envelopes', async () => {
    const { alice, bob, carol, aliceCert } = await (async () => {
      const p = await pair();
      const carol = new OurParty(CAROL, 3);
      await p.alice.processBundle(carol, await carol.makeBundle());
      return { ...p, carol };
    })();
    const content = UnidentifiedSenderMessageContent.create({
      type: 'senderkey',
      sender: aliceCert,
      contents: utf8('same'),
    });
    const v1 = (seed: string) =>
      sealedSenderEncryptFromUsmc(bob.address, content, alice.stores.identity, seededRandom(seed));
    const v2 = (seed: string) =>
      sealedSenderMultiRecipientEncrypt({
        content,
        recipients: [bob.address, carol.address],
        identityStore: alice.stores.identity,
        sessionStore: alice.stores.session,
        rng: seededRandom(seed),
      });
    expect(await v1('a')).toEqual(await v1('a'));
    expect(await v1('a')).not.toEqual(await v1('b'));
    expect(await v2('a')).toEqual(await v2('a'));
    expect(await v2('a')).not.toEqual(await v2('b'));
    const issue = (seed: string) =>
      ServerCertificate.create(9, bob.identityKey, alice.identity.privateKey, seededRandom(seed));
    expect(issue('a').serialize()).toEqual(issue('a').serialize());
    expect(issue('a').serialize()).not.toEqual(issue('b').serialize());
  });
});

describe('arguments are checked at the boundary', () => {
  test('entry points', async () => {
    const { alice, bob, aliceCert } = await pair();
    const id = bob.stores.identity;
    await expect(sealedSenderDecryptToUsmc('x' as never, id)).rejects.toEqual(
      code('InvalidSealedSenderMessage'),
    );
    await expect(sealedSenderDecryptToUsmc(Uint8Array.of(0x11), {} as never)).rejects.toEqual(
      code('InvalidArgument'),
    );
    await expect(sealedSenderDecrypt(Uint8Array.of(0x11), null as never)).rejects.toEqual(
      code('InvalidArgument'),
    );
    await expect(
      sealedSenderEncrypt(bob.address, aliceCert, 'hi' as never, {
        sessionCipher: alice.cipher,
        identityStore: alice.stores.identity,
      }),
    ).rejects.toEqual(code('InvalidArgument'));
    // No identity for the destination: refused before the session advances.
    const before = alice.stores.snapshot();
    await expect(
      sealedSenderEncrypt(new ProtocolAddress(CAROL, 1), aliceCert, utf8('x'), {
        sessionCipher: alice.cipher,
        identityStore: alice.stores.identity,
      }),
    ).rejects.toEqual(code('SessionNotFound'));
    // A bad hint: refused before the session advances.
    await expect(
      sealedSenderEncrypt(bob.address, aliceCert, utf8('x'), {
        sessionCipher: alice.cipher,
        identityStore: alice.stores.identity,
        contentHint: -1,
      }),
    ).rejects.toEqual(code('InvalidArgument'));
    expect(alice.stores.snapshot()).toEqual(before);
    expect(() =>
      UnidentifiedSenderMessageContent.create({
        type: 'nope' as never,
        sender: aliceCert,
        contents: Uint8Array.of(),
      }),
    ).toThrow(code('InvalidArgument'));
    expect(() =>
      UnidentifiedSenderMessageContent.create({
        type: 'whisper',
        sender: aliceCert.serialize() as never,
        contents: Uint8Array.of(),
      }),
    ).toThrow(code('InvalidArgument'));
    expect(() => UnidentifiedSenderMessageContent.deserialize(Uint8Array.of(8, 3))).toThrow(
      code('InvalidSealedSenderMessage'),
    );
    await expect(
      sealedSenderMultiRecipientEncrypt({
        content: 'x' as never,
        recipients: [],
        identityStore: alice.stores.identity,
        sessionStore: alice.stores.session,
      }),
    ).rejects.toEqual(code('InvalidArgument'));
  });
});
