/**
 * Sealed sender on the sending side: our unidentified-access secret (shared with contacts
 * inside end-to-end encrypted data messages, like Signal's profile key), the relay's trust root
 * (pinned the first time we ask, right after registration), a cached sender certificate
 * (refreshed before it expires), and sealing per-device ciphertexts for a sealed send.
 *
 * Sealed or not is decided per leg, per attempt: sealed when the leg goes to someone else
 * whose access secret we hold and we have a certificate; otherwise (strangers, first contact,
 * our own devices, no certificate) with our login. A 401 on a sealed send means their key
 * changed: we forget it and send the same ciphertexts with our login. A 429 (the recipient's
 * sealed ceiling) also falls back to the login, so a flood by others never stops us.
 *
 * Network I/O happens outside storage transactions; state lives in `meta/sealed` and on the
 * contact record (`accessSecret`, `sealedSender`).
 * @module
 */
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import type { ProtocolAddress } from '@parley/crypto/address.js';
import { PublicKey } from '@parley/crypto/curve.js';
import {
  SenderCertificate,
  UnidentifiedSenderMessageContent,
  sealedSenderEncryptFromUsmc,
  type SealedMessageType,
} from '@parley/crypto/sealed-sender.js';
import type { OutgoingMessage, SealedOutgoingMessage } from '@parley/protocol';
import type { RandomSource } from '@parley/crypto/random.js';
import type { ClientContext } from '../context.ts';
import { META } from '../keys.ts';
import type { ContactRecord } from '../model.ts';
import type { TxIdentityStore } from '../crypto-stores.ts';
import { RelayHttpError } from '../relay/index.ts';
import type { StorageTx } from '../storage/index.ts';
import { fromBase64, toBase64 } from '../util/bytes.ts';

/** Bytes of an access secret. */
export const ACCESS_SECRET_BYTES = 32;
/** A certificate with less than this left is refreshed before use. */
const CERTIFICATE_REFRESH_MS = 60 * 60_000;
const ACCESS_KEY_INFO = new TextEncoder().encode('Parley unidentified access key v1');

/** `meta/sealed`. */
export interface SealedStateRecord {
  /** Ours (the primary device generates it); linked devices have none and share nothing. */
  secret?: Uint8Array;
  /** The relay holds the hash of the key derived from `secret`. */
  keyUploaded?: boolean;
  /** The relay's trust root, pinned the first time we fetched it. */
  trustRoot?: Uint8Array;
  certificate?: Uint8Array;
  certificateExpiresAt?: number;
}

/** The 16-byte unidentified-access key derived from an access secret, base64. */
export function accessKeyOf(secret: Uint8Array): string {
  return toBase64(hkdf(sha256, secret, undefined, ACCESS_KEY_INFO, 16));
}

/** Records a contact's access secret (from their message) if it is new. */
export async function rememberAccessSecret(
  tx: StorageTx,
  accountId: string,
  secret: Uint8Array,
): Promise<void> {
  if (secret.length !== ACCESS_SECRET_BYTES) return;
  const contact = await tx.get<ContactRecord>('contacts', accountId);
  if (!contact) return;
  const known = contact.accessSecret;
  if (known && known.length === secret.length && known.every((b, i) => b === secret[i])) return;
  await tx.put('contacts', accountId, { ...contact, accessSecret: secret, sealedSender: true });
}

/** What a sealed send to one account needs. */
export interface SealedRoute {
  accessKey: string;
  certificate: SenderCertificate;
}

export class SealedSender {
  #state: SealedStateRecord | undefined;

  constructor(private readonly ctx: ClientContext) {}

  /** Reads `meta/sealed` once (the client does at open, so `ownSecret` is ready). */
  async load(): Promise<SealedStateRecord> {
    this.#state ??= (await this.ctx.storage.get<SealedStateRecord>('meta', META.sealed)) ?? {};
    return this.#state;
  }

