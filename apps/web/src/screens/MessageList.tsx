import { LinkifiedText } from '../components/LinkifiedText.tsx';
import { transferWords } from '../model/attachments.ts';
import { MessageAttachments } from './Attachments.tsx';
import { EmptyState } from '../components/States.tsx';
import { MessageMenu, QuoteBlock, ReactionsRow, type Draft } from './MessageActions.tsx';
import { displayName } from '../lib/names.ts';
import { formatClock, formatDayLabel, withDaySeparators } from '../lib/time.ts';
import { useAction, useChatModel, useModelState } from '../model/context.tsx';
import type { Message, MessageStatus, ModelState, SendFailureReason } from '../model/types.ts';
import { timerEventText } from '../model/disappearing.ts';
import { TimerMark } from './TimerMenu.tsx';

export function MessageList({
  messages,
  showSenders,
  now = Date.now(),
  onDraft = () => {},
}: {
  messages: readonly Message[];
  showSenders: boolean;
  now?: number;
  /** Reply to or edit a message (the composer takes it from there). */
  onDraft?: (draft: Draft) => void;
}) {
  const state = useModelState();
  if (messages.length === 0) {
    return (
      <EmptyState title="No messages yet">
        Say hello. Messages are end-to-end encrypted: the relay only ever sees ciphertext.
      </EmptyState>
    );
  }
  return (
    <ol className="messages" role="log" aria-label="Messages" aria-live="polite">
      {withDaySeparators(messages).map((row, i, rows) => {
        if (row.kind === 'day') {
          return (
            <li key={row.key} className="day-separator">
              <span>{formatDayLabel(row.at, now)}</span>
            </li>
          );
        }
        const m = row.item;
        if (m.kind === 'event') {
          return (
            <li key={m.id} className="event-row" data-testid="event">
              {eventText(state, m)}
            </li>
          );
        }
        const prev = rows[i - 1];
        const first = !(
          prev?.kind === 'item' &&
          prev.item.kind === 'text' &&
          prev.item.senderAccountId === m.senderAccountId
        );
        return (
          <li
            key={m.id}
            id={`msg-${m.id}`}
            tabIndex={-1}
            className={`bubble-row bubble-row--${m.direction}${first ? ' bubble-row--first' : ''}`}
            data-testid="message"
          >
            <div className={`bubble bubble--${m.direction}`}>
              {showSenders && m.direction === 'in' && first ? (
                <span className="bubble__sender">{displayName(state, m.senderAccountId)}</span>
              ) : (
                // Screen readers hear who wrote every message, not only the first of a run.
                <span className="visually-hidden" data-testid="message-sender">
                  {m.direction === 'out' ? 'You' : displayName(state, m.senderAccountId)}:
                </span>
              )}
              {m.quote && !m.deleted && <QuoteBlock message={m} all={messages} />}
              {m.deleted ? (
                <p className="bubble__text bubble__text--deleted" data-testid="message-deleted">
                  {m.direction === 'out'
                    ? 'You deleted this message.'
                    : 'This message was deleted.'}
                </p>
              ) : (
                <>
                  {m.attachments && <MessageAttachments message={m} />}
                  {(!m.attachments || m.text) && (
                    <p className="bubble__text" data-testid="message-text">
                      <LinkifiedText text={m.text ?? ''} />
                    </p>
                  )}
                </>
              )}
              <span className="bubble__meta">
                <time
                  dateTime={new Date(m.timestamp).toISOString()}
                  title={new Date(m.timestamp).toLocaleString()}
                >
                  {formatClock(m.timestamp)}
                </time>
                {m.edited && !m.deleted && (
                  <span className="bubble__edited" data-testid="edited">
                    edited
                  </span>
                )}
                {!m.deleted && <TimerMark message={m} />}
                {m.direction === 'out' && m.status && <StatusMark status={m.status} />}
              </span>
              {m.direction === 'out' && m.status === 'failed' && <FailedNote message={m} />}
            </div>
            {!m.deleted && <MessageMenu message={m} onDraft={onDraft} />}
            <ReactionsRow message={m} />
          </li>
        );
      })}
    </ol>
  );
}

const FAILURE_TEXT: Record<SendFailureReason, string> = {
  identity_changed: 'Not sent: the safety number changed. Review it, then retry.',
  not_group_member: 'Not sent: you are no longer in this group.',
  recipient_gone: 'Not sent: this account no longer exists.',
  account_deleted: 'Not sent: this account was deleted.',
  too_large: 'Not sent: the message is too large.',
  upload_failed: 'Not sent: the file could not be uploaded.',
  rejected: 'Not sent: the relay refused it.',
};

