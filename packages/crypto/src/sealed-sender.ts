/**
 * Sealed sender, byte-compatible with libsignal (`sealed_sender.rs`): the relay delivers a
 * message without learning who sent it. The sender's identity travels inside the envelope as a
 * certificate the relay signed earlier; the recipient checks it against a trust root.
 *
 * ```ts
 * import { sealedSenderEncrypt, sealedSenderDecrypt } from '@parley/crypto/sealed-sender.js';
 * // Alice (holding a SenderCertificate the relay issued her, and a session with Bob):
 * const envelope = await sealedSenderEncrypt(bob, aliceCert, utf8('hi'), {
 *   sessionCipher: aliceCipher, identityStore: aliceStores.identity });
 * // Bob:
 * const { sender, plaintext } = await sealedSenderDecrypt(envelope, {
 *   trustRoot, localAddress: bob, identityStore: bobStores.identity, sessionCipher: bobCipher });
 * ```
 *
 * - v1 (`sealedSenderEncrypt`, `sealedSenderEncryptFromUsmc`): one envelope per recipient
 *   device (`sealed-sender/v1.ts`).
 * - v2 (`sealedSenderMultiRecipientEncrypt`): one upload for many recipients, split by the relay
 *   with `SealedSenderMultiRecipientMessage` (`sealed-sender/{v2,sent-message}.ts`).
 * - Opening: `sealedSenderDecryptToUsmc` opens either version and returns the content with its
 *   certificate, unvalidated; `sealedSenderDecrypt` also validates the certificate, refuses
 *   messages from this very device and decrypts the inner message with the SessionCipher (1:1)
 *   or the GroupCipher (sender keys).
 *
 * Opening reads only our identity key: a malformed, tampered, expired, revoked or wrongly
 * signed envelope throws a `ProtocolError` before any session or sender-key state is touched,
 * and the inner decryption keeps its own all-or-nothing guarantee.
 * @module
 */
import type { ProtocolAddress } from './address.ts';
import { abytes } from './_bytes.ts';
import type { PublicKey } from './curve.ts';
import { ProtocolError } from './errors.ts';
import type { GroupCipher } from './group.ts';
import { PreKeySignalMessage } from './messages.ts';
import { systemClock, systemRandom, type RandomSource } from './random.ts';
import type { SessionCipher } from './session.ts';
import type { IdentityKeyStore, SessionStore } from './stores.ts';
import type {
  CertificateValidationOptions,
  SenderCertificate,
} from './sealed-sender/certificates.ts';
import {
  SEALED_SENDER_V1_MAJOR_VERSION,
  SEALED_SENDER_V2_MAJOR_VERSION,
} from './sealed-sender/consts.ts';
import {
  ContentHint,
  UnidentifiedSenderMessageContent,
  type SealedMessageType,
} from './sealed-sender/usmc.ts';
import { openV1, sealV1 } from './sealed-sender/v1.ts';
import { openV2, sealV2MultiRecipient } from './sealed-sender/v2.ts';

export { MAX_SEALED_SENDER_V2_RECIPIENTS, REVOKED_SERVER_CERTIFICATE_KEY_IDS } from './consts.ts';
export {
  SenderCertificate,
  ServerCertificate,
  type CertificateValidationOptions,
  type SenderCertificateFields,
} from './sealed-sender/certificates.ts';
export {
  SEALED_SENDER_V1_FULL_VERSION,
  SEALED_SENDER_V2_SERVICE_ID_FULL_VERSION,
  SEALED_SENDER_V2_UUID_FULL_VERSION,
} from './sealed-sender/consts.ts';
export {
  SealedSenderMultiRecipientMessage,
  type SealedSenderV2Device,
} from './sealed-sender/sent-message.ts';
export {
  ContentHint,
  UnidentifiedSenderMessageContent,
  type SealedMessageType,
  type UsmcFields,
} from './sealed-sender/usmc.ts';

