import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TypingSignal } from './typing.ts';

describe('TypingSignal', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('sends "started" once per repeat interval and "stopped" after idling', () => {
    const sent: boolean[] = [];
    const t = new TypingSignal(
      (v) => sent.push(v),
      { repeatMs: 3000, idleMs: 5000 },
      () => Date.now(),
    );
    t.input('h');
    t.input('he');
    t.input('hel');
    expect(sent).toEqual([true]);
    vi.advanceTimersByTime(3000);
    t.input('hell');
    expect(sent).toEqual([true, true]);
    vi.advanceTimersByTime(5000);
    expect(sent).toEqual([true, true, false]);
  });

  it('stops at once when the text is cleared, and only once', () => {
    const sent: boolean[] = [];
    const t = new TypingSignal((v) => sent.push(v));
    t.input('x');
    t.input('');
    t.stop();
    vi.advanceTimersByTime(10_000);
    expect(sent).toEqual([true, false]);
  });
});
