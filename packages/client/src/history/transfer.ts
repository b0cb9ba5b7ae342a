/**
 * Message history for a newly linked device (issue 17, part 3).
 *
 * Primary, approving a link with history: snapshot (one read transaction) → encode + gzip →
 * seal under a fresh key (seal.ts) → upload as a relay attachment → the pointer
 * `{ attachment id, key, digest, size }` goes into the sealed `ProvisionMessage`. If any of it
 * fails, the link still goes ahead and the message says why instead (`history_failure`).
 *
 * New device: linking stores what the provisioning message said in `meta/history` (in the
 * registration transaction). The first `start()` — before the delivery socket connects, so
 * nothing is received before the import — downloads, verifies, opens and imports the archive
 * in one transaction that also records the outcome. Any failure records and announces why, and
 * the device starts without history; it is never asked again.
 * @module
 */
import type { ClientContext, ClientEvents } from '../context.ts';
import { META } from '../keys.ts';
import { create, HistoryArchivePointerSchema, type ProvisionMessage } from '../content/index.ts';
import type { StorageTx } from '../storage/types.ts';
import type { HistoryGaps, StoredGap } from './gap.ts';
import { decodeArchive, encodeArchive, snapshotHistory } from './archive.ts';
import { asHistoryError, HistoryTransferError, type HistoryTransferErrorCode } from './errors.ts';
import type { HistoryPhase } from './events.ts';
import { importArchive } from './import.ts';
import { SEAL_VERSION, openArchive, sealArchive } from './seal.ts';

/** What the attachment transport offers (attachments/transport.ts has the real one). */
export interface HistoryTransport {
  upload(
    ciphertext: Uint8Array,
    options?: { onProgress?: (done: number, total: number) => void },
  ): Promise<string>;
  download(
    id: string,
    options?: { onProgress?: (done: number, total: number) => void },
  ): Promise<Uint8Array>;
}

/** Largest sealed archive a new device downloads. */
export const MAX_SEALED_BYTES = 256 * 1024 * 1024;

/** Where history stands on this device (`meta/history`; the key is never shown). */
export type HistoryState =
  | { state: 'pending' }
  | { state: 'declined' }
  | {
      state: 'imported';
      messages: number;
      conversations: number;
      at: number;
      /** The messages stored while this device was being linked (history/gap.ts). */
      gap?: { state: 'requested' | 'downloading' | 'filled' | 'failed'; reason?: string };
    }
  | { state: 'failed'; code: HistoryTransferErrorCode; reason: string; at: number };

/** As stored: `pending` keeps the pointer until the import ran; `imported`, the gap's state. */
export type StoredHistoryState =
  | {
      state: 'pending';
      attachmentId: string;
      key: Uint8Array;
      digest: Uint8Array;
      size: number;
      /** The device that made the archive (asked for the gap after the import). */
      deviceId?: number;
    }
  | (Omit<Extract<HistoryState, { state: 'imported' }>, 'gap'> & { gap?: StoredGap })
  | Exclude<HistoryState, { state: 'pending' | 'imported' }>;

export interface ApproveOptions {
  /** Offer our message history to the new device (default false: the UI decides). */
  transferHistory?: boolean;
}

/** "History could not be transferred: …" — the words a UI shows. */
export const failureText = (reason: string) => `History could not be transferred: ${reason}`;

/** New-device side, inside the registration transaction: remember what was offered. */
export async function recordHistoryOffer(
  tx: StorageTx,
  message: ProvisionMessage,
  now: number,
): Promise<void> {
  const p = message.history;
  let state: StoredHistoryState;
  if (p && p.attachmentId) {
    state = {
      state: 'pending',
      attachmentId: p.attachmentId,
      key: p.key,
      digest: p.digest,
      size: Number(p.size),
      ...(message.provisioningDeviceId ? { deviceId: message.provisioningDeviceId } : {}),
    };
    if (p.version !== SEAL_VERSION) {
      state = {
        state: 'failed',
        code: 'unsupported_version',
        reason: failureText('your other device uses a newer history format; update this app'),
        at: now,
      };
    }
  } else if (message.historyFailure) {
    state = {
      state: 'failed',
      code: 'not_prepared',
      reason: failureText(message.historyFailure),
      at: now,
    };
  } else {
    state = { state: 'declined' };
  }
  await tx.put('meta', META.history, state);
}

export class HistoryTransfer {
  #running: Promise<void> | undefined;

  constructor(
    private readonly ctx: ClientContext,
    private readonly transport: () => HistoryTransport,
    /** Absent in unit tests of the archive alone: no gap is asked for. */
    private readonly gaps?: HistoryGaps,
  ) {}