/** Why a message was not sent, and a retry where one can help (never a second bubble). */
function FailedNote({ message }: { message: Message }) {
  const model = useChatModel();
  const [retry, state] = useAction((m: Message) => model.retrySend(m.conversationId, m.id));
  const failure = message.failure;
  return (
    <p className="bubble__failure" role="status" data-testid="send-failure">
      {failure ? FAILURE_TEXT[failure.reason] : 'Not sent.'}
      {failure?.reason === 'upload_failed' && (
        <> ({transferWords(uploadFailureOf(message) ?? 'network')})</>
      )}
      {(!failure || failure.retryable) && (
        <button
          type="button"
          className="link-button"
          disabled={state.busy}
          onClick={() => void retry(message)}
        >
          Retry
        </button>
      )}
      {state.error && <span className="bubble__failure-error">{state.error}</span>}
    </p>
  );
}

const STATUS_LABEL: Record<MessageStatus, string> = {
  queued: 'Waiting to send',
  sent: 'Sent',
  delivered: 'Delivered',
  read: 'Read',
  failed: 'Not sent',
};

export function StatusMark({ status }: { status: MessageStatus }) {
  const label = STATUS_LABEL[status];
  return (
    <span
      className={`status status--${status}`}
      title={label}
      role="img"
      aria-label={label}
      data-status={status}
    >
      {status === 'queued' && (
        <svg viewBox="0 0 16 16" width="14" height="14" aria-hidden="true">
          <circle cx="8" cy="8" r="6" fill="none" stroke="currentColor" strokeWidth="1.5" />
          <path d="M8 4.5V8l2.5 1.5" fill="none" stroke="currentColor" strokeWidth="1.5" />
        </svg>
      )}
      {status === 'sent' && (
        <svg viewBox="0 0 16 16" width="14" height="14" aria-hidden="true">
          <path d="m3 8.5 3 3 7-7" fill="none" stroke="currentColor" strokeWidth="1.6" />
        </svg>
      )}
      {(status === 'delivered' || status === 'read') && (
        <svg viewBox="0 0 20 16" width="17" height="14" aria-hidden="true">
          <path
            d="m1.5 8.5 3 3 7-7M8 11.5l7-7"
            fill="none"
            stroke="currentColor"
            strokeWidth="1.6"
          />
        </svg>
      )}
      {status === 'failed' && <span className="status__failed">!</span>}
    </span>
  );
}

function names(state: ModelState, ids: readonly string[] = []): string {
  return ids
    .map((id) => state.contacts[id]?.username ?? (state.me?.accountId === id ? 'you' : id))
    .join(', ');
}

export function eventText(state: ModelState, m: Message): string {
  const who =
    m.senderAccountId === state.me?.accountId ? 'You' : displayName(state, m.senderAccountId);
  switch (m.event) {
    case 'identity_changed':
      return `The safety number with ${names(state, m.subjects)} changed.`;
    case 'marked_verified':
      return `You marked your safety number with ${names(state, m.subjects)} verified.`;
    case 'marked_unverified':
      return `You marked your safety number with ${names(state, m.subjects)} not verified.`;
    case 'decryption_failed':
      return `A message from ${who} could not be decrypted.`;
    case 'group_created':
      return `${who} created the group.`;
    case 'group_members_added':
      return `${who} added ${names(state, m.subjects)}.`;
    case 'group_members_removed':
      return `${who} removed ${names(state, m.subjects)}.`;
    case 'group_renamed':
      return `${who} renamed the group${m.text ? ` to “${m.text}”` : ''}.`;
    case 'group_left':
      return `${who === 'You' ? 'You' : who} left the group.`;
    case 'account_deleted':
      return `${names(state, m.subjects)} deleted their account. Messages can no longer be sent here.`;
    case 'member_account_deleted':
      return `${names(state, m.subjects)} deleted their account and is no longer in the group.`;
    case 'group_admins_added':
      return `${who} made ${names(state, m.subjects)} ${m.subjects?.length === 1 ? 'an admin' : 'admins'}.`;
    case 'group_update_refused':
      return `${names(state, m.subjects)} tried to change the group, but only admins can. Ignored.`;
    case 'contact_blocked':
      return `You blocked ${names(state, m.subjects)}.`;
    case 'contact_unblocked':
      return `You unblocked ${names(state, m.subjects)}.`;
    case 'timer_changed':
      return timerEventText(who, m.timer ?? 0);
    default:
      return m.text ?? '';
  }
}

const uploadFailureOf = (m: Message) =>
  m.attachments?.find((a) => a.uploadFailure)?.uploadFailure?.code;
