import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { register, registration, startRelay, uniqueUsername, type TestRelay } from './helpers.ts';

let relay: TestRelay;
beforeAll(async () => {
  relay = await startRelay();
});
afterAll(async () => relay.destroy());

const post = (payload: unknown) =>
  relay.app.inject({ method: 'POST', url: '/v1/accounts', payload: payload as object });

describe('POST /v1/accounts', () => {
  it('creates the account with device 1 and a 256-bit credential', async () => {
    const response = await post(registration('Alice_1.x'));
    expect(response.statusCode).toBe(201);
    const body = response.json();
    expect(body.accountId).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.deviceId).toBe(1);
    expect(Buffer.from(body.credential, 'base64url')).toHaveLength(32);
    expect(body.username).toBe('alice_1.x');
  });

  it('treats usernames case-insensitively: a differently cased duplicate is 409', async () => {
    const name = uniqueUsername('bob');
    expect((await post(registration(name))).statusCode).toBe(201);
    const again = await post(registration(name.toUpperCase()));
    expect(again.statusCode).toBe(409);
    expect(again.json()).toEqual({ error: 'username_taken', message: 'username is taken' });
  });

  it('concurrent registrations of one username: exactly one wins, others are unaffected', async () => {
    const name = uniqueUsername('race');
    const responses = await Promise.all([
      post(registration(name)),
      post(registration(name.toUpperCase())),
      post(registration(uniqueUsername('bystander'))),
      post(registration(name)),
    ]);
    const statuses = responses.map((r) => r.statusCode);
    expect(statuses.filter((s) => s === 201)).toHaveLength(2); // the winner and the bystander
    expect(statuses.filter((s) => s === 409)).toHaveLength(2);
    expect(statuses[2]).toBe(201);
  });

  it.each([
    ['too short', 'ab'],
    ['too long', 'a'.repeat(33)],
    ['space', 'bad name'],
    ['dash', 'bad-name'],
    ['Cyrillic а (confusable with Latin a)', 'аlice'],
    ['Greek ο (confusable with Latin o)', 'bοb'],
    ['fullwidth letters', 'ａｌｉｃｅ'],
    ['Turkish dotted İ', 'İnci'],
    ['zero-width joiner', 'ali\u200dce'],
    ['emoji', 'al😀ice'],
  ])('rejects a username with %s', async (_why, username) => {
    const response = await post(registration(username));
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toBe('bad_request');
    expect(response.json().message).toContain('/username');
  });

  it('rejects keys of the wrong size', async () => {
    const body = registration(uniqueUsername());
    const short = { ...body, identityKey: Buffer.alloc(32, 5).toString('base64') };
    expect((await post(short)).statusCode).toBe(400);
    const badKyber = {
      ...body,
      pqLastResortPreKey: { ...body.pqLastResortPreKey, publicKey: 'AAAA' },
    };
    expect((await post(badKyber)).statusCode).toBe(400);
    const badSig = {
      ...body,
      signedPreKey: { ...body.signedPreKey, signature: Buffer.alloc(63).toString('base64') },
    };
    expect((await post(badSig)).statusCode).toBe(400);
  });

  it('rejects more than 100 one-time prekeys, duplicate key ids and unknown fields', async () => {
    expect((await post(registration(uniqueUsername(), { preKeys: 101 }))).statusCode).toBe(400);
    const body = registration(uniqueUsername());
    const dup = { ...body, preKeys: [body.preKeys[0], body.preKeys[0]] };
    const response = await post(dup);
    expect(response.statusCode).toBe(400);
    expect(response.json().message).toContain('twice');
    expect((await post({ ...registration(uniqueUsername()), admin: true })).statusCode).toBe(400);
  });

  it('answers 400, not 500, to malformed JSON, wrong content type and empty bodies', async () => {
    const malformed = await relay.app.inject({
      method: 'POST',
      url: '/v1/accounts',
      headers: { 'content-type': 'application/json' },
      payload: '{"username": "<script>',
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.body).not.toContain('<script>');
    const text = await relay.app.inject({
      method: 'POST',
      url: '/v1/accounts',
      headers: { 'content-type': 'application/xml' },
      payload: '<hello/>',
    });
    expect(text.statusCode).toBe(415);
    expect(text.json().error).toBe('unsupported_media_type');
    const empty = await relay.app.inject({ method: 'POST', url: '/v1/accounts' });
    expect(empty.statusCode).toBe(400);
  });

  it('rejects __proto__ keys (prototype poisoning) with 400', async () => {
    const response = await relay.app.inject({
      method: 'POST',
      url: '/v1/accounts',
      headers: { 'content-type': 'application/json' },
      payload: `{"__proto__": {"admin": true}, "username": "proto_user"}`,
    });
    expect(response.statusCode).toBe(400);
  });
});

describe('GET /v1/accounts/me and usernames', () => {
  it('returns who the credential belongs to', async () => {
    const name = uniqueUsername('me');
    const device = await register(relay.app, { username: name });
    const response = await relay.app.inject({
      method: 'GET',
      url: '/v1/accounts/me',
      headers: device.headers,
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      accountId: device.accountId,
      deviceId: 1,
      username: name,
    });
  });

  it('changes the username, frees the old one, and rejects a taken one', async () => {
    const a = await register(relay.app);
    const b = await register(relay.app, { username: uniqueUsername('taken') });
    const bName = (
      await relay.app.inject({ method: 'GET', url: '/v1/accounts/me', headers: b.headers })
    ).json().username;
    const newName = uniqueUsername('Renamed');
    const changed = await relay.app.inject({
      method: 'PUT',
      url: '/v1/accounts/me/username',
      headers: a.headers,
      payload: { username: newName },
    });
    expect(changed.statusCode).toBe(200);
    expect(changed.json()).toEqual({ accountId: a.accountId, username: newName.toLowerCase() });
    const taken = await relay.app.inject({
      method: 'PUT',
      url: '/v1/accounts/me/username',
      headers: a.headers,
      payload: { username: bName.toUpperCase() },
    });
    expect(taken.statusCode).toBe(409);
  });

  it('looks accounts up by username, case-insensitively', async () => {
    const name = uniqueUsername('findme');
    const target = await register(relay.app, { username: name });
    const me = await register(relay.app);
    const found = await relay.app.inject({
      method: 'GET',
      url: `/v1/accounts/username/${name.toUpperCase()}`,
      headers: me.headers,
    });
    expect(found.statusCode).toBe(200);
    expect(found.json()).toEqual({ accountId: target.accountId, username: name });
    const missing = await relay.app.inject({
      method: 'GET',
      url: '/v1/accounts/username/nobody_here',
      headers: me.headers,
    });
    expect(missing.statusCode).toBe(404);
  });
});
