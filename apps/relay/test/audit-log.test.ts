/**
 * The structured audit log: security events are pino records with an `audit` field, written for
 * every registration, link, device removal and account deletion; and whatever secret a request
 * carries (credential, Authorization header, envelope body) never reaches a log line — also when
 * code logs such fields by mistake (the redaction in `src/logging.ts` is exercised directly).
 */
import { randomBytes } from 'node:crypto';
import { authSubprotocol, basicAuthorization } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDACT_PATHS } from '../src/logging.ts';
import {
  basicAuthorizationFor,
  deviceKeys,
  link,
  register,
  registration,
  send,
  sendBody,
  startRelay,
  type TestDevice,
  type TestRelay,
} from './helpers.ts';

let relay: TestRelay;
beforeAll(async () => {
  // trace: Fastify's own request logs too, as verbose as the relay gets.
  relay = await startRelay({ overrides: { logLevel: 'trace' } });
});
afterAll(async () => relay.destroy());

const auditRecords = (event: string) => relay.logs.records().filter((r) => r.audit === event);

/** Every form a device's secret could take in a log line. */
function secretForms(device: TestDevice): string[] {
  const authorization = basicAuthorization(device);
  return [
    device.credential,
    Buffer.from(device.credential, 'base64url').toString('base64'),
    Buffer.from(device.credential, 'base64url').toString('hex'),
    authorization,
    authorization.slice('Basic '.length),
    authSubprotocol(device),
  ];
}

describe('audit records', () => {
  it('account.registered, device.linking_code_issued, device.linked, device.removed, account.deleted', async () => {
    const primary = await register(relay.app);
    expect(auditRecords('account.registered').at(-1)).toMatchObject({
      level: 30,
      msg: 'account.registered',
      service: 'parley-relay',
      accountId: primary.accountId,
      ip: '127.0.0.1',
      time: expect.any(Number),
    });

    const second = await link(relay.app, primary);
    expect(auditRecords('device.linking_code_issued').at(-1)).toMatchObject({
      accountId: primary.accountId,
    });
    expect(auditRecords('device.linked').at(-1)).toMatchObject({
      msg: 'device.linked',
      accountId: primary.accountId,
      deviceId: second.deviceId,
      ip: '127.0.0.1',
    });

    const removed = await relay.app.inject({
      method: 'DELETE',
      url: `/v1/devices/${second.deviceId}`,
      headers: primary.headers,
    });
    expect(removed.statusCode).toBe(204);
    expect(auditRecords('device.removed').at(-1)).toMatchObject({
      msg: 'device.removed',
      accountId: primary.accountId,
      deviceId: second.deviceId,
      by: 1,
    });

    // A linked device removing itself is audited with itself as the actor.
    const third = await link(relay.app, primary);
    await relay.app.inject({
      method: 'DELETE',
      url: `/v1/devices/${third.deviceId}`,
      headers: third.headers,
    });
    expect(auditRecords('device.removed').at(-1)).toMatchObject({
      accountId: primary.accountId,
      deviceId: third.deviceId,
      by: third.deviceId,
    });

    const deleted = await relay.app.inject({
      method: 'DELETE',
      url: '/v1/accounts/me',
      headers: primary.headers,
    });
    expect(deleted.statusCode).toBe(204);
    expect(auditRecords('account.deleted').at(-1)).toMatchObject({
      msg: 'account.deleted',
      accountId: primary.accountId,
    });

    // The audit records themselves carry ids, never a secret.
    const text = JSON.stringify(relay.logs.records().filter((r) => r.audit !== undefined));
    for (const device of [primary, second, third])
      for (const form of secretForms(device)) expect(text).not.toContain(form);
  });

  it('failed or refused operations write no success record', async () => {
    const primary = await register(relay.app);
    const linked = await link(relay.app, primary);
    const before = (event: string) => auditRecords(event).length;
    const counts = ['device.removed', 'account.deleted', 'device.linked'].map(before);
    // A linked device may not remove the primary, nor delete the account.
    await relay.app.inject({ method: 'DELETE', url: '/v1/devices/1', headers: linked.headers });
    await relay.app.inject({ method: 'DELETE', url: '/v1/accounts/me', headers: linked.headers });
    const badCode = await relay.app.inject({
      method: 'POST',
      url: '/v1/devices/link',
      payload: { linkingCode: 'A'.repeat(22), ...deviceKeys() },
    });
    expect(badCode.statusCode).toBe(403);
    expect(auditRecords('device.link_failed').at(-1)).toMatchObject({ reason: 'invalid_code' });
    expect(['device.removed', 'account.deleted', 'device.linked'].map(before)).toEqual(counts);
  });
});

