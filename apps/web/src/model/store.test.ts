import { describe, expect, it } from 'vitest';
import { sortConversations, StateStore, upsertMessage } from './store.ts';
import type { ConversationSummary, Message } from './types.ts';

const msg = (id: string, timestamp: number): Message => ({
  id,
  conversationId: 'direct:x',
  kind: 'text',
  direction: 'in',
  senderAccountId: 'x',
  timestamp,
  text: id,
});

describe('store helpers', () => {
  it('keeps messages in order and replaces by id', () => {
    let list = upsertMessage([], msg('b', 20));
    list = upsertMessage(list, msg('a', 10));
    list = upsertMessage(list, msg('c', 30));
    list = upsertMessage(list, { ...msg('b', 20), text: 'edited' });
    expect(list.map((m) => m.id)).toEqual(['a', 'b', 'c']);
    expect(list[1]?.text).toBe('edited');
  });

  it('sorts conversations newest first, stably', () => {
    const c = (id: string, lastMessageAt: number): ConversationSummary => ({
      id,
      kind: 'direct',
      peer: id,
      title: id,
      lastMessageAt,
      unread: 0,
    });
    expect(sortConversations([c('b', 1), c('a', 1), c('z', 5)]).map((x) => x.id)).toEqual([
      'z',
      'a',
      'b',
    ]);
  });

  it('notifies subscribers with a new snapshot', () => {
    const store = new StateStore();
    const before = store.getState();
    let calls = 0;
    const off = store.subscribe(() => calls++);
    store.update({ connection: 'online' });
    expect(calls).toBe(1);
    expect(store.getState()).not.toBe(before);
    expect(store.getState().connection).toBe('online');
    off();
    store.update({ connection: 'offline' });
    expect(calls).toBe(1);
  });
});
