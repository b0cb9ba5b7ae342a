/**
 * Sealed sender v2: one envelope for many recipients, used for group sends (libsignal's
 * `sealed_sender_multi_recipient_encrypt` and the V2 branch of `sealed_sender_decrypt_to_usmc`).
 * The message is encrypted once; each recipient only gets 48 bytes of its own. With S the
 * sender's identity key pair, R_i each recipient's identity key, 33-byte serialized keys and
 * HKDF-SHA256 without salt:
 *
 *   M  = random(32);   r = HKDF(M, "Sealed Sender v2: r (2023-08)", 32);   E = keypair(r)
 *   K  = HKDF(M, "Sealed Sender v2: K", 32)
 *   C_i  = HKDF(DH(E, R_i) ‖ E.pub ‖ R_i, "Sealed Sender v2: DH", 32) XOR M
 *   AT_i = HKDF(DH(S, R_i) ‖ E.pub ‖ C_i ‖ S.pub ‖ R_i, "Sealed Sender v2: DH-sender", 16)
 *   ciphertext = AES-256-GCM-SIV(K, nonce = 0^12, USMC)
 *
 * A recipient recovers M from C_i, re-derives E from it and requires it to equal E.pub (so C_i
 * was made with M's own E), decrypts, and then checks AT_i against the certificate's identity
 * key: only the holder of S could have made it. Every comparison is constant-time.
 *
 * Wire formats (flat, no protobuf): what the sender uploads, a SentMessage (split by the relay,
 * `sent-message.ts`), and what each recipient downloads, a ReceivedMessage:
 *
 *   SentMessage     = 0x23 ‖ varint(count) ‖ per recipient: service id (17) ‖ devices ‖ C_i ‖ AT_i
 *                     (or, excluded: service id (17) ‖ 0x00) ‖ E.pub (32, raw) ‖ ciphertext
 *   devices         = (device id (1) ‖ u16 BE: has-more bit 0x8000 | registration id (14 bits))+
 *   ReceivedMessage = 0x22 ‖ C_i (32) ‖ AT_i (16) ‖ E.pub (32, raw) ‖ ciphertext
 * @module
 */
import type { ProtocolAddress } from '../address.ts';
import { concat, constantTimeEqual, toHex, utf8, wipe } from '../_bytes.ts';
import { aes256GcmSivDecrypt, aes256GcmSivEncrypt, hkdfSha256 } from '../_primitives.ts';
import { MAX_SEALED_SENDER_V2_RECIPIENTS } from '../consts.ts';
import { PrivateKey, PublicKey, type IdentityKeyPair } from '../curve.ts';
import { ProtocolError } from '../errors.ts';
import type { RandomSource } from '../random.ts';
import type { IdentityKeyStore, SessionStore } from '../stores.ts';
import {
  SEALED_SENDER_V2_SERVICE_ID_FULL_VERSION,
  V2_AUTH_TAG_LENGTH,
  V2_HAS_MORE_DEVICES,
  V2_LABEL_DH,
  V2_LABEL_DH_S,
  V2_LABEL_K,
  V2_LABEL_R,
  V2_MESSAGE_KEY_LENGTH,
  V2_PUBLIC_KEY_LENGTH,
  V2_REGISTRATION_ID_MASK,
} from './consts.ts';
import { serviceIdToFixedWidth } from './service-id.ts';
import { UnidentifiedSenderMessageContent } from './usmc.ts';

const LABEL_R = /* @__PURE__ */ utf8(V2_LABEL_R);
const LABEL_K = /* @__PURE__ */ utf8(V2_LABEL_K);
const LABEL_DH = /* @__PURE__ */ utf8(V2_LABEL_DH);
const LABEL_DH_S = /* @__PURE__ */ utf8(V2_LABEL_DH_S);

/** C ‖ AT ‖ E.pub: the fixed prefix of a ReceivedMessage body. */
const RECEIVED_PREFIX_LENGTH = V2_MESSAGE_KEY_LENGTH + V2_AUTH_TAG_LENGTH + V2_PUBLIC_KEY_LENGTH;

function invalid(why: string, cause?: unknown): ProtocolError {
  return new ProtocolError('InvalidSealedSenderMessage', why, cause === undefined ? {} : { cause });
}

/** E (from r) and K, both derived from M. */
function deriveFromM(m: Uint8Array): { e: PrivateKey; k: Uint8Array } {
  const r = hkdfSha256(m, undefined, LABEL_R, 32);
  const e = PrivateKey.deserialize(r); // clamped, as libsignal's PrivateKey::try_from
  wipe(r);
  return { e, k: hkdfSha256(m, undefined, LABEL_K, 32) };
}

