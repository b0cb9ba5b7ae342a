/**
 * X3DH (message version 3) and PQXDH (version 4) key agreement and the initial ratchet, as
 * libsignal's `ratchet.rs` (v0.72) computes them. See https://signal.org/docs/specifications/pqxdh/.
 *
 * Alice (initiator) has Bob's bundle: identity IK_B, signed prekey SPK_B, optional one-time
 * prekey OPK_B, optional Kyber prekey PQPK_B. She makes a base key EK_A and computes
 *
 *   S = 0xFF×32 ‖ DH(IK_A, SPK_B) ‖ DH(EK_A, IK_B) ‖ DH(EK_A, SPK_B) [‖ DH(EK_A, OPK_B)]
 *       [‖ SS]          where (CT, SS) = Kyber1024.Encaps(PQPK_B)
 *
 * Bob computes the same S from his private keys, the base key and CT (DH is symmetric):
 *
 *   S = 0xFF×32 ‖ DH(SPK_B, IK_A) ‖ DH(IK_B, EK_A) ‖ DH(SPK_B, EK_A) [‖ DH(OPK_B, EK_A)]
 *       [‖ Kyber1024.Decaps(PQSK_B, CT)]
 *
 *   RK_0 ‖ CK_0 = HKDF-SHA256(salt = none, ikm = S, info, 64)
 *   info = "WhisperText" (v3) | "WhisperText_X25519_SHA-256_CRYSTALS-KYBER-1024" (v4)
 *
 * The 0xFF×32 prefix keeps S from ever being a valid X25519 output alone ("discontinuity
 * bytes", as in XEdDSA). Then the Double Ratchet starts with Bob's ratchet key R_B, which in
 * the protocol IS his signed prekey:
 *
 *   Bob:   sending chain CK_0 with ratchet key pair R_B; no receiving chain; root key RK_0.
 *   Alice: receiving chain CK_0 for R_B; a fresh ratchet pair R_A;
 *          RK_1 ‖ CK_send = KDF_RK(RK_0, DH(R_A, R_B)).
 *
 * The ratchet key is a separate parameter here only so that libsignal's known-answer tests,
 * which use an R_B different from SPK_B, can be reproduced. Internal module.
 * @module
 */
import { concat, utf8, wipe } from '../_bytes.ts';
import { hkdfSha256 } from '../_primitives.ts';
import { KYBER_AWARE_MESSAGE_VERSION, PRE_KYBER_MESSAGE_VERSION } from '../consts.ts';
import { KeyPair, type IdentityKeyPair, type PublicKey } from '../curve.ts';
import { ProtocolError } from '../errors.ts';
import type { KemKeyPair, KemPublicKey } from '../kem.ts';
import { systemRandom, type RandomSource } from '../random.ts';
import { ChainKey } from '../ratchet/chain-key.ts';
import { RootKey } from '../ratchet/root-key.ts';
import { SessionState } from './session-state.ts';
import { DEFAULT_SPQR_MODE, initialSessionSpqrState, type SpqrMode } from '../spqr/session-spqr.ts';

const DISCONTINUITY = /* @__PURE__ */ new Uint8Array(32).fill(0xff);
const INFO_X3DH = /* @__PURE__ */ utf8('WhisperText');
const INFO_PQXDH = /* @__PURE__ */ utf8('WhisperText_X25519_SHA-256_CRYSTALS-KYBER-1024');

/** Root key, chain key and (bytes 64–96, libsignal ≥ 0.74) the SPQR auth key. */
function deriveInitialKeys(
  hasKyber: boolean,
  secrets: Uint8Array[],
): [RootKey, ChainKey, Uint8Array] {
  const ikm = concat(DISCONTINUITY, ...secrets);
  const okm = hkdfSha256(ikm, undefined, hasKyber ? INFO_PQXDH : INFO_X3DH, 96);
  const keys: [RootKey, ChainKey, Uint8Array] = [
    new RootKey(okm.subarray(0, 32)),
    new ChainKey(okm.subarray(32, 64), 0),
    okm.slice(64, 96),
  ];
  wipe(ikm, okm, ...secrets);
  return keys;
}

export interface AliceParameters {
  ourIdentity: IdentityKeyPair;
  ourBaseKey: KeyPair;
  theirIdentity: PublicKey;
  theirSignedPreKey: PublicKey;
  theirOneTimePreKey?: PublicKey | undefined;
  /** Bob's first ratchet key: his signed prekey, except in known-answer tests. */
  theirRatchetKey: PublicKey;
  theirKyberPreKey?: KemPublicKey | undefined;
  spqr?: SpqrMode | undefined;
}

