/**
 * The delivery WebSocket: one per device. Envelopes are handed to the application one at a
 * time, in order; the `ack` goes out only after the handler resolved (i.e. after the message
 * was stored durably), so a crash before that means the relay delivers it again. The
 * `queue_empty` marker is passed through in the same order, so "drained" really means every
 * earlier envelope was handled.
 *
 * Reconnects with exponential backoff and full jitter, except after close codes that say a
 * reconnect would be wrong (replaced by another connection, device removed).
 * @module
 */
import {
  CloseCode,
  WS_PATHS,
  WS_SUBPROTOCOL,
  authSubprotocol,
  encodeFrame,
  parseProvisioningServerFrame,
  parseServerFrame,
  type DeviceLogin,
  type DeliveredEnvelope,
  type ProvisioningServerFrame,
  MAX_ACK_IDS_PER_FRAME,
} from '@parley/protocol';
import { ClientError } from '../errors.ts';

/**
 * An event handler property. Written as a method's type so its parameter is compared
 * bivariantly: the DOM's WebSocket and the `ws` package (whose events carry more fields than the
 * ones read here) both fit without a cast.
 */
type Handler<E> = { handle(ev: E): void }['handle'];

/** The part of the WebSocket API we use: the browser's, or the `ws` package's on Node 20. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: Handler<unknown> | null;
  onmessage: Handler<{ data: unknown }> | null;
  onclose: Handler<{ code: number; reason: string }> | null;
  onerror: Handler<unknown> | null;
}

export type WebSocketConstructor = new (url: string, protocols: string[]) => WebSocketLike;

const OPEN = 1;

/**
 * Half the relay's default in-flight window (100 unacked envelopes): while one batch is being
 * handled, the relay already refills the slots the previous batch's ack freed, so a catch-up
 * never waits for a page read between batches. A bigger batch would fill the window and make
 * client and relay take turns.
 */
export const DEFAULT_MAX_BATCH = MAX_ACK_IDS_PER_FRAME / 2;

