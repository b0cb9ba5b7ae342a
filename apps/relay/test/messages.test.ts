import { randomBytes } from 'node:crypto';
import type { Envelope } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  link,
  register,
  send,
  sendBody,
  startRelay,
  type TestDevice,
  type TestRelay,
} from './helpers.ts';

let relay: TestRelay;
beforeAll(async () => {
  // Share 100%: this file tests the queue cap itself (queue-limits.test.ts tests the share).
  relay = await startRelay({ overrides: { queueCapPerDevice: 3, queueSenderSharePercent: 100 } });
});
afterAll(async () => relay.destroy());

const queue = async (
  device: TestDevice,
  limit?: number,
): Promise<{ envelopes: Envelope[]; more: boolean }> => {
  const response = await relay.app.inject({
    method: 'GET',
    url: `/v1/messages${limit ? `?limit=${limit}` : ''}`,
    headers: device.headers,
  });
  expect(response.statusCode).toBe(200);
  return response.json();
};
const put = (from: TestDevice, accountId: string, payload: object) =>
  relay.app.inject({
    method: 'PUT',
    url: `/v1/messages/${accountId}`,
    headers: from.headers,
    payload,
  });
const multi = (from: TestDevice, payload: object) =>
  relay.app.inject({
    method: 'PUT',
    url: '/v1/messages/multi_recipient',
    headers: from.headers,
    payload,
  });
const ack = (device: TestDevice, id: string) =>
  relay.app.inject({ method: 'DELETE', url: `/v1/messages/${id}`, headers: device.headers });

describe('PUT /v1/messages/:accountId', () => {
  it('queues one envelope per device, stamped with the authenticated sender', async () => {
    const alice = await register(relay.app);
    const bob = await register(relay.app);
    const bob2 = await link(relay.app, bob);
    const content = randomBytes(100).toString('base64');
    const response = await put(alice, bob.accountId, sendBody([bob, bob2], content, 1234));
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ serverTimestamp: relay.clock.now(), stored: 2 });
    for (const device of [bob, bob2]) {
      const { envelopes } = await queue(device);
      expect(envelopes).toHaveLength(1);
      expect(envelopes[0]).toMatchObject({
        type: 'message',
        sourceAccountId: alice.accountId,
        sourceDeviceId: 1,
        destinationDeviceId: device.deviceId,
        timestamp: 1234,
        serverTimestamp: relay.clock.now(),
        content,
      });
    }
  });

  it('409 with missing and extra devices, storing nothing', async () => {
    const alice = await register(relay.app);
    const bob = await register(relay.app);
    const bob2 = await link(relay.app, bob);
    const ghost = { ...bob2, deviceId: 77 };
    const response = await put(alice, bob.accountId, sendBody([bob, ghost]));
    expect(response.statusCode).toBe(409);
    expect(response.json()).toEqual({
      error: 'mismatched_devices',
      message: 'device list does not match',
      missingDevices: [bob2.deviceId],
      extraDevices: [77],
    });
    expect((await queue(bob)).envelopes).toEqual([]);
  });

  it('410 with stale devices when a registration id changed, storing nothing', async () => {
    const alice = await register(relay.app);
    const bob = await register(relay.app);
    const bob2 = await link(relay.app, bob);
    const stale = {
      ...bob2,
      registrationId: bob2.registrationId === 1 ? 2 : bob2.registrationId - 1,
    };
    const response = await put(alice, bob.accountId, sendBody([bob, stale]));
    expect(response.statusCode).toBe(410);
    expect(response.json()).toMatchObject({
      error: 'stale_devices',
      staleDevices: [bob2.deviceId],
    });
    expect((await queue(bob)).envelopes).toEqual([]);
    expect((await queue(bob2)).envelopes).toEqual([]);
  });

  it("sending to one's own account covers every device except the sender", async () => {
    const me = await register(relay.app);
    const mine2 = await link(relay.app, me);
    expect((await put(me, me.accountId, sendBody([mine2]))).statusCode).toBe(200);
    const includingSelf = await put(me, me.accountId, sendBody([me, mine2]));
    expect(includingSelf.statusCode).toBe(409);
    expect(includingSelf.json().extraDevices).toEqual([1]);
  });

  it('rejects duplicates, unknown accounts, empty sends and oversized content', async () => {
    const alice = await register(relay.app);
    const bob = await register(relay.app);
    expect((await put(alice, bob.accountId, sendBody([bob, bob]))).statusCode).toBe(400);
    expect(
      (await put(alice, '00000000-0000-4000-8000-000000000000', sendBody([bob]))).statusCode,
    ).toBe(404);
    expect((await put(alice, bob.accountId, { timestamp: 1, messages: [] })).statusCode).toBe(400);
    const huge = randomBytes(128 * 1024 + 3).toString('base64');
    const tooBig = await put(alice, bob.accountId, sendBody([bob], huge));
    expect(tooBig.statusCode).toBe(400);
    expect((await put(alice, bob.accountId, sendBody([bob], 'not base64!'))).statusCode).toBe(400);
  });

  it('answers 507 when a device queue is at its cap, and stores nothing', async () => {
    const alice = await register(relay.app);
    const carol = await register(relay.app);
    const bob = await register(relay.app);
    for (let i = 0; i < 2; i++) await send(relay.app, alice, [bob]);
    await send(relay.app, carol, [bob]);
    const full = await put(carol, bob.accountId, sendBody([bob]));
    expect(full.statusCode).toBe(507);
    expect(full.json()).toMatchObject({
      error: 'queue_full',
      accountId: bob.accountId,
      deviceIds: [1],
    });
    expect((await queue(bob)).envelopes).toHaveLength(3);
  });
});

