import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import { Avatar } from '../components/Avatar.tsx';
import { Icon } from '../components/Icon.tsx';
import { Spinner } from '../components/States.tsx';
import { changedIdentities, conversationInfo, typingLabel } from '../lib/conversation.ts';
import { displayName } from '../lib/names.ts';
import { useChatModel, useModelState } from '../model/context.tsx';
import { accountStatus, reusedUsernameWarning } from '../model/lifecycle.ts';
import { Composer } from './Composer.tsx';
import { useFileDrop, useSendFiles } from './FileDrop.tsx';
import { IdentityChangedNotice } from './IdentityChangedNotice.tsx';
import { LinkedDeviceNote } from './LinkedDeviceNote.tsx';
import type { Draft } from './MessageActions.tsx';
import { MessageList } from './MessageList.tsx';
import { BlockButton, BlockedBar, RequestBar } from './RequestBar.tsx';
import { trustOf } from '../model/trust.ts';
import type { Navigate } from './route.ts';
import { TimerMenu } from './TimerMenu.tsx';

export function ConversationView({
  conversationId,
  navigate,
}: {
  conversationId: string;
  navigate: Navigate;
}) {
  const model = useChatModel();
  const state = useModelState();
  const [loadError, setLoadError] = useState<string>();
  const [draft, setDraft] = useState<Draft>();
  const info = conversationInfo(state, conversationId);
  const messages = state.messages[conversationId];
  const unread = state.conversations.find((c) => c.id === conversationId)?.unread ?? 0;
  const changed = changedIdentities(state, conversationId);
  const group = info.kind === 'group' ? state.groups[info.peer] : undefined;
  const trust = trustOf(state, conversationId);
  const typing = typingLabel(
    (state.typing[conversationId] ?? []).map((id) => displayName(state, id)),
  );

  useEffect(() => {
    model.openConversation(conversationId).catch((err: unknown) => {
      setLoadError(err instanceof Error ? err.message : 'Could not load this conversation.');
    });
  }, [model, conversationId]);

  // Reading: whenever the conversation is on screen and has unread messages.
  useEffect(() => {
    if (unread > 0 && document.visibilityState !== 'hidden')
      void model.markRead(conversationId).catch(() => {});
  }, [model, conversationId, unread, messages?.length]);

  const scroller = useRef<HTMLDivElement>(null);
  useLayoutEffect(() => {
    const el = scroller.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [messages?.length, typing]);

  const peer = info.kind === 'direct' ? state.contacts[info.peer] : undefined;
  const status = accountStatus(peer);
  const reused = reusedUsernameWarning(peer);
  const subtitle = group
    ? `${group.members.length + (group.left ? 0 : 1)} members`
    : (status ??
      [
        peer?.verified ? 'Verified' : undefined,
        // Whether the relay learns who writes here (see the client's delivery/sealed.ts).
        `Sealed sender: ${peer?.sealedSender ? 'on' : 'off'}`,
      ]
        .filter(Boolean)
        .join(' · '));

  // Files may go wherever the composer is shown.
  const canSend =
    !trust.request && !trust.blocked && !group?.left && !peer?.deleted && changed.length === 0;
  const files = useSendFiles(conversationId);
  const drop = useFileDrop(files.send, canSend);

  return (
    <section
      className={`conversation${drop.over ? ' conversation--drop' : ''}`}
      aria-label={`Conversation with ${info.title}`}
      {...drop.handlers}
    >
      <header className="conversation__header">
        <button
          type="button"
          className="icon-button only-narrow"
          aria-label="Back to conversations"
          onClick={() => navigate({ name: 'home' })}
        >
          <Icon name="back" />
        </button>
        <Avatar name={info.title} seed={info.peer} group={info.kind === 'group'} />
        <div className="conversation__title">
          <h2 data-testid="conversation-title">{info.title}</h2>
          {subtitle && (
            <span className="conversation__subtitle" data-testid="conversation-subtitle">
              {subtitle}
            </span>
          )}
        </div>
        {!trust.request && !trust.blocked && !group?.left && !peer?.deleted && (
          <TimerMenu conversationId={conversationId} />
        )}
        {info.kind === 'direct' && !trust.request && (
          <BlockButton conversationId={conversationId} />
        )}
        {info.kind === 'direct' ? (
          <button
            type="button"
            className="button button--ghost"
            onClick={() => navigate({ name: 'safety', accountId: info.peer, from: conversationId })}
          >
            <Icon name="shield" size={18} /> Safety number
          </button>
        ) : (
          <button
            type="button"
            className="button button--ghost"
            onClick={() => navigate({ name: 'group-info', groupId: info.peer })}
          >
            <Icon name="info" size={18} /> Group info
          </button>
        )}
      </header>
      <div className="conversation__scroll" ref={scroller}>
        {loadError ? (
          <p className="error-text" role="alert">
            {loadError}
          </p>
        ) : messages === undefined ? (
          <div className="center-box">
            <Spinner label="Loading messages…" />
          </div>
        ) : (
          <>
            <LinkedDeviceNote />
            <MessageList
              messages={messages}
              showSenders={info.kind === 'group'}
              onDraft={setDraft}
            />
          </>
        )}
      </div>
      {typing && (
        <div className="typing-indicator" aria-live="polite">
          <span className="dots" aria-hidden="true">
            <i />
            <i />
            <i />
          </span>
          {typing}
        </div>
      )}
      {changed.map((id) => (
        <IdentityChangedNotice
          key={id}
          accountId={id}
          onShowSafety={() => navigate({ name: 'safety', accountId: id, from: conversationId })}
        />
      ))}
      {reused && (
        <p className="warning-text conversation__notice" role="note" data-testid="reused-username">
          {reused}
        </p>
      )}
      {files.error && (
        <p className="error-text conversation__notice" role="alert" data-testid="file-error">
          {files.error}
        </p>
      )}
      {trust.request ? (
        <RequestBar conversationId={conversationId} onGone={() => navigate({ name: 'home' })} />
      ) : trust.blocked ? (
        <BlockedBar accountId={info.peer} />
      ) : group?.left ? (
        <p className="composer composer--disabled">You are no longer a member of this group.</p>
      ) : peer?.deleted ? (
        <p className="composer composer--disabled" data-testid="account-deleted">
          {info.title} deleted their account. Messages can no longer be sent here.
        </p>
      ) : (
        <Composer
          conversationId={conversationId}
          disabled={changed.length > 0}
          onFiles={files.send}
          draft={draft}
          onDraftDone={() => setDraft(undefined)}
        />
      )}
    </section>
  );
}
