/**
 * Idempotent sends: a `sendId` makes a retry answer with the first answer and store nothing,
 * including after the relay died between storing a send and answering it.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Envelope } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '../src/config.ts';
import {
  DAY,
  link,
  register,
  sendBody,
  startRelay,
  type TestDevice,
  type TestRelay,
} from './helpers.ts';
import { mustRegister, startNode } from './nodes.ts';

const newSendId = () => randomBytes(16).toString('base64url');

let relay: TestRelay;
beforeAll(async () => {
  relay = await startRelay();
});
afterAll(async () => relay.destroy());

const queue = async (device: TestDevice): Promise<Envelope[]> => {
  const response = await relay.app.inject({
    method: 'GET',
    url: '/v1/messages',
    headers: device.headers,
  });
  expect(response.statusCode).toBe(200);
  return response.json<{ envelopes: Envelope[] }>().envelopes;
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

describe('sendId on PUT /v1/messages/:accountId', () => {
  it('a retry gets the first answer and stores nothing, even with a different body', async () => {
    const alice = await register(relay.app);
    const bob = await register(relay.app);
    const bob2 = await link(relay.app, bob);
    const sendId = newSendId();
    const first = await put(alice, bob.accountId, { ...sendBody([bob, bob2]), sendId });
    expect(first.statusCode).toBe(200);
    const answer = first.json<{ serverTimestamp: number; stored: number }>();
    expect(answer.stored).toBe(2);

    relay.clock.advance(1000);
    const retry = await put(alice, bob.accountId, { ...sendBody([bob, bob2]), sendId });
    expect(retry.statusCode).toBe(200);
    expect(retry.json()).toEqual(answer);
    // Documented: the relay does not compare bodies; the id alone names the send.
    const changed = await put(alice, bob.accountId, { ...sendBody([bob]), sendId });
    expect(changed.statusCode).toBe(200);
    expect(changed.json()).toEqual(answer);
    for (const device of [bob, bob2]) expect(await queue(device)).toHaveLength(1);

    // Another send id, or no send id, is another send.
    const other = await put(alice, bob.accountId, {
      ...sendBody([bob, bob2]),
      sendId: newSendId(),
    });
    expect(other.json()).toEqual({ serverTimestamp: relay.clock.now(), stored: 2 });
    expect((await put(alice, bob.accountId, sendBody([bob, bob2]))).statusCode).toBe(200);
    for (const device of [bob, bob2]) expect(await queue(device)).toHaveLength(3);
  });

  it('the same send id from another sender device is a different send', async () => {
    const alice = await register(relay.app);
    const alice2 = await link(relay.app, alice);
    const bob = await register(relay.app);
    const sendId = newSendId();
    for (const from of [alice, alice2]) {
      expect((await put(from, bob.accountId, { ...sendBody([bob]), sendId })).statusCode).toBe(200);
    }
    expect(await queue(bob)).toHaveLength(2);
  });

  it('a rejected send records nothing: the corrected retry with the same id is stored', async () => {
    const alice = await register(relay.app);
    const bob = await register(relay.app);
    const bob2 = await link(relay.app, bob);
    const sendId = newSendId();
    const missing = await put(alice, bob.accountId, { ...sendBody([bob]), sendId });
    expect(missing.statusCode).toBe(409);
    const fixed = await put(alice, bob.accountId, { ...sendBody([bob, bob2]), sendId });
    expect(fixed.statusCode).toBe(200);
    expect(fixed.json()).toMatchObject({ stored: 2 });
    expect(await queue(bob2)).toHaveLength(1);
  });

  it('a send id past retention names a new send once the record has expired', async () => {
    const alice = await register(relay.app);
    const bob = await register(relay.app);
    const sendId = newSendId();
    expect((await put(alice, bob.accountId, { ...sendBody([bob]), sendId })).statusCode).toBe(200);
    relay.clock.advance(relay.config.retentionMs + DAY);
    await relay.app.relay.sweep();
    expect(await queue(bob)).toHaveLength(0);
    const later = await put(alice, bob.accountId, { ...sendBody([bob]), sendId });
    expect(later.json()).toEqual({ serverTimestamp: relay.clock.now(), stored: 1 });
    expect(await queue(bob)).toHaveLength(1);
  });
});

describe('sendId on PUT /v1/messages/multi_recipient', () => {
  it('a retry gets the first answer and stores nothing', async () => {
    const alice = await register(relay.app);
    const bob = await register(relay.app);
    const carol = await register(relay.app);
    const body = {
      timestamp: 1,
      sendId: newSendId(),
      type: 'sender_key_message' as const,
      content: randomBytes(64).toString('base64'),
      recipients: [bob, carol].map((d) => ({
        accountId: d.accountId,
        deviceId: d.deviceId,
        registrationId: d.registrationId,
      })),
    };
    const first = await multi(alice, body);
    expect(first.statusCode).toBe(200);
    relay.clock.advance(1000);
    const retry = await multi(alice, body);
    expect(retry.statusCode).toBe(200);
    expect(retry.json()).toEqual(first.json());
    expect(await queue(bob)).toHaveLength(1);
    expect(await queue(carol)).toHaveLength(1);
  });
});

describe('a relay killed between storing a send and answering it', () => {
  it('answers the retry after restart with the stored send, without storing it twice', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-idempotent-'));
    const dbPath = join(dir, 'relay.db');
    const sendId = newSendId();
    try {
      const doomed = await startNode({
        [ENV.dbPath]: dbPath,
        [ENV.testCrashAfterStoringSendId]: sendId,
      });
      const alice = await mustRegister(doomed.http);
      const bob = await mustRegister(doomed.http);
      const body = JSON.stringify({ ...sendBody([bob]), sendId });
      const headers = { ...alice.headers, 'content-type': 'application/json' };
      const url = (http: string) => `${http}/v1/messages/${bob.accountId}`;
      // The connection dies with the process: the sender never learns whether it was stored.
      await expect(fetch(url(doomed.http), { method: 'PUT', headers, body })).rejects.toThrow();
      await doomed.exited;
      expect(doomed.process.signalCode).toBe('SIGKILL');

      const restarted = await startNode({ [ENV.dbPath]: dbPath });
      try {
        const retry = await fetch(url(restarted.http), { method: 'PUT', headers, body });
        expect(retry.status).toBe(200);
        const answer = (await retry.json()) as { serverTimestamp: number; stored: number };
        const fetched = await fetch(`${restarted.http}/v1/messages`, { headers: bob.headers });
        const { envelopes } = (await fetched.json()) as { envelopes: Envelope[] };
        expect(envelopes).toHaveLength(1);
        // The answer is the stored send's (not a new one stamped now).
        expect(answer).toEqual({ serverTimestamp: envelopes[0]?.serverTimestamp, stored: 1 });
      } finally {
        await restarted.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
