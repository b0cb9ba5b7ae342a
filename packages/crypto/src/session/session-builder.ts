/**
 * Starting sessions (libsignal `session.rs`).
 *
 * As initiator, from a {@link PreKeyBundle}: verify the signed-prekey signature and the Kyber
 * prekey signature (XEdDSA by the bundle's identity key over the serialised keys) before
 * anything else; check the identity is trusted; run X3DH/PQXDH (pqxdh.ts); remember the PreKey
 * message inputs so every message is wrapped in a PreKeySignalMessage until the peer answers.
 *
 * As responder, from a {@link PreKeySignalMessage}: check the identity is trusted; if a state
 * with the same version and base key exists (the initiator repeating itself), make it current;
 * otherwise look up our prekeys by id and build the session, making it current and archiving
 * the previous one (this is how simultaneous initiation converges).
 *
 * Both only change the in-memory record; the caller stores it once everything succeeded.
 * Internal module.
 * @module
 */
import type { ProtocolAddress } from '../address.ts';
import { KeyPair } from '../curve.ts';
import { PRE_KYBER_MESSAGE_VERSION } from '../consts.ts';
import { ProtocolError } from '../errors.ts';
import type { PreKeySignalMessage } from '../messages.ts';
import { PreKeyBundle } from '../prekeys.ts';
import type { RandomSource } from '../random.ts';
import type { ProtocolStores } from '../stores.ts';
import { initializeAliceSession, initializeBobSession } from './pqxdh.ts';
import type { SessionRecord } from './session-record.ts';
import type { SpqrMode } from '../spqr/session-spqr.ts';

/** Checks a bundle and adds a new initiator session to `record` (made current). */
export async function buildSessionFromBundle(
  stores: ProtocolStores,
  address: ProtocolAddress,
  record: SessionRecord,
  bundle: PreKeyBundle,
  now: number,
  rng: RandomSource,
  spqr?: SpqrMode,
  allowPreKyber = false,
): Promise<void> {
  if (!(bundle instanceof PreKeyBundle)) {
    throw new ProtocolError('InvalidArgument', 'bundle must be a PreKeyBundle');
  }
  // Without a Kyber prekey the session would be X3DH (v3): a downgrade anyone who can strip
  // the Kyber fields could force. libsignal ≥ 0.75 refuses it too.
  if (!bundle.kyberPreKey && !allowPreKyber) {
    throw new ProtocolError(
      'LegacyCiphertextVersion',
      'bundle has no Kyber prekey; X3DH (version 3) sessions are refused',
    );
  }
  const theirIdentity = bundle.identityKey;
  const [signedOk, kyberOk] = await Promise.all([
    theirIdentity.verifySignatureAsync(
      bundle.signedPreKey.serialize(),
      bundle.signedPreKeySignature,
    ),
    bundle.kyberPreKey &&
      theirIdentity.verifySignatureAsync(
        bundle.kyberPreKey.serialize(),
        bundle.kyberPreKeySignature!,
      ),
  ]);
  if (!signedOk) {
    throw new ProtocolError('InvalidSignature', 'signed prekey signature does not verify');
  }
  if (bundle.kyberPreKey && !kyberOk) {
    throw new ProtocolError('InvalidSignature', 'Kyber prekey signature does not verify');
  }
  if (!(await stores.identity.isTrustedIdentity(address, theirIdentity, 'sending'))) {
    throw new ProtocolError('UntrustedIdentity', `identity of ${address.toString()} has changed`);
  }

  const ourIdentity = await stores.identity.getIdentityKeyPair();
  const ourBaseKey = await KeyPair.generateAsync(rng);
  const { state, kyberCiphertext } = await initializeAliceSession(
    {
      ourIdentity,
      ourBaseKey,
      theirIdentity,
      theirSignedPreKey: bundle.signedPreKey,
      theirOneTimePreKey: bundle.preKey,
      theirRatchetKey: bundle.signedPreKey,
      theirKyberPreKey: bundle.kyberPreKey,
      spqr,
    },
    rng,
  );
  state.pendingPreKey = {
    preKeyId: bundle.preKeyId,
    signedPreKeyId: bundle.signedPreKeyId,
    baseKey: ourBaseKey.publicKey,
    timestamp: Math.floor(now / 1000),
  };
  if (kyberCiphertext) {
    state.pendingKyberPreKey = { preKeyId: bundle.kyberPreKeyId!, ciphertext: kyberCiphertext };
  }
  state.localRegistrationId = await stores.identity.getLocalRegistrationId();
  state.remoteRegistrationId = bundle.registrationId;
  record.promoteState(state);
}

