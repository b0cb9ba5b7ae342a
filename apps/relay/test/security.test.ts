import { randomBytes } from 'node:crypto';
import { WS_SUBPROTOCOL, type Envelope } from '@parley/protocol';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  basicAuthorizationFor,
  link,
  register,
  registration,
  send,
  startRelay,
  type TestDevice,
  type TestRelay,
} from './helpers.ts';

let relay: TestRelay;
let alice: TestDevice;
let bob: TestDevice;
beforeAll(async () => {
  relay = await startRelay({ overrides: { corsOrigins: ['https://app.parley.example'] } });
  alice = await register(relay.app);
  bob = await register(relay.app);
});
afterAll(async () => relay.destroy());

const ZERO_UUID = '00000000-0000-4000-8000-000000000000';

/** Every route that needs a device login, with a request that would otherwise be valid. */
function authenticatedRoutes(): (InjectOptions & { method: string; url: string })[] {
  return [
    { method: 'GET', url: '/v1/accounts/me' },
    { method: 'PUT', url: '/v1/accounts/me/username', payload: { username: 'someone_new' } },
    { method: 'GET', url: '/v1/accounts/username/someone' },
    { method: 'GET', url: '/v1/accounts/me/export' },
    { method: 'POST', url: '/v1/accounts/gone', payload: { accountIds: [ZERO_UUID] } },
    { method: 'DELETE', url: '/v1/accounts/me' },
    { method: 'GET', url: '/v1/devices' },
    { method: 'DELETE', url: '/v1/devices/2' },
    { method: 'POST', url: '/v1/devices/linking-code' },
    { method: 'PUT', url: '/v1/keys', payload: { preKeys: [] } },
    { method: 'GET', url: '/v1/keys/status' },
    { method: 'GET', url: `/v1/keys/${ZERO_UUID}/*` },
    { method: 'PUT', url: `/v1/messages/${ZERO_UUID}`, payload: { timestamp: 1, messages: [] } },
    { method: 'PUT', url: '/v1/messages/multi_recipient', payload: {} },
    { method: 'GET', url: '/v1/messages' },
    { method: 'DELETE', url: `/v1/messages/${ZERO_UUID}` },
    { method: 'PUT', url: `/v1/provisioning/${'A'.repeat(43)}`, payload: { body: 'AAAA' } },
    { method: 'GET', url: '/v1/certificate/delivery' },
    {
      method: 'PUT',
      url: '/v1/accounts/me/unidentified-access',
      payload: { unidentifiedAccessKey: null },
    },
    { method: 'POST', url: '/v1/attachments', headers: TUS_CREATE },
    { method: 'DELETE', url: `/v1/attachments/${'A'.repeat(22)}`, headers: TUS_CREATE },
    {
      method: 'PATCH',
      url: `/v1/attachments/${'A'.repeat(22)}`,
      headers: { ...TUS_CREATE, 'content-type': 'application/offset+octet-stream' },
      payload: Buffer.from('x'),
    },
  ];
}
/** A valid tus creation apart from the login (the attachment routes). */
const TUS_CREATE = { 'tus-resumable': '1.0.0', 'upload-length': '10', 'upload-offset': '0' };
const PUBLIC_ROUTES = [
  'GET /health',
  'GET /ready',
  'POST /v1/accounts',
  'POST /v1/devices/link',
  // Sealed sender: no login by design (the recipient's access key authorises a sealed send;
  // `sealed-routes.ts` tests that a wrong or missing one is refused).
  'GET /v1/certificate/trust-root',
  'PUT /v1/messages/sealed/:accountId',
  'PUT /v1/messages/sealed_multi_recipient',
  // The attachment id is the capability (128 random bits); uploads need a login.
  'GET /v1/attachments/:id',
];

