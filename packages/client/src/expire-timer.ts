/**
 * Setting a conversation's disappearing-message timer (disappearing/): stored with its event and
 * queued to the conversation (and our other devices) in one transaction, like a reaction.
 * @module
 */
import type { ClientContext } from './context.ts';
import { applyTimer, isExpireTimer } from './disappearing/timer.ts';
import { BlockedContactError, ClientError } from './errors.ts';
import type { Messaging } from './messaging.ts';
import type { MessageRecord } from './model.ts';
import { isBlocked } from './records/trust.ts';

export class ExpireTimers {
  constructor(
    private readonly ctx: ClientContext,
    private readonly messaging: Messaging,
  ) {}

  /**
   * Sets a conversation's timer (seconds, one of EXPIRE_TIMERS) for everyone in it and for our
   * other devices; returns the event shown (none when it already had that value).
   */
  async set(conversationId: string, seconds: number): Promise<MessageRecord | undefined> {
    if (!isExpireTimer(seconds)) {
      throw new ClientError(
        'invalid_argument',
        'a timer is off, 30 s, 5 min, 1 hour, 1 day or 1 week',
      );
    }
    const target = await this.messaging.target(conversationId);
    if ('accountId' in target && (await isBlocked(this.ctx.storage, target.accountId))) {
      throw new BlockedContactError(target.accountId);
    }
    const self = this.ctx.requireAccount();
    const event = await this.ctx.transaction(async (scope) => {
      const at = this.ctx.now();
      const stored = await applyTimer(this.ctx, scope, conversationId, seconds, self, at);
      await this.messaging.queueAction(
        scope,
        target,
        '',
        { expireTimer: seconds, expireTimerUpdate: true },
        at,
      );
      return stored;
    });
    await this.messaging.flush();
    return event;
  }
}