/** Which of our prekeys a PreKey message consumed (to delete once it decrypted). */
export interface PreKeysUsed {
  preKeyId: number | undefined;
  kyberPreKeyId: number | undefined;
  /** The one-time prekey's scalar, for the key caches to forget once it is removed. */
  preKeyPrivate?: Uint8Array | undefined;
}

/** Sets up (or finds) the responder session for `message` in `record`, made current. */
export async function buildSessionFromPreKeyMessage(
  stores: ProtocolStores,
  address: ProtocolAddress,
  record: SessionRecord,
  message: PreKeySignalMessage,
  spqr?: SpqrMode,
  allowPreKyber = false,
): Promise<PreKeysUsed> {
  if (!(await stores.identity.isTrustedIdentity(address, message.identityKey, 'receiving'))) {
    throw new ProtocolError('UntrustedIdentity', `identity of ${address.toString()} has changed`);
  }
  if (record.promoteMatchingSession(message.messageVersion, message.baseKey.serialize())) {
    // A repeat of a message we already set up a session for: its outer identity key is not
    // covered by the inner MAC, so it must be the one the session was built with.
    if (!record.currentState!.remoteIdentity.equals(message.identityKey)) {
      throw new ProtocolError(
        'InvalidMessage',
        'identity key of a repeated PreKey message does not match its session',
      );
    }
    return { preKeyId: undefined, kyberPreKeyId: undefined };
  }
  // As libsignal: a session we already have is found first; a new one must be PQXDH.
  if (message.messageVersion <= PRE_KYBER_MESSAGE_VERSION && !allowPreKyber) {
    throw new ProtocolError(
      'LegacyCiphertextVersion',
      'X3DH (version 3) PreKey messages are refused; the sender must use PQXDH',
    );
  }

  const signedPreKey = await stores.signedPreKey.getSignedPreKey(message.signedPreKeyId);
  if (!signedPreKey) {
    throw new ProtocolError('InvalidSignedPreKeyId', `no signed prekey ${message.signedPreKeyId}`);
  }
  let kyberPreKey;
  if (message.kyberPreKeyId !== undefined) {
    kyberPreKey = await stores.kyberPreKey.getKyberPreKey(message.kyberPreKeyId);
    if (!kyberPreKey) {
      throw new ProtocolError('InvalidKyberPreKeyId', `no Kyber prekey ${message.kyberPreKeyId}`);
    }
  }
  let preKey;
  if (message.preKeyId !== undefined) {
    preKey = await stores.preKey.getPreKey(message.preKeyId);
    if (!preKey) throw new ProtocolError('InvalidPreKeyId', `no prekey ${message.preKeyId}`);
  }

  const state = await initializeBobSession({
    ourIdentity: await stores.identity.getIdentityKeyPair(),
    ourSignedPreKey: signedPreKey.keyPair,
    ourOneTimePreKey: preKey?.keyPair,
    ourRatchetKey: signedPreKey.keyPair,
    ourKyberPreKey: kyberPreKey?.keyPair,
    theirIdentity: message.identityKey,
    theirBaseKey: message.baseKey,
    theirKyberCiphertext: message.kyberCiphertext,
    spqr,
  });
  state.localRegistrationId = await stores.identity.getLocalRegistrationId();
  state.remoteRegistrationId = message.registrationId;
  record.promoteState(state);
  return {
    preKeyId: message.preKeyId,
    kyberPreKeyId: message.kyberPreKeyId,
    preKeyPrivate: preKey?.keyPair.privateKey.serialize(),
  };
}
