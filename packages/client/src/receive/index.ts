/**
 * Receiving: each envelope is decrypted and its effects stored in one storage transaction,
 * *then* acked (the socket acks when `handle` resolves). Dedupe by envelope id and by (sender,
 * message id). A message that cannot be decrypted becomes a conversation event and the
 * session is repaired: a fresh session plus a retry request the sender answers by resending.
 * @module
 */
import { ProtocolAddress } from '@parley/crypto/address.js';
import { isProtocolError } from '@parley/crypto/errors.js';
import { GroupCipher } from '@parley/crypto/group.js';
import {
  isSealedEnvelope,
  type DeliveredEnvelope,
  type Envelope,
  type SealedEnvelope,
} from '@parley/protocol';
import { ContentError, decodeContent, type Content } from '../content/index.ts';
import type { ClientContext, Scope } from '../context.ts';
import type { DirectDelivery } from '../delivery/direct.ts';
import type { Outbox } from '../delivery/outbox.ts';
import { rememberAccessSecret, type SealedSender } from '../delivery/sealed.ts';
import { PROCESSED, sessionKey } from '../keys.ts';
import { directConversationId } from '../model.ts';
import { storeEvent } from '../records/messages.ts';
import type { Sessions } from '../sessions.ts';
import * as signal from '../signal.ts';
import { fromBase64 } from '../util/bytes.ts';
import type { ContentHandler } from './content.ts';
import { openSealedEnvelopes } from './sealed.ts';

export class Receiver {
  constructor(
    private readonly ctx: ClientContext,
    private readonly sessions: Sessions,
    private readonly direct: DirectDelivery,
    private readonly outbox: Outbox,
    private readonly content: ContentHandler,
    private readonly sealed?: SealedSender,
  ) {}

  /**
   * Processes a sealed envelope: opens it (`receive/sealed.ts`), then handles it like any
   * other, with the sender known. One that cannot be opened is dropped (and acked).
   */
  /**
   * Opens the sealed envelopes of a batch (each in its own short read): the opened ones join
   * the plain ones in order; the ids of those that do not open are returned to be acked
   * (dropped, and reported as `sealedRejected`). Without a pinned trust root this throws, and
   * nothing of the batch is acked (redelivered once it is pinned).
   */
  async openSealed(
    delivered: readonly DeliveredEnvelope[],
  ): Promise<{ ready: Envelope[]; dropped: string[] }> {
    const ready: Envelope[] = [];
    const dropped: string[] = [];
    const sealedOnes = delivered.filter(isSealedEnvelope);
    if (sealedOnes.length > 0 && !(await this.sealed?.trustRoot())) await this.sealed?.prepare();
    const results = await openSealedEnvelopes(this.ctx, this.sessions, this.sealed, sealedOnes);
    let next = 0;
    for (const envelope of delivered) {
      if (!isSealedEnvelope(envelope)) {
        ready.push(envelope);
        continue;
      }
      const result = results[next++]!;
      if ('opened' in result) {
        ready.push(result.opened);
      } else {
        console.warn(`parley: dropped a sealed envelope that did not open: ${result.rejected}`);
        this.ctx.events.emit('sealedRejected', {
          envelopeId: envelope.id,
          reason: result.rejected,
        });
        dropped.push(envelope.id);
      }
    }
    return { ready, dropped };
  }

  async handleSealed(envelope: SealedEnvelope): Promise<void> {
    // Without a pinned trust root nothing sealed can be checked: pin it now, or leave the
    // envelope unacked (redelivered) until we can.
    if (!(await this.sealed?.trustRoot())) await this.sealed?.prepare();
    const result = (
      await openSealedEnvelopes(this.ctx, this.sessions, this.sealed, [envelope])
    )[0]!;
    if ('opened' in result) return this.handle(result.opened);
    console.warn(`parley: dropped a sealed envelope that did not open: ${result.rejected}`);
    this.ctx.events.emit('sealedRejected', { envelopeId: envelope.id, reason: result.rejected });
  }

  /**
   * Processes one envelope: decrypt, store its effects, all in one transaction. Resolves when
   * it is durable (the caller acks then). Never throws for bad ciphertext (that becomes a
   * conversation event); throws only when storage fails, so the envelope is redelivered.
   */
  async handle(envelope: Envelope): Promise<void> {
    const { ctx } = this;
    ctx.requireAccount();
    ctx.events.emit('envelope', envelope);
    await ctx.transaction((scope) => this.process(scope, envelope));
    ctx.events.emit('processed', envelope);
  }