describe('authentication', () => {
  it('the list above covers every route the OpenAPI document marks as authenticated', async () => {
    const doc = (await relay.app.inject({ method: 'GET', url: '/docs/openapi.json' })).json<{
      paths: Record<string, Record<string, { security?: unknown[] }>>;
    }>();
    const documented = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({
        route: `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`,
        secured: (op.security?.length ?? 0) > 0,
      })),
    );
    const secured = documented.filter((r) => r.secured).map((r) => r.route);
    const open = documented.filter((r) => !r.secured).map((r) => r.route);
    expect(open.sort()).toEqual([...PUBLIC_ROUTES].sort());
    expect(secured).toHaveLength(authenticatedRoutes().length);
  });

  it.each(authenticatedRoutes().map((r) => [`${r.method} ${r.url}`, r] as const))(
    '%s: 401 without a credential, with a wrong one, and with a malformed header',
    async (_name, route) => {
      const wrong = { ...alice, credential: randomBytes(32).toString('base64url') };
      const otherDevice = { ...alice, deviceId: 5 };
      for (const authorization of [
        undefined,
        basicAuthorizationFor(wrong),
        basicAuthorizationFor(otherDevice),
        `Basic ${Buffer.from(`${alice.accountId}.1:${alice.credential.slice(0, -1)}`).toString('base64')}`,
        `Bearer ${alice.credential}`,
        'Basic %%%',
      ]) {
        const response = await relay.app.inject({
          ...route,
          headers: { ...route.headers, ...(authorization === undefined ? {} : { authorization }) },
        });
        expect(response.statusCode, String(authorization)).toBe(401);
        expect(response.json()).toEqual({
          error: 'unauthorized',
          message: 'missing or invalid device credentials',
        });
      }
    },
  );

  it('audits failed logins without the presented credential', async () => {
    const wrong = { ...alice, credential: randomBytes(32).toString('base64url') };
    await relay.app.inject({
      method: 'GET',
      url: '/v1/devices',
      headers: { authorization: basicAuthorizationFor(wrong) },
    });
    const records = relay.logs.records().filter((r) => r.audit === 'auth.failed');
    expect(records.at(-1)).toMatchObject({ reason: 'bad_credential', accountId: alice.accountId });
    expect(relay.logs.text()).not.toContain(wrong.credential);
  });
});

