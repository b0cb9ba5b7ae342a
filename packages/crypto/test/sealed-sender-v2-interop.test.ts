/**
 * Sealed sender v2 group sends against libsignal 0.72.1, 0.90.0 and 0.103.0, both directions:
 * a sender (ours or libsignal's) hands its sender key to every member's devices in sealed v1
 * 1:1 messages, then sends group messages once with `sealedSenderMultiRecipientEncrypt`; the
 * SentMessage is split per recipient as a relay would, by our parser and by libsignal's
 * `SealedSenderMultiRecipientMessage` (same recipients, devices, registration ids, exclusions
 * and byte-identical per-recipient messages); every device — ours and libsignal's, accounts
 * with two devices sharing an identity, one recipient named by its PNI — opens and decrypts.
 */
import { describe, expect, test } from 'vitest';
import { utf8 } from '../src/_bytes.ts';
import { ProtocolAddress } from '../src/address.ts';
import { IdentityKeyPair } from '../src/curve.ts';
import { GroupCipher, InMemorySenderKeyStore, SenderKeyDistributionMessage } from '../src/group.ts';
import {
  ContentHint,
  SealedSenderMultiRecipientMessage,
  UnidentifiedSenderMessageContent,
  sealedSenderDecrypt,
  sealedSenderEncrypt,
  sealedSenderMultiRecipientEncrypt,
} from '../src/sealed-sender.ts';
import { bytesFor, u8 } from './support/libsignal.ts';
import { LsParty, OurParty, type Ls } from './support/parties.ts';
import {
  LIBSIGNALS_SEALED,
  Trust,
  lsOpen,
  lsOpenToUsmc,
  lsSeal,
  lsSenderKeyStore,
  lsSplitter,
  spqrFor,
} from './support/sealed.ts';

const SENDER = '9d0652a3-dcc3-4d11-975f-74d61598733f';
const OURS_2DEV = '1c1b5a6e-02b4-4a6b-8d8f-6f0d0f3a2c11';
const THEIRS_2DEV = '796abedb-ca4e-4f18-8803-1fde5b921f9f';
const OURS_PNI = 'PNI:3f0f5ab7-7c1e-4f0a-9b7e-2d4c8a1e6b55';
const EXCLUDED = 'a1b2c3d4-0000-4000-8000-00000000beef';
const GROUP_ID = Uint8Array.from({ length: 32 }, (_, i) => 0xa0 ^ i);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

/** An OurParty with a sender-key store and GroupCipher. */
class OurMember extends OurParty {
  readonly senderKeys = new InMemorySenderKeyStore();
  readonly group = new GroupCipher(this.senderKeys);
}

/** An LsParty with a libsignal sender-key store. */
class LsMember extends LsParty {
  readonly senderKeys = lsSenderKeyStore(this.ls);
}

function members(ls: Ls, version: string) {
  const opts = spqrFor(version);
  const oursShared = IdentityKeyPair.generate();
  const theirsShared = ls.IdentityKeyPair.generate();
  return [
    new OurMember(OURS_2DEV, 1, opts, oursShared),
    new OurMember(OURS_2DEV, 2, opts, oursShared),
    new LsMember(ls, THEIRS_2DEV, 1, theirsShared),
    new LsMember(ls, THEIRS_2DEV, 3, theirsShared),
    new OurMember(OURS_PNI, 5, opts),
  ] as const;
}

type Member = OurMember | LsMember;
const addressOf = (m: { name: string; deviceId: number }) =>
  new ProtocolAddress(m.name, m.deviceId);

