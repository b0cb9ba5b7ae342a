/**
 * Message history on a newly linked device, for the screens: on the primary while it prepares
 * and uploads the archive, on the new device while it downloads and imports it, and afterwards
 * what became of it (imported, declined, or why it failed).
 * @module
 */
import type { HistoryPhase, HistoryState, ParleyClient } from '@parley/client';

export type HistoryView =
  | { status: 'transferring'; phase: HistoryPhase; percent: number }
  | { status: 'imported'; messages: number }
  | { status: 'declined' }
  /** `reason` is fit to show as it is ("History could not be transferred: …"). */
  | { status: 'failed'; reason: string };

/** What the stored state of a linked device says (undefined: not a linked device, or pending). */
export function historyViewOf(state: HistoryState | undefined): HistoryView | undefined {
  switch (state?.state) {
    case 'imported':
      // The gap (messages from while it was being linked) could not be filled: say so.
      if (state.gap?.state === 'failed' && state.gap.reason) {
        return { status: 'failed', reason: state.gap.reason };
      }
      return { status: 'imported', messages: state.messages };
    case 'declined':
      return { status: 'declined' };
    case 'failed':
      return { status: 'failed', reason: state.reason };
    default:
      return undefined;
  }
}

const percentOf = (done: number, total: number) =>
  total > 0 ? Math.min(100, Math.floor((100 * done) / total)) : 0;

/** Follows `client`'s history events into `set`; returns the unsubscribers. */
export function trackHistory(
  client: ParleyClient,
  set: (view: HistoryView | undefined) => void,
): Array<() => void> {
  void client.historyTransferState().then((s) => {
    const view = historyViewOf(s);
    if (view) set(view);
  });
  return [
    client.on('historyTransferProgress', ({ phase, done, total }) =>
      set({ status: 'transferring', phase, percent: percentOf(done, total) }),
    ),
    client.on('historyTransferFinished', (e) =>
      // On the primary the archive is uploaded: nothing more to show here.
      set(e.side === 'new' ? { status: 'imported', messages: e.messages } : undefined),
    ),
    client.on('historyTransferFailed', (e) => set({ status: 'failed', reason: e.reason })),
    client.on('historyGapFailed', (e) => {
      if (!e.retry) set({ status: 'failed', reason: e.reason });
    }),
  ];
}

/** The progress line both devices show while a transfer runs. */
export function progressText(view: Extract<HistoryView, { status: 'transferring' }>): string {
  const what: Record<HistoryPhase, string> = {
    building: 'Preparing history…',
    uploading: 'Uploading history…',
    downloading: 'Transferring history…',
    importing: 'Importing history…',
  };
  return `${what[view.phase]} ${view.percent}%`;
}