export function wsUrl(baseUrl: string, path: string): string {
  const url = new URL(baseUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.pathname = url.pathname.replace(/\/$/, '') + path;
  return url.toString();
}

function defaultWebSocket(): WebSocketConstructor {
  const ctor = (globalThis as { WebSocket?: unknown }).WebSocket;
  if (typeof ctor !== 'function') {
    throw new ClientError(
      'unsupported_platform',
      'no global WebSocket: pass one (e.g. the `ws` package) as options.WebSocket',
    );
  }
  return ctor as WebSocketConstructor;
}

export type SocketState = 'connecting' | 'open' | 'closed' | 'stopped';

export interface DeliverySocketOptions {
  baseUrl: string;
  login: DeviceLogin;
  WebSocket?: WebSocketConstructor;
  /** Handles one envelope; the ack is sent when it resolves. A rejection drops the connection. */
  onEnvelope(envelope: DeliveredEnvelope): Promise<void>;
  /**
   * Handles envelopes in batches (when given, instead of `onEnvelope`): everything that arrived
   * while the previous batch was being handled, in order, at most `maxBatch` at a time. Resolves
   * with the ids that are durable, acked then in one frame; an envelope it leaves out is not
   * acked, and the connection is dropped after the batch so the relay delivers it again.
   * A rejection drops the connection (nothing of the batch acked).
   */
  onEnvelopes?(envelopes: DeliveredEnvelope[]): Promise<readonly string[]>;
  /** Most envelopes in one `onEnvelopes` batch (default `DEFAULT_MAX_BATCH`). */
  maxBatch?: number;
  /** The stored backlog has been handled. */
  onQueueEmpty?(): void;
  onStateChange?(state: SocketState, detail?: { code?: number; reason?: string }): void;
  /** The relay said this device is gone or replaced; no reconnect follows. */
  onTerminated?(code: number, reason: string): void;
  backoff?: { initialMs?: number; maxMs?: number };
  keepaliveMs?: number;
  random?: () => number;
}

export class DeliverySocket {
  readonly #o: DeliverySocketOptions;
  readonly #WebSocket: WebSocketConstructor;
  #ws: WebSocketLike | undefined;
  #state: SocketState = 'closed';
  #attempt = 0;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #keepalive: ReturnType<typeof setInterval> | undefined;
  #chain: Promise<void> = Promise.resolve();
  /** Envelopes waiting for the next batch (`onEnvelopes`), and whether a batch run is queued. */
  #pending: DeliveredEnvelope[] = [];
  #pendingFor: WebSocketLike | undefined;
  #batchQueued = false;
  #stopped = true;
  #openWaiters: Array<() => void> = [];
  /** A ping went out and nothing came back since. */
  #awaitingPong = false;

  constructor(options: DeliverySocketOptions) {
    this.#o = options;
    this.#WebSocket = options.WebSocket ?? defaultWebSocket();
  }

  get state(): SocketState {
    return this.#state;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#connect();
  }

  /** Resolves when the socket is open (for tests and "connecting…" UIs). */
  opened(): Promise<void> {
    if (this.#state === 'open') return Promise.resolve();
    return new Promise((resolve) => this.#openWaiters.push(resolve));
  }

  #setState(state: SocketState, detail?: { code?: number; reason?: string }): void {
    this.#state = state;
    this.#o.onStateChange?.(state, detail);
    if (state === 'open') for (const w of this.#openWaiters.splice(0)) w();
  }

  #connect(): void {
    if (this.#stopped) return;
    this.#setState('connecting');
    const ws = new this.#WebSocket(wsUrl(this.#o.baseUrl, WS_PATHS.messages), [
      WS_SUBPROTOCOL,
      authSubprotocol(this.#o.login),
    ]);
    this.#ws = ws;
    ws.onopen = () => {
      if (this.#ws !== ws) return;
      this.#attempt = 0;
      this.#setState('open');
      const every = this.#o.keepaliveMs ?? 25_000;
      this.#awaitingPong = false;
      this.#keepalive = setInterval(() => {
        // Nothing since the last ping: the connection is gone, whatever the socket says.
        if (this.#awaitingPong) return this.#lost(ws, 4001, 'keepalive missed');
        if (ws.readyState === OPEN) {
          this.#awaitingPong = true;
          ws.send(encodeFrame({ type: 'ping' }));
        }
      }, every);
    };
    ws.onmessage = (ev) => {
      if (this.#ws !== ws) return;
      this.#awaitingPong = false;
      const parsed = parseServerFrame(typeof ev.data === 'string' ? ev.data : String(ev.data));
      if (!parsed.ok) {
        console.warn(`parley: ignoring invalid frame from relay: ${parsed.error}`);
        return;
      }
      const frame = parsed.frame;
      if (frame.type === 'envelope' && this.#o.onEnvelopes) {
        if (this.#pendingFor !== ws) {
          // A new connection: what an old one left pending is redelivered on this one.
          this.#pendingFor = ws;
          this.#pending = [];
          this.#batchQueued = false;
        }
        this.#pending.push(frame.envelope);
        if (!this.#batchQueued) {
          this.#batchQueued = true;
          this.#chain = this.#chain.then(() => this.#runBatches(ws));
        }
      } else if (frame.type === 'envelope') {
        const envelope = frame.envelope;
        this.#chain = this.#chain.then(async () => {
          if (this.#ws !== ws) return; // connection gone: the relay will redeliver
          try {
            await this.#o.onEnvelope(envelope);
          } catch (err) {
            console.warn('parley: envelope handler failed; reconnecting', err);
            this.#lost(ws, 4000, 'handler failed');
            return;
          }
          if (ws.readyState === OPEN) ws.send(encodeFrame({ type: 'ack', id: envelope.id }));
        });
      } else if (frame.type === 'queue_empty') {
        this.#chain = this.#chain.then(() => {
          if (this.#ws === ws) this.#o.onQueueEmpty?.();
        });
      } else if (frame.type === 'error') {
        console.warn(`parley: relay error frame ${frame.error}: ${frame.message}`);
      }
    };
    ws.onerror = () => {
      /* a close event follows */
    };
    ws.onclose = (ev) => {
      if (this.#ws !== ws) return;
      if (ev.code === CloseCode.Replaced || ev.code === CloseCode.DeviceRemoved) {
        this.#ws = undefined;
        clearInterval(this.#keepalive);
        if (this.#stopped) return;
        this.#stopped = true;
        this.#setState('stopped', { code: ev.code, reason: ev.reason });
        this.#o.onTerminated?.(ev.code, ev.reason);
        return;
      }
      this.#lost(ws, ev.code, ev.reason);
    };
  }

  /**
   * Handles what is pending in batches until nothing is: each batch is handled, then its durable
   * ids are acked. Frames queued behind this run (`queue_empty`) wait for all of it.
   */
  async #runBatches(ws: WebSocketLike): Promise<void> {
    const handler = this.#o.onEnvelopes!;
    const max = this.#o.maxBatch ?? DEFAULT_MAX_BATCH;
    /** Stops this run; the relay redelivers whatever was not acked. */
    const abandon = (why?: string) => {
      if (this.#pendingFor === ws) {
        this.#pending = [];
        this.#batchQueued = false;
      }
      // Dropped at once (not when the close completes), so nothing queued behind this run —
      // `queue_empty` — is taken for this connection's.
      if (why) this.#lost(ws, 4000, why);
    };
    for (;;) {
      // One macrotask first: frames already received (a browser dispatches each as its own
      // task) join this batch instead of the next, and the page gets to render and handle
      // input between batches.
      await new Promise((r) => setTimeout(r, 0));
      if (this.#ws !== ws || this.#pendingFor !== ws) return abandon();
      const batch = this.#pending.splice(0, max);
      if (batch.length === 0) {
        this.#batchQueued = false;
        return;
      }
      let durable: readonly string[];
      try {
        durable = await handler(batch);
      } catch (err) {
        console.warn('parley: envelope batch handler failed; reconnecting', err);
        return abandon('handler failed');
      }
      for (let i = 0; i < durable.length && ws.readyState === OPEN; i += MAX_ACK_IDS_PER_FRAME) {
        ws.send(encodeFrame({ type: 'ack', ids: durable.slice(i, i + MAX_ACK_IDS_PER_FRAME) }));
      }
      // An envelope left out is redelivered on a new connection.
      if (durable.length < batch.length) return abandon('handler failed');
    }
  }

  /** `ws` is gone (closed, or found dead): state `closed` at once, reconnect with backoff. */
  #lost(ws: WebSocketLike, code: number, reason: string, delayMs?: number): void {
    if (this.#ws !== ws) return;
    this.#ws = undefined;
    clearInterval(this.#keepalive);
    if (ws.readyState === OPEN || ws.readyState === 0) ws.close(4001, reason);
    if (this.#stopped) return;
    this.#setState('closed', { code, reason });
    const initial = this.#o.backoff?.initialMs ?? 250;
    const max = this.#o.backoff?.maxMs ?? 30_000;
    const ceiling = Math.min(max, initial * 2 ** this.#attempt++);
    const delay = delayMs ?? Math.max(initial / 2, (this.#o.random ?? Math.random)() * ceiling);
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = setTimeout(() => this.#connect(), delay);
  }

  /**
   * Something else found the relay unreachable (an HTTP request failed): the connection is
   * marked closed now, and a fresh one is tried with backoff.
   */
  markOffline(): void {
    if (this.#stopped) return;
    if (this.#ws) this.#lost(this.#ws, 4001, 'relay unreachable');
  }

  /** The network is back (the browser's `online` event): reconnect now, backoff reset. */
  reconnectNow(): void {
    if (this.#stopped) return;
    this.#attempt = 0;
    if (this.#state === 'open' && this.#ws) {
      // Possibly a dead socket from before the outage: check it right away.
      this.#awaitingPong = true;
      this.#ws.send(encodeFrame({ type: 'ping' }));
      return;
    }
    if (this.#ws) return; // connecting already
    clearTimeout(this.#reconnectTimer);
    this.#connect();
  }

  /** Closes the socket and stops reconnecting; resolves after in-flight envelopes settled. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#reconnectTimer);
    clearInterval(this.#keepalive);
    const ws = this.#ws;
    this.#ws = undefined;
    ws?.close(1000, 'client stopping');
    await this.#chain;
    this.#setState('stopped');
  }
}

/** The new device's side of linking: a one-time address, then one provisioning message. */
export interface ProvisioningChannel {
  address: string;
  expiresAt: number;
  /** The provisioning message body (base64), once an existing device sent it. */
  message: Promise<string>;
  close(): void;
}

export function openProvisioningChannel(
  baseUrl: string,
  WebSocketCtor: WebSocketConstructor = defaultWebSocket(),
): Promise<ProvisioningChannel> {
  return new Promise((resolveChannel, rejectChannel) => {
    const ws = new WebSocketCtor(wsUrl(baseUrl, WS_PATHS.provisioning), [WS_SUBPROTOCOL]);
    let resolveMessage!: (body: string) => void;
    let rejectMessage!: (err: Error) => void;
    const message = new Promise<string>((res, rej) => {
      resolveMessage = res;
      rejectMessage = rej;
    });
    message.catch(() => undefined);
    let gotAddress = false;
    ws.onmessage = (ev) => {
      const parsed = parseProvisioningServerFrame(String(ev.data));
      if (!parsed.ok) return;
      const frame: ProvisioningServerFrame = parsed.frame;
      if (frame.type === 'provisioning_address') {
        gotAddress = true;
        resolveChannel({
          address: frame.address,
          expiresAt: frame.expiresAt,
          message,
          close: () => ws.close(1000),
        });
      } else if (frame.type === 'provisioning_message') {
        resolveMessage(frame.body);
      } else if (frame.type === 'error') {
        rejectMessage(
          new ClientError('provisioning_failed', `provisioning: ${frame.error}: ${frame.message}`),
        );
      }
    };
    ws.onerror = () => undefined;
    ws.onclose = (ev) => {
      const err = new ClientError(
        'provisioning_failed',
        `provisioning socket closed (${ev.code} ${ev.reason})`,
      );
      if (!gotAddress) rejectChannel(err);
      rejectMessage(err);
    };
  });
}
