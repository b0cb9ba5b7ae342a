import { describeTimer } from '@parley/client';
import { useAction, useChatModel, useModelState } from '../model/context.tsx';
import { TIMER_CHOICES, timerOf, timerShort } from '../model/disappearing.ts';
import type { Message } from '../model/types.ts';

/** The conversation's disappearing-message timer: shows it, and any member can change it. */
export function TimerMenu({ conversationId }: { conversationId: string }) {
  const model = useChatModel();
  const state = useModelState();
  const current = timerOf(state, conversationId);
  const [set, { busy, error }] = useAction((seconds: number) =>
    model.setExpireTimer(conversationId, seconds),
  );
  return (
    <span className="timer-menu" title={error ?? 'Disappearing messages'}>
      <span aria-hidden="true" className="timer-menu__icon">
        ⏱
      </span>
      <select
        aria-label="Disappearing messages"
        data-testid="timer-select"
        value={current}
        disabled={busy}
        aria-invalid={error !== undefined}
        onChange={(e) => void set(Number(e.target.value))}
      >
        {TIMER_CHOICES.map((c) => (
          <option key={c.seconds} value={c.seconds}>
            {c.label}
          </option>
        ))}
      </select>
      {error && (
        <span className="error-text" role="alert">
          {error}
        </span>
      )}
    </span>
  );
}

/** The small mark on a message that will disappear. */
export function TimerMark({ message }: { message: Message }) {
  if (!message.expiresIn) return null;
  const words = `Disappears ${describeTimer(message.expiresIn)} after it is read`;
  return (
    <span className="bubble__timer" data-testid="disappearing" title={words} aria-label={words}>
      ⏱ {timerShort(message.expiresIn)}
    </span>
  );
}
