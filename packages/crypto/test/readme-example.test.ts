/**
 * The README's examples, run as written (imports through the package's public subpaths),
 * so the documentation cannot drift from the API.
 */
import { expect, test } from 'vitest';
import { ProtocolAddress } from '@parley/crypto/address.js';
import { IdentityKeyPair, KeyPair } from '@parley/crypto/curve.js';
import { isProtocolError } from '@parley/crypto/errors.js';
import { Fingerprint, FINGERPRINT_ITERATIONS } from '@parley/crypto/fingerprint.js';
import { GroupCipher, InMemorySenderKeyStore } from '@parley/crypto/group.js';
import { InMemoryProtocolStore } from '@parley/crypto/inmem-stores.js';
import {
  PreKeyBundle,
  generateKyberPreKey,
  generatePreKeys,
  generateSignedPreKey,
} from '@parley/crypto/prekeys.js';
import {
  SenderCertificate,
  ServerCertificate,
  UnidentifiedSenderMessageContent,
  sealedSenderDecryptToUsmc,
  sealedSenderEncryptFromUsmc,
} from '@parley/crypto/sealed-sender.js';
import { SessionCipher } from '@parley/crypto/session.js';

const text = new TextEncoder();
const read = new TextDecoder();

test('README: two parties', async () => {
  // --- README example: two parties ---
  // Bob publishes a bundle: identity, signed prekey, Kyber prekey, one one-time prekey.
  const bobIdentity = IdentityKeyPair.generate();
  const bobStores = new InMemoryProtocolStore(bobIdentity, 4242);
  const [oneTime] = generatePreKeys(1, 1);
  const signed = generateSignedPreKey(bobIdentity, 1);
  const kyber = generateKyberPreKey(bobIdentity, 1);
  await bobStores.preKey.savePreKey(oneTime!.id, oneTime!);
  await bobStores.signedPreKey.saveSignedPreKey(signed.id, signed);
  await bobStores.kyberPreKey.saveKyberPreKey(kyber.id, kyber);
  const bundle = new PreKeyBundle({
    registrationId: 4242,
    deviceId: 1,
    identityKey: bobIdentity.publicKey,
    preKeyId: oneTime!.id,
    preKey: oneTime!.publicKey,
    signedPreKeyId: signed.id,
    signedPreKey: signed.publicKey,
    signedPreKeySignature: signed.signature,
    kyberPreKeyId: kyber.id,
    kyberPreKey: kyber.publicKey,
    kyberPreKeySignature: kyber.signature,
  });

  // Alice starts a PQXDH session from it and sends; Bob answers.
  const aliceIdentity = IdentityKeyPair.generate();
  const aliceStores = new InMemoryProtocolStore(aliceIdentity, 7);
  const alice = new SessionCipher(aliceStores);
  const bob = new SessionCipher(bobStores);
  const ALICE = new ProtocolAddress('alice-account-uuid', 1);
  const BOB = new ProtocolAddress('bob-account-uuid', 1);

  await alice.processPreKeyBundle(BOB, bundle); // checks both signatures first
  const first = await alice.encrypt(BOB, text.encode('hi Bob')); // { type: 'prekey', body }
  const received = await bob.decrypt(ALICE, first);
  const reply = await bob.encrypt(ALICE, text.encode('hi Alice')); // { type: 'whisper', body }
  const answered = await alice.decrypt(BOB, reply);

  // A replay is refused with a typed error, and nothing in Bob's stores changes.
  try {
    await bob.decrypt(ALICE, first);
  } catch (err) {
    if (!isProtocolError(err, 'DuplicatedMessage')) throw err;
  }
  // --- end ---
  expect(read.decode(received)).toBe('hi Bob');
  expect(read.decode(answered)).toBe('hi Alice');
  await expect(bob.decrypt(ALICE, first)).rejects.toMatchObject({ code: 'DuplicatedMessage' });

  // --- README example: safety numbers ---
  const aliceView = Fingerprint.create({
    version: 2,
    iterations: FINGERPRINT_ITERATIONS,
    localId: text.encode(ALICE.name),
    localKey: aliceIdentity.publicKey,
    remoteId: text.encode(BOB.name),
    remoteKey: bobIdentity.publicKey,
  });
  const digits = aliceView.displayable; // 60 digits, equal on both sides
  const qrPayload = aliceView.scannable; // for a QR code; check a scanned one with compareScanned
  // --- end ---
  const bobView = Fingerprint.create({
    version: 2,
    iterations: FINGERPRINT_ITERATIONS,
    localId: text.encode(BOB.name),
    localKey: bobIdentity.publicKey,
    remoteId: text.encode(ALICE.name),
    remoteKey: aliceIdentity.publicKey,
  });
  expect(digits).toMatch(/^\d{60}$/);
  expect(qrPayload.length).toBeGreaterThan(64);
  expect(bobView.displayable).toBe(aliceView.displayable);
  expect(bobView.compareScanned(aliceView.scannable)).toBe(true);
});

