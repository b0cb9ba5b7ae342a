/**
 * The Double Ratchet on a {@link SessionRecord} (libsignal `session_cipher.rs`), without any
 * store: `SessionCipher` in `../session.ts` loads the record, calls these, and saves it only if
 * they returned normally.
 *
 * Encrypt with the current state's sending chain, step i:
 *   (cipherKey, macKey, iv) = MessageKeys(HMAC(CK_i, 0x01));  CK_{i+1} = HMAC(CK_i, 0x02)
 *   body = AES-256-CBC(cipherKey, iv, PKCS#7(plaintext))
 *   SignalMessage{ratchet R_ours, counter i, previous_counter, body} MAC'd with macKey; wrapped
 *   in a PreKeySignalMessage while the session is unacknowledged.
 *
 * Decrypt a message (R_theirs, n):
 *   - R_theirs unknown: DH ratchet step. (RK', CK_recv) = KDF_RK(RK, DH(R_ours, R_theirs));
 *     new pair R_ours'; (RK'', CK_send) = KDF_RK(RK', DH(R_ours', R_theirs));
 *     previous_counter = max(sendIndex − 1, 0).
 *   - n below the chain index: use (and delete) the stored skipped key, else DuplicatedMessage.
 *   - n above it: store the skipped keys in between (at most MAX_FORWARD_JUMPS ahead).
 *   - verify the MAC, then decrypt; success acknowledges the session (no more PreKey wrapping).
 *
 * Each state is tried on a copy: the current state first, then archived states newest first
 * (a PreKey message only tries the current state, which was just set up for it); the state
 * that worked replaces its original and becomes current. Nothing is changed on failure.
 *
 * Bounded work: a forged message (no keys needed) with a fresh ratchet key and a high counter
 * would cost a chain step per skipped message in every state tried (41 × 25,000). So states
 * whose receiving chains hold the message's ratchet key are tried first, a further state only
 * while the chain steps of all attempts stay within MAX_FORWARD_JUMPS, and skipped keys that
 * MAX_MESSAGE_KEYS would evict at once are never derived (their chain steps are).
 * Internal module.
 * @module
 */
import { forgetPrivateKeys } from '../_backend.ts';
import { wipe } from '../_bytes.ts';
import { aes256CbcDecrypt, aes256CbcEncrypt } from '../_primitives.ts';
import { MAX_FORWARD_JUMPS, MAX_MESSAGE_KEYS } from '../consts.ts';
import { KeyPair, type PublicKey } from '../curve.ts';
import { ProtocolError, isProtocolError } from '../errors.ts';
import { PreKeySignalMessage, SignalMessage } from '../messages.ts';
import { systemRandom, type RandomSource } from '../random.ts';
import { spqrRecvDecoded, spqrSendDecoded } from '../spqr/index.ts';
import { MessageKeys } from '../ratchet/message-keys.ts';
import type { SessionRecord } from './session-record.ts';
import { SessionState, type ReceiverChain, type SkippedKey } from './session-state.ts';

/** A ciphertext as sent: a PreKey message while unacknowledged, then plain ("whisper"). */
export interface CiphertextMessage {
  type: 'prekey' | 'whisper';
  body: Uint8Array;
}

