/**
 * Conversation events in words, as the web app shows them ("bob added carol."), for `parley`'s
 * human output; `--json` keeps the event kind.
 * @module
 */
import { describeTimer, type MessageRecord } from '@parley/client';

/** `who`: the event's sender's name ("me" for us); `subjects`: the names it is about. */
export function eventWords(m: MessageRecord, who: string, subjects: string[]): string {
  const them = subjects.map((s) => (s === 'me' ? 'you' : s)).join(', ');
  const actor = who === 'me' ? 'you' : who;
  const Actor = who === 'me' ? 'You' : who; // a username keeps its case
  switch (m.event) {
    case 'identity_changed':
      return `The safety number with ${them} changed.`;
    case 'marked_verified':
      return `You marked your safety number with ${them} verified.`;
    case 'marked_unverified':
      return `You marked your safety number with ${them} not verified.`;
    case 'decryption_failed':
      return `A message from ${actor} could not be decrypted.`;
    case 'group_created':
      return `${Actor} created the group.`;
    case 'group_members_added':
      return `${Actor} added ${them}.`;
    case 'group_members_removed':
      return `${Actor} removed ${them}.`;
    case 'group_renamed':
      return `${Actor} renamed the group${m.text ? ` to “${m.text}”` : ''}.`;
    case 'group_left':
      return `${Actor} left the group.`;
    case 'group_admins_added':
      return `${Actor} made ${them} ${subjects.length === 1 ? 'an admin' : 'admins'}.`;
    case 'group_update_refused':
      return `${them} tried to change the group, but only admins can. Ignored.`;
    case 'contact_blocked':
      return `You blocked ${them}.`;
    case 'contact_unblocked':
      return `You unblocked ${them}.`;
    case 'account_deleted':
      return `${them} deleted their account. Messages can no longer be sent here.`;
    case 'member_account_deleted':
      return `${them} deleted their account and left the group.`;
    case 'timer_changed':
      return m.timer
        ? `${Actor} set the disappearing message timer to ${describeTimer(m.timer)}.`
        : `${Actor} turned off disappearing messages.`;
    default:
      return `${Actor}: ${String(m.event ?? 'event')}${them ? ` (${them})` : ''}`;
  }
}

/** The text of `parley send` / `groups send`: an empty or blank message is refused. */
export function messageText(words: string[]): string | undefined {
  const text = words.join(' ');
  return text.trim() === '' ? undefined : text;
}
