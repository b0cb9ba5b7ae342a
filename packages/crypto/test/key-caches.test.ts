/**
 * The accelerated backends cache key handles (imported private keys, Ed25519 signing seeds).
 * A key the protocol erased must leave the caches too: the protocol calls `forget` on the
 * backend for a replaced ratchet key, a used one-time prekey, an evicted session state and an
 * evicted sender-key state, and `clearCryptoCaches()` empties every cache (account wipe).
 */
import { afterEach, describe, expect, test } from 'vitest';
import { toHex, utf8 } from '../src/_bytes.ts';
import {
  curveBackend,
  getCryptoBackendChoice,
  setCryptoBackend,
  type CurveBackend,
} from '../src/_backend.ts';
import { __TESTS, webcryptoBackend, webcryptoWorks } from '../src/_webcrypto.ts';
import { clearCryptoCaches, forgetPrivateKeys } from '../src/backend.ts';
import { KeyPair } from '../src/curve.ts';
import { ARCHIVED_STATES_MAX_LENGTH } from '../src/consts.ts';
import { MAX_SENDER_KEY_STATES } from '../src/sender-keys/consts.ts';
import { SenderKeyRecord } from '../src/sender-keys/sender-key-record.ts';
import { SessionRecord } from '../src/session/session-record.ts';
import { OurParty } from './support/parties.ts';

const saved = getCryptoBackendChoice();
afterEach(() => setCryptoBackend(saved));

/** The backend in use, wrapped to record which private keys the protocol tells it to forget. */
async function recording() {
  const base: CurveBackend = await curveBackend();
  const forgotten = new Set<string>();
  let cleared = 0;
  setCryptoBackend({
    ...base,
    name: 'recording',
    forget: (k) => {
      forgotten.add(toHex(k));
      base.forget?.(k);
    },
    clearCaches: () => {
      cleared++;
      base.clearCaches?.();
    },
  });
  return { forgotten, cleared: () => cleared };
}

describe('the protocol tells the backend which private keys it erased', () => {
  test('a used one-time prekey and a ratchet key replaced by a DH step', async () => {
    const { forgotten } = await recording();
    const alice = new OurParty('alice');
    const bob = new OurParty('bob');
    const bundle = await bob.makeBundle();
    const preKey = (await bob.stores.preKey.getPreKey(bundle.preKeyId!))!;
    const preKeyHex = toHex(preKey.keyPair.privateKey.serialize());
    await alice.processBundle(bob, bundle);
    await bob.decrypt(alice, await alice.encrypt(bob, utf8('hi')));
    expect(forgotten.has(preKeyHex)).toBe(true);

    await alice.decrypt(bob, await bob.encrypt(alice, utf8('yo')));
    const record = (await bob.stores.session.loadSession(alice.address))!;
    const ratchetHex = toHex(record.currentState!.senderChain!.ratchetKey.privateKey.serialize());
    expect(forgotten.has(ratchetHex)).toBe(false);
    // Alice's next message carries a new ratchet key: Bob's DH step replaces his key pair.
    await bob.decrypt(alice, await alice.encrypt(bob, utf8('again')));
    expect(forgotten.has(ratchetHex)).toBe(true);
  });

  test('a session state evicted from the archive', async () => {
    const alice = new OurParty('alice');
    const bob = new OurParty('bob');
    await alice.processBundle(bob, await bob.makeBundle());
    const state = (await alice.stores.session.loadSession(bob.address))!.currentState!;
    const { forgotten } = await recording();
    const oldest = toHex(state.senderChain!.ratchetKey.privateKey.serialize());
    const record = new SessionRecord(state);
    // Later states with other ratchet keys: the first one leaves when the archive overflows.
    for (let i = 0; i < ARCHIVED_STATES_MAX_LENGTH; i++) {
      const next = state.clone();
      next.senderChain = { ratchetKey: KeyPair.generate(), chainKey: state.senderChain!.chainKey };
      record.promoteState(next);
    }
    expect(forgotten.has(oldest)).toBe(false);
    record.promoteState(state.clone());
    expect(record.previousStates.length).toBe(ARCHIVED_STATES_MAX_LENGTH);
    expect(forgotten.has(oldest)).toBe(true);
  });

  test('a sender-key state (and its signing key) evicted from its record', async () => {
    const { forgotten } = await recording();
    const record = new SenderKeyRecord();
    const signers = Array.from({ length: MAX_SENDER_KEY_STATES + 1 }, () => KeyPair.generate());
    signers.forEach((signer, chainId) =>
      record.addState({
        messageVersion: 3,
        chainId,
        iteration: 0,
        chainKey: new Uint8Array(32).fill(chainId + 1),
        signingKey: signer.publicKey,
        signingPrivateKey: signer.privateKey,
      }),
    );
    const hex = signers.map((s) => toHex(s.privateKey.serialize()));
    expect(forgotten.has(hex[0]!)).toBe(true);
    expect(hex.slice(1).some((h) => forgotten.has(h))).toBe(false);
  });

  test('clearCryptoCaches reaches the selected backend', async () => {
    const r = await recording();
    clearCryptoCaches();
    expect(r.cleared()).toBe(1);
  });
});

describe('the WebCrypto caches drop forgotten keys', () => {
  test('private keys and signing seeds; clearCryptoCaches empties both', async () => {
    if (!(await webcryptoWorks())) {
      console.log('skipped: WebCrypto X25519/Ed25519 is not available on this platform');
      return;
    }
    const pair = await webcryptoBackend.generate();
    const signer = await webcryptoBackend.generateSigning();
    expect(__TESTS.hasPrivateKey(pair.k)).toBe(true);
    expect(__TESTS.hasSigningKey(signer.k)).toBe(true);
    forgetPrivateKeys(pair.k, signer.k);
    expect(__TESTS.hasPrivateKey(pair.k)).toBe(false);
    expect(__TESTS.hasSigningKey(signer.k)).toBe(false);

    const again = await webcryptoBackend.generateSigning();
    expect(__TESTS.hasSigningKey(again.k)).toBe(true);
    clearCryptoCaches();
    expect(__TESTS.hasSigningKey(again.k)).toBe(false);
  });
});