function aaddress(address: unknown, title: string): ProtocolAddress {
  const a = address as ProtocolAddress;
  if (
    typeof a !== 'object' ||
    a === null ||
    typeof a.name !== 'string' ||
    typeof a.deviceId !== 'number'
  ) {
    throw new ProtocolError('InvalidArgument', `${title} must be a ProtocolAddress`);
  }
  return a;
}

function aidentityStore(store: unknown): IdentityKeyStore {
  const s = store as IdentityKeyStore;
  if (typeof s?.getIdentityKeyPair !== 'function' || typeof s.getIdentity !== 'function') {
    throw new ProtocolError('InvalidArgument', 'identityStore must implement IdentityKeyStore');
  }
  return s;
}

/**
 * Seals `content` for `destination` with sealed sender v1 (libsignal's
 * `sealed_sender_encrypt_from_usmc`). The recipient's identity key comes from `identityStore`
 * (`SessionNotFound` without one). Reads the store, writes nothing.
 */
export async function sealedSenderEncryptFromUsmc(
  destination: ProtocolAddress,
  content: UnidentifiedSenderMessageContent,
  identityStore: IdentityKeyStore,
  rng: RandomSource = systemRandom,
): Promise<Uint8Array> {
  aaddress(destination, 'destination');
  aidentityStore(identityStore);
  if (!(content instanceof UnidentifiedSenderMessageContent)) {
    throw new ProtocolError(
      'InvalidArgument',
      'content must be an UnidentifiedSenderMessageContent',
    );
  }
  const ours = await identityStore.getIdentityKeyPair();
  const theirs = await identityStore.getIdentity(destination);
  if (!theirs) {
    throw new ProtocolError('SessionNotFound', `no identity key for ${destination.toString()}`);
  }
  return sealV1(content, theirs, ours, rng);
}

export interface SealedSenderEncryptOptions {
  /** Our SessionCipher: encrypts the inner message on the session with `destination`. */
  sessionCipher: SessionCipher;
  /** Our identity store (the same one the SessionCipher uses). */
  identityStore: IdentityKeyStore;
  /** What the recipient should do if the inner message fails (default `ContentHint.Default`). */
  contentHint?: number;
  /** A group id to show the recipient if decryption fails. */
  groupId?: Uint8Array;
  rng?: RandomSource;
}

/**
 * Encrypts `plaintext` for `destination` on our session and seals it with v1 (libsignal's
 * `sealed_sender_encrypt`, plus the content hint and group id). The recipient's identity is
 * looked up first, so a missing one (`SessionNotFound`) leaves the session untouched.
 */
export async function sealedSenderEncrypt(
  destination: ProtocolAddress,
  senderCertificate: SenderCertificate,
  plaintext: Uint8Array,
  options: SealedSenderEncryptOptions,
): Promise<Uint8Array> {
  aaddress(destination, 'destination');
  abytes(plaintext, 'plaintext');
  const identityStore = aidentityStore(options?.identityStore);
  if (typeof options.sessionCipher?.encrypt !== 'function') {
    throw new ProtocolError('InvalidArgument', 'sessionCipher must be a SessionCipher');
  }
  if (!(await identityStore.getIdentity(destination))) {
    throw new ProtocolError('SessionNotFound', `no identity key for ${destination.toString()}`);
  }
  // Validates the certificate and hint before the session advances.
  const check = UnidentifiedSenderMessageContent.create({
    type: 'whisper',
    sender: senderCertificate,
    contents: new Uint8Array(0),
    contentHint: options.contentHint ?? ContentHint.Default,
    groupId: options.groupId,
  });
  const message = await options.sessionCipher.encrypt(destination, plaintext);
  const content = UnidentifiedSenderMessageContent.create({
    type: message.type,
    sender: check.sender,
    contents: message.body,
    contentHint: check.contentHint,
    groupId: check.groupId(),
  });
  return sealedSenderEncryptFromUsmc(
    destination,
    content,
    identityStore,
    options.rng ?? systemRandom,
  );
}

