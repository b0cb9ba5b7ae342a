import { Avatar } from '../components/Avatar.tsx';
import { EmptyState } from '../components/States.tsx';
import { useModelState } from '../model/context.tsx';
import { formatListTime } from '../lib/time.ts';
import { AccountStatusPill } from './AccountStatusPill.tsx';
import { LinkedDeviceNote } from './LinkedDeviceNote.tsx';

export function ConversationList({
  selected,
  onOpen,
  now = Date.now(),
}: {
  selected: string | undefined;
  onOpen: (conversationId: string) => void;
  now?: number;
}) {
  const { conversations } = useModelState();
  if (conversations.length === 0) {
    return (
      <div className="conversation-list">
        <EmptyState title="No conversations yet">
          Start one with the pencil button above.
        </EmptyState>
        <LinkedDeviceNote />
      </div>
    );
  }
  return (
    <ul className="conversation-list" aria-label="Conversation list">
      {conversations.map((c) => (
        <li key={c.id}>
          <button
            type="button"
            className="conversation-item"
            aria-current={c.id === selected ? 'true' : undefined}
            data-testid="conversation-item"
            onClick={() => onOpen(c.id)}
          >
            <Avatar name={c.title} seed={c.peer} group={c.kind === 'group'} />
            <span className="conversation-item__body">
              <span className="conversation-item__top">
                <span className="conversation-item__title">
                  {c.title}
                  <AccountStatusPill conversationId={c.id} />
                </span>
                {c.lastMessageAt > 0 && (
                  <time
                    className="conversation-item__time"
                    dateTime={new Date(c.lastMessageAt).toISOString()}
                  >
                    {formatListTime(c.lastMessageAt, now)}
                  </time>
                )}
              </span>
              <span className="conversation-item__bottom">
                <span className="conversation-item__preview">
                  {c.lastMessage
                    ? `${c.lastMessage.direction === 'out' ? 'You: ' : c.lastMessage.senderName ? `${c.lastMessage.senderName}: ` : ''}${c.lastMessage.text}`
                    : 'No messages yet'}
                </span>
                {c.request && <span className="request-tag">Request</span>}
                {c.unread > 0 && (
                  <span className="badge" aria-label={`${c.unread} unread`}>
                    {c.unread > 99 ? '99+' : c.unread}
                  </span>
                )}
              </span>
            </span>
          </button>
        </li>
      ))}
    </ul>
  );
}