describe('hostile input', () => {
  const sqli = [
    "' OR '1'='1",
    "admin'--",
    "x'; DROP TABLE accounts; --",
    '1 UNION SELECT * FROM devices',
  ];
  const xss = [
    '<script>alert(1)</script>',
    '"><img src=x onerror=alert(1)>',
    'javascript:alert(1)',
  ];

  it.each([...sqli, ...xss])('username %j is rejected with 400 and not echoed', async (payload) => {
    const registered = await relay.app.inject({
      method: 'POST',
      url: '/v1/accounts',
      payload: registration(payload),
    });
    expect(registered.statusCode).toBe(400);
    expect(registered.body).not.toContain(payload);
    const lookup = await relay.app.inject({
      method: 'GET',
      url: `/v1/accounts/username/${encodeURIComponent(payload)}`,
      headers: alice.headers,
    });
    expect(lookup.statusCode).toBeGreaterThanOrEqual(400);
    expect(lookup.statusCode).toBeLessThan(500);
    expect(lookup.body).not.toContain(payload);
  });

  it.each([...sqli, ...xss])(
    'path parameter %j is rejected with 4xx and not echoed',
    async (payload) => {
      const p = encodeURIComponent(payload);
      for (const [method, url] of [
        ['GET', `/v1/keys/${p}/*`],
        ['GET', `/v1/keys/${alice.accountId}/${p}`],
        ['PUT', `/v1/messages/${p}`],
        ['DELETE', `/v1/messages/${p}`],
        ['DELETE', `/v1/devices/${p}`],
        ['PUT', `/v1/provisioning/${p}`],
      ] as const) {
        const response = await relay.app.inject({
          method,
          url,
          headers: alice.headers,
          payload: {},
        });
        expect(response.statusCode, `${method} ${url}`).toBeGreaterThanOrEqual(400);
        expect(response.statusCode, `${method} ${url}`).toBeLessThan(500);
        expect(response.body).not.toContain(payload);
      }
      // The tables are intact.
      const me = await relay.app.inject({
        method: 'GET',
        url: '/v1/accounts/me',
        headers: alice.headers,
      });
      expect(me.statusCode).toBe(200);
    },
  );

  it('never answers 5xx to junk bodies on any route', async () => {
    const junk: unknown[] = [
      null,
      0,
      'x',
      [],
      {},
      { a: { b: { c: [] } } },
      { timestamp: -1 },
      { username: 42 },
    ];
    const routes = [
      ...authenticatedRoutes(),
      { method: 'POST', url: '/v1/accounts' },
      { method: 'POST', url: '/v1/devices/link' },
    ];
    for (const route of routes) {
      if (route.method === 'GET' || route.url === '/v1/accounts/me') continue;
      for (const body of junk) {
        const response = await relay.app.inject({
          method: route.method as 'PUT',
          url: route.url,
          headers: { ...bob.headers, 'content-type': 'application/json' },
          payload: JSON.stringify(body),
        });
        expect(
          response.statusCode,
          `${route.method} ${route.url} ${JSON.stringify(body)}`,
        ).toBeLessThan(500);
      }
    }
  });

  it('refuses bodies over the size limit with 413', async () => {
    const response = await relay.app.inject({
      method: 'PUT',
      url: `/v1/messages/${bob.accountId}`,
      headers: { ...alice.headers, 'content-type': 'application/json' },
      payload: JSON.stringify({ junk: 'x'.repeat(relay.config.bodyLimitBytes) }),
    });
    expect(response.statusCode).toBe(413);
    expect(response.json().error).toBe('payload_too_large');
  });

  it('does not let a sender forge the source of an envelope', async () => {
    const response = await relay.app.inject({
      method: 'PUT',
      url: `/v1/messages/${bob.accountId}`,
      headers: alice.headers,
      payload: {
        timestamp: 1,
        sourceAccountId: bob.accountId,
        messages: [
          {
            type: 'message',
            destinationDeviceId: 1,
            destinationRegistrationId: bob.registrationId,
            content: 'AAAA',
          },
        ],
      },
    });
    expect(response.statusCode).toBe(400);
  });
});

describe('cross-account access', () => {
  it('cannot read, ack or delete another account’s queue or devices', async () => {
    const victim = await register(relay.app);
    const victim2 = await link(relay.app, victim);
    const mallory = await register(relay.app);
    await send(
      relay.app,
      alice,
      [victim, victim2],
      Buffer.from('for the victim').toString('base64'),
    );
    const victimQueue = async () =>
      (
        await relay.app.inject({ method: 'GET', url: '/v1/messages', headers: victim.headers })
      ).json<{
        envelopes: Envelope[];
      }>().envelopes;
    const [envelope] = await victimQueue();

    const read = await relay.app.inject({
      method: 'GET',
      url: '/v1/messages',
      headers: mallory.headers,
    });
    expect(read.json().envelopes).toEqual([]);
    const ackOther = await relay.app.inject({
      method: 'DELETE',
      url: `/v1/messages/${(envelope as Envelope).id}`,
      headers: mallory.headers,
    });
    expect(ackOther.statusCode).toBe(404);
    // Even another device of the same account cannot ack someone else's envelope copy.
    const victim2Ack = await relay.app.inject({
      method: 'DELETE',
      url: `/v1/messages/${(envelope as Envelope).id}`,
      headers: victim2.headers,
    });
    expect(victim2Ack.statusCode).toBe(404);
    expect(await victimQueue()).toHaveLength(1);

    const removeOther = await relay.app.inject({
      method: 'DELETE',
      url: `/v1/devices/${victim2.deviceId}`,
      headers: mallory.headers,
    });
    expect(removeOther.statusCode).toBe(404);
    const devices = await relay.app.inject({
      method: 'GET',
      url: '/v1/devices',
      headers: victim.headers,
    });
    expect(devices.json().devices).toHaveLength(2);

    const exported = await relay.app.inject({
      method: 'GET',
      url: '/v1/accounts/me/export',
      headers: mallory.headers,
    });
    expect(exported.body).not.toContain(victim.accountId);
  });
});

