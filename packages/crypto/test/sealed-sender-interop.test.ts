/**
 * Sealed sender against libsignal 0.72.1, 0.90.0 and 0.103.0 in one process, both directions:
 * server and sender certificates made by either side validate on the other (and are refused
 * alike when expired, signed by another trust root or revoked), with identical signed bytes;
 * 1:1 v1 envelopes sealed by either side open on the other, from the first PreKey message on;
 * USMC fields (type, content hint, group id) survive the trip; single-recipient v2 messages
 * go both ways, split by either side's SentMessage parser.
 */
import { describe, expect, test } from 'vitest';
import { utf8 } from '../src/_bytes.ts';
import { KeyPair, PrivateKey, PublicKey } from '../src/curve.ts';
import { ProtocolAddress } from '../src/address.ts';
import {
  ContentHint,
  SealedSenderMultiRecipientMessage,
  SenderCertificate,
  ServerCertificate,
  UnidentifiedSenderMessageContent,
  sealedSenderDecrypt,
  sealedSenderDecryptToUsmc,
  sealedSenderEncrypt,
  sealedSenderEncryptFromUsmc,
  sealedSenderMultiRecipientEncrypt,
} from '../src/sealed-sender.ts';
import { bytesFor, u8 } from './support/libsignal.ts';
import { LsParty, OurParty, type Ls } from './support/parties.ts';
import {
  LIBSIGNALS_SEALED,
  Trust,
  code,
  lsOpen,
  lsOpenToUsmc,
  lsSeal,
  spqrFor,
} from './support/sealed.ts';

const ALICE = '9d0652a3-dcc3-4d11-975f-74d61598733f';
const BOB = '1c1b5a6e-02b4-4a6b-8d8f-6f0d0f3a2c11';
const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const EXPIRES = 1_605_722_925_000;

