/**
 * Deleted accounts and freed usernames, through the HTTP routes, on every store backend: a
 * deleted account leaves a tombstone of its id, so sends and bundle fetches to it are answered
 * 410 `account_gone` (a never-existing account stays 404), a group send names the deleted
 * members, and a freed username is held for `usernameHoldMs` (except for the account that
 * renamed away from it).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DAY,
  register,
  registration,
  sendBody,
  startRelay,
  uniqueUsername,
  type TestDevice,
  type TestRelay,
} from './helpers.ts';
import { startPostgres, type PostgresServer } from './services.ts';

const HOLD_MS = 7 * DAY;

let postgres: PostgresServer | undefined;
beforeAll(async () => {
  postgres = await startPostgres();
});
afterAll(async () => {
  await postgres?.stop();
});

const backends: [string, () => Promise<TestRelay>][] = [
  ['SQLite', () => startRelay({ overrides: { usernameHoldMs: HOLD_MS } })],
  [
    'PostgreSQL',
    async () =>
      startRelay({
        overrides: { usernameHoldMs: HOLD_MS, databaseUrl: await postgres!.createDatabase() },
      }),
  ],
];

describe.each(backends)('deleted accounts and username holds (%s)', (_name, open) => {
  let relay: TestRelay;
  beforeAll(async () => {
    relay = await open();
  });
  afterAll(async () => relay?.destroy());

  const remove = (device: TestDevice) =>
    relay.app.inject({ method: 'DELETE', url: '/v1/accounts/me', headers: device.headers });
  const usernameOf = async (device: TestDevice): Promise<string> =>
    (
      await relay.app.inject({ method: 'GET', url: '/v1/accounts/me', headers: device.headers })
    ).json<{ username: string }>().username;

  it('answers sends and bundle fetches to a deleted account 410 account_gone, never 404', async () => {
    const carol = await register(relay.app);
    const alice = await register(relay.app);
    expect((await remove(carol)).statusCode).toBe(204);

    const sent = await relay.app.inject({
      method: 'PUT',
      url: `/v1/messages/${carol.accountId}`,
      headers: alice.headers,
      payload: sendBody([carol]),
    });
    expect(sent.statusCode).toBe(410);
    expect(sent.json()).toEqual({ error: 'account_gone', message: expect.any(String) });

    for (const device of ['*', '1']) {
      const bundle = await relay.app.inject({
        method: 'GET',
        url: `/v1/keys/${carol.accountId}/${device}`,
        headers: alice.headers,
      });
      expect(bundle.statusCode).toBe(410);
      expect(bundle.json().error).toBe('account_gone');
    }

    // An id that never existed is still "no such account".
    const never = '00000000-0000-4000-8000-000000000000';
    const unknown = await relay.app.inject({
      method: 'PUT',
      url: `/v1/messages/${never}`,
      headers: alice.headers,
      payload: sendBody([{ ...carol, accountId: never }]),
    });
    expect(unknown.statusCode).toBe(404);

    const gone = await relay.app.inject({
      method: 'POST',
      url: '/v1/accounts/gone',
      headers: alice.headers,
      payload: { accountIds: [carol.accountId, alice.accountId, never] },
    });
    expect(gone.statusCode).toBe(200);
    expect(gone.json()).toEqual({ gone: [carol.accountId] });
    const bad = await relay.app.inject({
      method: 'POST',
      url: '/v1/accounts/gone',
      headers: alice.headers,
      payload: { accountIds: [] },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toBe('bad_request');
  });

  it('a group send naming a deleted member is 410 with that member; without it, it goes', async () => {
    const [alice, bob, carol] = [
      await register(relay.app),
      await register(relay.app),
      await register(relay.app),
    ];
    expect((await remove(carol)).statusCode).toBe(204);
    const body = (to: TestDevice[]) => ({
      timestamp: 1_700_000_000_000,
      type: 'sender_key_message',
      content: randomBytes(40).toString('base64'),
      recipients: to.map((d) => ({
        accountId: d.accountId,
        deviceId: d.deviceId,
        registrationId: d.registrationId,
      })),
      sendId: 'AAAAAAAAAAAAAAAAAAAAAA',
    });
    const first = await relay.app.inject({
      method: 'PUT',
      url: '/v1/messages/multi_recipient',
      headers: alice.headers,
      payload: body([bob, carol]),
    });
    expect(first.statusCode).toBe(410);
    expect(first.json()).toMatchObject({ error: 'account_gone', accounts: [carol.accountId] });
    // The rejected send recorded nothing: the same send id goes through without Carol.
    const second = await relay.app.inject({
      method: 'PUT',
      url: '/v1/messages/multi_recipient',
      headers: alice.headers,
      payload: body([bob]),
    });
    expect(second.statusCode).toBe(200);
    expect(second.json().stored).toBe(1);
  });

  it('holds a deleted account’s username from everyone until the hold ends', async () => {
    const carolName = uniqueUsername('held');
    const carol = await register(relay.app, { username: carolName });
    const bob = await register(relay.app);
    expect((await remove(carol)).statusCode).toBe(204);

    const lookup = await relay.app.inject({
      method: 'GET',
      url: `/v1/accounts/username/${carolName}`,
      headers: bob.headers,
    });
    expect(lookup.statusCode).toBe(404);
    const registerAgain = await relay.app.inject({
      method: 'POST',
      url: '/v1/accounts',
      payload: registration(carolName),
    });
    expect(registerAgain.statusCode).toBe(409);
    expect(registerAgain.json().error).toBe('username_taken');
    const rename = () =>
      relay.app.inject({
        method: 'PUT',
        url: '/v1/accounts/me/username',
        headers: bob.headers,
        payload: { username: carolName },
      });
    expect((await rename()).statusCode).toBe(409);

    relay.clock.advance(HOLD_MS + 1);
    expect((await rename()).statusCode).toBe(200);
    expect(await usernameOf(bob)).toBe(carolName);
  });

  it('holds a renamed-away username for others, and lets its old owner take it back', async () => {
    const oldName = uniqueUsername('renamer');
    const dave = await register(relay.app, { username: oldName });
    const eve = await register(relay.app);
    const setName = (device: TestDevice, username: string) =>
      relay.app.inject({
        method: 'PUT',
        url: '/v1/accounts/me/username',
        headers: device.headers,
        payload: { username },
      });
    expect((await setName(dave, uniqueUsername('renamed'))).statusCode).toBe(200);
    expect((await setName(eve, oldName)).statusCode).toBe(409);
    expect((await setName(dave, oldName)).statusCode).toBe(200);
    expect(await usernameOf(dave)).toBe(oldName);
    // Taking it back ended the hold: after another rename the name is held afresh.
    expect((await setName(dave, uniqueUsername('again'))).statusCode).toBe(200);
    expect((await setName(eve, oldName)).statusCode).toBe(409);
    relay.clock.advance(HOLD_MS + 1);
    expect((await setName(eve, oldName)).statusCode).toBe(200);
  });
});
