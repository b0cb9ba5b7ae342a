/**
 * The relay client on its own against the real relay process: HTTP errors typed (409 with
 * device lists), the delivery socket acks only after the handler resolved, passes
 * `queue_empty` in order, and reconnects after the relay restarts.
 */
import { describe, expect, it } from 'vitest';
import type { Envelope } from '@parley/protocol';
import { DeliverySocket, RelayHttp, RelayHttpError } from '@parley/client/relay.js';
import WebSocket from 'ws';
import type { WebSocketConstructor } from '@parley/client/relay.js';

const WS: WebSocketConstructor = WebSocket;
import { useRelay } from './support/use-relay.ts';

const { relay } = useRelay();

// Well-formed key material of the right sizes (the relay cannot check signatures).
const b64 = (n: number, first: number) => {
  const b = crypto.getRandomValues(new Uint8Array(n));
  b[0] = first;
  return Buffer.from(b).toString('base64');
};
const keys = () => ({
  registrationId: 1 + Math.floor(Math.random() * 16000),
  signedPreKey: { keyId: 1, publicKey: b64(33, 5), signature: b64(64, 0) },
  pqLastResortPreKey: { keyId: 2, publicKey: b64(1569, 8), signature: b64(64, 0) },
  preKeys: [{ keyId: 3, publicKey: b64(33, 5) }],
  pqPreKeys: [],
});

async function account(username: string) {
  const anon = new RelayHttp(relay.url);
  const k = keys();
  const res = await anon.register({ username, identityKey: b64(33, 5), ...k });
  return {
    http: new RelayHttp(relay.url, res),
    login: { accountId: res.accountId, deviceId: res.deviceId, credential: res.credential },
    registrationId: k.registrationId,
  };
}

describe('relay client', () => {
  it('types 409 responses and delivers through the socket with acks after handling', async () => {
    const a = await account('rc_alice');
    const b = await account('rc_bob');
    const bad = await a.http
      .sendMessages(b.login.accountId, {
        timestamp: 1,
        messages: [
          {
            type: 'message',
            destinationDeviceId: 2,
            destinationRegistrationId: 1,
            content: 'AAAA',
          },
        ],
      })
      .catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(RelayHttpError);
    expect((bad as RelayHttpError).mismatched).toMatchObject({
      missingDevices: [1],
      extraDevices: [2],
    });

    const send = (i: number) =>
      a.http.sendMessages(b.login.accountId, {
        timestamp: i,
        messages: [
          {
            type: 'message',
            destinationDeviceId: 1,
            destinationRegistrationId: b.registrationId,
            content: Buffer.from(`m${i}`).toString('base64'),
          },
        ],
      });
    for (let i = 0; i < 3; i++) await send(i);

    // First connection: the handler fails on the second envelope, so it is not acked.
    const seen: string[] = [];
    let failOnce = true;
    const order: string[] = [];
    const socket = new DeliverySocket({
      baseUrl: relay.url,
      login: b.login,
      WebSocket: WS,
      backoff: { initialMs: 20, maxMs: 100 },
      onEnvelope: async (e: Envelope) => {
        const text = Buffer.from(e.content, 'base64').toString();
        if (text === 'm1' && failOnce) {
          failOnce = false;
          throw new Error('disk full');
        }
        seen.push(text);
        order.push(text);
      },
      onQueueEmpty: () => order.push('queue_empty'),
    });
    const drained = new Promise<void>((r) => {
      const check = setInterval(() => {
        if (seen.includes('m2') && seen.includes('m1') && order.at(-1) === 'queue_empty') {
          clearInterval(check);
          r();
        }
      }, 10);
    });
    socket.start();
    await drained;
    // m1 came again after the reconnect; nothing was lost.
    expect([...new Set(seen)].sort()).toEqual(['m0', 'm1', 'm2']);
    expect(order.at(-1)).toBe('queue_empty');

    // A live message after the backlog, then a relay restart and one more.
    await send(3);
    while (!seen.includes('m3')) await new Promise((r) => setTimeout(r, 10));
    await relay.restart();
    await send(4);
    while (!seen.includes('m4')) await new Promise((r) => setTimeout(r, 10));
    await socket.stop();

    // Everything handled was acked: the queue is empty.
    // (Acks are fire-and-forget frames the relay applies in batches: wait for them to land.)
    let left = await b.http.fetchMessages();
    while (left.envelopes.length > 0) {
      await new Promise((r) => setTimeout(r, 20));
      left = await b.http.fetchMessages();
    }
    expect(left.envelopes).toEqual([]);
  });
});
