/** The delivery socket's view of the connection is the truth: dead sockets are marked at once. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DeliverySocket, type WebSocketLike } from '@parley/client';

class FakeSocket implements WebSocketLike {
  static last: FakeSocket | undefined;
  readyState = 0;
  sent: string[] = [];
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  constructor() {
    FakeSocket.last = this;
  }
  send(data: string) {
    this.sent.push(data);
  }
  close() {
    this.readyState = 3;
  }
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
}

function socket() {
  const states: string[] = [];
  const s = new DeliverySocket({
    baseUrl: 'http://relay.test',
    login: { accountId: '00000000-0000-4000-8000-000000000000', deviceId: 1, credential: 'x' },
    WebSocket: FakeSocket,
    onEnvelope: async () => undefined,
    onStateChange: (state) => states.push(state),
    keepaliveMs: 1000,
    backoff: { initialMs: 60_000, maxMs: 60_000 },
  });
  return { s, states };
}

afterEach(() => vi.useRealTimers());

describe('DeliverySocket', () => {
  it('marks the connection closed when a keepalive goes unanswered', async () => {
    vi.useFakeTimers();
    const { s, states } = socket();
    s.start();
    FakeSocket.last!.open();
    expect(s.state).toBe('open');
    vi.advanceTimersByTime(1000); // ping
    expect(FakeSocket.last!.sent.some((f) => f.includes('"ping"'))).toBe(true);
    vi.advanceTimersByTime(1000); // no pong: gone
    expect(s.state).toBe('closed');
    expect(states.at(-1)).toBe('closed');
    await s.stop();
  });

  it('stays open while frames arrive, and markOffline closes it at once', async () => {
    vi.useFakeTimers();
    const { s } = socket();
    s.start();
    const ws = FakeSocket.last!;
    ws.open();
    vi.advanceTimersByTime(1000);
    ws.onmessage?.({ data: JSON.stringify({ type: 'pong' }) });
    vi.advanceTimersByTime(1000);
    expect(s.state).toBe('open');
    s.markOffline();
    expect(s.state).toBe('closed');
    // The network is back: a new connection starts now, not after the backoff.
    s.reconnectNow();
    expect(FakeSocket.last).not.toBe(ws);
    expect(s.state).toBe('connecting');
    await s.stop();
  });
});