/** Encrypts with the record's current state, advancing its sending chain. */
export function encryptWithRecord(
  record: SessionRecord,
  plaintext: Uint8Array,
  now: number,
  rng: RandomSource = systemRandom,
): CiphertextMessage {
  const state = record.currentState;
  if (!state) throw new ProtocolError('SessionNotFound', 'no current session state');
  const chain = state.senderChain;
  if (!chain) throw new ProtocolError('InvalidState', 'session has no sending chain');
  if (!record.hasUsableSenderChain(now)) {
    throw new ProtocolError(
      'InvalidState',
      'session was never acknowledged and is too old to send on; process a fresh bundle',
    );
  }
  // Mutates the record's SPQR state in place: the caller works on a copy of the record.
  const spqr = spqrSendDecoded(state.pqState(), rng);
  const keys = chain.chainKey.messageKeys(spqr.key);
  const ciphertext = aes256CbcEncrypt(keys.cipherKey, keys.iv, plaintext);
  const message = SignalMessage.create({
    messageVersion: state.sessionVersion,
    macKey: keys.macKey,
    senderRatchetKey: chain.ratchetKey.publicKey,
    counter: chain.chainKey.index,
    previousCounter: state.previousCounter,
    ciphertext,
    senderIdentity: state.localIdentity,
    receiverIdentity: state.remoteIdentity,
    pqRatchet: spqr.msg,
  });
  wipe(keys.cipherKey, keys.macKey, keys.iv);
  chain.chainKey = chain.chainKey.next();
  state.setPqState(spqr.state);

  const pending = state.pendingPreKey;
  if (!pending) return { type: 'whisper', body: message.serialize() };
  const kyber = state.pendingKyberPreKey;
  const prekey = PreKeySignalMessage.create({
    messageVersion: state.sessionVersion,
    registrationId: state.localRegistrationId,
    preKeyId: pending.preKeyId,
    signedPreKeyId: pending.signedPreKeyId,
    kyberPreKeyId: kyber?.preKeyId,
    kyberCiphertext: kyber?.ciphertext,
    baseKey: pending.baseKey,
    identityKey: state.localIdentity,
    message,
  });
  return { type: 'prekey', body: prekey.serialize() };
}

/**
 * Decrypts `message` with one of the record's states (see the module comment) and updates the
 * record in place — only when decryption succeeded. The record's states themselves are never
 * changed in place (each attempt works on a copy; the one that worked replaces its original),
 * so `record` may share them with the record the store holds (`SessionRecord.shareStates`).
 */
export async function decryptWithRecord(
  record: SessionRecord,
  message: SignalMessage,
  type: CiphertextMessage['type'],
  rng: RandomSource,
): Promise<Uint8Array> {
  const errors: ProtocolError[] = [];
  const attempt = async (
    original: SessionState,
  ): Promise<[Uint8Array, SessionState] | undefined> => {
    const copy = original.clone();
    try {
      return [await decryptWithState(copy, message, rng), copy];
    } catch (err) {
      // A replay is final: another state must not "succeed" with an older chain.
      if (!isProtocolError(err) || err.code === 'DuplicatedMessage') throw err;
      errors.push(err);
      return undefined;
    }
  };

  // Candidates as [archive index or -1 for current, state]: libsignal's order, except that
  // states whose receiving chains hold the message's ratchet key go first.
  const ratchetKey = message.senderRatchetKey;
  const candidates: [number, SessionState][] = [];
  if (record.currentState) candidates.push([-1, record.currentState]);
  if (type === 'whisper') record.previousStates.forEach((s, i) => candidates.push([i, s]));
  const known = (s: SessionState) => s.receiverChain(ratchetKey);
  candidates.sort(([, a], [, b]) => Number(!known(a)) - Number(!known(b)));

  let spent = 0;
  for (const [index, state] of candidates) {
    // Chain steps this attempt costs: from the chain's index, or from 0 on a new chain.
    const cost = Math.max(message.counter - (known(state)?.chainKey.index ?? 0), 0) + 1;
    if (spent > 0 && spent + cost > MAX_FORWARD_JUMPS) break;
    spent += cost;
    const result = await attempt(state);
    if (!result) continue;
    const replaced = state.senderChain?.ratchetKey;
    if (replaced && !result[1].senderChain?.ratchetKey.publicKey.equals(replaced.publicKey)) {
      forgetPrivateKeys(replaced.privateKey.serialize()); // a DH ratchet step erased it
    }
    if (index < 0) record.setCurrentState(result[1]);
    else record.promoteArchivedState(index, result[1]);
    return result[0];
  }
  if (errors.length === 0) throw new ProtocolError('SessionNotFound', 'no session to decrypt with');
  if (errors.length === 1) throw errors[0]!;
  const code = errors.every((e) => e.code === errors[0]!.code) ? errors[0]!.code : 'InvalidMessage';
  throw new ProtocolError(code, `decryption failed with ${errors.length} session states`, {
    cause: errors[0],
  });
}

