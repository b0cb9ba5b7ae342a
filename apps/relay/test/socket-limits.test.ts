/**
 * WebSocket limits: a socket flooding frames is closed with 1008 while other devices are still
 * served, and behind a trusted proxy one forwarded client IP cannot hold more than its share of
 * sockets.
 */
import { randomUUID } from 'node:crypto';
import { CloseCode, WS_PATHS, WS_SUBPROTOCOL } from '@parley/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { defaultConfig } from '../src/config.ts';
import { connect, listen, register, send, startRelay, type TestRelay } from './helpers.ts';

const relays: TestRelay[] = [];
afterEach(async () => {
  for (const relay of relays.splice(0)) await relay.destroy();
});

async function start(
  connections: Partial<ReturnType<typeof defaultConfig>['connections']>,
  trustProxy = false,
) {
  const relay = await startRelay({
    overrides: { trustProxy, connections: { ...defaultConfig().connections, ...connections } },
  });
  relays.push(relay);
  return { relay, ...(await listen(relay.app)) };
}

describe('WebSocket frame budget', () => {
  it('closes a socket flooding acks with 1008; other devices are still served', async () => {
    const { relay, ws } = await start({ socketFrames: { max: 50, windowMs: 60_000 } });
    const [abuser, victim, friend] = [
      await register(relay.app),
      await register(relay.app),
      await register(relay.app),
    ];
    const flooding = await connect(ws, abuser);
    const listening = await connect(ws, victim);
    for (let i = 0; i < 500; i++) {
      if (flooding.ws.readyState !== WebSocket.OPEN) break;
      flooding.ack(randomUUID());
    }
    expect((await flooding.closed).code).toBe(CloseCode.PolicyViolation);

    await send(relay.app, friend, [victim]);
    await listening.waitFor((f) => f.type === 'envelope', 1, 30_000);
    // Pings are frames too, but an ordinary client stays far below the budget.
    listening.ws.send(JSON.stringify({ type: 'ping', id: 1 }));
    await listening.waitFor((f) => f.type === 'pong', 1, 30_000);
    await listening.close();
  });
});

describe('WebSockets per forwarded client IP behind a trusted proxy', () => {
  it('refuses sockets beyond the cap for one client IP, not for others', async () => {
    const { ws } = await start({ maxPerIp: 2 }, true);
    // Provisioning sockets need no login, so one client can hold several.
    const open = (clientIp: string) =>
      new Promise<WebSocket>((resolve, reject) => {
        const socket = new WebSocket(`${ws}${WS_PATHS.provisioning}`, [WS_SUBPROTOCOL], {
          headers: { 'x-forwarded-for': clientIp },
        });
        socket.once('message', () => resolve(socket)); // its provisioning address
        socket.once('close', (code) => reject(new Error(`closed with ${code}`)));
        socket.once('error', reject);
      });
    const held = [await open('203.0.113.7'), await open('203.0.113.7')];
    await expect(open('203.0.113.7')).rejects.toThrow(`closed with ${CloseCode.PolicyViolation}`);
    const other = await open('198.51.100.9');
    for (const socket of [...held, other]) socket.close();
    // A slot frees once a socket closes.
    const reopened = () =>
      open('203.0.113.7').then(
        (socket) => {
          socket.close();
          return true;
        },
        () => false,
      );
    await expect.poll(reopened, { timeout: 30_000 }).toBe(true);
  });
});