export interface SealedSenderMultiRecipientEncryptOptions {
  /** The content to seal; for a group send its inner message is a SenderKeyMessage. */
  content: UnidentifiedSenderMessageContent;
  /**
   * Every device to deliver to, each account's devices next to each other. Names must be
   * service ids ("<uuid>", or "PNI:<uuid>"). Each needs an identity and a current session.
   */
  recipients: readonly ProtocolAddress[];
  /** Service ids deliberately left out (the relay may check the group is complete). */
  excludedRecipients?: readonly string[];
  identityStore: IdentityKeyStore;
  sessionStore: SessionStore;
  rng?: RandomSource;
}

/**
 * Seals `content` once for many recipients with sealed sender v2 (libsignal's
 * `sealed_sender_multi_recipient_encrypt`). Returns the SentMessage to upload; the relay splits
 * it with `SealedSenderMultiRecipientMessage`. Reads the stores, writes nothing.
 */
export async function sealedSenderMultiRecipientEncrypt(
  options: SealedSenderMultiRecipientEncryptOptions,
): Promise<Uint8Array> {
  if (typeof options !== 'object' || options === null) {
    throw new ProtocolError('InvalidArgument', 'options must be an object');
  }
  aidentityStore(options.identityStore);
  if (typeof options.sessionStore?.loadSession !== 'function') {
    throw new ProtocolError('InvalidArgument', 'sessionStore must implement SessionStore');
  }
  return sealV2MultiRecipient({
    content: options.content,
    recipients: options.recipients,
    excludedRecipients: options.excludedRecipients ?? [],
    identityStore: options.identityStore,
    sessionStore: options.sessionStore,
    rng: options.rng ?? systemRandom,
  });
}

/**
 * Opens a sealed sender message of either version (libsignal's `sealed_sender_decrypt_to_usmc`)
 * and returns its content. The sender certificate is NOT validated: call
 * `content.sender.validate(trustRoot, now)` before trusting it, or use `sealedSenderDecrypt`.
 * Errors: `UnknownSealedSenderVersion`, `InvalidSealedSenderMessage`, `InvalidCertificate` (an
 * undecodable certificate). Reads our identity key, nothing else.
 */
export async function sealedSenderDecryptToUsmc(
  ciphertext: Uint8Array,
  identityStore: IdentityKeyStore,
): Promise<UnidentifiedSenderMessageContent> {
  abytes(ciphertext, 'sealed sender message', undefined, 'InvalidSealedSenderMessage');
  aidentityStore(identityStore);
  if (ciphertext.length === 0) {
    throw new ProtocolError('InvalidSealedSenderMessage', 'sealed sender message is empty');
  }
  const bytes = ciphertext.slice();
  const version = bytes[0]! >> 4;
  const body = bytes.subarray(1);
  // Version 0 is accepted as v1, as libsignal does (messages from before the version byte).
  if (version === 0 || version === SEALED_SENDER_V1_MAJOR_VERSION) {
    return openV1(body, await identityStore.getIdentityKeyPair());
  }
  if (version === SEALED_SENDER_V2_MAJOR_VERSION) {
    return openV2(body, await identityStore.getIdentityKeyPair());
  }
  throw new ProtocolError(
    'UnknownSealedSenderVersion',
    `sealed sender version ${version} is not supported`,
  );
}

export interface SealedSenderDecryptOptions {
  /** The trust root(s) whose server certificates we accept. */
  trustRoot: PublicKey | readonly PublicKey[];
  /** Our own address: a message claiming to come from it is refused (`SealedSenderSelfSend`). */
  localAddress: ProtocolAddress;
  /** Our phone number, for applications whose certificates carry one. */
  localE164?: string;
  /** Validation time, ms since the epoch (default: now). */
  now?: number;
  /** Our identity store (the same one the SessionCipher uses). */
  identityStore: IdentityKeyStore;
  /** Decrypts 1:1 inner messages ('prekey', 'whisper'). */
  sessionCipher: SessionCipher;
  /** Decrypts sender-key inner messages ('senderkey'); without it they are `InvalidMessage`. */
  groupCipher?: GroupCipher;
  /** Extra revoked server key ids and by-id server certificates. */
  validation?: CertificateValidationOptions;
}