/** C_i's pad: HKDF(DH ‖ E.pub ‖ R.pub, label_DH, 32). */
function pad(agreement: Uint8Array, ePub: PublicKey, rPub: PublicKey): Uint8Array {
  const ikm = concat(agreement, ePub.serialize(), rPub.serialize());
  const out = hkdfSha256(ikm, undefined, LABEL_DH, V2_MESSAGE_KEY_LENGTH);
  wipe(ikm);
  return out;
}

function xor(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

/** AT: HKDF(DH(S, R) ‖ E.pub ‖ C ‖ S.pub ‖ R.pub, label_DH_s, 16). */
function authTag(
  agreement: Uint8Array,
  ePub: PublicKey,
  c: Uint8Array,
  sender: PublicKey,
  recipient: PublicKey,
): Uint8Array {
  const ikm = concat(agreement, ePub.serialize(), c, sender.serialize(), recipient.serialize());
  const out = hkdfSha256(ikm, undefined, LABEL_DH_S, V2_AUTH_TAG_LENGTH);
  wipe(ikm);
  return out;
}

/** A protobuf varint (unsigned), as prost's `encode_length_delimiter`. */
function varint(n: number): Uint8Array {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return Uint8Array.from(out);
}

export interface MultiRecipientEncryptOptions {
  /** The content to seal (its inner message usually a SenderKeyMessage, for groups). */
  content: UnidentifiedSenderMessageContent;
  /**
   * Every device to deliver to. Names must be service ids ("<uuid>" or "PNI:<uuid>"); list each
   * account's devices next to each other (they then share one C_i and AT_i, as in libsignal).
   */
  recipients: readonly ProtocolAddress[];
  /** Service ids to mark as deliberately left out (the relay can check the list is complete). */
  excludedRecipients?: readonly string[];
  /** Our identity key pair and each recipient's identity key. */
  identityStore: IdentityKeyStore;
  /** Each recipient device's session, for its registration id. */
  sessionStore: SessionStore;
  rng: RandomSource;
}

/**
 * Builds a sealed sender v2 SentMessage for the relay to split. Needs an identity and a current
 * session for every recipient device (`SessionNotFound`, `InvalidState`), registration ids of
 * at most 14 bits (`InvalidRegistrationId`), service-id names and at most
 * MAX_SEALED_SENDER_V2_RECIPIENTS accounts (`InvalidArgument`). Reads the stores, writes nothing.
 */
export async function sealV2MultiRecipient(options: MultiRecipientEncryptOptions) {
  const {
    content,
    recipients,
    excludedRecipients = [],
    identityStore,
    sessionStore,
    rng,
  } = options;
  if (!(content instanceof UnidentifiedSenderMessageContent)) {
    throw new ProtocolError(
      'InvalidArgument',
      'content must be an UnidentifiedSenderMessageContent',
    );
  }
  if (!Array.isArray(recipients) || !Array.isArray(excludedRecipients)) {
    throw new ProtocolError('InvalidArgument', 'recipients and excludedRecipients must be arrays');
  }

  // Runs of consecutive devices of one account, as libsignal's chunk_by(name).
  const groups: ProtocolAddress[][] = [];
  for (const address of recipients) {
    if (typeof address?.name !== 'string' || typeof address.deviceId !== 'number') {
      throw new ProtocolError('InvalidArgument', 'recipients must be ProtocolAddresses');
    }
    const last = groups[groups.length - 1];
    if (last && last[0]!.name === address.name) last.push(address);
    else groups.push([address]);
  }
  const count = groups.length + excludedRecipients.length;
  if (count > MAX_SEALED_SENDER_V2_RECIPIENTS) {
    throw new ProtocolError(
      'InvalidArgument',
      `at most ${MAX_SEALED_SENDER_V2_RECIPIENTS} recipients per message, got ${count}`,
    );
  }
  const included = new Set(groups.map((g) => toHex(serviceIdToFixedWidth(g[0]!.name))));
  const excluded = excludedRecipients.map((id) => serviceIdToFixedWidth(id));
  // Either would make the SentMessage unparseable (libsignal's parser refuses it as well).
  const seen = new Set<string>();
  for (const id of excluded) {
    const key = toHex(id);
    if (included.has(key)) {
      throw new ProtocolError('InvalidArgument', 'a recipient cannot also be excluded');
    }
    if (seen.has(key)) throw new ProtocolError('InvalidArgument', 'a recipient is excluded twice');
    seen.add(key);
  }

  // Everything that can fail on the stores' contents, before any work is done.
  const ours = await identityStore.getIdentityKeyPair();
  const prepared: { serviceId: Uint8Array; identity: PublicKey; devices: Uint8Array }[] = [];
  for (const group of groups) {
    const identity = await identityStore.getIdentity(group[0]!);
    if (!identity) {
      throw new ProtocolError('SessionNotFound', `no identity key for ${group[0]!.toString()}`);
    }
    const devices = new Uint8Array(group.length * 3);
    for (let i = 0; i < group.length; i++) {
      const address = group[i]!;
      const record = await sessionStore.loadSession(address);
      if (!record) {
        throw new ProtocolError('SessionNotFound', `no session with ${address.toString()}`);
      }
      const state = record.currentState;
      if (!state) {
        throw new ProtocolError(
          'InvalidState',
          `no current session with ${address.toString()} (maybe it was archived)`,
        );
      }
      const registrationId = state.remoteRegistrationId;
      if ((registrationId & V2_REGISTRATION_ID_MASK) !== registrationId) {
        throw new ProtocolError(
          'InvalidRegistrationId',
          `registration id ${registrationId} of ${address.toString()} exceeds 14 bits`,
        );
      }
      const word = registrationId | (i < group.length - 1 ? V2_HAS_MORE_DEVICES : 0);
      devices[3 * i] = address.deviceId;
      devices[3 * i + 1] = word >>> 8;
      devices[3 * i + 2] = word & 0xff;
    }
    prepared.push({ serviceId: serviceIdToFixedWidth(group[0]!.name), identity, devices });
  }

  const m = rng(V2_MESSAGE_KEY_LENGTH);
  const { e, k } = deriveFromM(m);
  const ePub = e.publicKey();
  const ciphertext = aes256GcmSivEncrypt(k, content.serialize());
  wipe(k);

  const parts: Uint8Array[] = [Uint8Array.of(SEALED_SENDER_V2_SERVICE_ID_FULL_VERSION)];
  parts.push(varint(count));
  try {
    for (const { serviceId, identity, devices } of prepared) {
      const eShared = await e.agreeAsync(identity);
      const p = pad(eShared, ePub, identity);
      const c = xor(p, m);
      const sShared = await ours.privateKey.agreeAsync(identity);
      const at = authTag(sShared, ePub, c, ours.publicKey, identity);
      wipe(eShared, p, sShared);
      parts.push(serviceId, devices, c, at);
    }
  } finally {
    wipe(m);
  }
  for (const id of excluded) parts.push(id, Uint8Array.of(0));
  parts.push(ePub.raw(), ciphertext);
  return concat(...parts);
}

/**
 * Opens a v2 ReceivedMessage (`body`: the bytes after the version byte) addressed to `ours`.
 * Reads and writes no store; every failure is a `ProtocolError`.
 */
export async function openV2(
  body: Uint8Array,
  ours: IdentityKeyPair,
): Promise<UnidentifiedSenderMessageContent> {
  if (body.length < RECEIVED_PREFIX_LENGTH) {
    throw invalid(`sealed sender v2 message is shorter than ${RECEIVED_PREFIX_LENGTH + 1} bytes`);
  }
  const c = body.subarray(0, V2_MESSAGE_KEY_LENGTH);
  const at = body.subarray(V2_MESSAGE_KEY_LENGTH, V2_MESSAGE_KEY_LENGTH + V2_AUTH_TAG_LENGTH);
  const eRaw = body.subarray(V2_MESSAGE_KEY_LENGTH + V2_AUTH_TAG_LENGTH, RECEIVED_PREFIX_LENGTH);
  const ciphertext = body.subarray(RECEIVED_PREFIX_LENGTH);
  const ePub = PublicKey.fromRaw(eRaw);

  let eShared: Uint8Array;
  try {
    eShared = await ours.privateKey.agreeAsync(ePub);
  } catch (cause) {
    throw invalid('sealed sender v2 ephemeral key is invalid', cause);
  }
  const p = pad(eShared, ePub, ours.publicKey);
  const m = xor(p, c);
  wipe(eShared, p);
  const { e, k } = deriveFromM(m);
  wipe(m);
  if (!constantTimeEqual(e.publicKey().raw(), eRaw)) {
    wipe(k);
    throw invalid('derived ephemeral key does not match the one in the message');
  }
  let content: Uint8Array;
  try {
    content = aes256GcmSivDecrypt(k, ciphertext);
  } catch (cause) {
    throw invalid('sealed sender v2 content failed to decrypt', cause);
  } finally {
    wipe(k);
  }

  const usmc = UnidentifiedSenderMessageContent.deserialize(content);
  const sender = usmc.sender.identityKey;
  let sShared: Uint8Array;
  try {
    sShared = await ours.privateKey.agreeAsync(sender);
  } catch (cause) {
    throw invalid('sender certificate key is invalid', cause);
  }
  const expected = authTag(sShared, ePub, c, sender, ours.publicKey);
  wipe(sShared);
  if (!constantTimeEqual(expected, at)) {
    throw invalid('sender certificate key does not match the authentication tag');
  }
  return usmc;
}
