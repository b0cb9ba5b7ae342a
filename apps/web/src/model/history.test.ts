import { describe, expect, it } from 'vitest';
import { historyViewOf } from './history.ts';

describe('historyViewOf', () => {
  it('shows an import, and a gap that could not be filled as the reason', () => {
    const imported = { state: 'imported', messages: 7, conversations: 2, at: 1 } as const;
    expect(historyViewOf(imported)).toEqual({ status: 'imported', messages: 7 });
    expect(historyViewOf({ ...imported, gap: { state: 'filled' } })).toEqual({
      status: 'imported',
      messages: 7,
    });
    const reason = 'History could not be transferred: the upload failed';
    expect(historyViewOf({ ...imported, gap: { state: 'failed', reason } })).toEqual({
      status: 'failed',
      reason,
    });
    expect(historyViewOf({ state: 'declined' })).toEqual({ status: 'declined' });
    expect(historyViewOf(undefined)).toBeUndefined();
  });
});
