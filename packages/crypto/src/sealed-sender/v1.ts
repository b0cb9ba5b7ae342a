/**
 * Sealed sender v1: one envelope for one recipient (libsignal's `sealed_sender_encrypt_from_usmc`
 * and the V1 branch of `sealed_sender_decrypt_to_usmc`). With S the sender's identity key pair,
 * R the recipient's identity key, E a fresh ephemeral key pair and 33-byte serialized keys:
 *
 *   e_chain ‖ e_cipher ‖ e_mac = HKDF-SHA256(salt = "UnidentifiedDelivery" ‖ R ‖ E,
 *                                            ikm = DH(E, R), info = "", 96)
 *   encrypted_static  = AES-256-CTR(e_cipher, S.pub) ‖ HMAC-SHA256(e_mac, ·)[0..10]
 *   _ ‖ s_cipher ‖ s_mac = HKDF-SHA256(salt = e_chain ‖ encrypted_static, ikm = DH(S, R), "", 96)
 *   encrypted_message = AES-256-CTR(s_cipher, USMC) ‖ HMAC-SHA256(s_mac, ·)[0..10]
 *
 *   wire = 0x11 ‖ { 1: E.pub (33), 2: encrypted_static, 3: encrypted_message }
 *
 * (AES-CTR starts from an all-zero counter block: each key encrypts one message.) The receiver
 * recovers S.pub from `encrypted_static`, which only the holder of S can have made the second
 * layer for, and then requires that the certificate inside names that same key. Both MACs are
 * checked in constant time before anything is decrypted.
 * @module
 */
import { concat, constantTimeEqual, utf8, wipe } from '../_bytes.ts';
import { ProtoFields, ProtoWriter } from '../_protobuf.ts';
import { aes256Ctr, hkdfSha256, hmacSha256 } from '../_primitives.ts';
import { KeyPair, PublicKey, type IdentityKeyPair } from '../curve.ts';
import { ProtocolError } from '../errors.ts';
import type { RandomSource } from '../random.ts';
import { SEALED_SENDER_V1_FULL_VERSION, V1_MAC_LENGTH, V1_SALT_PREFIX } from './consts.ts';
import { UnidentifiedSenderMessageContent } from './usmc.ts';

const EMPTY = /* @__PURE__ */ new Uint8Array(0);
const SALT_PREFIX = /* @__PURE__ */ utf8(V1_SALT_PREFIX);

function invalid(why: string, cause?: unknown): ProtocolError {
  return new ProtocolError('InvalidSealedSenderMessage', why, cause === undefined ? {} : { cause });
}

/** HKDF(salt, ikm, "", 96) split into three 32-byte keys. */
function derive3(salt: Uint8Array, ikm: Uint8Array): [Uint8Array, Uint8Array, Uint8Array] {
  const okm = hkdfSha256(ikm, salt, EMPTY, 96);
  const out: [Uint8Array, Uint8Array, Uint8Array] = [
    okm.slice(0, 32),
    okm.slice(32, 64),
    okm.slice(64, 96),
  ];
  wipe(okm);
  return out;
}

/** libsignal's `aes256_ctr_hmacsha256_encrypt`: CTR ciphertext ‖ first 10 bytes of its HMAC. */
function ctrHmacEncrypt(plaintext: Uint8Array, cipherKey: Uint8Array, macKey: Uint8Array) {
  const ciphertext = aes256Ctr(cipherKey, plaintext);
  return concat(ciphertext, hmacSha256(macKey, ciphertext).subarray(0, V1_MAC_LENGTH));
}

/** The inverse; a short input or a MAC mismatch (constant-time) is `InvalidSealedSenderMessage`. */
function ctrHmacDecrypt(data: Uint8Array, cipherKey: Uint8Array, macKey: Uint8Array, what: string) {
  if (data.length < V1_MAC_LENGTH) throw invalid(`${what} is truncated`);
  const ciphertext = data.subarray(0, data.length - V1_MAC_LENGTH);
  const theirMac = data.subarray(data.length - V1_MAC_LENGTH);
  const ourMac = hmacSha256(macKey, ciphertext).subarray(0, V1_MAC_LENGTH);
  if (!constantTimeEqual(ourMac, theirMac)) throw invalid(`${what} failed its MAC`);
  return aes256Ctr(cipherKey, ciphertext);
}

