/**
 * Removes attachments: blob first, then its record, so a crash in between leaves a record the
 * next sweep finds again (never an orphaned blob nobody knows about).
 *
 * - `sweep()` (with the relay's periodic retention sweep): complete attachments older than the
 *   message retention, unfinished uploads older than `incompleteTtlMs`, and those of deleted
 *   accounts.
 * - `removeAccount()` right when an account is deleted.
 * @module
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../clock.ts';
import type { RelayConfig } from '../config.ts';
import type { AttachmentStore } from '../store/attachments.ts';
import type { BlobStore } from './blob-store.ts';

/** Ids handled per round of a sweep (a round is one query plus one removal per id). */
const SWEEP_BATCH = 100;

export class AttachmentJanitor {
  constructor(
    private readonly records: AttachmentStore,
    readonly blobs: BlobStore,
    private readonly config: RelayConfig,
    private readonly clock: Clock,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** Removes every attachment that is due; returns how many. */
  async sweep(): Promise<number> {
    let removed = 0;
    const failed = new Set<string>();
    for (;;) {
      const due = await this.records.due({
        now: this.clock.now(),
        retentionMs: this.config.retentionMs,
        incompleteTtlMs: this.config.attachments.incompleteTtlMs,
        limit: SWEEP_BATCH + failed.size,
      });
      const batch = due.filter((id) => !failed.has(id));
      if (batch.length === 0) return removed;
      for (const id of batch) {
        if (await this.#remove(id)) removed++;
        else failed.add(id); // retried by the next sweep, not in a loop now
      }
    }
  }

  /** Removes one attachment (its uploader cancelled it); false if that failed. */
  remove(id: string): Promise<boolean> {
    return this.#remove(id);
  }

  /** Removes all the account's attachments (account deletion); failures wait for the sweep. */
  async removeAccount(accountId: string): Promise<number> {
    let removed = 0;
    for (const id of await this.records.ofAccount(accountId)) {
      if (await this.#remove(id)) removed++;
    }
    return removed;
  }

  async #remove(id: string): Promise<boolean> {
    try {
      await this.blobs.remove(id);
      await this.records.remove([id]);
      return true;
    } catch (err) {
      // Never the id: it is the download capability.
      this.log.error({ err }, 'attachment removal failed');
      return false;
    }
  }
}
