/**
 * The README's examples, run as written (imports through the package's public subpaths),
 * so the documentation cannot drift from the API.
 */
import { expect, test } from 'vitest';
import { ProtocolAddress } from '@parley/crypto/address.js';
import { IdentityKeyPair } from '@parley/crypto/curve.js';
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
