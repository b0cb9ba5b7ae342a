/**
 * The connection to the relay: one delivery socket per device, what it feeds (envelopes to the
 * receiver, "drained" to the outbox) and the maintenance that runs while connected. The state
 * the user sees is the truth: a failed HTTP request or a missed keepalive marks it offline at
 * once; `networkOnline()` (the browser's `online` event) reconnects and resends right away.
 * @module
 */
import { isSealedEnvelope } from '@parley/protocol';
import type { Account } from './account/account.ts';
import type { ClientContext } from './context.ts';
import type { Outbox } from './delivery/outbox.ts';
import type { BatchReceiver } from './receive/batch.ts';
import type { HeldReceipts } from './receive/held-receipts.ts';
import type { Receiver } from './receive/index.ts';
import { DeliverySocket, type SocketState } from './relay/index.ts';
import type { DeliveredEnvelope } from '@parley/protocol';

export class Connection {
  #socket: DeliverySocket | undefined;
  #drained = false;
  /** From each connection's opening until its backlog was handled (`queue_empty`). */
  #catchingUp = false;
  /** Held receipts being queued and sent after a drain; `stop()` lets them go first. */
  #releasing: Promise<void> | undefined;
  #maintaining = false;
  #maintenanceTimer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly ctx: ClientContext,
    private readonly account: Account,
    private readonly outbox: Outbox,
    private readonly receiver: Receiver,
    private readonly batches?: BatchReceiver,
    private readonly heldReceipts?: HeldReceipts,
  ) {}

  /** Connects the delivery socket; resolves once the stored backlog has been handled. */
  async start(): Promise<void> {
    const { ctx } = this;
    const account = ctx.requireAccount();
    if (this.#socket) return;
    const drained = ctx.events.waitFor('queueEmpty');
    this.outbox.start();
    this.#socket = new DeliverySocket({
      baseUrl: account.relayUrl,
      login: {
        accountId: account.accountId,
        deviceId: account.deviceId,
        credential: account.credential,
      },
      ...(ctx.options.WebSocket ? { WebSocket: ctx.options.WebSocket } : {}),
      ...(ctx.options.backoff ? { backoff: ctx.options.backoff } : {}),
      // Sealed envelopes are opened first (the sender is known only then).
      onEnvelope: (env) =>
        isSealedEnvelope(env) ? this.receiver.handleSealed(env) : this.receiver.handle(env),
      ...(this.batches
        ? { onEnvelopes: (envs: DeliveredEnvelope[]) => this.batches!.handle(envs) }
        : {}),
      onQueueEmpty: () => {
        this.#drained = true;
        this.#catchingUp = false;
        // The delivery receipts held while catching up go now (kicking the outbox).
        if (this.heldReceipts) {
          const held = this.heldReceipts;
          this.#releasing = held.release().then(() => this.outbox.flush());
          ctx.background(this.#releasing, 'releasing receipts');
        }
        ctx.events.emit('queueEmpty', undefined);
        // Connected again: whatever waits in the outbox goes now.
        this.outbox.kick();
        // Each (re)connection is a good moment to top up prekeys and rotate if due.
        this.maintain();
      },
      onStateChange: (state) => {
        if (state === 'open') this.#catchingUp = true;
        ctx.events.emit('connection', state);
      },
      onTerminated: (code, reason) => ctx.events.emit('terminated', { code, reason }),
    });
    this.#socket.start();
    // Long-lived connections also check on a schedule (rotation is due by the injected clock).
    this.#maintenanceTimer = setInterval(
      () => this.maintain(),
      ctx.options.maintenanceIntervalMs ?? 6 * 3600_000,
    );
    (this.#maintenanceTimer as { unref?: () => void }).unref?.();
    await drained;
  }

  /** Key top-up and rotation, dedupe pruning, our username: in the background, one at a time. */
  maintain(): void {
    if (this.#maintaining || !this.ctx.account) return;
    this.#maintaining = true;
    const { account } = this;
    this.ctx.background(
      Promise.all([
        account.preKeys.maintain(),
        account.pruneProcessedIfDue(),
        account.refreshOwnUsername(),
      ]).finally(() => (this.#maintaining = false)),
      'maintenance',
    );
  }

  async stop(): Promise<void> {
    clearInterval(this.#maintenanceTimer);
    const socket = this.#socket;
    this.#socket = undefined;
    await socket?.stop();
    // A catch-up that just drained still owes its delivery receipts: they go before we stop.
    await this.#releasing?.catch(() => undefined);
    this.#releasing = undefined;
    await this.outbox.stop();
    await this.ctx.drainTasks();
  }

  /** The relay could not be reached over HTTP: the connection is not what it seemed. */
  markOffline(): void {
    this.#socket?.markOffline();
  }

  /** The network is back: reconnect now and send what waits. */
  networkOnline(): void {
    this.#socket?.reconnectNow();
    this.outbox.kick();
  }

  get state(): SocketState {
    return this.#socket?.state ?? 'stopped';
  }

  get connected(): boolean {
    return this.#socket?.state === 'open';
  }

  get drained(): boolean {
    return this.#drained;
  }

  /** Whether this connection's stored backlog is still being handled. */
  get catchingUp(): boolean {
    return this.#catchingUp;
  }
}
