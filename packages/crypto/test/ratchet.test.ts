/**
 * Upstream vectors: libsignal's chain-key derivation (`ratchet/keys.rs` test_chain_key_derivation)
 * and its X3DH known-answer test as corrected in a280bc655 (`tests/ratchet.rs`
 * test_ratcheting_session_as_bob / _as_alice), which uses a Bob ratchet key separate from his
 * signed prekey — injected here through pqxdh.ts, an internal module.
 */
import { describe, expect, test } from 'vitest';
import { fromHex, toHex } from '../src/_bytes.ts';
import { IdentityKeyPair, KeyPair, PrivateKey, PublicKey } from '../src/curve.ts';
import { KemKeyPair } from '../src/kem.ts';
import { ChainKey } from '../src/ratchet/chain-key.ts';
import { RootKey } from '../src/ratchet/root-key.ts';
import { initializeAliceSession, initializeBobSession } from '../src/session/pqxdh.ts';

describe('chain key (libsignal test_chain_key_derivation)', () => {
  test('message keys and next chain key', () => {
    const seed = fromHex('8ab72d6f4cc5ac0d387eaf463378ddb28edd07385b1cb01250c715982e7ad48f');
    const chainKey = new ChainKey(seed, 0);
    expect(toHex(chainKey.key)).toBe(toHex(seed));
    const keys = chainKey.messageKeys();
    expect(toHex(keys.cipherKey)).toBe(
      'bf51e9d75e0e31031051f82a2491ffc084fa298b7793bd9db620056febf45217',
    );
    expect(toHex(keys.macKey)).toBe(
      'c6c77d6a73a354337a56435e34607dfe48e3ace14e77314dc6abc172e7a7030b',
    );
    expect(keys.counter).toBe(0);
    const next = chainKey.next();
    expect(toHex(next.key)).toBe(
      '28e8f8fee54b801eef7c5cfb2f17f32c7b334485bbb70fac6ec10342a246d15d',
    );
    expect(next.index).toBe(1);
    expect(next.messageKeys().counter).toBe(1);
  });

  test('root key steps agree on both sides', async () => {
    const rk = new RootKey(new Uint8Array(32).fill(7));
    const a = KeyPair.generate();
    const b = KeyPair.generate();
    const [rkA, ckA] = await rk.createChain(b.publicKey, a.privateKey);
    const [rkB, ckB] = await rk.createChain(a.publicKey, b.privateKey);
    expect(rkA.key).toEqual(rkB.key);
    expect(ckA.key).toEqual(ckB.key);
    expect(ckA.index).toBe(0);
  });
});

describe('X3DH known answer (libsignal tests/ratchet.rs @ a280bc655)', () => {
  const pair = (pub: string, priv: string, consistent = true) => {
    const privateKey = PrivateKey.deserialize(fromHex(priv));
    const publicKey = PublicKey.deserialize(fromHex(pub));
    expect(privateKey.publicKey().equals(publicKey)).toBe(consistent);
    return new KeyPair(publicKey, privateKey);
  };
  const identity = (pub: string, priv: string) => {
    const kp = pair(pub, priv);
    return new IdentityKeyPair(kp.publicKey, kp.privateKey);
  };
  const bobEphemeral = pair(
    '052cb49776b8770205745a3a6e24f579cdb4ba7a89041005928ebbadc9c05ad458',
    'a1cab48f7c893fafa9880a28c3b4999d28d6329562d27a4ea4e22e9ff1bdd65a',
    // Upstream's Bob ratchet pair does not match (its private half is never used in the
    // vector: Bob's first chain key comes from X3DH alone), so only the public half matters.
    false,
  );
  const bobIdentity = identity(
    '05f1f43874f6966956c2dd473f8fa15adeb71d1cb991b2341692324cefb1c5e626',
    '4875cc69ddf8ea0719ec947d61081135868d5fd801f02c0225e516df2156605e',
  );
  const bobSignedPreKey = pair(
    '05ac248a8f263be6863576eb0362e28c828f0107a3379d34bab1586bf8c770cd67',
    '583900131fb727998b7803fe6ac22cc591f342e4e42a8c8d5d78194209b8d253',
  );
  const aliceBase = pair(
    '05e2c05860f2ac6b2b57ba564b421ffe71e4b128c591e46e0491cc9b33dbf22a27',
    '10ae7c64d1e61cd596b76a0db5012673391cae66edbfcf073b4da80516a47449',
  );
  const aliceIdentity = identity(
    '05b4a8455660ada65b401007f615e654041746432e3339c6875149bceefcb42b4a',
    '9040f0d4e09cf38f6dc7c13779c908c015a1da4fa78737a080eb0a6f4f5f8f58',
  );
  const expected = 'ab9be50e5cb22a925446ab90ee5670545f4fd32902459ec274b6ad0ae5d6031a';

  test('as Bob: sending chain key', async () => {
    const state = await initializeBobSession({
      ourIdentity: bobIdentity,
      ourSignedPreKey: bobSignedPreKey,
      ourRatchetKey: bobEphemeral,
      theirIdentity: aliceIdentity.publicKey,
      theirBaseKey: aliceBase.publicKey,
    });
    expect(state.sessionVersion).toBe(3);
    expect(toHex(state.localIdentity.serialize())).toBe(toHex(bobIdentity.publicKey.serialize()));
    expect(toHex(state.remoteIdentity.serialize())).toBe(
      toHex(aliceIdentity.publicKey.serialize()),
    );
    expect(toHex(state.senderChain!.chainKey.key)).toBe(expected);
  });

  test('as Alice: receiving chain key for Bob’s ratchet key', async () => {
    const { state, kyberCiphertext } = await initializeAliceSession({
      ourIdentity: aliceIdentity,
      ourBaseKey: aliceBase,
      theirIdentity: bobIdentity.publicKey,
      theirSignedPreKey: bobSignedPreKey.publicKey,
      theirRatchetKey: bobEphemeral.publicKey,
    });
    expect(kyberCiphertext).toBeUndefined();
    expect(state.sessionVersion).toBe(3);
    expect(toHex(state.receiverChain(bobEphemeral.publicKey)!.chainKey.key)).toBe(expected);
  });

  test('with Kyber both sides agree on version 4 and the chain key', async () => {
    const kyber = KemKeyPair.generate();
    const { state: alice, kyberCiphertext } = await initializeAliceSession({
      ourIdentity: aliceIdentity,
      ourBaseKey: aliceBase,
      theirIdentity: bobIdentity.publicKey,
      theirSignedPreKey: bobSignedPreKey.publicKey,
      theirRatchetKey: bobEphemeral.publicKey,
      theirKyberPreKey: kyber.publicKey,
    });
    const bob = await initializeBobSession({
      ourIdentity: bobIdentity,
      ourSignedPreKey: bobSignedPreKey,
      ourRatchetKey: bobEphemeral,
      ourKyberPreKey: kyber,
      theirIdentity: aliceIdentity.publicKey,
      theirBaseKey: aliceBase.publicKey,
      theirKyberCiphertext: kyberCiphertext,
    });
    expect(alice.sessionVersion).toBe(4);
    expect(bob.sessionVersion).toBe(4);
    const recv = alice.receiverChain(bobEphemeral.publicKey)!.chainKey.key;
    expect(toHex(recv)).toBe(toHex(bob.senderChain!.chainKey.key));
    expect(toHex(recv)).not.toBe(expected);
  });
});