describe.each(LIBSIGNALS_SEALED)('sealed sender with libsignal %s', (version, ls) => {
  const b = bytesFor(ls);
  const lsKey = (k: PublicKey) => ls.PublicKey.deserialize(b(k.serialize()));

  describe('certificates', () => {
    test('libsignal issues, we validate; the signed bytes are the ones we would make', async () => {
      const root = ls.PrivateKey.generate();
      const server = ls.PrivateKey.generate();
      const rootPub = PublicKey.deserialize(u8(root.getPublicKey().serialize()));
      const lsServer = ls.ServerCertificate.new(0x1234, server.getPublicKey(), root);
      const identity = KeyPair.generate().publicKey;
      for (const e164 of [null, '+14152222222']) {
        const lsSender = ls.SenderCertificate.new(
          ALICE,
          e164,
          42,
          lsKey(identity),
          EXPIRES,
          lsServer,
          server,
        );
        const cert = SenderCertificate.deserialize(u8(lsSender.serialize()));
        expect(cert.senderUuid).toBe(ALICE);
        expect(cert.senderE164).toBe(e164 ?? undefined);
        expect(cert.senderDeviceId).toBe(42);
        expect(cert.expiration).toBe(EXPIRES);
        expect(cert.identityKey.equals(identity)).toBe(true);
        expect(cert.signerKeyId).toBe(0x1234);
        expect(cert.serialize()).toEqual(u8(lsSender.serialize()));
        await cert.validate(rootPub, EXPIRES);
        await cert.validate([KeyPair.generate().publicKey, rootPub], EXPIRES - 1);
        await expect(cert.validate(rootPub, EXPIRES + 1)).rejects.toEqual(
          code('ExpiredCertificate'),
        );
        await expect(cert.validate(KeyPair.generate().publicKey, EXPIRES)).rejects.toEqual(
          code('InvalidCertificate'),
        );

        // Same fields, same server certificate: byte-identical signed data (prost's order).
        const serverPriv = PrivateKey.deserialize(u8(server.serialize()));
        const ours = SenderCertificate.create(
          {
            senderUuid: ALICE,
            senderE164: e164 ?? undefined,
            senderDeviceId: 42,
            identityKey: identity,
            expiration: EXPIRES,
          },
          ServerCertificate.deserialize(u8(lsServer.serialize())),
          serverPriv,
        );
        expect(ours.certificateData()).toEqual(u8(lsSender.certificate()));
      }
      const rootPriv = PrivateKey.deserialize(u8(root.serialize()));
      const ourServer = ServerCertificate.create(
        0x1234,
        PublicKey.deserialize(u8(server.getPublicKey().serialize())),
        rootPriv,
      );
      expect(ourServer.certificateData()).toEqual(u8(lsServer.certificateData()));
    });

    test('we issue, libsignal validates', async () => {
      const trust = new Trust(ls, 'parley', 0xabcd);
      const identity = KeyPair.generate().publicKey;
      const cert = SenderCertificate.create(
        {
          senderUuid: BOB,
          senderE164: '+14153333333',
          senderDeviceId: 127,
          identityKey: identity,
          expiration: EXPIRES,
        },
        trust.serverCert,
        trust.server.privateKey,
      );
      const lsCert = trust.lsCert(cert);
      expect(lsCert.senderUuid()).toBe(BOB);
      expect(lsCert.senderE164()).toBe('+14153333333');
      expect(lsCert.senderDeviceId()).toBe(127);
      expect(lsCert.expiration()).toBe(EXPIRES);
      expect(u8(lsCert.key().serialize())).toEqual(identity.serialize());
      expect(lsCert.serverCertificate().keyId()).toBe(0xabcd);
      expect(u8(lsCert.serverCertificate().key().serialize())).toEqual(
        trust.server.publicKey.serialize(),
      );
      expect(lsCert.validate(trust.lsRoot(), EXPIRES)).toBe(true);
      expect(lsCert.validate(trust.lsRoot(), EXPIRES + 1)).toBe(false);
      expect(lsCert.validate(lsKey(KeyPair.generate().publicKey), EXPIRES)).toBe(false);
      // A tampered signature: libsignal refuses, and so do we.
      const bad = cert.serialize();
      bad[bad.length - 3]! ^= 0x10;
      expect(ls.SenderCertificate.deserialize(b(bad)).validate(trust.lsRoot(), EXPIRES)).toBe(
        false,
      );
      await expect(
        SenderCertificate.deserialize(bad).validate(trust.rootPublic, EXPIRES),
      ).rejects.toEqual(code('InvalidCertificate'));
    });

    test.each(['parley', 'libsignal'] as const)(
      'a server key id on the revocation list (0xDEADC357), issued by %s, is refused by both',
      async (issuer) => {
        const trust = new Trust(ls, issuer, 0xdeadc357);
        const cert = trust.certify({
          name: ALICE,
          deviceId: 1,
          identityKey: KeyPair.generate().publicKey,
        });
        expect(trust.lsCert(cert).validate(trust.lsRoot(), Date.now())).toBe(false);
        await expect(cert.validate(trust.rootPublic, Date.now())).rejects.toEqual(
          code('RevokedCertificate'),
        );
        await expect(trust.serverCert.validate(trust.rootPublic)).rejects.toEqual(
          code('RevokedCertificate'),
        );
        // The same certificate under a fresh id is fine: only the id is revoked.
        const ok = new Trust(ls, issuer, 0xdeadc356);
        const okCert = ok.certify({ name: ALICE, deviceId: 1, identityKey: cert.identityKey });
        await okCert.validate(ok.rootPublic, Date.now());
        expect(ok.lsCert(okCert).validate(ok.lsRoot(), Date.now())).toBe(true);
      },
    );
  });

  describe.each(['parley', 'libsignal'] as const)('1:1, certificates issued by %s', (issuer) => {
    async function setup(weInitiate: boolean) {
      const ours = new OurParty(weInitiate ? ALICE : BOB, weInitiate ? 1 : 4, spqrFor(version));
      const theirs = new LsParty(ls, weInitiate ? BOB : ALICE, weInitiate ? 2 : 3);
      const trust = new Trust(ls, issuer);
      const ourCert = trust.certify(ours);
      const theirCert = trust.certify(theirs);
      const [a, bb] = weInitiate ? [ours, theirs] : [theirs, ours];
      await a.processBundle(bb, await bb.makeBundle({ kyber: true, oneTime: true }));
      const toUs = async (envelope: Uint8Array) =>
        sealedSenderDecrypt(envelope, {
          trustRoot: trust.rootPublic,
          localAddress: ours.address,
          identityStore: ours.stores.identity,
          sessionCipher: ours.cipher,
        });
      const fromUs = (text: string) =>
        sealedSenderEncrypt(
          new ProtocolAddress(theirs.name, theirs.deviceId),
          ourCert,
          utf8(text),
          { sessionCipher: ours.cipher, identityStore: ours.stores.identity },
        );
      return { ours, theirs, trust, ourCert, theirCert, toUs, fromUs };
    }

    test.each([true, false])(
      'v1 envelopes both ways, from the first PreKey message (we initiate: %s)',
      async (weInitiate) => {
        const { ours, theirs, trust, theirCert, toUs, fromUs } = await setup(weInitiate);
        for (let i = 0; i < 6; i++) {
          const weSend = weInitiate === (i % 2 === 0);
          const text = `sealed #${i} ${'.'.repeat(i * 13)}`;
          if (weSend) {
            const opened = await lsOpen(theirs, await fromUs(text), trust);
            expect(dec(opened.plaintext)).toBe(text);
            expect(opened.senderUuid).toBe(ours.name);
            expect(opened.deviceId).toBe(ours.deviceId);
          } else {
            const envelope = await lsSeal(theirs, ours, theirCert, utf8(text), trust);
            expect(envelope[0]).toBe(0x11);
            const r = await toUs(envelope);
            expect(dec(r.plaintext)).toBe(text);
            expect(r.sender.toString()).toBe(`${theirs.name}.${theirs.deviceId}`);
            expect(r.type).toBe(i === 0 ? 'prekey' : 'whisper');
            expect(r.contentHint).toBe(ContentHint.Default);
            expect(r.groupId).toBeUndefined();
          }
        }
      },
    );

    test('USMC fields survive both ways (type, content hint, group id, certificate)', async () => {
      const { ours, theirs, trust, ourCert, theirCert, toUs, fromUs } = await setup(true);
      // Establish both directions first.
      await lsOpen(theirs, await fromUs('hello'), trust);
      await toUs(await lsSeal(theirs, ours, theirCert, utf8('hello back'), trust));

      // Ours → libsignal's decryptToUsmc.
      const inner = await ours.cipher.encrypt(
        new ProtocolAddress(theirs.name, theirs.deviceId),
        utf8('with hints'),
      );
      const groupId = Uint8Array.from({ length: 32 }, (_, i) => i);
      const usmc = UnidentifiedSenderMessageContent.create({
        type: inner.type,
        sender: ourCert,
        contents: inner.body,
        contentHint: ContentHint.Resendable,
        groupId,
      });
      const envelope = await sealedSenderEncryptFromUsmc(
        new ProtocolAddress(theirs.name, theirs.deviceId),
        usmc,
        ours.stores.identity,
      );
      const lsUsmc = await lsOpenToUsmc(theirs, envelope);
      expect(lsUsmc.msgType()).toBe(ls.CiphertextMessageType.Whisper);
      expect(lsUsmc.contentHint()).toBe(ContentHint.Resendable);
      expect(u8(lsUsmc.groupId()!)).toEqual(groupId);
      expect(u8(lsUsmc.contents())).toEqual(inner.body);
      expect(u8(lsUsmc.senderCertificate().serialize())).toEqual(ourCert.serialize());
      expect(u8(lsUsmc.serialize())).toEqual(usmc.serialize());
      expect(dec(await theirs.decrypt(ours, { type: 'whisper', body: inner.body }))).toBe(
        'with hints',
      );

      // libsignal's USMC → our decryptToUsmc.
      const lsInner = await (ls.signalEncrypt as (...a: unknown[]) => Promise<LsCiphertext>)(
        b(utf8('their hints')),
        ls.ProtocolAddress.new(ours.name, ours.deviceId),
        ...(version === '0.103.0' ? [ls.ProtocolAddress.new(theirs.name, theirs.deviceId)] : []),
        theirs.stores.session,
        theirs.stores.identity,
      );
      const theirUsmc = ls.UnidentifiedSenderMessageContent.new(
        lsInner as never,
        trust.lsCert(theirCert),
        ContentHint.Implicit,
        b(Uint8Array.of(7, 7, 7)),
      );
      const theirEnvelope = u8(
        await ls.sealedSenderEncrypt(
          theirUsmc,
          ls.ProtocolAddress.new(ours.name, ours.deviceId),
          theirs.stores.identity,
        ),
      );
      const opened = await sealedSenderDecryptToUsmc(theirEnvelope, ours.stores.identity);
      expect(opened.type).toBe('whisper');
      expect(opened.contentHint).toBe(ContentHint.Implicit);
      expect(opened.groupId()).toEqual(Uint8Array.of(7, 7, 7));
      expect(opened.sender.serialize()).toEqual(theirCert.serialize());
      expect(opened.serialize()).toEqual(u8(theirUsmc.serialize()));
      const r = await toUs(theirEnvelope);
      expect(dec(r.plaintext)).toBe('their hints');
      expect(r.contentHint).toBe(ContentHint.Implicit);
    });

    test('v2 with one recipient, both ways, split by either side', async () => {
      const { ours, theirs, trust, ourCert, theirCert, toUs, fromUs } = await setup(true);
      await lsOpen(theirs, await fromUs('hello'), trust);
      await toUs(await lsSeal(theirs, ours, theirCert, utf8('hello back'), trust));

      // Ours → libsignal.
      for (let i = 0; i < 3; i++) {
        const inner = await ours.cipher.encrypt(
          new ProtocolAddress(theirs.name, theirs.deviceId),
          utf8(`v2 out ${i}`),
        );
        const content = UnidentifiedSenderMessageContent.create({
          type: inner.type,
          sender: ourCert,
          contents: inner.body,
        });
        const sent = await sealedSenderMultiRecipientEncrypt({
          content,
          recipients: [new ProtocolAddress(theirs.name, theirs.deviceId)],
          identityStore: ours.stores.identity,
          sessionStore: ours.stores.session,
        });
        expect(sent[0]).toBe(0x23);
        const lsSplit = u8(ls.sealedSenderMultiRecipientMessageForSingleRecipient(b(sent)));
        const ourSplit = SealedSenderMultiRecipientMessage.parse(sent).messageForRecipient(
          theirs.name,
        );
        expect(ourSplit).toEqual(lsSplit);
        const opened = await lsOpen(theirs, lsSplit, trust);
        expect(dec(opened.plaintext)).toBe(`v2 out ${i}`);
      }

      // libsignal → ours.
      for (let i = 0; i < 3; i++) {
        const lsInner = await (ls.signalEncrypt as (...a: unknown[]) => Promise<LsCiphertext>)(
          b(utf8(`v2 in ${i}`)),
          ls.ProtocolAddress.new(ours.name, ours.deviceId),
          ...(version === '0.103.0' ? [ls.ProtocolAddress.new(theirs.name, theirs.deviceId)] : []),
          theirs.stores.session,
          theirs.stores.identity,
        );
        const content = ls.UnidentifiedSenderMessageContent.new(
          lsInner as never,
          trust.lsCert(theirCert),
          ContentHint.Default,
          null,
        );
        const sent = u8(
          await ls.sealedSenderMultiRecipientEncrypt(
            content,
            [ls.ProtocolAddress.new(ours.name, ours.deviceId)],
            theirs.stores.identity,
            theirs.stores.session,
          ),
        );
        const lsSplit = u8(ls.sealedSenderMultiRecipientMessageForSingleRecipient(b(sent)));
        const parsed = SealedSenderMultiRecipientMessage.parse(sent);
        expect([...parsed.recipients().keys()]).toEqual([ours.name]);
        expect(parsed.recipients().get(ours.name)).toEqual([
          { deviceId: ours.deviceId, registrationId: ours.registrationId },
        ]);
        expect(parsed.messageForRecipient(ours.name)).toEqual(lsSplit);
        const r = await toUs(lsSplit);
        expect(dec(r.plaintext)).toBe(`v2 in ${i}`);
        expect(r.senderUuid).toBe(theirs.name);
      }
    });

    test('tampered libsignal envelopes (v1 and v2): typed errors, stores unchanged', async () => {
      const { ours, theirs, trust, theirCert, toUs, fromUs } = await setup(true);
      await lsOpen(theirs, await fromUs('hello'), trust);
      const v1 = await lsSeal(theirs, ours, theirCert, utf8('tamper v1'), trust);
      const lsInner = await (ls.signalEncrypt as (...a: unknown[]) => Promise<LsCiphertext>)(
        b(utf8('tamper v2')),
        ls.ProtocolAddress.new(ours.name, ours.deviceId),
        ...(version === '0.103.0' ? [ls.ProtocolAddress.new(theirs.name, theirs.deviceId)] : []),
        theirs.stores.session,
        theirs.stores.identity,
      );
      const sent = await ls.sealedSenderMultiRecipientEncrypt(
        ls.UnidentifiedSenderMessageContent.new(
          lsInner as never,
          trust.lsCert(theirCert),
          ContentHint.Default,
          null,
        ),
        [ls.ProtocolAddress.new(ours.name, ours.deviceId)],
        theirs.stores.identity,
        theirs.stores.session,
      );
      const v2 = u8(ls.sealedSenderMultiRecipientMessageForSingleRecipient(sent));
      const before = ours.stores.snapshot();
      for (const envelope of [v1, v2]) {
        // Every byte after the version byte, one bit each (the bit rotates with the byte).
        for (let i = 1; i < envelope.length; i++) {
          const bad = envelope.slice();
          bad[i]! ^= 1 << (i % 8);
          const err = await toUs(bad).then(
            () => new Error(`byte ${i} tampered still opens`),
            (e: unknown) => e,
          );
          expect(err).toEqual(code('InvalidSealedSenderMessage'));
        }
      }
      expect(ours.stores.snapshot()).toEqual(before);
      expect(dec((await toUs(v1)).plaintext)).toBe('tamper v1');
      expect(dec((await toUs(v2)).plaintext)).toBe('tamper v2');
      // And libsignal refuses ours when tampered.
      const mine = await fromUs('tamper back');
      const bad = mine.slice();
      bad[mine.length - 1]! ^= 1;
      await expect(lsOpen(theirs, bad, trust)).rejects.toThrow();
      expect(dec((await lsOpen(theirs, mine, trust)).plaintext)).toBe('tamper back');
    });

    test('expired and wrong-trust-root envelopes: typed errors, stores unchanged', async () => {
      const { ours, theirs, trust, toUs, fromUs } = await setup(true);
      await lsOpen(theirs, await fromUs('hello'), trust);
      const expired = trust.certify(theirs, Date.now() - 1);
      const before = ours.stores.snapshot();
      const env1 = await lsSeal(theirs, ours, expired, utf8('late'), trust);
      await expect(toUs(env1)).rejects.toEqual(code('ExpiredCertificate'));
      const other = new Trust(ls, issuer);
      const env2 = await lsSeal(theirs, ours, other.certify(theirs), utf8('forged'), other);
      await expect(toUs(env2)).rejects.toEqual(code('InvalidCertificate'));
      expect(ours.stores.snapshot()).toEqual(before);
      // libsignal refuses ours alike.
      const ourExpired = trust.certify(ours, Date.now() - 1);
      const env3 = await sealedSenderEncrypt(
        new ProtocolAddress(theirs.name, theirs.deviceId),
        ourExpired,
        utf8('late'),
        { sessionCipher: ours.cipher, identityStore: ours.stores.identity },
      );
      await expect(lsOpen(theirs, env3, trust)).rejects.toThrow();
      // The envelope was fine apart from its certificate.
      const usmc = await lsOpenToUsmc(theirs, env3);
      expect(usmc.senderCertificate().validate(trust.lsRoot(), Date.now())).toBe(false);
      expect(usmc.senderCertificate().validate(trust.lsRoot(), ourExpired.expiration - 1)).toBe(
        true,
      );
    });
  });
});

type LsCiphertext = Awaited<ReturnType<Ls['signalEncrypt']>>;
