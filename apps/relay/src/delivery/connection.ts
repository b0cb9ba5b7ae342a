/**
 * One authenticated device socket: pushes the device's queue in order, at most `maxInflight`
 * unacked envelopes at a time, deletes an envelope only when the device acks it, and says
 * `queue_empty` once the stored backlog has been pushed.
 *
 * The store is the source of truth: the socket keeps a cursor (`seq` of the last envelope sent)
 * and refills from the store whenever a slot frees up or a new envelope arrives. Nothing is lost
 * if the socket dies: unacked envelopes stay queued and the next connection starts from seq 0.
 * @module
 */
import { CloseCode, encodeFrame, parseClientFrame, type ServerFrame } from '@parley/protocol';
import type { FastifyBaseLogger } from 'fastify';
import type { WebSocket } from 'ws';
import type { Clock } from '../clock.ts';
import type { RelayStore } from '../store/types.ts';

export interface ConnectionOptions {
  store: RelayStore;
  clock: Clock;
  log: FastifyBaseLogger;
  maxInflight: number;
  retentionMs: number;
}

export class DeviceConnection {
  readonly accountId: string;
  readonly deviceId: number;
  readonly #socket: WebSocket;
  readonly #options: ConnectionOptions;
  /** Envelope ids pushed and not yet acked. */
  readonly #inflight = new Set<string>();
  #cursor = 0;
  #backlogSent = false;
  #pumping = false;
  #pumpAgain = false;
  /**
   * Acks are applied in batches, one after another: ids that arrive while a batch is being
   * deleted wait and go together in the next one (one statement each), so a busy device costs
   * one delete per batch rather than per envelope. Nothing is deleted before its ack.
   */
  #acks: Promise<void> = Promise.resolve();
  #pendingAcks: string[] = [];
  #ackBatchQueued = false;

  constructor(socket: WebSocket, accountId: string, deviceId: number, options: ConnectionOptions) {
    this.#socket = socket;
    this.accountId = accountId;
    this.deviceId = deviceId;
    this.#options = options;
    // Attached synchronously: frames that arrive before an await would otherwise be dropped.
    socket.on('message', (data, isBinary) => this.#onMessage(data, isBinary));
  }

  get isOpen(): boolean {
    return this.#socket.readyState === this.#socket.OPEN;
  }

  close(code: number, reason: string): void {
    if (
      this.#socket.readyState === this.#socket.OPEN ||
      this.#socket.readyState === this.#socket.CONNECTING
    ) {
      this.#socket.close(code, reason);
    }
  }

  /** Sends whatever fits in the in-flight window; safe to call at any time, from anywhere. */
  pump(): void {
    if (this.#pumping) {
      // A fill is running; it may have read the store before the new envelope committed.
      this.#pumpAgain = true;
      return;
    }
    this.#pumping = true;
    this.#pumpAgain = false;
    this.#fill()
      .catch((err: unknown) => {
        this.#options.log.error({ err }, 'delivery failed; closing socket');
        this.close(CloseCode.InternalError, 'internal error');
      })
      .finally(() => {
        this.#pumping = false;
        if (this.#pumpAgain && this.isOpen) this.pump();
      });
  }

  /** Resolves when every ack received so far has been applied (used at shutdown). */
  settled(): Promise<void> {
    return this.#acks;
  }

  /** An envelope of this device was deleted elsewhere (HTTP ack): free its slot. */
  forget(envelopeId: string): void {
    if (this.#inflight.delete(envelopeId)) this.pump();
  }

  async #fill(): Promise<void> {
    const { store, clock, maxInflight, retentionMs } = this.#options;
    while (this.isOpen && this.#inflight.size < maxInflight) {
      const limit = maxInflight - this.#inflight.size;
      const page = await store.fetchEnvelopes(this.accountId, this.deviceId, {
        afterSeq: this.#cursor,
        limit,
        notBefore: clock.now() - retentionMs,
      });
      if (!this.isOpen) return;
      for (const { seq, ...envelope } of page) {
        this.#cursor = seq;
        this.#inflight.add(envelope.id);
        this.#send({ type: 'envelope', envelope });
      }
      if (page.length < limit) {
        if (!this.#backlogSent) {
          this.#backlogSent = true;
          this.#send({ type: 'queue_empty' });
        }
        return;
      }
    }
  }

  #ack(ids: readonly string[]): void {
    this.#pendingAcks.push(...ids);
    if (this.#ackBatchQueued) return;
    this.#ackBatchQueued = true;
    this.#acks = this.#acks
      .then(async () => {
        this.#ackBatchQueued = false;
        const batch = this.#pendingAcks.splice(0);
        // Scoped to this device's queue: an id from anyone else's queue matches nothing.
        await this.#options.store.deleteEnvelopes(this.accountId, this.deviceId, batch);
        let freed = false;
        for (const id of batch) if (this.#inflight.delete(id)) freed = true;
        if (freed) this.pump();
      })
      .catch((err: unknown) => {
        this.#options.log.error({ err }, 'ack failed');
        this.close(CloseCode.InternalError, 'internal error');
      });
  }

  #send(frame: ServerFrame): void {
    this.#socket.send(encodeFrame(frame));
  }

  #onMessage(data: unknown, isBinary: boolean): void {
    // Closing (e.g. over its frame budget): act on nothing more from this socket.
    if (!this.isOpen) return;
    const text = !isBinary && Buffer.isBuffer(data) ? data.toString('utf8') : undefined;
    const parsed =
      text === undefined
        ? { ok: false as const, error: 'frames must be text' }
        : parseClientFrame(text);
    if (!parsed.ok) {
      this.#send({ type: 'error', error: 'invalid_frame', message: parsed.error });
      this.close(CloseCode.InvalidFrame, 'invalid frame');
      return;
    }
    const frame = parsed.frame;
    switch (frame.type) {
      case 'ping':
        this.#send(frame.id === undefined ? { type: 'pong' } : { type: 'pong', id: frame.id });
        return;
      case 'ack':
        this.#ack([...(frame.id === undefined ? [] : [frame.id]), ...(frame.ids ?? [])]);
        return;
    }
  }
}