/** Splits `sent` with both parsers; checks they agree; returns our per-recipient messages. */
async function split(version: string, sent: Uint8Array, all: readonly Member[]) {
  const ours = SealedSenderMultiRecipientMessage.parse(sent);
  const Theirs = await lsSplitter(version);
  const theirs = new Theirs(sent);
  const lsRecipients = theirs.recipientsByServiceIdString();
  expect(Object.keys(lsRecipients).sort()).toEqual([...ours.recipients().keys()].sort());
  expect(theirs.excludedRecipientServiceIdStrings()).toEqual(ours.excludedRecipients());
  expect(ours.excludedRecipients()).toEqual([EXCLUDED]);
  for (const [id, devices] of ours.recipients()) {
    const r = lsRecipients[id]!;
    expect(devices.map((d) => d.deviceId)).toEqual(r.deviceIds);
    expect(devices.map((d) => d.registrationId)).toEqual(r.registrationIds);
    expect(devices).toEqual(
      all
        .filter((m) => m.name === id)
        .map((m) => ({ deviceId: m.deviceId, registrationId: m.registrationId })),
    );
    expect(ours.messageForRecipient(id)).toEqual(u8(theirs.messageForRecipient(r)));
  }
  return (m: Member) => ours.messageForRecipient(m.name);
}

