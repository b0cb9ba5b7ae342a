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
import type { PublicKey } from '@parley/crypto/curve.js';
import { sealedSenderDecryptToUsmc } from '@parley/crypto/sealed-sender.js';
import type { IdentityKeyStore } from '@parley/crypto/stores.js';
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

/**
 * The trust root sealed envelopes are checked against; throws (the envelope stays queued) while
 * none is pinned.
 */
export async function sealedTrustRoot(sealed: SealedSender | undefined): Promise<PublicKey> {
  const trustRoot = await sealed?.trustRoot();
  if (!trustRoot) {
    throw new ClientError('sealed_unavailable', 'no pinned trust root to open sealed envelopes');
  }
  return trustRoot;
}

/**
 * Opens every envelope of `envelopes` in one read-only storage transaction (our identity key
 * is read and decoded once for the lot, not once per envelope); answers in order.
 */
export async function openSealedEnvelopes(
  ctx: ClientContext,
  sessions: Sessions,
  sealed: SealedSender | undefined,
  envelopes: readonly SealedEnvelope[],
): Promise<Array<{ opened: Envelope } | { rejected: string }>> {
  if (envelopes.length === 0) return [];
  const trustRoot = await sealedTrustRoot(sealed);
  return ctx.transaction(async (scope) => {
    const identity = sessions.stores(scope).identity;
    const results: Array<{ opened: Envelope } | { rejected: string }> = [];
    for (const envelope of envelopes) {
      results.push(await openSealedEnvelope(ctx, identity, trustRoot, envelope));
    }
    return results;
  });
}

/** The identified envelope inside `envelope`, or why it must be dropped. */
async function openSealedEnvelope(
  ctx: ClientContext,
  identity: IdentityKeyStore,
  trustRoot: PublicKey,
  envelope: SealedEnvelope,
): Promise<{ opened: Envelope } | { rejected: string }> {
  try {
    const usmc = await sealedSenderDecryptToUsmc(fromBase64(envelope.content), identity);
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
