/**
 * What a history transfer tells UIs, on both devices (`side`): progress per phase, then
 * finished or failed (with words to show).
 * @module
 */
import type { HistoryTransferErrorCode } from './errors.ts';

export type HistoryPhase = 'building' | 'uploading' | 'downloading' | 'importing';

export interface HistoryTransferEvents {
  /** `done` of `total` (bytes while uploading or downloading, messages while importing). */
  historyTransferProgress: { phase: HistoryPhase; done: number; total: number };
  /** Primary: the archive is uploaded. New device: it is imported. */
  historyTransferFinished: {
    side: 'primary' | 'new';
    messages: number;
    conversations: number;
  };
  /** Nothing was imported (new device) or offered (primary); `reason` is for the user. */
  historyTransferFailed: {
    side: 'primary' | 'new';
    code: HistoryTransferErrorCode;
    reason: string;
  };
  /** New device: the messages stored while it was being linked arrived (`messages` new). */
  historyGapFilled: { messages: number };
  /** New device: they did not; `retry` when it is tried again at the next start. */
  historyGapFailed: { reason: string; retry: boolean };
  /** Archive device: it sent a new device of ours what it stored since the archive. */
  historyGapAnswered: { deviceId: number; messages: number };
}
