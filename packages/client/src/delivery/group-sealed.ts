/**
 * The relay part of a group send, sealed where possible: recipients whose access secret we
 * hold get one sealed sender v2 message (the relay splits it per device and never learns that
 * it is from us); our own other devices, strangers and anyone else get the sender-key
 * ciphertext with our login, as before. Each part is its own idempotent relay send under the
 * leg's `sendId` (a sealed record names no sender, so the two never collide).
 *
 * A 401 on the sealed part means a key there is wrong, without saying whose: those contacts'
 * secrets are forgotten (they come back with their next message) and this attempt sends to
 * them with our login. A 429 (a sealed ceiling) also sends with our login.
 * @module
 */
import { ProtocolAddress } from '@parley/crypto/address.js';
import { isProtocolError } from '@parley/crypto/errors.js';
import {
  ContentHint,
  UnidentifiedSenderMessageContent,
  sealedSenderMultiRecipientEncrypt,
} from '@parley/crypto/sealed-sender.js';
import type { EnvelopeType, MultiRecipient } from '@parley/protocol';
import type { ClientContext } from '../context.ts';
import { RelayHttpError } from '../relay/index.ts';
import type { Sessions } from '../sessions.ts';
import { toBase64 } from '../util/bytes.ts';
import type { SealedSender } from './sealed.ts';

export interface GroupRelaySend {
  timestamp: number;
  ciphertext: Uint8Array;
  recipients: MultiRecipient[];
  groupId: string;
  sendId?: string | undefined;
}

export async function sendGroupCiphertext(
  ctx: ClientContext,
  sessions: Sessions,
  sealed: SealedSender | undefined,
  send: GroupRelaySend,
): Promise<void> {
  const { timestamp, ciphertext, recipients, sendId } = send;
  const accessKeys = new Map<string, string>();
  let certificate;
  if (sealed) {
    for (const accountId of new Set(recipients.map((r) => r.accountId))) {
      const route = await sealed.route(accountId);
      if (!route) continue;
      accessKeys.set(accountId, route.accessKey);
      certificate = route.certificate;
    }
  }
  let plain = recipients.filter((r) => !accessKeys.has(r.accountId));
  const sealedTo = recipients.filter((r) => accessKeys.has(r.accountId));
  if (sealedTo.length > 0 && certificate) {
    const usmc = UnidentifiedSenderMessageContent.create({
      type: 'senderkey',
      sender: certificate,
      contents: ciphertext,
      contentHint: ContentHint.Implicit,
      groupId: new TextEncoder().encode(send.groupId),
    });
    const content = await ctx.transaction(async (scope) => {
      const stores = sessions.stores(scope);
      return sealedSenderMultiRecipientEncrypt({
        content: usmc,
        recipients: sealedTo.map((r) => new ProtocolAddress(r.accountId, r.deviceId)),
        identityStore: stores.identity,
        sessionStore: stores.session,
        rng: ctx.rng,
      }).catch((err: unknown) => {
        // A device without a session (being repaired): this attempt goes with our login.
        if (isProtocolError(err)) return undefined;
        throw err;
      });
    });
    if (content === undefined) plain = recipients;
    else
      try {
        await ctx.http.sendSealedMultiRecipient({
          timestamp,
          content: toBase64(content),
          accessKeys: [...accessKeys].map(([accountId, unidentifiedAccessKey]) => ({
            accountId,
            unidentifiedAccessKey,
          })),
          ...(sendId ? { sendId } : {}),
        });
      } catch (err) {
        if (!(err instanceof RelayHttpError) || (err.status !== 401 && err.status !== 429))
          throw err;
        if (err.status === 401)
          for (const accountId of accessKeys.keys()) await sealed?.forget(accountId);
        plain = recipients;
      }
  }
  if (plain.length === 0) return;
  await ctx.http.sendMultiRecipient({
    timestamp,
    type: 'sender_key_message' satisfies EnvelopeType,
    content: toBase64(ciphertext),
    recipients: plain,
    ...(sendId ? { sendId } : {}),
  });
}