/** Seals `usmc` for the holder of `recipient` (an identity key), from `ours`. */
export async function sealV1(
  usmc: UnidentifiedSenderMessageContent,
  recipient: PublicKey,
  ours: IdentityKeyPair,
  rng: RandomSource,
): Promise<Uint8Array> {
  const ephemeral = await KeyPair.generateAsync(rng);
  const ePub = ephemeral.publicKey.serialize();
  const rPub = recipient.serialize();

  const eShared = await ephemeral.privateKey.agreeAsync(recipient);
  const [eChain, eCipher, eMac] = derive3(concat(SALT_PREFIX, rPub, ePub), eShared);
  const encryptedStatic = ctrHmacEncrypt(ours.publicKey.serialize(), eCipher, eMac);

  const sShared = await ours.privateKey.agreeAsync(recipient);
  const [unused, sCipher, sMac] = derive3(concat(eChain, encryptedStatic), sShared);
  const encryptedMessage = ctrHmacEncrypt(usmc.serialize(), sCipher, sMac);
  wipe(eShared, eChain, eCipher, eMac, sShared, unused, sCipher, sMac);

  const body = new ProtoWriter()
    .bytes(1, ePub)
    .bytes(2, encryptedStatic)
    .bytes(3, encryptedMessage)
    .finish();
  return concat(Uint8Array.of(SEALED_SENDER_V1_FULL_VERSION), body);
}

/**
 * Opens a v1 envelope (`body`: the bytes after the version byte) addressed to `ours`.
 * Reads and writes no store; every failure is a `ProtocolError`.
 */
export async function openV1(
  body: Uint8Array,
  ours: IdentityKeyPair,
): Promise<UnidentifiedSenderMessageContent> {
  const f = ProtoFields.decode(body, 'sealed sender v1 message', 'InvalidSealedSenderMessage');
  const ePubBytes = f.requireBytes(1, 'ephemeralPublic');
  const encryptedStatic = f.requireBytes(2, 'encryptedStatic');
  const encryptedMessage = f.requireBytes(3, 'encryptedMessage');
  let ephemeral: PublicKey;
  try {
    ephemeral = PublicKey.deserialize(ePubBytes);
  } catch (cause) {
    throw invalid('sealed sender v1 ephemeral key is invalid', cause);
  }

  const eShared = await agreeOrInvalid(ours, ephemeral);
  const salt = concat(SALT_PREFIX, ours.publicKey.serialize(), ephemeral.serialize());
  const [eChain, eCipher, eMac] = derive3(salt, eShared);
  let staticKeyBytes: Uint8Array;
  try {
    staticKeyBytes = ctrHmacDecrypt(encryptedStatic, eCipher, eMac, 'sealed sender v1 static key');
  } finally {
    wipe(eShared, eCipher, eMac);
  }
  let senderKey: PublicKey;
  try {
    senderKey = PublicKey.deserialize(staticKeyBytes);
  } catch (cause) {
    wipe(eChain);
    throw invalid('sealed sender v1 static key is invalid', cause);
  }

  const sShared = await agreeOrInvalid(ours, senderKey);
  const [unused, sCipher, sMac] = derive3(concat(eChain, encryptedStatic), sShared);
  let content: Uint8Array;
  try {
    content = ctrHmacDecrypt(encryptedMessage, sCipher, sMac, 'sealed sender v1 message');
  } finally {
    wipe(eChain, sShared, unused, sCipher, sMac);
  }

  const usmc = UnidentifiedSenderMessageContent.deserialize(content);
  if (!constantTimeEqual(staticKeyBytes, usmc.sender.identityKey.serialize())) {
    throw invalid('sender certificate key does not match the sealing key');
  }
  return usmc;
}

/** X25519 with our identity; a low-order peer key is a malformed envelope. */
async function agreeOrInvalid(ours: IdentityKeyPair, theirs: PublicKey): Promise<Uint8Array> {
  try {
    return await ours.privateKey.agreeAsync(theirs);
  } catch (cause) {
    throw invalid('sealed sender key agreement failed', cause);
  }
}
