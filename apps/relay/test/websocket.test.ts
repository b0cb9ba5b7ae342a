import { randomBytes } from 'node:crypto';
import { CloseCode, WS_SUBPROTOCOL, type Envelope } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  connect,
  link,
  register,
  send,
  startRelay,
  type TestDevice,
  type TestRelay,
} from './helpers.ts';

let relay: TestRelay;
let base: { http: string; ws: string };
beforeAll(async () => {
  relay = await startRelay({ overrides: { maxInflightPerSocket: 3, keepaliveIntervalMs: 100 } });
  const address = await relay.app.listen({ host: '127.0.0.1', port: 0 });
  base = { http: address, ws: address.replace(/^http/, 'ws') };
});
afterAll(async () => relay.destroy());

const queued = async (device: TestDevice) =>
  (await relay.app.inject({ method: 'GET', url: '/v1/messages', headers: device.headers })).json<{
    envelopes: Envelope[];
  }>().envelopes;
const isEnvelope = (f: { type: string }) => f.type === 'envelope';
const content = (n: number) => Buffer.from(`ciphertext #${n}`).toString('base64');

describe('delivery over /v1/websocket', () => {
  it('drains the offline queue in order, says queue_empty, and deletes only acked envelopes', async () => {
    const alice = await register(relay.app);
    const bob = await register(relay.app);
    for (let i = 1; i <= 2; i++) await send(relay.app, alice, [bob], content(i));

    const socket = await connect(base.ws, bob);
    await socket.waitFor((f) => f.type === 'queue_empty');
    expect(socket.frames.map((f) => f.type)).toEqual(['envelope', 'envelope', 'queue_empty']);
    const [first, second] = socket.envelopes() as [Envelope, Envelope];
    expect([first.content, second.content]).toEqual([content(1), content(2)]);
    expect(first.sourceAccountId).toBe(alice.accountId);

    // Delivered but not acked: still stored.
    expect(await queued(bob)).toHaveLength(2);
    socket.ack(first.id);
    await expect.poll(async () => (await queued(bob)).map((e) => e.id)).toEqual([second.id]);
    await socket.close();

    // The unacked one comes again on the next connection.
    const again = await connect(base.ws, bob);
    await again.waitFor((f) => f.type === 'queue_empty');
    expect(again.envelopes().map((e) => e.id)).toEqual([second.id]);
    again.ack(second.id);
    await expect.poll(async () => (await queued(bob)).length).toBe(0);
    await again.close();
  });

  it('pushes envelopes sent while connected at once', async () => {
    const alice = await register(relay.app);
    const bob = await register(relay.app);
    const socket = await connect(base.ws, bob);
    await socket.waitFor((f) => f.type === 'queue_empty');
    await send(relay.app, alice, [bob], content(42));
    const [frame] = await socket.waitFor(isEnvelope);
    expect(frame).toMatchObject({ type: 'envelope', envelope: { content: content(42) } });
    await socket.close();
  });

  it('keeps at most maxInflight unacked envelopes on a socket and refills on ack', async () => {
    const alice = await register(relay.app);
    const bob = await register(relay.app);
    for (let i = 1; i <= 5; i++) await send(relay.app, alice, [bob], content(i));
    const socket = await connect(base.ws, bob);
    await socket.waitFor(isEnvelope, 3);
    // A ping/pong round trip orders after any frame the relay would have sent by now.
    socket.ws.send(JSON.stringify({ type: 'ping', id: 1 }));
    await socket.waitFor((f) => f.type === 'pong');
    expect(socket.envelopes()).toHaveLength(3);
    expect(socket.frames.some((f) => f.type === 'queue_empty')).toBe(false);

    socket.ack((socket.envelopes()[0] as Envelope).id);
    await socket.waitFor(isEnvelope, 4);
    for (const envelope of socket.envelopes().slice(1)) socket.ack(envelope.id);
    await socket.waitFor((f) => f.type === 'queue_empty');
    expect(socket.envelopes().map((e) => e.content)).toEqual([1, 2, 3, 4, 5].map(content));
    socket.ack((socket.envelopes()[4] as Envelope).id);
    await expect.poll(async () => (await queued(bob)).length).toBe(0);
    await socket.close();
  });

  it('replaces an older connection for the same device with close code 4001', async () => {
    const bob = await register(relay.app);
    const first = await connect(base.ws, bob);
    const second = await connect(base.ws, bob);
    const closed = await first.closed;
    expect(closed.code).toBe(CloseCode.Replaced);
    // The newer socket still gets pushes.
    const alice = await register(relay.app);
    await send(relay.app, alice, [bob], content(7));
    await second.waitFor(isEnvelope);
    await second.close();
  });

  it('answers ping with pong carrying the same id', async () => {
    const bob = await register(relay.app);
    const socket = await connect(base.ws, bob);
    socket.ws.send(JSON.stringify({ type: 'ping', id: 99 }));
    const [pong] = await socket.waitFor((f) => f.type === 'pong');
    expect(pong).toEqual({ type: 'pong', id: 99 });
    await socket.close();
  });

  it.each([
    ['not JSON', 'ack ack'],
    ['an unknown type', JSON.stringify({ type: 'send', to: 'everyone' })],
    ['a malformed ack id', JSON.stringify({ type: 'ack', id: "1' OR '1'='1" })],
    ['extra fields', JSON.stringify({ type: 'ping', id: 1, admin: true })],
    ['a JSON array', '[]'],
  ])('closes with 4003 after an error frame on %s', async (_why, frame) => {
    const bob = await register(relay.app);
    const socket = await connect(base.ws, bob);
    await socket.waitFor((f) => f.type === 'queue_empty');
    socket.ws.send(frame);
    const closed = await socket.closed;
    expect(closed.code).toBe(CloseCode.InvalidFrame);
    const error = socket.frames.find((f) => f.type === 'error');
    expect(error).toMatchObject({ type: 'error', error: 'invalid_frame' });
    // The error never echoes the frame back.
    expect(JSON.stringify(error)).not.toContain("OR '1'='1");
  });

  it('rejects binary frames (4003) and oversized frames (1009)', async () => {
    const bob = await register(relay.app);
    const binary = await connect(base.ws, bob);
    binary.ws.send(Buffer.from([1, 2, 3]));
    expect((await binary.closed).code).toBe(CloseCode.InvalidFrame);
    const big = await connect(base.ws, bob);
    big.ws.send('x'.repeat(64 * 1024));
    expect((await big.closed).code).toBe(1009);
  });

  it('ignores acks for envelopes of other devices (nothing is deleted)', async () => {
    const alice = await register(relay.app);
    const bob = await register(relay.app);
    const mallory = await register(relay.app);
    await send(relay.app, alice, [bob], content(1));
    const [target] = await queued(bob);
    const socket = await connect(base.ws, mallory);
    socket.ack((target as Envelope).id);
    socket.ws.send(JSON.stringify({ type: 'ping' }));
    await socket.waitFor((f) => f.type === 'pong');
    expect((await queued(bob)).map((e) => e.id)).toEqual([(target as Envelope).id]);
    await socket.close();
  });

  it('closes the socket of a removed device with 4002', async () => {
    const primary = await register(relay.app);
    const linked = await link(relay.app, primary);
    const socket = await connect(base.ws, linked);
    const removed = await relay.app.inject({
      method: 'DELETE',
      url: `/v1/devices/${linked.deviceId}`,
      headers: primary.headers,
    });
    expect(removed.statusCode).toBe(204);
    expect((await socket.closed).code).toBe(CloseCode.DeviceRemoved);
    await expect(connect(base.ws, linked)).rejects.toThrow('401');
  });
});

