/**
 * What the model does when the client core reports something: most events only mean "storage
 * changed, rebuild the snapshot"; typing, connection and catch-up progress go into the state
 * directly, and message and typing events are passed on to the other tabs.
 * @module
 */
import type { ParleyClient } from '@parley/client';
import { CloseCode } from '@parley/protocol';
import type { FileTransfers } from '../attachments.ts';
import { trackHistory } from '../history.ts';
import type { StateStore } from '../store.ts';
import type { Connection } from '../types.ts';
import type { Snapshot } from './snapshot.ts';
import type { SocketLeader } from './socket-leader.ts';
import type { TabChannel } from './tab-channel.ts';
import type { TypingIndicators } from './typing-indicators.ts';

/** The parts the client's events reach. */
export interface ClientEventTargets {
  store: StateStore;
  snapshot: Snapshot;
  typing: TypingIndicators;
  tabs: TabChannel;
  socket: SocketLeader;
  files: FileTransfers;
  /** Back to onboarding with empty storage (this device was unlinked). */
  reset(message: string): Promise<void>;
}

/** Subscribes the model to `client`'s events; returns the unsubscribers. */
export function subscribeClientEvents(
  client: ParleyClient,
  { store, snapshot, typing, tabs, socket, files, reset }: ClientEventTargets,
): Array<() => void> {
  const changed = () => snapshot.schedule();
  // The browser says the network is back: reconnect and resend now, not after the backoff.
  const online = () => client.networkOnline();
  globalThis.addEventListener?.('online', online);
  return [
    () => globalThis.removeEventListener?.('online', online),
    client.on('message', (m) => {
      typing.clear(m.conversationId, m.senderAccountId);
      tabs.post({
        type: 'message',
        conversationId: m.conversationId,
        senderAccountId: m.senderAccountId,
      });
      changed();
    }),
    client.on('event', changed),
    client.on('status', changed),
    client.on('messageChanged', (m) => {
      tabs.post({
        type: 'message',
        conversationId: m.conversationId,
        senderAccountId: m.senderAccountId,
      });
      changed();
    }),
    client.on('messagesRemoved', changed),
    client.on('attachmentProgress', (p) => files.progress(p)),
    client.on('group', changed),
    client.on('contacts', changed),
    client.on('trust', changed),
    client.on('identityChanged', changed),
    client.on('queueEmpty', changed),
    // Messages from while this device was being linked, sent by the other device.
    client.on('historyGapFilled', changed),
    client.on('ownDevices', () =>
      store.update((st) => ({ devicesRevision: (st.devicesRevision ?? 0) + 1 })),
    ),
    ...trackCatchUp(client, store),
    ...trackHistory(client, (history) => store.update({ history })),
    client.on('connection', (state) => {
      if (!socket.leader) return;
      const connection: Connection =
        state === 'open' ? 'online' : state === 'connecting' ? 'connecting' : 'offline';
      store.update({ connection });
      tabs.post({ type: 'connection', state: connection });
    }),
    client.on('typing', ({ accountId, groupId, started }) => {
      typing.signal(accountId, groupId, started);
      tabs.post({ type: 'typing', accountId, started, ...(groupId ? { groupId } : {}) });
    }),
    client.on('terminated', ({ code }) => {
      if (code === CloseCode.Replaced) socket.replaced();
      else if (code === CloseCode.DeviceRemoved) {
        void reset('This device was unlinked from your account.');
      }
    }),
  ];
}

/**
 * Progress of working through the backlog after each connection: counted per envelope,
 * published once per batch (the envelopes of a batch are reported together after its commit).
 */
function trackCatchUp(client: ParleyClient, store: StateStore): Array<() => void> {
  let active = false;
  let done = 0;
  let queued = false;
  return [
    client.on('connection', (state) => {
      if (state !== 'open') return;
      active = true;
      done = 0;
    }),
    client.on('processed', () => {
      if (!active) return;
      done++;
      if (queued) return;
      queued = true;
      queueMicrotask(() => {
        queued = false;
        if (active) store.update({ catchUp: { done } });
      });
    }),
    client.on('queueEmpty', () => {
      active = false;
      if (store.getState().catchUp) store.update({ catchUp: undefined });
    }),
  ];
}
