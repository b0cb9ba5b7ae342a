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