describe('the upgrade', () => {
  it('authenticates with the parley.auth subprotocol (browsers) and never selects it', async () => {
    const bob = await register(relay.app);
    const socket = await connect(base.ws, bob, { auth: 'subprotocol' });
    expect(socket.ws.protocol).toBe(WS_SUBPROTOCOL);
    await socket.waitFor((f) => f.type === 'queue_empty');
    await socket.close();
  });

  it('refuses without the protocol version (400), without or with a wrong credential (401)', async () => {
    const bob = await register(relay.app);
    await expect(connect(base.ws, bob, { protocols: ['parley.v0'] })).rejects.toThrow('400');
    await expect(connect(base.ws, undefined)).rejects.toThrow('401');
    const wrong = { ...bob, credential: randomBytes(32).toString('base64url') };
    await expect(connect(base.ws, wrong)).rejects.toThrow('401');
    await expect(connect(base.ws, wrong, { auth: 'subprotocol' })).rejects.toThrow('401');
  });

  it('drops a client that stops answering pings', async () => {
    const bob = await register(relay.app);
    const ws = new WebSocket(`${base.ws}/v1/websocket`, [WS_SUBPROTOCOL], {
      headers: bob.headers,
      autoPong: false,
    });
    let pings = 0;
    ws.on('ping', () => pings++);
    const closed = await new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    expect(pings).toBeGreaterThanOrEqual(1);
    expect(closed).toBe(1006); // terminated: no close frame
  });
});
