import { describe, expect, it } from 'vitest';
import type { Message, ModelState } from '../model/types.ts';
import { eventText } from './MessageList.tsx';

const state: ModelState = {
  phase: { kind: 'ready' },
  me: { accountId: 'me', deviceId: 1, username: 'alice', isPrimary: true },
  connection: 'online',
  conversations: [],
  contacts: {
    bob: {
      accountId: 'bob',
      username: 'bob',
      verified: false,
      identityChanged: false,
      sealedSender: false,
    },
  },
  groups: {},
  messages: {},
  typing: {},
  hasPassphrase: false,
};

const event = (kind: Message['event']): Message => ({
  id: '1',
  conversationId: 'direct:bob',
  kind: 'event',
  direction: 'in',
  senderAccountId: 'me',
  timestamp: 0,
  event: kind,
  subjects: ['bob'],
});

describe('verification events', () => {
  it('reads like Signal’s', () => {
    expect(eventText(state, event('marked_verified'))).toBe(
      'You marked your safety number with bob verified.',
    );
    expect(eventText(state, event('marked_unverified'))).toBe(
      'You marked your safety number with bob not verified.',
    );
    expect(eventText(state, event('identity_changed'))).toBe('The safety number with bob changed.');
  });
});

describe('disappearing-message timer events', () => {
  it('say who set the timer to what, or turned it off', () => {
    const timer = (sender: string, seconds: number): Message => ({
      ...event('timer_changed'),
      senderAccountId: sender,
      subjects: [],
      timer: seconds,
    });
    expect(eventText(state, timer('bob', 300))).toBe(
      'bob set the disappearing message timer to 5 minutes.',
    );
    expect(eventText(state, timer('me', 604_800))).toBe(
      'You set the disappearing message timer to 1 week.',
    );
    expect(eventText(state, timer('bob', 0))).toBe('bob turned off disappearing messages.');
  });
});