describe('PUT /v1/messages/multi_recipient', () => {
  it('fans one ciphertext out to every listed device', async () => {
    const sender = await register(relay.app);
    const senderLinked = await link(relay.app, sender);
    const bob = await register(relay.app);
    const carol = await register(relay.app);
    const carol2 = await link(relay.app, carol);
    const content = randomBytes(64).toString('base64');
    const recipients = [bob, carol, carol2, senderLinked].map((d) => ({
      accountId: d.accountId,
      deviceId: d.deviceId,
      registrationId: d.registrationId,
    }));
    const response = await multi(sender, {
      timestamp: 5,
      type: 'sender_key_message',
      content,
      recipients,
    });
    expect(response.statusCode).toBe(200);
    expect(response.json().stored).toBe(4);
    for (const device of [bob, carol, carol2, senderLinked]) {
      const [envelope] = (await queue(device)).envelopes;
      expect(envelope).toMatchObject({
        type: 'sender_key_message',
        content,
        sourceAccountId: sender.accountId,
      });
    }
  });

  it('409/410/404 per account, storing nothing for anyone', async () => {
    const sender = await register(relay.app);
    const bob = await register(relay.app);
    const carol = await register(relay.app);
    const carol2 = await link(relay.app, carol);
    const content = randomBytes(16).toString('base64');
    const r = (d: TestDevice, registrationId = d.registrationId) => ({
      accountId: d.accountId,
      deviceId: d.deviceId,
      registrationId,
    });

    const mismatched = await multi(sender, {
      timestamp: 1,
      type: 'sender_key_message',
      content,
      recipients: [r(bob), r(carol)],
    });
    expect(mismatched.statusCode).toBe(409);
    expect(mismatched.json().accounts).toEqual([
      { accountId: carol.accountId, missingDevices: [carol2.deviceId], extraDevices: [] },
    ]);

    const staleId = bob.registrationId === 1 ? 2 : bob.registrationId - 1;
    const stale = await multi(sender, {
      timestamp: 1,
      type: 'sender_key_message',
      content,
      recipients: [r(bob, staleId), r(carol), r(carol2)],
    });
    expect(stale.statusCode).toBe(410);
    expect(stale.json().accounts).toEqual([{ accountId: bob.accountId, staleDevices: [1] }]);

    const unknown = await multi(sender, {
      timestamp: 1,
      type: 'sender_key_message',
      content,
      recipients: [
        r(bob),
        { accountId: '00000000-0000-4000-8000-000000000000', deviceId: 1, registrationId: 1 },
      ],
    });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error).toBe('unknown_account');

    const duplicate = await multi(sender, {
      timestamp: 1,
      type: 'sender_key_message',
      content,
      recipients: [r(bob), r(bob)],
    });
    expect(duplicate.statusCode).toBe(400);

    for (const device of [bob, carol, carol2]) expect((await queue(device)).envelopes).toEqual([]);
  });
});

describe('HTTP queue: GET /v1/messages and DELETE /v1/messages/:id', () => {
  it('pages in order and deletes only on ack', async () => {
    const alice = await register(relay.app);
    const bob = await register(relay.app);
    const contents = [1, 2, 3].map((n) => Buffer.from(`cipher-${n}`).toString('base64'));
    for (const content of contents) await send(relay.app, alice, [bob], content);
    const page = await queue(bob, 2);
    expect(page.more).toBe(true);
    expect(page.envelopes.map((e) => e.content)).toEqual(contents.slice(0, 2));
    // Reading is not acking.
    expect((await queue(bob)).envelopes).toHaveLength(3);
    const first = page.envelopes[0] as Envelope;
    expect((await ack(bob, first.id)).statusCode).toBe(204);
    expect((await ack(bob, first.id)).statusCode).toBe(404);
    const rest = await queue(bob);
    expect(rest.more).toBe(false);
    expect(rest.envelopes.map((e) => e.content)).toEqual(contents.slice(1));
  });

  it('expires envelopes after the retention period', async () => {
    const alice = await register(relay.app);
    const bob = await register(relay.app);
    await send(relay.app, alice, [bob]);
    relay.clock.advance(relay.config.retentionMs - 1);
    expect((await queue(bob)).envelopes).toHaveLength(1);
    relay.clock.advance(2);
    // Hidden at once, deleted by the next sweep.
    expect((await queue(bob)).envelopes).toHaveLength(0);
    const swept = await relay.app.relay.sweep();
    expect(swept.envelopes).toBeGreaterThanOrEqual(1);
    // Deleted, not just hidden: winding the clock back does not bring it back.
    relay.clock.advance(-relay.config.retentionMs);
    expect((await queue(bob)).envelopes).toHaveLength(0);
  });
});
