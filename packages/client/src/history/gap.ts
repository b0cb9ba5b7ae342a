/**
 * Closing the gap a history transfer leaves (issue 17).
 *
 * The primary snapshots its history before the new device exists, so whatever it stores
 * between that snapshot and the moment senders (and its own sync transcripts) reach the new
 * device is in neither the archive nor the new device's queue. So:
 *
 * 1. New device, in the transaction that imports the archive: queues (outbox) a sync
 *    `HistoryGapRequest` — a random id, the archive device, the archive's `createdAt` — and
 *    records it as `gap: requested` in `meta/history`. Durable: the outbox sends it once online.
 * 2. Archive device, on receiving it (only if it is the device named): records the request in
 *    `meta/historyGapAnswers` in the receive transaction, then answers after the commit, and
 *    again at every `start()` until answered. The answer is a history archive of the messages
 *    it stored since `createdAt − GAP_MARGIN_MS` (its own clock both times), the newest
 *    `MAX_GAP_MESSAGES` of them; inline when small, else sealed and uploaded like the linking
 *    archive. Enqueuing the answer and forgetting the request are one transaction.
 * 3. New device: applies the first answer that names its request and comes from the archive
 *    device (others are ignored): an inline one in the receive transaction itself; a pointer is
 *    recorded there, then downloaded after the commit (and again at `start()` if cut off).
 *    Messages already here (from the archive or received live) are skipped by the same
 *    (sender, id) index as the archive import.
 * 4. Nobody waits forever: an archive device that gives up answering says so (`gave_up`), and
 *    a request unanswered after `GAP_ANSWER_TIMEOUT_MS` (the archive device offline, reset or
 *    unlinked) is marked failed at `start()` or when the time comes while running. A late
 *    answer to a timed-out request is still taken.
 * @module
 */
import type { Envelope } from '@parley/protocol';
import type { ClientContext, ClientEvents, Scope } from '../context.ts';
import {
  create,
  HistoryArchivePointerSchema,
  type HistoryGap,
  type HistoryGapRequest,
} from '../content/index.ts';
import { META } from '../keys.ts';
import type { MessageRecord } from '../model.ts';
import type { SelfSync } from '../sync/index.ts';
import { toHex } from '../util/bytes.ts';
import { decodeArchive, encodeArchive, snapshotHistory, type HistoryArchive } from './archive.ts';
import { asHistoryError } from './errors.ts';
import { importArchive } from './import.ts';
import { openArchive, sealArchive, SEAL_VERSION } from './seal.ts';
import type { HistoryTransport, StoredHistoryState } from './transfer.ts';
import { failureText, MAX_SEALED_BYTES } from './transfer.ts';

/** Clock slack: the answer starts this long before the archive was made. */
export const GAP_MARGIN_MS = 60_000;
/** Most messages one answer carries (the newest). */
export const MAX_GAP_MESSAGES = 5_000;
/** Answers up to this size (encoded archive bytes) travel inside the sync message. */
export const MAX_INLINE_GAP_BYTES = 32 * 1024;
/** Requests an archive device keeps waiting to answer (a flood from our own devices is bounded). */
const MAX_PENDING_ANSWERS = 8;
/** Attempts at answering one request (each `start()` tries again) before it is dropped. */
const MAX_ANSWER_ATTEMPTS = 3;
/** How long the new device waits for an answer before it says the gap was not filled. */
export const GAP_ANSWER_TIMEOUT_MS = 3 * 24 * 3600_000;
/** Timers longer than this overflow setTimeout's 32-bit delay: checked again then. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** What the new device tracks inside `meta/history` (state `imported`). */
export type StoredGap =
  /** `at`: when requested (absent in records from before the timeout: counted from the import). */
  | { state: 'requested'; requestId: string; deviceId: number; at?: number }
  | {
      state: 'downloading';
      requestId: string;
      deviceId: number;
      attachmentId: string;
      key: Uint8Array;
      digest: Uint8Array;
      size: number;
    }
  | { state: 'filled'; messages: number; at: number }
  /** After a timeout, `requestId` and `deviceId` stay: a late answer is still taken. */
  | { state: 'failed'; reason: string; at: number; requestId?: string; deviceId?: number };

