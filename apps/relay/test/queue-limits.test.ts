/**
 * Queue limits under abuse: one sender filling a device's queue hits its own share (429) while
 * the device's other contacts still get through; only a queue filled by many is full (507).
 */
import { randomBytes } from 'node:crypto';
import type { Envelope } from '@parley/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import {
  link,
  register,
  sendBody,
  startRelay,
  type TestDevice,
  type TestRelay,
} from './helpers.ts';

const relays: TestRelay[] = [];
afterEach(async () => {
  for (const relay of relays.splice(0)) await relay.destroy();
});

async function start(overrides: {
  queueCapPerDevice: number;
  queueCapBytesPerDevice: number;
  queueSenderSharePercent: number;
}) {
  const relay = await startRelay({ overrides });
  relays.push(relay);
  const put = (from: TestDevice, to: readonly TestDevice[], bytes = 16) =>
    relay.app.inject({
      method: 'PUT',
      url: `/v1/messages/${to[0]?.accountId}`,
      headers: from.headers,
      payload: sendBody(to, randomBytes(bytes).toString('base64')),
    });
  const queue = async (device: TestDevice) =>
    (await relay.app.inject({ method: 'GET', url: '/v1/messages', headers: device.headers })).json<{
      envelopes: Envelope[];
    }>().envelopes;
  return { relay, put, queue };
}

describe('per-device queue limits', () => {
  it('a sender over its share of the envelope cap gets 429; others still get through', async () => {
    const { relay, put, queue } = await start({
      queueCapPerDevice: 10,
      queueCapBytesPerDevice: 1024 * 1024,
      queueSenderSharePercent: 50,
    });
    const [abuser, friend, victim] = [
      await register(relay.app),
      await register(relay.app),
      await register(relay.app),
    ];
    for (let i = 0; i < 5; i++) expect((await put(abuser, [victim])).statusCode).toBe(200);
    for (let i = 0; i < 20; i++) {
      const refused = await put(abuser, [victim]);
      expect(refused.statusCode).toBe(429);
      expect(refused.json()).toMatchObject({ error: 'rate_limited' });
    }
    expect((await put(friend, [victim])).statusCode).toBe(200);
    expect(await queue(victim)).toHaveLength(6);

    // Once the victim has taken its envelopes, the sender's share is free again.
    for (const e of await queue(victim)) {
      await relay.app.inject({
        method: 'DELETE',
        url: `/v1/messages/${e.id}`,
        headers: victim.headers,
      });
    }
    expect((await put(abuser, [victim])).statusCode).toBe(200);
  });

  it('counts bytes too: big envelopes hit the byte share and the byte cap', async () => {
    const { relay, put, queue } = await start({
      queueCapPerDevice: 1000,
      queueCapBytesPerDevice: 4000,
      queueSenderSharePercent: 50,
    });
    const senders = [await register(relay.app), await register(relay.app)];
    const [abuser, friend] = senders as [TestDevice, TestDevice];
    const others = [await register(relay.app), await register(relay.app)];
    const victim = await register(relay.app);
    expect((await put(abuser, [victim], 1500)).statusCode).toBe(200);
    expect((await put(abuser, [victim], 1500)).statusCode).toBe(429); // 3000 > its 2000 share
    expect((await put(abuser, [victim], 400)).statusCode).toBe(200); // 1900, within its share
    expect((await put(friend, [victim], 1500)).statusCode).toBe(200); // 3400 queued
    // The queue is now nearly full from two senders: it is full for a third one too (507).
    const full = await put(others[0] as TestDevice, [victim], 1000);
    expect(full.statusCode).toBe(507);
    expect(full.json()).toMatchObject({ error: 'queue_full', deviceIds: [1] });
    expect((await put(others[1] as TestDevice, [victim], 500)).statusCode).toBe(200);
    expect(await queue(victim)).toHaveLength(4);
  });

  it("applies the share to multi-recipient sends, and not to the sender's own devices", async () => {
    const { relay, put, queue } = await start({
      queueCapPerDevice: 4,
      queueCapBytesPerDevice: 1024 * 1024,
      queueSenderSharePercent: 50,
    });
    const abuser = await register(relay.app);
    const abuserLinked = await link(relay.app, abuser);
    const victim = await register(relay.app);
    const multi = () =>
      relay.app.inject({
        method: 'PUT',
        url: '/v1/messages/multi_recipient',
        headers: abuser.headers,
        payload: {
          timestamp: 1,
          type: 'sender_key_message',
          content: randomBytes(16).toString('base64'),
          recipients: [victim].map((d) => ({
            accountId: d.accountId,
            deviceId: d.deviceId,
            registrationId: d.registrationId,
          })),
        },
      });
    expect((await multi()).statusCode).toBe(200);
    expect((await multi()).statusCode).toBe(200);
    expect((await multi()).statusCode).toBe(429);
    // Sync messages to its own linked device: up to the queue cap, no share.
    for (let i = 0; i < 4; i++) expect((await put(abuser, [abuserLinked])).statusCode).toBe(200);
    expect((await put(abuser, [abuserLinked])).statusCode).toBe(507);
    expect(await queue(victim)).toHaveLength(2);
  });
});