  async #save(patch: Partial<SealedStateRecord>): Promise<void> {
    const next = await this.ctx.transaction(async ({ tx }) => {
      const current = (await tx.get<SealedStateRecord>('meta', META.sealed)) ?? {};
      const merged = { ...current, ...patch };
      await tx.put('meta', META.sealed, merged);
      return merged;
    });
    this.#state = next;
  }

  /** Forgets the cached state (after the storage was wiped or a new account stored). */
  async reload(): Promise<void> {
    this.#state = undefined;
    await this.load();
  }

  /** Our access secret, to put in outgoing data messages (none on linked devices). */
  ownSecret(): Uint8Array | undefined {
    return this.#state?.secret;
  }

  /** The pinned trust root, if any. */
  async trustRoot(): Promise<PublicKey | undefined> {
    const { trustRoot } = await this.load();
    return trustRoot ? PublicKey.deserialize(trustRoot) : undefined;
  }

  /**
   * Gets sealed sender ready: pins the trust root, creates and uploads our access key (primary
   * device), fetches a certificate. Safe to call often; each step runs once. Network errors
   * leave it for the next call.
   */
  async prepare(): Promise<void> {
    const { ctx } = this;
    const account = ctx.account;
    if (!account) return;
    const state = await this.load();
    if (!state.trustRoot) {
      const { publicKey } = await ctx.http.trustRoot();
      await this.#save({ trustRoot: fromBase64(publicKey) });
    }
    if (account.deviceId === 1 && !state.secret) {
      await this.#save({ secret: ctx.rng(ACCESS_SECRET_BYTES), keyUploaded: false });
    }
    const secret = this.#state?.secret;
    if (secret && !this.#state?.keyUploaded) {
      await ctx.http.setUnidentifiedAccess(accessKeyOf(secret));
      await this.#save({ keyUploaded: true });
    }
    await this.certificate();
  }

  /** A sender certificate valid for a while yet, fetched when needed; undefined if none. */
  async certificate(): Promise<SenderCertificate | undefined> {
    const state = await this.load();
    const now = this.ctx.now();
    if (state.certificate && (state.certificateExpiresAt ?? 0) - CERTIFICATE_REFRESH_MS > now) {
      return SenderCertificate.deserialize(state.certificate);
    }
    try {
      const { certificate, expiresAt } = await this.ctx.http.senderCertificate();
      await this.#save({ certificate: fromBase64(certificate), certificateExpiresAt: expiresAt });
      return SenderCertificate.deserialize(fromBase64(certificate));
    } catch (err) {
      // Offline or refused: send with our login this time.
      if (state.certificate && (state.certificateExpiresAt ?? 0) > now) {
        return SenderCertificate.deserialize(state.certificate);
      }
      if (err instanceof RelayHttpError || (err as Error).name === 'RelayUnavailableError')
        return undefined;
      throw err;
    }
  }

  /** How to send sealed to `accountId`, or undefined to send with our login. */
  async route(accountId: string): Promise<SealedRoute | undefined> {
    if (this.ctx.isSelf(accountId)) return undefined;
    const contact = await this.ctx.storage.get<ContactRecord>('contacts', accountId);
    if (!contact?.accessSecret || contact.identityChanged) return undefined;
    const certificate = await this.certificate();
    if (!certificate) return undefined;
    return { accessKey: accessKeyOf(contact.accessSecret), certificate };
  }

  /** The relay refused the key derived from their secret: forget it (login from now on). */
  async forget(accountId: string): Promise<void> {
    await this.ctx.transaction(async ({ tx }) => {
      const contact = await tx.get<ContactRecord>('contacts', accountId);
      if (!contact?.accessSecret) return;
      const { accessSecret: _dropped, ...rest } = contact;
      await tx.put('contacts', accountId, { ...rest, sealedSender: false });
    });
  }
}

/** One per-device ciphertext before sealing. */
export interface InnerMessage {
  address: ProtocolAddress;
  message: OutgoingMessage;
}

const SEALED_TYPE: Record<OutgoingMessage['type'], SealedMessageType> = {
  message: 'whisper',
  prekey_message: 'prekey',
  sender_key_message: 'senderkey',
};

/** Seals each per-device ciphertext (v1) with our certificate; reads identities only. */
export async function sealMessages(
  identity: TxIdentityStore,
  route: SealedRoute,
  inner: readonly InnerMessage[],
  rng: RandomSource,
): Promise<SealedOutgoingMessage[]> {
  const out: SealedOutgoingMessage[] = [];
  for (const { address, message } of inner) {
    const usmc = UnidentifiedSenderMessageContent.create({
      type: SEALED_TYPE[message.type],
      sender: route.certificate,
      contents: fromBase64(message.content),
    });
    const sealed = await sealedSenderEncryptFromUsmc(address, usmc, identity, rng);
    out.push({
      destinationDeviceId: message.destinationDeviceId,
      destinationRegistrationId: message.destinationRegistrationId,
      content: toBase64(sealed),
    });
  }
  return out;
}