describe('no secret from a request reaches the logs', () => {
  it('credentials, Authorization headers and envelope bodies, in valid and rejected requests', async () => {
    const alice = await register(relay.app);
    const bob = await register(relay.app);
    const body = randomBytes(96).toString('base64');
    await send(relay.app, alice, [bob], body);
    await relay.app.inject({ method: 'GET', url: '/v1/messages', headers: bob.headers });
    // A wrong credential for a real device, a login for a device that does not exist.
    const wrong = { ...alice, credential: randomBytes(32).toString('base64url') };
    const ghost = { ...alice, deviceId: 77 };
    for (const login of [wrong, ghost]) {
      await relay.app.inject({
        method: 'PUT',
        url: `/v1/messages/${bob.accountId}`,
        headers: { authorization: basicAuthorizationFor(login) },
        payload: sendBody([bob], body),
      });
    }
    // Rejected bodies that carry secrets in fields the schemas do not allow.
    const rejectedBody = randomBytes(60).toString('base64');
    const rejected = [
      {
        method: 'POST' as const,
        url: '/v1/accounts',
        payload: { ...registration('leaky_one'), credential: alice.credential },
      },
      {
        method: 'PUT' as const,
        url: `/v1/messages/${bob.accountId}`,
        headers: alice.headers,
        payload: { ...sendBody([bob], rejectedBody), timestamp: -1 },
      },
      {
        method: 'PUT' as const,
        url: `/v1/messages/${bob.accountId}`,
        headers: alice.headers,
        payload: { ...sendBody([bob], `${rejectedBody}!`) },
      },
      {
        method: 'PUT' as const,
        url: `/v1/provisioning/${'A'.repeat(43)}`,
        headers: alice.headers,
        payload: { body: rejectedBody },
      },
      {
        method: 'GET' as const,
        url: '/v1/devices',
        headers: { authorization: `Bearer ${alice.credential}` },
      },
      {
        method: 'GET' as const,
        url: '/v1/devices',
        headers: { authorization: `Basic ${alice.credential}` },
      },
    ];
    for (const request of rejected) {
      const response = await relay.app.inject(request);
      expect(response.statusCode, request.url).toBeGreaterThanOrEqual(400);
      expect(response.statusCode, request.url).toBeLessThan(500);
      expect(response.body).not.toContain(alice.credential);
      expect(response.body).not.toContain(rejectedBody);
    }

    const logs = relay.logs.text();
    // Something was logged for all of it (the check below is not vacuous).
    expect(relay.logs.records().filter((r) => r.req !== undefined).length).toBeGreaterThan(10);
    for (const device of [alice, bob, wrong]) {
      for (const form of secretForms(device)) expect(logs).not.toContain(form);
    }
    for (const content of [body, rejectedBody]) {
      expect(logs).not.toContain(content);
      expect(logs).not.toContain(content.slice(0, 24));
      expect(logs).not.toContain(Buffer.from(content, 'base64').toString('hex').slice(0, 32));
    }
  });

  it('redaction censors secrets even when code logs them by mistake', async () => {
    const device = await register(relay.app);
    const authorization = device.headers.authorization;
    const subprotocol = authSubprotocol(device);
    const content = randomBytes(48).toString('base64');
    const provisioningBody = randomBytes(48).toString('base64');
    const mistakes = {
      headers: { authorization, 'sec-websocket-protocol': `parley.v1, ${subprotocol}` },
      credential: device.credential,
      content,
      body: provisioningBody,
      envelope: { id: 'e', content },
      frame: { type: 'envelope', envelope: { content }, body: provisioningBody },
      login: { accountId: device.accountId, credential: device.credential },
      message: { content, body: provisioningBody },
    };
    relay.app.log.warn(mistakes, 'a careless log line');
    relay.app.log.child({ reqId: 'child' }).error(mistakes, 'a careless child log line');

    const records = relay.logs.records().filter((r) => String(r.msg).startsWith('a careless'));
    expect(records).toHaveLength(2);
    for (const record of records) {
      expect(record).toMatchObject({
        headers: { authorization: '[redacted]', 'sec-websocket-protocol': '[redacted]' },
        credential: '[redacted]',
        content: '[redacted]',
        body: '[redacted]',
        envelope: '[redacted]',
        frame: { type: 'envelope', envelope: '[redacted]', body: '[redacted]' },
        login: { accountId: device.accountId, credential: '[redacted]' },
        message: { content: '[redacted]', body: '[redacted]' },
      });
      const line = JSON.stringify(record);
      for (const secret of [...secretForms(device), content, provisioningBody])
        expect(line).not.toContain(secret);
    }
    expect(REDACT_PATHS).toEqual(
      expect.arrayContaining(['req.headers.authorization', 'credential', '*.body', '*.envelope']),
    );
  });
});