/** The initiator's new session and, for PQXDH, the Kyber ciphertext to send Bob. */
export async function initializeAliceSession(
  p: AliceParameters,
  rng: RandomSource = systemRandom,
): Promise<{ state: SessionState; kyberCiphertext: Uint8Array | undefined }> {
  const sendingRatchetKey = KeyPair.generateAsync(rng);
  const base = p.ourBaseKey.privateKey;
  // All agreements at once, then the KEM while they run: a backend that computes off the main
  // thread (WebCrypto) overlaps them with the ML-KEM arithmetic.
  const agreements = Promise.all([
    p.ourIdentity.privateKey.agreeAsync(p.theirSignedPreKey),
    base.agreeAsync(p.theirIdentity),
    base.agreeAsync(p.theirSignedPreKey),
    ...(p.theirOneTimePreKey ? [base.agreeAsync(p.theirOneTimePreKey)] : []),
  ]);
  let kyberCiphertext: Uint8Array | undefined;
  let kyberSecret: Uint8Array | undefined;
  try {
    if (p.theirKyberPreKey) {
      const { ciphertext, sharedSecret } = p.theirKyberPreKey.encapsulate(rng);
      kyberSecret = sharedSecret;
      kyberCiphertext = ciphertext;
    }
  } catch (err) {
    await agreements.catch(() => undefined); // settle them (no unhandled rejection), then fail
    throw err;
  }
  const secrets = await agreements;
  if (kyberSecret) secrets.push(kyberSecret);
  const hasKyber = kyberCiphertext !== undefined;
  const [rootKey, chainKey, spqrKey] = deriveInitialKeys(hasKyber, secrets);
  const ratchetKey = await sendingRatchetKey;
  const [sendingRootKey, sendingChainKey] = await rootKey.createChain(
    p.theirRatchetKey,
    ratchetKey.privateKey,
  );
  const state = new SessionState({
    sessionVersion: hasKyber ? KYBER_AWARE_MESSAGE_VERSION : PRE_KYBER_MESSAGE_VERSION,
    localIdentity: p.ourIdentity.publicKey,
    remoteIdentity: p.theirIdentity,
    rootKey: sendingRootKey,
    aliceBaseKey: p.ourBaseKey.publicKey.serialize(),
  });
  state.addReceiverChain(p.theirRatchetKey, chainKey);
  state.senderChain = { ratchetKey, chainKey: sendingChainKey };
  const mode = p.spqr ?? DEFAULT_SPQR_MODE;
  state.pqRatchetState = initialSessionSpqrState(mode, spqrKey, true, state.sessionVersion);
  return { state, kyberCiphertext };
}

export interface BobParameters {
  ourIdentity: IdentityKeyPair;
  ourSignedPreKey: KeyPair;
  ourOneTimePreKey?: KeyPair | undefined;
  /** Our first ratchet key pair: the signed prekey, except in known-answer tests. */
  ourRatchetKey: KeyPair;
  ourKyberPreKey?: KemKeyPair | undefined;
  theirIdentity: PublicKey;
  theirBaseKey: PublicKey;
  theirKyberCiphertext?: Uint8Array | undefined;
  spqr?: SpqrMode | undefined;
}

/** The responder's new session, from the values in Alice's PreKey message. */
export async function initializeBobSession(p: BobParameters): Promise<SessionState> {
  if ((p.ourKyberPreKey === undefined) !== (p.theirKyberCiphertext === undefined)) {
    throw new ProtocolError('InvalidMessage', 'Kyber prekey and ciphertext must come together');
  }
  const spk = p.ourSignedPreKey.privateKey;
  const agreements = Promise.all([
    spk.agreeAsync(p.theirIdentity),
    p.ourIdentity.privateKey.agreeAsync(p.theirBaseKey),
    spk.agreeAsync(p.theirBaseKey),
    ...(p.ourOneTimePreKey ? [p.ourOneTimePreKey.privateKey.agreeAsync(p.theirBaseKey)] : []),
  ]);
  let kyberSecret: Uint8Array | undefined;
  try {
    if (p.ourKyberPreKey && p.theirKyberCiphertext) {
      kyberSecret = p.ourKyberPreKey.secretKey.decapsulate(p.theirKyberCiphertext);
    }
  } catch (err) {
    await agreements.catch(() => undefined); // settle them (no unhandled rejection), then fail
    throw err;
  }
  const secrets = await agreements;
  if (kyberSecret) secrets.push(kyberSecret);
  const hasKyber = p.ourKyberPreKey !== undefined;
  const [rootKey, chainKey, spqrKey] = deriveInitialKeys(hasKyber, secrets);
  const state = new SessionState({
    sessionVersion: hasKyber ? KYBER_AWARE_MESSAGE_VERSION : PRE_KYBER_MESSAGE_VERSION,
    localIdentity: p.ourIdentity.publicKey,
    remoteIdentity: p.theirIdentity,
    rootKey,
    aliceBaseKey: p.theirBaseKey.serialize(),
  });
  state.senderChain = { ratchetKey: p.ourRatchetKey, chainKey };
  const mode = p.spqr ?? DEFAULT_SPQR_MODE;
  state.pqRatchetState = initialSessionSpqrState(mode, spqrKey, false, state.sessionVersion);
  return state;
}