describe.each(LIBSIGNALS_SEALED)(
  'sealed sender v2 group sends with libsignal %s',
  (version, ls) => {
    const b = bytesFor(ls);

    test.each(['parley', 'libsignal'] as const)(
      'we send to the group (certificates by %s); everyone reads',
      async (issuer) => {
        const trust = new Trust(ls, issuer);
        const sender = new OurMember(SENDER, 7, spqrFor(version));
        const cert = trust.certify(sender);
        const all = members(ls, version);
        const distributionId = crypto.randomUUID();

        // 1:1 sessions with every device; the SKDM travels sealed (v1) to each of them.
        const skdm = (
          await sender.group.createDistributionMessage(sender.address, distributionId)
        ).serialize();
        for (const m of all) {
          await sender.processBundle(m, await m.makeBundle({ kyber: true, oneTime: true }));
          const envelope = await sealedSenderEncrypt(addressOf(m), cert, skdm, {
            sessionCipher: sender.cipher,
            identityStore: sender.stores.identity,
          });
          if (m instanceof OurMember) {
            const r = await sealedSenderDecrypt(envelope, {
              trustRoot: trust.rootPublic,
              localAddress: m.address,
              identityStore: m.stores.identity,
              sessionCipher: m.cipher,
            });
            await m.group.processDistributionMessage(
              r.sender,
              SenderKeyDistributionMessage.deserialize(r.plaintext),
            );
          } else {
            const r = await lsOpen(m, envelope, trust);
            await ls.processSenderKeyDistributionMessage(
              ls.ProtocolAddress.new(r.senderUuid, r.deviceId),
              ls.SenderKeyDistributionMessage.deserialize(b(r.plaintext)),
              m.senderKeys.store,
            );
          }
        }

        for (let i = 0; i < 3; i++) {
          const text = `group #${i} ${'g'.repeat(i * 50)}`;
          const skm = await sender.group.encrypt(sender.address, distributionId, utf8(text));
          const content = UnidentifiedSenderMessageContent.create({
            type: 'senderkey',
            sender: cert,
            contents: skm,
            contentHint: ContentHint.Resendable,
            groupId: GROUP_ID,
          });
          const sent = await sealedSenderMultiRecipientEncrypt({
            content,
            recipients: all.map(addressOf),
            excludedRecipients: [EXCLUDED],
            identityStore: sender.stores.identity,
            sessionStore: sender.stores.session,
          });
          const forRecipient = await split(version, sent, all);
          for (const m of all) {
            const received = forRecipient(m);
            if (m instanceof OurMember) {
              const r = await sealedSenderDecrypt(received, {
                trustRoot: trust.rootPublic,
                localAddress: m.address,
                identityStore: m.stores.identity,
                sessionCipher: m.cipher,
                groupCipher: m.group,
              });
              expect(dec(r.plaintext)).toBe(text);
              expect(r.type).toBe('senderkey');
              expect(r.sender.equals(sender.address)).toBe(true);
              expect(r.groupId).toEqual(GROUP_ID);
              expect(r.contentHint).toBe(ContentHint.Resendable);
            } else {
              const usmc = await lsOpenToUsmc(m, received);
              expect(usmc.senderCertificate().validate(trust.lsRoot(), Date.now())).toBe(true);
              expect(usmc.msgType()).toBe(ls.CiphertextMessageType.SenderKey);
              expect(u8(usmc.groupId()!)).toEqual(GROUP_ID);
              expect(usmc.contentHint()).toBe(ContentHint.Resendable);
              const plain = await ls.groupDecrypt(
                ls.ProtocolAddress.new(
                  usmc.senderCertificate().senderUuid(),
                  usmc.senderCertificate().senderDeviceId(),
                ),
                m.senderKeys.store,
                usmc.contents(),
              );
              expect(dec(u8(plain))).toBe(text);
            }
          }
        }
      },
    );

    test.each(['parley', 'libsignal'] as const)(
      'libsignal sends to the group (certificates by %s); everyone reads',
      async (issuer) => {
        const trust = new Trust(ls, issuer);
        const sender = new LsMember(ls, SENDER, 7);
        const cert = trust.certify(sender);
        const lsCert = trust.lsCert(cert);
        const senderAddress = ls.ProtocolAddress.new(SENDER, 7);
        const all = members(ls, version);
        const distributionId = crypto.randomUUID();

        const skdm = u8(
          (
            await ls.SenderKeyDistributionMessage.create(
              senderAddress,
              distributionId,
              sender.senderKeys.store,
            )
          ).serialize(),
        );
        for (const m of all) {
          await sender.processBundle(m, await m.makeBundle({ kyber: true, oneTime: true }));
          const envelope = await lsSeal(sender, m, cert, skdm, trust);
          if (m instanceof OurMember) {
            const r = await sealedSenderDecrypt(envelope, {
              trustRoot: trust.rootPublic,
              localAddress: m.address,
              identityStore: m.stores.identity,
              sessionCipher: m.cipher,
            });
            expect(r.type).toBe('prekey');
            await m.group.processDistributionMessage(
              r.sender,
              SenderKeyDistributionMessage.deserialize(r.plaintext),
            );
          } else {
            const r = await lsOpen(m, envelope, trust);
            await ls.processSenderKeyDistributionMessage(
              ls.ProtocolAddress.new(r.senderUuid, r.deviceId),
              ls.SenderKeyDistributionMessage.deserialize(b(r.plaintext)),
              m.senderKeys.store,
            );
          }
        }

        const recipients = all.map((m) => ls.ProtocolAddress.new(m.name, m.deviceId));
        for (let i = 0; i < 3; i++) {
          const text = `their group #${i} ${'h'.repeat(i * 40)}`;
          const skm = await ls.groupEncrypt(
            senderAddress,
            distributionId,
            sender.senderKeys.store,
            b(utf8(text)),
          );
          const content = ls.UnidentifiedSenderMessageContent.new(
            skm,
            lsCert,
            ContentHint.Implicit,
            b(GROUP_ID),
          );
          const sent = u8(
            await ls.sealedSenderMultiRecipientEncrypt({
              content,
              recipients,
              excludedRecipients: [ls.ServiceId.parseFromServiceIdString(EXCLUDED)],
              identityStore: sender.stores.identity,
              sessionStore: sender.stores.session,
            }),
          );
          expect(sent[0]).toBe(0x23);
          const forRecipient = await split(version, sent, all);
          for (const m of all) {
            const received = forRecipient(m);
            if (m instanceof OurMember) {
              const r = await sealedSenderDecrypt(received, {
                trustRoot: trust.rootPublic,
                localAddress: m.address,
                identityStore: m.stores.identity,
                sessionCipher: m.cipher,
                groupCipher: m.group,
              });
              expect(dec(r.plaintext)).toBe(text);
              expect(r.senderUuid).toBe(SENDER);
              expect(r.senderDeviceId).toBe(7);
              expect(r.groupId).toEqual(GROUP_ID);
              expect(r.contentHint).toBe(ContentHint.Implicit);
            } else {
              const usmc = await lsOpenToUsmc(m, received);
              expect(usmc.senderCertificate().validate(trust.lsRoot(), Date.now())).toBe(true);
              const plain = await ls.groupDecrypt(
                senderAddress,
                m.senderKeys.store,
                usmc.contents(),
              );
              expect(dec(u8(plain))).toBe(text);
            }
          }
        }
      },
    );
  },
);
