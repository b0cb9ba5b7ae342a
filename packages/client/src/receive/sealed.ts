/**
 * Opening a sealed envelope: the outer layer (sealed sender v1 or v2) is opened with our
 * identity key, its sender certificate is checked against the relay's trust root we pinned,
 * and the result is the envelope as if it had been sent with the sender's login — so the rest
 * of the receive path (decryption, dedupe, blocking, everything keyed by the sender) runs
 * unchanged, with a sender the relay never knew.
 *
 * Without a pinned trust root it throws (the envelope stays queued). One that cannot be opened (malformed, forged, expired or revoked
 * certificate, sealed by this very device) names no sender we can trust: it is dropped with a
 * warning, and acked, since redelivery cannot make it valid.
 * @module
 */
import { isProtocolError } from '@parley/crypto/errors.js';
import { sealedSenderDecryptToUsmc } from '@parley/crypto/sealed-sender.js';
import type { Envelope, EnvelopeType, SealedEnvelope } from '@parley/protocol';
import type { ClientContext } from '../context.ts';
import { ClientError } from '../errors.ts';
import type { SealedSender } from '../delivery/sealed.ts';
import type { Sessions } from '../sessions.ts';
import { fromBase64, toBase64 } from '../util/bytes.ts';

const INNER_TYPE: Record<string, EnvelopeType | undefined> = {
  whisper: 'message',
  prekey: 'prekey_message',
  senderkey: 'sender_key_message',
};

/** The identified envelope inside `envelope`, or why it must be dropped. */
export async function openSealedEnvelope(
  ctx: ClientContext,
  sessions: Sessions,
  sealed: SealedSender | undefined,
  envelope: SealedEnvelope,
): Promise<{ opened: Envelope } | { rejected: string }> {
  const trustRoot = await sealed?.trustRoot();
  if (!trustRoot) {
    throw new ClientError('sealed_unavailable', 'no pinned trust root to open sealed envelopes');
  }
  try {
    const usmc = await ctx.transaction(async (scope) =>
      sealedSenderDecryptToUsmc(fromBase64(envelope.content), sessions.stores(scope).identity),
    );
    const sender = usmc.sender;
    await sender.validate(trustRoot, ctx.now());
    const account = ctx.requireAccount();
    if (sender.senderUuid === account.accountId && sender.senderDeviceId === account.deviceId) {
      return { rejected: 'SealedSenderSelfSend' };
    }
    const type = INNER_TYPE[usmc.type];
    if (!type) return { rejected: `UnsupportedInnerType:${usmc.type}` };
    const opened: Envelope = {
      id: envelope.id,
      type,
      sourceAccountId: sender.senderUuid,
      sourceDeviceId: sender.senderDeviceId,
      destinationDeviceId: envelope.destinationDeviceId,
      timestamp: envelope.timestamp,
      serverTimestamp: envelope.serverTimestamp,
      content: toBase64(usmc.contents()),
    };
    return { opened };
  } catch (err) {
    if (!isProtocolError(err)) throw err;
    return { rejected: err.code };
  }
}
