/**
 * Disappearing messages in the view model (issue 16): the timer choices, how a timer and its
 * change read, and the action the screens take. `ChatModel` includes `DisappearingActions`;
 * `client-model/messages.ts` implements it on `@parley/client` (which owns the timers and
 * removes the messages; the model only re-reads on `messagesRemoved`), `fake-model.ts` in
 * memory.
 * @module
 */
import { EXPIRE_TIMERS, describeTimer } from '@parley/client';
import type { ModelState } from './types.ts';

export interface DisappearingActions {
  /** Sets the conversation's timer, seconds (one of EXPIRE_TIMERS; 0 = off), for everyone. */
  setExpireTimer(conversationId: string, seconds: number): Promise<void>;
}

/** What the timer menu offers, in order. */
export const TIMER_CHOICES: ReadonlyArray<{ seconds: number; label: string }> = EXPIRE_TIMERS.map(
  (seconds) => ({ seconds, label: seconds === 0 ? 'Off' : describeTimer(seconds) }),
);

/** A timer in a few characters, for the indicator on a message: "30s", "5m", "1h", "1d", "1w". */
export function timerShort(seconds: number): string {
  const units: Array<[number, string]> = [
    [604_800, 'w'],
    [86_400, 'd'],
    [3600, 'h'],
    [60, 'm'],
  ];
  for (const [size, unit] of units)
    if (seconds >= size) return `${Math.round(seconds / size)}${unit}`;
  return `${seconds}s`;
}

/** "Bob set the disappearing message timer to 5 minutes." / "You turned off …". */
export function timerEventText(who: string, seconds: number): string {
  return seconds > 0
    ? `${who} set the disappearing message timer to ${describeTimer(seconds)}.`
    : `${who} turned off disappearing messages.`;
}

/** The conversation's timer, seconds (0: off). */
export function timerOf(state: ModelState, conversationId: string): number {
  return state.conversations.find((c) => c.id === conversationId)?.expireTimer ?? 0;
}
