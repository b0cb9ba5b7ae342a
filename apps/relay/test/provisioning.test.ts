import { randomBytes } from 'node:crypto';
import {
  CloseCode,
  parseProvisioningServerFrame,
  WS_SUBPROTOCOL,
  type ProvisioningServerFrame,
} from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { asDevice, deviceKeys, link, register, startRelay, type TestRelay } from './helpers.ts';

let relay: TestRelay;
let wsBase: string;
beforeAll(async () => {
  relay = await startRelay({ overrides: { maxDevicesPerAccount: 3 } });
  const address = await relay.app.listen({ host: '127.0.0.1', port: 0 });
  wsBase = address.replace(/^http/, 'ws');
});
afterAll(async () => relay.destroy());

/** Opens a provisioning socket; resolves with its address and a way to read later frames. */
async function openProvisioning(base = wsBase) {
  const ws = new WebSocket(`${base}/v1/provisioning`, [WS_SUBPROTOCOL]);
  const frames: ProvisioningServerFrame[] = [];
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  const first = new Promise<ProvisioningServerFrame>((resolve, reject) => {
    ws.on('message', (data) => {
      const parsed = parseProvisioningServerFrame(data.toString());
      if (!parsed.ok) return reject(new Error(parsed.error));
      frames.push(parsed.frame);
      if (frames.length === 1) resolve(parsed.frame);
    });
    ws.once('error', reject);
  });
  const frame = await first;
  if (frame.type !== 'provisioning_address') throw new Error(`unexpected ${frame.type}`);
  return { ws, address: frame.address, expiresAt: frame.expiresAt, frames, closed };
}

describe('device linking', () => {
  it('links a new device end to end: socket → provisioning message → linking code → register', async () => {
    const primary = await register(relay.app);
    const newDevice = await openProvisioning();
    expect(newDevice.address).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(newDevice.expiresAt).toBe(relay.clock.now() + relay.config.provisioningTtlMs);

    // The primary gets a code and sends it inside its (end-to-end encrypted) message.
    const codeResponse = await relay.app.inject({
      method: 'POST',
      url: '/v1/devices/linking-code',
      headers: primary.headers,
    });
    expect(codeResponse.statusCode).toBe(200);
    const { code } = codeResponse.json<{ code: string }>();
    const sealed = randomBytes(200).toString('base64'); // stands in for the encrypted message
    const sent = await relay.app.inject({
      method: 'PUT',
      url: `/v1/provisioning/${newDevice.address}`,
      headers: primary.headers,
      payload: { body: sealed },
    });
    expect(sent.statusCode).toBe(204);
    expect(await newDevice.closed).toBe(CloseCode.Normal);
    expect(newDevice.frames[1]).toEqual({ type: 'provisioning_message', body: sealed });

    // The address is single-use.
    const again = await relay.app.inject({
      method: 'PUT',
      url: `/v1/provisioning/${newDevice.address}`,
      headers: primary.headers,
      payload: { body: sealed },
    });
    expect(again.statusCode).toBe(404);

    const keys = deviceKeys();
    const linked = await relay.app.inject({
      method: 'POST',
      url: '/v1/devices/link',
      payload: { linkingCode: code, ...keys },
    });
    expect(linked.statusCode).toBe(201);
    const login = linked.json();
    expect(login).toMatchObject({ accountId: primary.accountId, deviceId: 2 });
    const device = asDevice(login, keys.registrationId);
    const me = await relay.app.inject({
      method: 'GET',
      url: '/v1/accounts/me',
      headers: device.headers,
    });
    expect(me.json()).toMatchObject({ accountId: primary.accountId, deviceId: 2 });

    // The code was consumed.
    const reuse = await relay.app.inject({
      method: 'POST',
      url: '/v1/devices/link',
      payload: { linkingCode: code, ...deviceKeys() },
    });
    expect(reuse.statusCode).toBe(403);
    expect(reuse.json().error).toBe('invalid_linking_code');
  });

  it('rejects expired and unknown linking codes', async () => {
    const primary = await register(relay.app);
    const { code } = (
      await relay.app.inject({
        method: 'POST',
        url: '/v1/devices/linking-code',
        headers: primary.headers,
      })
    ).json<{ code: string }>();
    relay.clock.advance(relay.config.linkingCodeTtlMs);
    const expired = await relay.app.inject({
      method: 'POST',
      url: '/v1/devices/link',
      payload: { linkingCode: code, ...deviceKeys() },
    });
    expect(expired.statusCode).toBe(403);
    const unknown = await relay.app.inject({
      method: 'POST',
      url: '/v1/devices/link',
      payload: { linkingCode: 'A'.repeat(22), ...deviceKeys() },
    });
    expect(unknown.statusCode).toBe(403);
  });

  it('caps devices per account (409) and never reuses a removed device id', async () => {
    const primary = await register(relay.app);
    const second = await link(relay.app, primary);
    const third = await link(relay.app, primary);
    expect([second.deviceId, third.deviceId]).toEqual([2, 3]);
    await expect(link(relay.app, primary)).rejects.toThrow('409');
    await relay.app.inject({ method: 'DELETE', url: '/v1/devices/3', headers: primary.headers });
    const fourth = await link(relay.app, primary);
    expect(fourth.deviceId).toBe(4);
  });

  it('only the primary issues linking codes', async () => {
    const primary = await register(relay.app);
    const linked = await link(relay.app, primary);
    const response = await relay.app.inject({
      method: 'POST',
      url: '/v1/devices/linking-code',
      headers: linked.headers,
    });
    expect(response.statusCode).toBe(403);
  });

  it('closes an unused provisioning socket when its address expires', async () => {
    const short = await startRelay({ overrides: { provisioningTtlMs: 50 } });
    try {
      const address = await short.app.listen({ host: '127.0.0.1', port: 0 });
      const socket = await openProvisioning(address.replace(/^http/, 'ws'));
      expect(await socket.closed).toBe(CloseCode.ProvisioningExpired);
    } finally {
      await short.destroy();
    }
  });

  it('answers pings and closes on invalid frames; requires the protocol version', async () => {
    const socket = await openProvisioning();
    socket.ws.send(JSON.stringify({ type: 'ping', id: 5 }));
    await expect.poll(() => socket.frames.length).toBe(2);
    expect(socket.frames[1]).toEqual({ type: 'pong', id: 5 });
    socket.ws.send(JSON.stringify({ type: 'ack', id: 'x' }));
    expect(await socket.closed).toBe(CloseCode.InvalidFrame);

    const noVersion = new WebSocket(`${wsBase}/v1/provisioning`);
    const status = await new Promise<number>((resolve) =>
      noVersion.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)),
    );
    expect(status).toBe(400);
  });

  it('rejects malformed addresses and oversized bodies', async () => {
    const primary = await register(relay.app);
    const bad = await relay.app.inject({
      method: 'PUT',
      url: '/v1/provisioning/..%2F..%2Fetc',
      headers: primary.headers,
      payload: { body: 'AAAA' },
    });
    expect(bad.statusCode).toBe(400);
    const socket = await openProvisioning();
    const tooBig = await relay.app.inject({
      method: 'PUT',
      url: `/v1/provisioning/${socket.address}`,
      headers: primary.headers,
      payload: { body: randomBytes(64 * 1024 + 3).toString('base64') },
    });
    expect(tooBig.statusCode).toBe(400);
    socket.ws.close();
  });
});