  /**
   * Decrypts `envelope` and stores its effects in `scope` (the caller commits; `handle` for one
   * envelope, `BatchReceiver` for many in one transaction).
   */
  async process(scope: Scope, envelope: Envelope): Promise<void> {
    const content = await this.open(scope, envelope);
    if (content) await this.apply(scope, envelope, content);
  }

  /**
   * First stage of `process`: dedupe by envelope id, decrypt, decode. Undefined when there is
   * nothing to apply (a duplicate, or a failure already recorded).
   */
  async open(scope: Scope, envelope: Envelope): Promise<Content | undefined> {
    const { ctx } = this;
    const { tx } = scope;
    if (await tx.get('processed', PROCESSED.envelope(envelope.id))) return undefined;
    await tx.put('processed', PROCESSED.envelope(envelope.id), ctx.now());
    const plaintext = await this.#decrypt(scope, envelope);
    if (!plaintext) return undefined;
    try {
      return decodeContent(plaintext);
    } catch (err) {
      if (!(err instanceof ContentError)) throw err;
      await this.#onDecryptionFailure(scope, envelope, err, false);
      return undefined;
    }
  }

  /** Second stage of `process`: dedupe by (sender, message id), then the content's effects. */
  async apply(scope: Scope, envelope: Envelope, content: Content): Promise<void> {
    const { ctx } = this;
    const { tx } = scope;
    const dedupe = PROCESSED.message(envelope.sourceAccountId, content.messageId);
    if (await tx.get('processed', dedupe)) return;
    await tx.put('processed', dedupe, ctx.now());
    await this.content.apply(scope, envelope, content);
    // Their unidentified-access secret: from now on we can write to them sealed.
    if (content.accessSecret.length > 0 && !ctx.isSelf(envelope.sourceAccountId)) {
      await rememberAccessSecret(scope.tx, envelope.sourceAccountId, content.accessSecret);
    }
  }

  async #decrypt(scope: Scope, envelope: Envelope): Promise<Uint8Array | undefined> {
    const { ctx, sessions } = this;
    const sender = new ProtocolAddress(envelope.sourceAccountId, envelope.sourceDeviceId);
    const stores = sessions.stores(scope);
    try {
      const body = fromBase64(envelope.content);
      if (envelope.type === 'sender_key_message') {
        return await new GroupCipher(stores.senderKey, { rng: ctx.rng }).decrypt(sender, body);
      }
      const plaintext = await sessions.cipher(stores).decrypt(sender, {
        type: envelope.type === 'prekey_message' ? 'prekey' : 'whisper',
        body,
      });
      // A device we did not know about (e.g. a newly linked one) started a session.
      if (envelope.type === 'prekey_message') {
        const regId = await signal.remoteRegistrationId(stores, sender);
        if (regId !== undefined) {
          await sessions.setDevices(scope.tx, sender.name, (d) => {
            d[String(sender.deviceId)] = regId;
          });
        }
      }
      return plaintext;
    } catch (err) {
      if (isProtocolError(err, 'DuplicatedMessage')) {
        // A new envelope id with an already-used message key: a replay, or a sender bug.
        console.warn(`parley: dropped a replayed message from ${sender.toString()}`);
        return undefined;
      }
      await this.#onDecryptionFailure(scope, envelope, err);
      return undefined;
    }
  }

  async #onDecryptionFailure(
    scope: Scope,
    envelope: Envelope,
    err: unknown,
    repair = true,
  ): Promise<void> {
    const { ctx } = this;
    const reason = err instanceof Error ? err.message : String(err);
    const accountId = envelope.sourceAccountId;
    const deviceId = envelope.sourceDeviceId;
    await storeEvent(
      ctx,
      scope,
      directConversationId(accountId),
      'decryption_failed',
      [accountId],
      {
        accountId,
        deviceId,
      },
    );
    scope.emit('decryptionFailed', {
      accountId,
      deviceId,
      envelopeId: envelope.id,
      reason,
      ...(err instanceof Error ? { error: err } : {}),
    });
    if (!repair) return;
    const isGroup = envelope.type === 'sender_key_message';
    // Without a session the outbox starts a fresh one from their current bundle first.
    if (!isGroup) await scope.tx.delete('sessions', sessionKey({ name: accountId, deviceId }));
    const request = this.direct.content({
      case: 'retryRequest',
      value: { timestamp: BigInt(envelope.timestamp), deviceId, groupId: isGroup ? 'any' : '' },
    });
    await this.outbox.enqueue(scope, { legs: [this.outbox.leg(accountId, request)] });
  }
}