test('README: a group', async () => {
  // --- README example: a group ---
  const distributionId = crypto.randomUUID(); // one per group (rotate it when members leave)
  const ALICE = new ProtocolAddress('alice-account-uuid', 1);
  const alice = new GroupCipher(new InMemorySenderKeyStore());
  const bob = new GroupCipher(new InMemorySenderKeyStore());

  // Alice's sender key goes to each member once, inside their 1:1 sessions.
  const skdm = await alice.createDistributionMessage(ALICE, distributionId);
  await bob.processDistributionMessage(ALICE, skdm); // (Bob got skdm.serialize() over 1:1)

  // Then each group message is encrypted once, for every member.
  const sealed = await alice.encrypt(ALICE, distributionId, text.encode('hello group'));
  const opened = await bob.decrypt(ALICE, sealed);
  // --- end ---
  expect(read.decode(opened)).toBe('hello group');
});

test('README: sealed sender', async () => {
  // --- README example: sealed sender ---
  // The relay's operator keeps a trust root offline (apps ship its public key) and certifies the
  // relay's signing key with it.
  const trustRoot = KeyPair.generate();
  const serverKey = KeyPair.generate();
  const serverCert = ServerCertificate.create(1, serverKey.publicKey, trustRoot.privateKey);

  const alice = new ProtocolAddress('9d0652a3-dcc3-4d11-975f-74d61598733f', 1);
  const bob = new ProtocolAddress('1c1b5a6e-02b4-4a6b-8d8f-6f0d0f3a2c11', 1);
  const aliceIdentity = IdentityKeyPair.generate();
  const bobIdentity = IdentityKeyPair.generate();
  const aliceStores = new InMemoryProtocolStore(aliceIdentity, 1);
  const bobStores = new InMemoryProtocolStore(bobIdentity, 2);
  await aliceStores.identity.saveIdentity(bob, bobIdentity.publicKey); // from their 1:1 session

  // The relay certifies Alice's device for a day.
  const aliceCert = SenderCertificate.create(
    {
      senderUuid: alice.name,
      senderDeviceId: alice.deviceId,
      identityKey: aliceIdentity.publicKey,
      expiration: Date.now() + 24 * 3600 * 1000,
    },
    serverCert,
    serverKey.privateKey,
  );

  // Alice seals an inner message (normally a SessionCipher or GroupCipher ciphertext).
  const content = UnidentifiedSenderMessageContent.create({
    type: 'senderkey',
    sender: aliceCert,
    contents: new TextEncoder().encode('inner message'),
  });
  const envelope = await sealedSenderEncryptFromUsmc(bob, content, aliceStores.identity);

  // Bob opens it, then checks the certificate before trusting the sender it names.
  const opened = await sealedSenderDecryptToUsmc(envelope, bobStores.identity);
  await opened.sender.validate(trustRoot.publicKey, Date.now()); // throws a ProtocolError if bad
  // --- end ---
  expect(opened.sender.senderUuid).toBe(alice.name);
  expect(read.decode(opened.contents())).toBe('inner message');
});
