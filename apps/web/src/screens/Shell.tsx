import { useState } from 'react';
import { useAttention } from '../lib/attention.ts';
import { useHashRoute } from '../lib/router.ts';
import { Avatar } from '../components/Avatar.tsx';
import { Icon } from '../components/Icon.tsx';
import { EmptyState } from '../components/States.tsx';
import { useModelState } from '../model/context.tsx';
import { ConversationList } from './ConversationList.tsx';
import { ConversationView } from './ConversationView.tsx';
import { DevicesScreen } from './DevicesScreen.tsx';
import { GroupInfo } from './GroupInfo.tsx';
import { NewChatDialog, NewGroupDialog } from './NewConversation.tsx';
import type { Route } from './route.ts';
import { SafetyScreen } from './SafetyScreen.tsx';
import { SettingsScreen } from './SettingsScreen.tsx';

export function Shell() {
  const state = useModelState();
  const [route, navigate] = useHashRoute();
  const [dialog, setDialog] = useState<'chat' | 'group' | null>(null);
  useAttention(state, navigate);
  const me = state.me;
  const selected = route.name === 'chat' ? route.conversationId : undefined;

  return (
    <div className={route.name === 'home' ? 'shell' : 'shell shell--detail'}>
      <aside className="sidebar" aria-label="Conversations">
        <header className="sidebar__header">
          {me && <Avatar name={me.username} seed={me.accountId} size="sm" />}
          <div className="sidebar__me">
            <span className="sidebar__name" data-testid="my-username">
              {me?.username}
            </span>
            <ConnectionBadge
              connection={state.connection}
              tab={state.tab}
              catchUp={state.catchUp}
            />
          </div>
          <button
            type="button"
            className="icon-button"
            aria-label="New chat"
            title="New chat"
            onClick={() => setDialog('chat')}
          >
            <Icon name="compose" />
          </button>
          <button
            type="button"
            className="icon-button"
            aria-label="New group"
            title="New group"
            onClick={() => setDialog('group')}
          >
            <Icon name="group" />
          </button>
        </header>
        <ConversationList
          selected={selected}
          onOpen={(id) => navigate({ name: 'chat', conversationId: id })}
        />
        <nav className="sidebar__footer" aria-label="Account">
          <button
            type="button"
            className="nav-button"
            aria-current={route.name === 'devices' ? 'page' : undefined}
            onClick={() => navigate({ name: 'devices' })}
          >
            <Icon name="devices" /> Devices
          </button>
          <button
            type="button"
            className="nav-button"
            aria-current={route.name === 'settings' ? 'page' : undefined}
            onClick={() => navigate({ name: 'settings' })}
          >
            <Icon name="settings" /> Settings
          </button>
        </nav>
      </aside>
      <main className="main">
        <MainPane route={route} navigate={navigate} />
      </main>
      {dialog === 'chat' && (
        <NewChatDialog
          onClose={() => setDialog(null)}
          onStarted={(id) => {
            setDialog(null);
            navigate({ name: 'chat', conversationId: id });
          }}
        />
      )}
      {dialog === 'group' && (
        <NewGroupDialog
          onClose={() => setDialog(null)}
          onStarted={(id) => {
            setDialog(null);
            navigate({ name: 'chat', conversationId: id });
          }}
        />
      )}
    </div>
  );
}

function MainPane({ route, navigate }: { route: Route; navigate: (r: Route) => void }) {
  switch (route.name) {
    case 'home':
      return (
        <EmptyState title="Select a conversation">
          Or start a new one with the pencil button. Messages are end-to-end encrypted.
        </EmptyState>
      );
    case 'chat':
      return (
        <ConversationView
          key={route.conversationId}
          conversationId={route.conversationId}
          navigate={navigate}
        />
      );
    case 'group-info':
      return <GroupInfo groupId={route.groupId} navigate={navigate} />;
    case 'safety':
      return (
        <SafetyScreen
          accountId={route.accountId}
          onBack={() => navigate({ name: 'chat', conversationId: route.from })}
        />
      );
    case 'devices':
      return <DevicesScreen onBack={() => navigate({ name: 'home' })} />;
    case 'settings':
      return <SettingsScreen onBack={() => navigate({ name: 'home' })} />;
  }
}

function ConnectionBadge({
  connection,
  tab,
  catchUp,
}: {
  connection: 'connecting' | 'online' | 'offline';
  tab: 'leader' | 'follower' | undefined;
  /** Working through messages that arrived while this device was offline. */
  catchUp: { done: number } | undefined;
}) {
  const label =
    connection === 'online' && catchUp
      ? `Catching up… ${catchUp.done.toLocaleString()} messages`
      : {
          connecting: 'Connecting…',
          online: 'Connected',
          offline: 'Offline — messages will be sent when back',
        }[connection];
  return (
    <span
      className={`connection connection--${connection}`}
      data-testid="connection"
      data-tab={tab}
      title={tab === 'follower' ? 'Connected through another tab of Parley' : undefined}
      role="status"
    >
      <span className="connection__dot" aria-hidden="true" />
      {label}
    </span>
  );
}