  #emit<K extends keyof ClientEvents>(event: K, payload: ClientEvents[K]): void {
    this.ctx.events.emit(event, payload);
  }

  #progress(phase: HistoryPhase, done: number, total: number): void {
    this.#emit('historyTransferProgress', { phase, done, total });
  }

  /**
   * Primary side: builds, seals and uploads the archive. Resolves with what goes into the
   * provisioning message: the pointer, or why there is none.
   */
  async prepare(): Promise<Partial<Pick<ProvisionMessage, 'history' | 'historyFailure'>>> {
    const { ctx } = this;
    try {
      this.#progress('building', 0, 1);
      const accountId = ctx.accountId;
      let archive;
      try {
        archive = await ctx.storage.transaction((tx) => snapshotHistory(tx, accountId, ctx.now()));
      } catch (err) {
        throw asHistoryError(err, 'storage_failed', 'reading the history failed');
      }
      const sealed = await sealArchive(await encodeArchive(archive), ctx.rng);
      this.#progress('building', 1, 1);
      const size = sealed.blob.length;
      this.#progress('uploading', 0, size);
      let attachmentId: string;
      try {
        attachmentId = await this.transport().upload(sealed.blob, {
          onProgress: (done, total) => this.#progress('uploading', done, total),
        });
      } catch (err) {
        throw asHistoryError(err, 'transfer_failed', 'the upload failed');
      }
      this.#progress('uploading', size, size);
      this.#emit('historyTransferFinished', {
        side: 'primary',
        messages: archive.messages.length,
        conversations: archive.conversations.length,
      });
      const history = create(HistoryArchivePointerSchema, {
        version: SEAL_VERSION,
        attachmentId,
        key: sealed.key,
        digest: sealed.digest,
        size: BigInt(size),
      });
      return { history };
    } catch (err) {
      const e = asHistoryError(err, 'storage_failed', 'preparing the history failed');
      this.#emit('historyTransferFailed', {
        side: 'primary',
        code: e.code,
        reason: failureText(e.message),
      });
      return { historyFailure: e.message };
    }
  }

  /** What `meta/history` says, without the key. Undefined on a device that was not linked. */
  async state(): Promise<HistoryState | undefined> {
    const s = await this.ctx.storage.get<StoredHistoryState>('meta', META.history);
    if (s?.state === 'pending') return { state: 'pending' };
    if (s?.state === 'imported' && s.gap) {
      const gap =
        s.gap.state === 'failed'
          ? { state: s.gap.state, reason: s.gap.reason }
          : { state: s.gap.state };
      return { ...s, gap };
    }
    return s;
  }

  /** New-device side, before the first connection: imports pending history once. */
  importPending(): Promise<void> {
    this.#running ??= this.#importPending().finally(() => (this.#running = undefined));
    return this.#running;
  }

  async #importPending(): Promise<void> {
    const { ctx } = this;
    const stored = await ctx.storage.get<StoredHistoryState>('meta', META.history);
    if (stored?.state !== 'pending') return;
    try {
      if (stored.size > MAX_SEALED_BYTES) {
        throw new HistoryTransferError('too_large', 'the history archive is larger than allowed');
      }
      this.#progress('downloading', 0, stored.size);
      let blob: Uint8Array;
      try {
        blob = await this.transport().download(stored.attachmentId, {
          onProgress: (done, total) => this.#progress('downloading', done, total),
        });
      } catch (err) {
        throw asHistoryError(err, 'transfer_failed', 'the download failed');
      }
      this.#progress('downloading', blob.length, blob.length);
      const archive = await decodeArchive(await openArchive(blob, stored.key, stored.digest));
      const total = archive.messages.length;
      this.#progress('importing', 0, total);
      const accountId = ctx.accountId;
      const result = await ctx.transaction(async (scope) => {
        const r = await importArchive(scope.tx, archive, accountId, ctx.now(), (done) =>
          this.#progress('importing', done, total),
        );
        // What the archive device stores from now until we are reachable: asked for at once.
        const gap =
          stored.deviceId !== undefined && this.gaps
            ? await this.gaps.request(scope, archive, stored.deviceId)
            : undefined;
        await scope.tx.put('meta', META.history, {
          state: 'imported',
          ...r,
          at: ctx.now(),
          ...(gap ? { gap } : {}),
        } satisfies StoredHistoryState);
        return r;
      });
      this.#emit('historyTransferFinished', { side: 'new', ...result });
    } catch (err) {
      const e = asHistoryError(err, 'storage_failed', 'storing the history failed');
      const reason = failureText(e.message);
      // The import's own transaction rolled back; only the outcome is recorded.
      await ctx.storage.put('meta', META.history, {
        state: 'failed',
        code: e.code,
        reason,
        at: ctx.now(),
      } satisfies StoredHistoryState);
      this.#emit('historyTransferFailed', { side: 'new', code: e.code, reason });
    }
  }
}
