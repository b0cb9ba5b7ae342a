/**
 * One content to every device of one account (our other devices when it is us), encrypted
 * per device. 409/410 from the relay fix the device list and retry, invisibly; the same
 * `sendId` goes with every attempt, so a retry of a send the relay already stored is answered
 * with the first answer and stored nothing twice.
 * @module
 */
import { ProtocolAddress } from '@parley/crypto/address.js';
import type { OutgoingMessage, SealedOutgoingMessage } from '@parley/protocol';
import type { ClientContext } from '../context.ts';
import { AccountGoneError, ClientError, IdentityChangedError } from '../errors.ts';
import {
  encodeContent,
  makeContent,
  newMessageId,
  timestampOf,
  type Content,
  type ContentInit,
} from '../content/index.ts';
import type { ContactRecord } from '../model.ts';
import { knownDevices } from '../records/contacts.ts';
import { RelayHttpError } from '../relay/index.ts';
import type { Sessions } from '../sessions.ts';
import { sealMessages, type InnerMessage, type SealedRoute, type SealedSender } from './sealed.ts';
import { toBase64, toBase64Url } from '../util/bytes.ts';

/** Attempts per send while the recipient's device list keeps changing under us. */
export const MAX_SEND_ATTEMPTS = 5;

/** A fresh client-chosen send id (16 random bytes, base64url). */
export function newSendId(rng: (n: number) => Uint8Array): string {
  return toBase64Url(rng(16));
}

export class DirectDelivery {
  constructor(
    private readonly ctx: ClientContext,
    private readonly sessions: Sessions,
    /** Sealed sender (`delivery/sealed.ts`); without it every send uses our login. */
    readonly sealed?: SealedSender,
  ) {}

  /** A new content from us: fresh message id; data and group control carry our username. */
  content(body: ContentInit['body'], timestamp = this.ctx.now()): Content {
    return this.withSenderUsername(makeContent(newMessageId(this.ctx.rng), timestamp, body));
  }

  /** Data messages and group control carry our username (a claim receivers confirm). */
  withSenderUsername(content: Content): Content {
    const kind = content.body.case;
    if ((kind === 'data' || kind === 'groupControl') && this.ctx.account) {
      content.senderUsername = this.ctx.account.username;
      // Lets them send to us sealed (like Signal's profile key).
      const secret = this.sealed?.ownSecret();
      if (secret) content.accessSecret = secret;
    }
    return content;
  }

  /**
   * Encrypts `content` for every device of `accountId` and sends it. Returns false when there
   * was nobody to send to (our own account with one device). Throws `IdentityChangedError`
   * while the recipient's safety number change is unacknowledged.
   */
  async send(accountId: string, content: Content, sendId?: string): Promise<boolean> {
    const { ctx, sessions } = this;
    const toSelf = ctx.isSelf(accountId);
    if (!toSelf) {
      const contact = await ctx.storage.get<ContactRecord>('contacts', accountId);
      if (contact?.goneAt !== undefined) throw new AccountGoneError([accountId]);
      if (contact?.identityChanged) throw new IdentityChangedError(accountId);
    }
    const plaintext = encodeContent(content);
    const timestamp = timestampOf(content);
    for (let attempt = 0; attempt < MAX_SEND_ATTEMPTS; attempt++) {
      const devices = await sessions.ensureDevices(accountId);
      const ids = Object.keys(devices).map(Number);
      if (ids.length === 0) {
        if (toSelf) return false;
        throw new ClientError('no_devices', `${accountId} has no devices`);
      }
      // Devices without a session (e.g. a session dropped by repair) need a bundle first.
      const withoutSession: number[] = [];
      for (const id of ids)
        if (!(await sessions.hasSession(accountId, id))) withoutSession.push(id);
      if (withoutSession.length > 0)
        await sessions.fetchAndProcessBundles(accountId, withoutSession);
      // Sealed or with our login: decided per attempt (see `delivery/sealed.ts`).
      const route = toSelf ? undefined : await this.sealed?.route(accountId);
      const { messages, sealed } = await ctx.transaction(async (scope) => {
        const stores = sessions.stores(scope);
        const cipher = sessions.cipher(stores);
        const inner: InnerMessage[] = [];
        const current = await knownDevices(scope.tx, accountId, toSelf);
        for (const [id, registrationId] of Object.entries(current)) {
          const address = new ProtocolAddress(accountId, Number(id));
          const ct = await cipher.encrypt(address, plaintext);
          const message: OutgoingMessage = {
            type: ct.type === 'prekey' ? 'prekey_message' : 'message',
            destinationDeviceId: Number(id),
            destinationRegistrationId: registrationId,
            content: toBase64(ct.body),
          };
          inner.push({ address, message });
        }
        return {
          messages: inner.map((m) => m.message),
          sealed: route && (await sealMessages(stores.identity, route, inner, ctx.rng)),
        };
      });
      if (messages.length === 0) {
        if (toSelf) return false;
        continue;
      }
      try {
        if (
          route &&
          sealed &&
          (await this.#sendSealed(accountId, route, sealed, timestamp, sendId))
        )
          return true;
        await ctx.http.sendMessages(accountId, {
          timestamp,
          messages,
          ...(sendId ? { sendId } : {}),
        });
        return true;
      } catch (err) {
        if (!(err instanceof RelayHttpError)) throw err;
        if (err.mismatched) {
          await sessions.removeDevices(accountId, err.mismatched.extraDevices);
          if (err.mismatched.missingDevices.length > 0) {
            await sessions.fetchAndProcessBundles(accountId, err.mismatched.missingDevices);
          }
          continue;
        }
        if (err.stale) {
          await sessions.dropStaleSessions(accountId, err.stale.staleDevices);
          continue;
        }
        throw err;
      }
    }
    throw new ClientError(
      'devices_unstable',
      `could not send to ${accountId}: device list kept changing`,
    );
  }

  /**
   * Sends sealed; false when the same ciphertexts should go with our login instead: the relay
   * refused their access key (forgotten now) or their sealed ceiling is reached (429).
   * 409/410 and other errors are thrown as for a send with our login.
   */
  async #sendSealed(
    accountId: string,
    route: SealedRoute,
    messages: SealedOutgoingMessage[],
    timestamp: number,
    sendId: string | undefined,
  ): Promise<boolean> {
    try {
      await this.ctx.http.sendSealed(accountId, route.accessKey, {
        timestamp,
        messages,
        ...(sendId ? { sendId } : {}),
      });
      return true;
    } catch (err) {
      if (!(err instanceof RelayHttpError)) throw err;
      if (err.status === 401) {
        await this.sealed?.forget(accountId);
        return false;
      }
      if (err.status === 429) return false;
      throw err;
    }
  }
}
