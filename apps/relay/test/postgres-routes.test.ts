/**
 * HTTP routes against the PostgreSQL store: input the schemas let through reaches PostgreSQL's
 * typed columns (device ids are `INTEGER`), so anything out of their range must be a 4xx before
 * it gets there — PostgreSQL would answer "integer out of range" and the relay a 500.
 */
import { MAX_DEVICE_ID } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  basicAuthorizationFor,
  register,
  registration,
  sendBody,
  startRelay,
  type TestDevice,
  type TestRelay,
} from './helpers.ts';
import { startPostgres, type PostgresServer } from './services.ts';

let postgres: PostgresServer;
let relay: TestRelay;
let alice: TestDevice;
let bob: TestDevice;

beforeAll(async () => {
  postgres = await startPostgres();
  relay = await startRelay({ overrides: { databaseUrl: await postgres.createDatabase() } });
  alice = await register(relay.app);
  bob = await register(relay.app);
});
afterAll(async () => {
  await relay?.destroy();
  await postgres?.stop();
});

const TOO_LARGE = ['2147483648', '4294967296', '9999999999', '99999999999999999999'];

describe('out-of-range integers on PostgreSQL are 4xx, never 5xx', () => {
  it('GET /v1/keys/:accountId/:deviceId', async () => {
    const get = (deviceId: string | number) =>
      relay.app.inject({
        method: 'GET',
        url: `/v1/keys/${bob.accountId}/${deviceId}`,
        headers: alice.headers,
      });
    expect((await get(1)).statusCode).toBe(200);
    expect((await get(MAX_DEVICE_ID)).statusCode).toBe(404);
    for (const id of TOO_LARGE) {
      const response = await get(id);
      expect(response.statusCode, id).toBe(400);
      expect(response.json()).toMatchObject({ error: 'bad_request' });
    }
  });

  it('DELETE /v1/devices/:deviceId', async () => {
    const remove = (deviceId: string | number) =>
      relay.app.inject({
        method: 'DELETE',
        url: `/v1/devices/${deviceId}`,
        headers: alice.headers,
      });
    expect((await remove(MAX_DEVICE_ID)).statusCode).toBe(404);
    for (const id of TOO_LARGE) expect((await remove(id)).statusCode, id).toBe(400);
  });

  it('PUT /v1/messages/:accountId with a destination device id beyond the range', async () => {
    const sendTo = (deviceId: number) => {
      const body = sendBody([{ ...bob, deviceId }]);
      return relay.app.inject({
        method: 'PUT',
        url: `/v1/messages/${bob.accountId}`,
        headers: alice.headers,
        payload: body,
      });
    };
    expect((await sendTo(MAX_DEVICE_ID)).statusCode).toBe(409);
    expect((await sendTo(MAX_DEVICE_ID + 1)).statusCode).toBe(400);
    expect((await sendTo(99_999_999_999)).statusCode).toBe(400);
  });

  it('PUT /v1/messages/multi_recipient with a recipient device id beyond the range', async () => {
    const sendTo = (deviceId: number) =>
      relay.app.inject({
        method: 'PUT',
        url: '/v1/messages/multi_recipient',
        headers: alice.headers,
        payload: {
          type: 'sender_key_message',
          timestamp: 1,
          content: 'AAAA',
          recipients: [{ accountId: bob.accountId, deviceId, registrationId: bob.registrationId }],
        },
      });
    expect((await sendTo(1)).statusCode).toBe(200);
    expect((await sendTo(MAX_DEVICE_ID + 1)).statusCode).toBe(400);
  });

  it('a login naming a device id beyond the range is a 401', async () => {
    for (const deviceId of [MAX_DEVICE_ID, MAX_DEVICE_ID + 1, 9_999_999_999]) {
      const authorization = basicAuthorizationFor({ ...alice, deviceId });
      const response = await relay.app.inject({
        method: 'GET',
        url: '/v1/accounts/me',
        headers: { authorization },
      });
      expect(response.statusCode, String(deviceId)).toBe(401);
    }
  });

  it('GET /v1/messages?limit= beyond the page size', async () => {
    for (const limit of ['101', '2147483648', '99999999999999999999']) {
      const response = await relay.app.inject({
        method: 'GET',
        url: `/v1/messages?limit=${limit}`,
        headers: alice.headers,
      });
      expect(response.statusCode, limit).toBe(400);
    }
  });

  it('logs no unhandled error for any of it', () => {
    expect(relay.logs.records().filter((r) => r.msg === 'unhandled error')).toEqual([]);
  });
});

describe('usernames on PostgreSQL', () => {
  it('are unique and looked up case-insensitively', async () => {
    const name = `Mixed_Case_${process.pid}`;
    const owner = await register(relay.app, { username: name });
    const again = await relay.app.inject({
      method: 'POST',
      url: '/v1/accounts',
      payload: registration(name.toUpperCase()),
    });
    expect(again.statusCode).toBe(409);
    const found = await relay.app.inject({
      method: 'GET',
      url: `/v1/accounts/username/${name.toUpperCase()}`,
      headers: alice.headers,
    });
    expect(found.json()).toEqual({ accountId: owner.accountId, username: name.toLowerCase() });
    const rename = await relay.app.inject({
      method: 'PUT',
      url: '/v1/accounts/me/username',
      headers: alice.headers,
      payload: { username: name.toLowerCase() },
    });
    expect(rename.statusCode).toBe(409);
    expect(rename.json()).toMatchObject({ error: 'username_taken' });
  });
});