async function decryptWithState(
  state: SessionState,
  message: SignalMessage,
  rng: RandomSource,
): Promise<Uint8Array> {
  if (message.messageVersion !== state.sessionVersion) {
    throw new ProtocolError(
      'UnrecognizedMessageVersion',
      `message version ${message.messageVersion} does not match session version ${state.sessionVersion}`,
    );
  }
  const chain = await getOrCreateReceiverChain(state, message.senderRatchetKey, rng);
  const seed = getOrCreateMessageKeySeed(state, chain, message.counter);
  // SPQR's new state is only kept (below) once the MAC and the body check out. It runs on
  // this copy's own decoded state, which a failure leaves changed: the copy is then dropped.
  const spqr = spqrRecvDecoded(state.pqState(), message.pqRatchet);
  const keys = MessageKeys.derive(seed, message.counter, spqr.key);
  try {
    if (!message.verifyMac(keys.macKey, state.remoteIdentity, state.localIdentity)) {
      throw new ProtocolError('InvalidMac', 'message MAC verification failed');
    }
    const plaintext = aes256CbcDecrypt(keys.cipherKey, keys.iv, message.ciphertext);
    state.setPqState(spqr.state);
    state.clearUnacknowledgedPreKeyMessage();
    return plaintext;
  } finally {
    wipe(seed, keys.cipherKey, keys.macKey, keys.iv);
  }
}

async function getOrCreateReceiverChain(
  state: SessionState,
  theirRatchetKey: PublicKey,
  rng: RandomSource,
): Promise<ReceiverChain> {
  const existing = state.receiverChain(theirRatchetKey);
  if (existing) return existing;
  const sender = state.senderChain;
  if (!sender) throw new ProtocolError('InvalidState', 'session has no sending chain');

  // Both agreements are independent of the root-key chain: start the first (its keys are
  // usually cached) before generating our new key pair, so the backend overlaps them.
  const receiving = sender.ratchetKey.privateKey.agreeAsync(theirRatchetKey);
  const ourNewRatchetKey = await KeyPair.generateAsync(rng);
  const [receivingSecret, sendingSecret] = await Promise.all([
    receiving,
    ourNewRatchetKey.privateKey.agreeAsync(theirRatchetKey),
  ]);
  const [rootKey, receiverChainKey] = state.rootKey.chainFromSecret(receivingSecret);
  const [nextRootKey, senderChainKey] = rootKey.chainFromSecret(sendingSecret);
  state.rootKey = nextRootKey;
  state.addReceiverChain(theirRatchetKey, receiverChainKey);
  // The index of the last key used on the old chain (libsignal semantics), not a count.
  state.previousCounter = Math.max(sender.chainKey.index - 1, 0);
  state.senderChain = { ratchetKey: ourNewRatchetKey, chainKey: senderChainKey };
  return state.receiverChains[state.receiverChains.length - 1]!;
}

function getOrCreateMessageKeySeed(
  state: SessionState,
  chain: ReceiverChain,
  counter: number,
): Uint8Array {
  const index = chain.chainKey.index;
  if (index > counter) {
    const skipped = SessionState.takeSkippedKey(chain, counter);
    if (!skipped) {
      throw new ProtocolError(
        'DuplicatedMessage',
        `message ${counter} was already received (chain is at ${index})`,
      );
    }
    // A copy: the caller wipes it, and the record it came from may share the stored key.
    return skipped.seed.slice();
  }
  const jump = counter - index;
  if (jump > MAX_FORWARD_JUMPS && !state.isSelfSession) {
    throw new ProtocolError(
      'TooFarIntoFuture',
      `message ${counter} is ${jump} ahead of the chain (limit ${MAX_FORWARD_JUMPS})`,
    );
  }
  // Only the newest MAX_MESSAGE_KEYS skipped keys survive: older steps advance the chain only.
  const keep = counter - MAX_MESSAGE_KEYS;
  const skipped: SkippedKey[] = [];
  let chainKey = chain.chainKey;
  while (chainKey.index < counter) {
    if (chainKey.index >= keep)
      skipped.push({ index: chainKey.index, seed: chainKey.messageKeySeed() });
    chainKey = chainKey.next();
  }
  SessionState.addSkippedKeys(chain, skipped);
  chain.chainKey = chainKey.next();
  return chainKey.messageKeySeed();
}
