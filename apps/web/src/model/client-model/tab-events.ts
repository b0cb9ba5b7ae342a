/**
 * What this tab does when another tab of the profile speaks (tab-channel.ts): re-read storage,
 * show the leader's connection state, typing, reopen after an account change, follow the
 * passphrase and lock together.
 * @module
 */
import type { StateStore } from '../store.ts';
import type { ActiveClient } from './active-client.ts';
import type { ClientLifecycle } from './client-lifecycle.ts';
import type { Profile } from './profile.ts';
import type { Snapshot } from './snapshot.ts';
import type { SocketLeader } from './socket-leader.ts';
import type { TabChannel, TabMessage } from './tab-channel.ts';
import type { TypingIndicators } from './typing-indicators.ts';

/** The parts another tab's messages reach. */
export interface TabEventTargets {
  store: StateStore;
  profile: Profile;
  active: ActiveClient;
  snapshot: Snapshot;
  typing: TypingIndicators;
  tabs: TabChannel;
  socket: SocketLeader;
  lifecycle: ClientLifecycle;
}

export function onTabMessage(message: TabMessage, to: TabEventTargets): void {
  const { store, profile, active, snapshot, typing, tabs, socket, lifecycle } = to;
  switch (message.type) {
    case 'changed':
      snapshot.schedule();
      break;
    case 'connection':
      if (!socket.leader && active.current?.account) store.update({ connection: message.state });
      break;
    case 'hello':
      if (socket.leader) tabs.post({ type: 'connection', state: store.getState().connection });
      break;
    case 'typing':
      typing.signal(message.accountId, message.groupId, message.started);
      break;
    case 'message':
      typing.clear(message.conversationId, message.senderAccountId);
      break;
    case 'account':
      void lifecycle.reopen();
      break;
    case 'passphrase':
      void profile.keyring
        ?.hasPassphrase()
        .then((hasPassphrase) => store.update({ hasPassphrase }))
        .catch(() => {});
      break;
    case 'locked':
      if (store.getState().phase.kind === 'ready') void lifecycle.lockHere();
      break;
  }
}