export interface SealedSenderDecryptionResult {
  /** The sender's address (certificate uuid and device). */
  sender: ProtocolAddress;
  senderUuid: string;
  senderE164: string | undefined;
  senderDeviceId: number;
  /** The validated certificate. */
  certificate: SenderCertificate;
  /** The kind of inner message that was decrypted. */
  type: SealedMessageType;
  contentHint: number;
  groupId: Uint8Array | undefined;
  plaintext: Uint8Array;
}

/**
 * Opens, validates and decrypts a sealed sender message (libsignal's `sealed_sender_decrypt`,
 * extended to sender-key contents): `sealedSenderDecryptToUsmc`, then the certificate against
 * `trustRoot` at `now` (`InvalidCertificate`, `ExpiredCertificate`, `RevokedCertificate`,
 * `UnknownServerCertificate`), then `SealedSenderSelfSend` for our own device, then that the
 * inner message's sender identity is the certificate's (`InvalidSealedSenderMessage`), then the
 * inner decryption with its own errors. Nothing is stored unless the inner message decrypts.
 */
export async function sealedSenderDecrypt(
  ciphertext: Uint8Array,
  options: SealedSenderDecryptOptions,
): Promise<SealedSenderDecryptionResult> {
  if (typeof options !== 'object' || options === null) {
    throw new ProtocolError('InvalidArgument', 'options must be an object');
  }
  const local = aaddress(options.localAddress, 'localAddress');
  const identityStore = aidentityStore(options.identityStore);
  if (typeof options.sessionCipher?.decrypt !== 'function') {
    throw new ProtocolError('InvalidArgument', 'sessionCipher must be a SessionCipher');
  }
  const now = options.now ?? systemClock();

  const content = await sealedSenderDecryptToUsmc(ciphertext, identityStore);
  const cert = content.sender;
  await cert.validate(options.trustRoot, now, options.validation ?? {});

  const sameUuid = cert.senderUuid === local.name;
  const sameE164 =
    options.localE164 !== undefined &&
    cert.senderE164 !== undefined &&
    options.localE164 === cert.senderE164;
  if ((sameUuid || sameE164) && cert.senderDeviceId === local.deviceId) {
    throw new ProtocolError('SealedSenderSelfSend', 'sealed sender message from this device');
  }

  const sender = cert.senderAddress();
  const contents = content.contents();
  let plaintext: Uint8Array;
  switch (content.type) {
    case 'prekey': {
      const inner = PreKeySignalMessage.deserialize(contents);
      if (!inner.identityKey.equals(cert.identityKey)) {
        throw new ProtocolError(
          'InvalidSealedSenderMessage',
          "the PreKey message's identity key is not the sender certificate's",
        );
      }
      plaintext = await options.sessionCipher.decrypt(sender, { type: 'prekey', body: contents });
      break;
    }
    case 'whisper': {
      const known = await identityStore.getIdentity(sender);
      if (known && !known.equals(cert.identityKey)) {
        throw new ProtocolError(
          'InvalidSealedSenderMessage',
          "the sender certificate's identity key is not the one we hold for the sender",
        );
      }
      plaintext = await options.sessionCipher.decrypt(sender, { type: 'whisper', body: contents });
      break;
    }
    case 'senderkey': {
      if (typeof options.groupCipher?.decrypt !== 'function') {
        throw new ProtocolError('InvalidMessage', 'a sender-key message needs a groupCipher');
      }
      plaintext = await options.groupCipher.decrypt(sender, contents);
      break;
    }
    default:
      throw new ProtocolError(
        'InvalidMessage',
        `sealed sender content of type '${content.type}' cannot be decrypted here`,
      );
  }
  return {
    sender,
    senderUuid: cert.senderUuid,
    senderE164: cert.senderE164,
    senderDeviceId: cert.senderDeviceId,
    certificate: cert,
    type: content.type,
    contentHint: content.contentHint,
    groupId: content.groupId(),
    plaintext,
  };
}
