/**
 * Batched acks: many ids in one frame, applied in one store call, only within the device's own
 * queue; the single-id form keeps working; nothing is deleted before its ack.
 */
import { randomUUID } from 'node:crypto';
import type { Envelope } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connect,
  listen,
  register,
  send,
  startRelay,
  type TestDevice,
  type TestRelay,
} from './helpers.ts';

let relay: TestRelay;
let ws: string;
const deleteCalls: string[][] = [];
beforeAll(async () => {
  relay = await startRelay({ overrides: { maxInflightPerSocket: 100 } });
  const store = relay.app.relay.store;
  const original = store.deleteEnvelopes.bind(store);
  store.deleteEnvelopes = (accountId, deviceId, ids) => {
    deleteCalls.push([...ids]);
    return original(accountId, deviceId, ids);
  };
  ({ ws } = await listen(relay.app));
});
afterAll(async () => relay.destroy());

const queued = async (device: TestDevice) =>
  (await relay.app.inject({ method: 'GET', url: '/v1/messages', headers: device.headers })).json<{
    envelopes: Envelope[];
  }>().envelopes;

describe('batched acks', () => {
  it('acks many envelopes with one frame and one store call', async () => {
    const alice = await register(relay.app);
    const bob = await register(relay.app);
    const eve = await register(relay.app);
    for (let i = 0; i < 30; i++) await send(relay.app, alice, [bob]);
    await send(relay.app, alice, [eve]);
    const [evesEnvelope] = await queued(eve);

    const socket = await connect(ws, bob);
    await socket.waitFor((f) => f.type === 'queue_empty');
    const envelopes = socket.envelopes();
    expect(envelopes).toHaveLength(30);
    const first = envelopes.slice(0, 20).map((e) => e.id);
    // Another device's id in the batch matches nothing (scoped to bob's queue).
    const batch = [...first, (evesEnvelope as Envelope).id, randomUUID()];
    deleteCalls.length = 0;
    socket.ws.send(JSON.stringify({ type: 'ack', ids: batch }));
    await expect.poll(async () => (await queued(bob)).length).toBe(10);
    expect(deleteCalls).toEqual([batch]);
    expect(await queued(eve)).toHaveLength(1);

    // The original single-id form still works, and mixing both in one frame too.
    const rest = envelopes.slice(20).map((e) => e.id);
    socket.ack(rest[0] as string);
    socket.ws.send(JSON.stringify({ type: 'ack', id: rest[1], ids: rest.slice(2) }));
    await expect.poll(async () => (await queued(bob)).length).toBe(0);
    await socket.close();
  });

  it('an invalid batch closes the socket and deletes nothing', async () => {
    const alice = await register(relay.app);
    const bob = await register(relay.app);
    await send(relay.app, alice, [bob]);
    const socket = await connect(ws, bob);
    await socket.waitFor((f) => f.type === 'queue_empty');
    const [envelope] = socket.envelopes();
    socket.ws.send(JSON.stringify({ type: 'ack', ids: [(envelope as Envelope).id, 'nope'] }));
    expect((await socket.closed).code).toBe(4003);
    expect(await queued(bob)).toHaveLength(1);
  });
});