interface PendingAnswer {
  requestId: string;
  deviceId: number;
  since: number;
  attempts: number;
}

type Imported = Extract<StoredHistoryState, { state: 'imported' }>;

export class HistoryGaps {
  #answering: Promise<void> | undefined;
  #downloading: Promise<void> | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly ctx: ClientContext,
    private readonly selfSync: SelfSync,
    private readonly transport: () => HistoryTransport,
  ) {}

  #emit<K extends keyof ClientEvents>(scope: Scope | undefined, event: K, p: ClientEvents[K]) {
    if (scope) scope.emit(event, p);
    else this.ctx.events.emit(event, p);
  }

  // --- New device -------------------------------------------------------------------------

  /** In the import's transaction: asks the archive device for what it stored since. */
  async request(scope: Scope, archive: HistoryArchive, deviceId: number): Promise<StoredGap> {
    const requestId = toHex(this.ctx.rng(16));
    await this.selfSync.send(scope, {
      body: {
        case: 'historyGapRequest',
        value: {
          requestId,
          archiveDeviceId: deviceId,
          archiveCreatedAt: BigInt(archive.createdAt),
        },
      },
    });
    return { state: 'requested', requestId, deviceId, at: this.ctx.now() };
  }

  /**
   * At `start()`: marks a request unanswered for `GAP_ANSWER_TIMEOUT_MS` failed, or arms a timer
   * for when it will be (cleared by `stop()`).
   */
  async watch(): Promise<void> {
    this.stop();
    const { ctx } = this;
    const history = await ctx.storage.get<StoredHistoryState>('meta', META.history);
    if (history?.state !== 'imported' || history.gap?.state !== 'requested') return;
    const left = (history.gap.at ?? history.at) + GAP_ANSWER_TIMEOUT_MS - ctx.now();
    if (left > 0) {
      this.#timer = setTimeout(
        () => ctx.background(this.watch(), 'checking the missing history'),
        Math.min(left, MAX_TIMER_MS),
      );
      (this.#timer as { unref?: () => void }).unref?.();
      return;
    }
    await ctx.transaction(async (scope) => {
      const now = await scope.tx.get<StoredHistoryState>('meta', META.history);
      if (now?.state !== 'imported' || now.gap?.state !== 'requested') return;
      const { requestId, deviceId } = now.gap;
      await this.#fail(scope, now, 'the device that sent the history has not sent them', {
        requestId,
        deviceId,
      });
    });
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** A `HistoryGap` from one of our devices. */
  async onAnswer(scope: Scope, env: Envelope, gap: HistoryGap): Promise<void> {
    const { tx } = scope;
    const history = await tx.get<StoredHistoryState>('meta', META.history);
    const wanted = history?.state === 'imported' ? history.gap : undefined;
    if (
      !history ||
      history.state !== 'imported' ||
      !(wanted?.state === 'requested' || wanted?.state === 'failed') ||
      wanted.requestId === undefined ||
      wanted.requestId !== gap.requestId ||
      wanted.deviceId !== env.sourceDeviceId
    ) {
      return; // not ours, not from the device we asked, or already answered
    }
    if (gap.gaveUp) {
      if (wanted.state === 'failed') return; // already said
      return this.#fail(scope, history, 'the device that sent the history could not send them');
    }
    if (gap.pointer?.attachmentId) {
      const p = gap.pointer;
      if (p.version !== SEAL_VERSION || Number(p.size) > MAX_SEALED_BYTES) {
        return this.#fail(
          scope,
          history,
          'the missing messages came in a format this app cannot read',
        );
      }
      await tx.put('meta', META.history, {
        ...history,
        gap: {
          state: 'downloading',
          requestId: wanted.requestId,
          deviceId: wanted.deviceId!,
          attachmentId: p.attachmentId,
          key: p.key,
          digest: p.digest,
          size: Number(p.size),
        },
      } satisfies Imported);
      scope.after(() => this.downloadPending());
      return;
    }
    let archive: HistoryArchive;
    try {
      archive = await decodeArchive(gap.archive);
    } catch (err) {
      return this.#fail(scope, history, asHistoryError(err, 'malformed', 'unreadable').message);
    }
    await this.#import(scope, history, archive);
  }

  /** Downloads and imports an answer that came as a pointer (after its commit, or at start). */
  downloadPending(): Promise<void> {
    this.#downloading ??= this.#downloadPending().finally(() => (this.#downloading = undefined));
    return this.#downloading;
  }

  async #downloadPending(): Promise<void> {
    const { ctx } = this;
    const history = await ctx.storage.get<StoredHistoryState>('meta', META.history);
    if (history?.state !== 'imported' || history.gap?.state !== 'downloading') return;
    const want = history.gap;
    let archive: HistoryArchive | undefined;
    let failure: string | undefined;
    try {
      const blob = await this.transport().download(want.attachmentId);
      archive = await decodeArchive(await openArchive(blob, want.key, want.digest));
    } catch (err) {
      const e = asHistoryError(err, 'transfer_failed', 'the download failed');
      // A dropped connection is tried again at the next start; a bad archive is not.
      if (e.code === 'transfer_failed') {
        this.#emit(undefined, 'historyGapFailed', { reason: failureText(e.message), retry: true });
        return;
      }
      failure = e.message;
    }
    await ctx.transaction(async (scope) => {
      const now = await scope.tx.get<StoredHistoryState>('meta', META.history);
      if (now?.state !== 'imported' || now.gap?.state !== 'downloading') return;
      if (now.gap.requestId !== want.requestId) return;
      if (archive) await this.#import(scope, now, archive);
      else await this.#fail(scope, now, failure ?? 'unknown');
    });
  }

  async #import(scope: Scope, history: Imported, archive: HistoryArchive): Promise<void> {
    const { ctx } = this;
    let messages: number;
    try {
      ({ messages } = await importArchive(scope.tx, archive, ctx.accountId, ctx.now()));
    } catch (err) {
      return this.#fail(scope, history, asHistoryError(err, 'malformed', 'unreadable').message);
    }
    await scope.tx.put('meta', META.history, {
      ...history,
      gap: { state: 'filled', messages, at: ctx.now() },
    } satisfies Imported);
    this.#emit(scope, 'historyGapFilled', { messages });
  }

  /** `late`: the request a late answer may still fill. */
  async #fail(
    scope: Scope,
    history: Imported,
    why: string,
    late?: { requestId: string; deviceId: number },
  ): Promise<void> {
    const reason = failureText(`the messages from while this device was being linked: ${why}`);
    await scope.tx.put('meta', META.history, {
      ...history,
      gap: { state: 'failed', reason, at: this.ctx.now(), ...late },
    } satisfies Imported);
    this.#emit(scope, 'historyGapFailed', { reason, retry: false });
  }

  // --- Archive device ---------------------------------------------------------------------

  /** A `HistoryGapRequest` from one of our devices: remembered, answered after the commit. */
  async onRequest(scope: Scope, env: Envelope, request: HistoryGapRequest): Promise<void> {
    const self = this.ctx.requireAccount();
    if (request.archiveDeviceId !== self.deviceId || env.sourceDeviceId === self.deviceId) return;
    if (!/^[0-9a-f]{32}$/.test(request.requestId)) return;
    const created = Number(request.archiveCreatedAt);
    if (!Number.isSafeInteger(created)) return;
    const pending = (await scope.tx.get<PendingAnswer[]>('meta', META.historyGapAnswers)) ?? [];
    if (pending.some((p) => p.requestId === request.requestId)) return;
    pending.push({
      requestId: request.requestId,
      deviceId: env.sourceDeviceId,
      since: Math.max(0, created - GAP_MARGIN_MS),
      attempts: 0,
    });
    await scope.tx.put('meta', META.historyGapAnswers, pending.slice(-MAX_PENDING_ANSWERS));
    scope.after(() => this.answerPending());
  }

  /** Answers every request still waiting (after a receive, and at `start()`). */
  answerPending(): Promise<void> {
    this.#answering ??= this.#answerPending().finally(() => (this.#answering = undefined));
    return this.#answering;
  }

  async #answerPending(): Promise<void> {
    const { ctx } = this;
    const pending = (await ctx.storage.get<PendingAnswer[]>('meta', META.historyGapAnswers)) ?? [];
    for (const p of pending) {
      let gap: Omit<HistoryGap, '$typeName' | '$unknown' | 'gaveUp'> | undefined;
      let messages = 0;
      try {
        const delta = await ctx.storage.transaction((tx) =>
          gapSince(tx, ctx.accountId, p.since, ctx.now()),
        );
        messages = delta.messages.length;
        gap = await this.#pack(p.requestId, delta);
      } catch (err) {
        const e = asHistoryError(err, 'storage_failed', 'answering failed');
        ctx.events.emit('historyGapFailed', { reason: failureText(e.message), retry: true });
      }
      await ctx.transaction(async (scope) => {
        const now = (await scope.tx.get<PendingAnswer[]>('meta', META.historyGapAnswers)) ?? [];
        const mine = now.find((x) => x.requestId === p.requestId);
        if (!mine) return;
        if (gap) {
          await this.selfSync.send(scope, { body: { case: 'historyGap', value: gap } });
          scope.emit('historyGapAnswered', { deviceId: p.deviceId, messages });
        } else if (mine.attempts + 1 < MAX_ANSWER_ATTEMPTS) {
          mine.attempts++;
          return scope.tx.put('meta', META.historyGapAnswers, now);
        } else {
          // Given up: the new device is told, rather than left waiting for its timeout.
          const value = { requestId: p.requestId, archive: new Uint8Array(0), gaveUp: true };
          await this.selfSync.send(scope, { body: { case: 'historyGap', value } });
        }
        const rest = now.filter((x) => x.requestId !== p.requestId);
        await scope.tx.put('meta', META.historyGapAnswers, rest);
      });
    }
  }

  /** The answer's body: the archive inline when small, else sealed, uploaded and pointed to. */
  async #pack(requestId: string, delta: HistoryArchive) {
    const bytes = await encodeArchive(delta);
    if (bytes.length <= MAX_INLINE_GAP_BYTES) return { requestId, archive: bytes };
    const sealed = await sealArchive(bytes, this.ctx.rng);
    let attachmentId: string;
    try {
      attachmentId = await this.transport().upload(sealed.blob);
    } catch (err) {
      throw asHistoryError(err, 'transfer_failed', 'the upload failed');
    }
    const pointer = create(HistoryArchivePointerSchema, {
      version: SEAL_VERSION,
      attachmentId,
      key: sealed.key,
      digest: sealed.digest,
      size: BigInt(sealed.blob.length),
    });
    return { requestId, archive: new Uint8Array(0), pointer };
  }
}

/**
 * The archive of what was stored since `since` (this device's clock): the newest
 * `MAX_GAP_MESSAGES` messages, their conversations, and groups we left (others come with the
 * group lists; importing marks missing groups left).
 */
export async function gapSince(
  tx: Parameters<typeof snapshotHistory>[0],
  accountId: string,
  since: number,
  now: number,
): Promise<HistoryArchive> {
  const all = await snapshotHistory(tx, accountId, now);
  let messages = all.messages.filter((m: MessageRecord) => m.storedAt >= since);
  if (messages.length > MAX_GAP_MESSAGES) {
    const newest = new Set(
      [...messages].sort((a, b) => b.storedAt - a.storedAt).slice(0, MAX_GAP_MESSAGES),
    );
    messages = messages.filter((m) => newest.has(m)); // keeps the archive's order
  }
  const touched = new Set(messages.map((m) => m.conversationId));
  return {
    ...all,
    conversations: all.conversations.filter((c) => touched.has(c.id)),
    messages,
    groups: all.groups.filter((g) => g.left),
  };
}