describe('security headers and CORS', () => {
  it.each([
    ['GET', '/health', undefined],
    ['GET', '/nope', undefined],
    ['GET', '/v1/devices', undefined],
    ['POST', '/v1/accounts', {}],
  ] as const)('%s %s carries the security headers', async (method, url, payload) => {
    const response = await relay.app.inject({ method, url, ...(payload ? { payload } : {}) });
    const h = response.headers;
    expect(h['content-security-policy']).toContain("default-src 'none'");
    expect(h['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(h['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    expect(h['x-frame-options']).toBe('DENY');
    expect(h['x-content-type-options']).toBe('nosniff');
    expect(h['referrer-policy']).toBe('no-referrer');
    expect(h['permissions-policy']).toContain('camera=()');
    expect(h['cache-control']).toBe('no-store');
  });

  it('allows only configured origins', async () => {
    const allowed = await relay.app.inject({
      method: 'OPTIONS',
      url: '/v1/messages',
      headers: { origin: 'https://app.parley.example', 'access-control-request-method': 'GET' },
    });
    expect(allowed.headers['access-control-allow-origin']).toBe('https://app.parley.example');
    const denied = await relay.app.inject({
      method: 'GET',
      url: '/health',
      headers: { origin: 'https://evil.example' },
    });
    expect(denied.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('rate limits', () => {
  let limited: TestRelay;
  beforeAll(async () => {
    limited = await startRelay({
      overrides: {
        rateLimits: {
          registration: { max: 2, windowMs: 60_000 },
          bundlePerRequester: { max: 3, windowMs: 60_000 },
          bundlePerTarget: { max: 5, windowMs: 60_000 },
          linking: { max: 2, windowMs: 60_000 },
        },
      },
    });
  });
  afterAll(async () => limited.destroy());

  const expect429 = (response: {
    statusCode: number;
    headers: Record<string, unknown>;
    json: () => unknown;
  }) => {
    expect(response.statusCode).toBe(429);
    expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
    expect(response.json()).toMatchObject({ error: 'rate_limited' });
  };

  it('limits registrations per IP', async () => {
    await register(limited.app);
    await register(limited.app);
    expect429(
      await limited.app.inject({
        method: 'POST',
        url: '/v1/accounts',
        payload: registration('third_one'),
      }),
    );
    const audit = limited.logs.records().find((r) => r.audit === 'rate_limit.exceeded');
    expect(audit).toMatchObject({ limit: 'registration' });
  });

  it('bundle limits stop the abuser, never the victim: per pair, per requester, then a high per-target ceiling', async () => {
    const fresh = await startRelay({
      overrides: {
        rateLimits: {
          bundlePerPair: { max: 2, windowMs: 60_000 },
          bundlePerRequester: { max: 4, windowMs: 60_000 },
          bundlePerTarget: { max: 5, windowMs: 60_000 },
        },
      },
    });
    try {
      const target = await register(fresh.app);
      const [abuser, friend, other, colluder1, colluder2, u, v, w] = (await Promise.all(
        Array.from({ length: 8 }, () => register(fresh.app)),
      )) as TestDevice[] as [
        TestDevice,
        TestDevice,
        TestDevice,
        TestDevice,
        TestDevice,
        TestDevice,
        TestDevice,
        TestDevice,
      ];
      const fetch = (by: TestDevice, of = target.accountId) =>
        fresh.app.inject({ method: 'GET', url: `/v1/keys/${of}/*`, headers: by.headers });
      for (let i = 0; i < 2; i++) expect((await fetch(abuser)).statusCode).toBe(200);
      // The abuser hammers the target: every further fetch is refused by its own pair limit…
      for (let i = 0; i < 100; i++) expect429(await fetch(abuser));
      // …and none of them counts against the target: others still start conversations.
      expect((await fetch(friend)).statusCode).toBe(200);
      expect((await fetch(other)).statusCode).toBe(200);
      // The per-requester limit caps the abuser across targets.
      expect((await fetch(abuser, u.accountId)).statusCode).toBe(200);
      expect((await fetch(abuser, v.accountId)).statusCode).toBe(200);
      expect429(await fetch(abuser, w.accountId));
      expect((await fetch(friend, w.accountId)).statusCode).toBe(200);
      // Many colluding accounts still cannot drain the target past its ceiling.
      expect((await fetch(colluder1)).statusCode).toBe(200); // 5th allowed fetch of the target
      expect429(await fetch(colluder2));
      const limits = fresh.logs
        .records()
        .filter((r) => r.audit === 'rate_limit.exceeded')
        .map((r) => r.limit);
      expect(new Set(limits)).toEqual(
        new Set(['bundle-pair', 'bundle-requester', 'bundle-target']),
      );
    } finally {
      await fresh.destroy();
    }
  });

  it('limits linking attempts per IP', async () => {
    const attempt = () =>
      limited.app.inject({
        method: 'POST',
        url: '/v1/devices/link',
        payload: { linkingCode: 'A'.repeat(22) },
      });
    await attempt();
    await attempt();
    expect429(await attempt());
  });

  it('limits username changes per account like lookups (a 409 reveals a taken name)', async () => {
    const fresh = await startRelay({
      overrides: { rateLimits: { usernameChange: { max: 3, windowMs: 60_000 } } },
    });
    try {
      const [prober, victim, bystander] = [
        await register(fresh.app),
        await register(fresh.app, { username: 'probed_name' }),
        await register(fresh.app),
      ];
      const change = (by: TestDevice, username: string) =>
        fresh.app.inject({
          method: 'PUT',
          url: '/v1/accounts/me/username',
          headers: by.headers,
          payload: { username },
        });
      expect((await change(prober, 'probed_name')).statusCode).toBe(409);
      expect((await change(prober, 'Probed_Name')).statusCode).toBe(409);
      expect((await change(prober, 'free_name_1')).statusCode).toBe(200);
      for (let i = 0; i < 20; i++) expect429(await change(prober, `guess_${i}`));
      // Other accounts are not affected; the prober's 429s changed nothing.
      expect((await change(bystander, 'free_name_2')).statusCode).toBe(200);
      expect((await change(victim, 'probed_name_2')).statusCode).toBe(200);
      const me = await fresh.app.inject({
        method: 'GET',
        url: '/v1/accounts/me',
        headers: prober.headers,
      });
      expect(me.json()).toMatchObject({ username: 'free_name_1' });
    } finally {
      await fresh.destroy();
    }
  });

  it('limits username lookups, linking codes and provisioning sends per account', async () => {
    const fresh = await startRelay({
      overrides: {
        rateLimits: {
          usernameLookup: { max: 2, windowMs: 60_000 },
          linking: { max: 2, windowMs: 60_000 },
        },
      },
    });
    try {
      const [a, b] = [await register(fresh.app), await register(fresh.app)];
      const limits = () =>
        fresh.logs
          .records()
          .filter((r) => r.audit === 'rate_limit.exceeded')
          .map((r) => r.limit);
      const lookup = (by: TestDevice, name = 'nobody_at_all') =>
        fresh.app.inject({
          method: 'GET',
          url: `/v1/accounts/username/${name}`,
          headers: by.headers,
        });
      const issueCode = (by: TestDevice) =>
        fresh.app.inject({ method: 'POST', url: '/v1/devices/linking-code', headers: by.headers });
      const provision = (by: TestDevice) =>
        fresh.app.inject({
          method: 'PUT',
          url: `/v1/provisioning/${'A'.repeat(43)}`,
          headers: by.headers,
          payload: { body: 'AAAA' },
        });

      // Username lookups: misses count too (they are what enumeration looks like).
      expect((await lookup(a)).statusCode).toBe(404);
      expect((await lookup(a, 'Nobody_Else')).statusCode).toBe(404);
      expect429(await lookup(a));
      expect(limits()).toEqual(['username-lookup']);
      expect((await lookup(b)).statusCode).toBe(404); // per requester: b still may

      // Linking codes: the third in the window is refused, and no code is stored for it.
      expect((await issueCode(a)).statusCode).toBe(200);
      expect((await issueCode(a)).statusCode).toBe(200);
      const refused = await issueCode(a);
      expect429(refused);
      expect(refused.body).not.toContain('code":');
      expect(limits()).toEqual(['username-lookup', 'linking']);
      expect((await issueCode(b)).statusCode).toBe(200);

      // Provisioning sends: a counter of their own, and 404s (no one waiting) count.
      expect((await provision(a)).statusCode).toBe(404);
      expect((await provision(a)).statusCode).toBe(404);
      expect429(await provision(a));
      expect(limits()).toEqual(['username-lookup', 'linking', 'provisioning-send']);
      expect((await provision(b)).statusCode).toBe(404);

      // Retry-After is the time left in the window, in seconds.
      const retryAfter = Number((await lookup(a)).headers['retry-after']);
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(60);
    } finally {
      await fresh.destroy();
    }
  });

  it('limits provisioning sockets per IP: the upgrade is refused with 429 and Retry-After', async () => {
    const fresh = await startRelay({
      overrides: { rateLimits: { linking: { max: 2, windowMs: 60_000 } } },
    });
    const sockets: WebSocket[] = [];
    try {
      const base = (await fresh.app.listen({ host: '127.0.0.1', port: 0 })).replace(/^http/, 'ws');
      const open = () =>
        new Promise<{ status: number; retryAfter?: string }>((resolve, reject) => {
          const ws = new WebSocket(`${base}/v1/provisioning`, [WS_SUBPROTOCOL]);
          sockets.push(ws);
          ws.once('open', () => resolve({ status: 101 }));
          ws.once('unexpected-response', (_req, res) => {
            const retryAfter = res.headers['retry-after'];
            resolve({ status: res.statusCode ?? 0, ...(retryAfter ? { retryAfter } : {}) });
          });
          ws.once('error', reject);
        });
      expect(await open()).toEqual({ status: 101 });
      expect(await open()).toEqual({ status: 101 });
      const refused = await open();
      expect(refused.status).toBe(429);
      expect(Number(refused.retryAfter)).toBeGreaterThan(0);
      const audit = fresh.logs.records().find((r) => r.audit === 'rate_limit.exceeded');
      expect(audit).toMatchObject({ limit: 'provisioning-socket', ip: '127.0.0.1' });
    } finally {
      for (const ws of sockets) ws.terminate();
      await fresh.destroy();
    }
  });

  it('has a global per-IP limit that also throttles credential guessing', async () => {
    const tiny = await startRelay({
      overrides: { rateLimits: { global: { max: 3, windowMs: 60_000 } } },
    });
    try {
      const responses = [];
      for (let i = 0; i < 4; i++)
        responses.push(await tiny.app.inject({ method: 'GET', url: '/v1/devices' }));
      expect(responses.slice(0, 3).map((r) => r.statusCode)).toEqual([401, 401, 401]);
      expect429(responses[3] as (typeof responses)[number]);
      expect((await tiny.app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
    } finally {
      await tiny.destroy();
    }
  });
});
