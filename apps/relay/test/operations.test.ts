import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CloseCode } from '@parley/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, register, startRelay, type TestRelay } from './helpers.ts';

const relays: TestRelay[] = [];
afterEach(async () => {
  for (const relay of relays.splice(0)) await relay.destroy();
});
const start = async (...args: Parameters<typeof startRelay>) => {
  const relay = await startRelay(...args);
  relays.push(relay);
  return relay;
};

describe('health, readiness and docs', () => {
  it('/health and /ready answer 200', async () => {
    const relay = await start();
    expect((await relay.app.inject({ method: 'GET', url: '/health' })).json()).toEqual({
      status: 'ok',
    });
    expect((await relay.app.inject({ method: 'GET', url: '/ready' })).json()).toEqual({
      status: 'ready',
    });
  });

  it('/ready answers 503 when storage fails', async () => {
    const relay = await start();
    const ping = relay.app.relay.store.ping;
    relay.app.relay.store.ping = async () => {
      throw new Error('disk gone');
    };
    const response = await relay.app.inject({ method: 'GET', url: '/ready' });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toEqual({ status: 'not_ready' });
    relay.app.relay.store.ping = ping;
  });

  it('serves an OpenAPI document generated from the route schemas', async () => {
    const relay = await start();
    const doc = (await relay.app.inject({ method: 'GET', url: '/docs/openapi.json' })).json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/accounts',
        '/v1/keys/{accountId}/{deviceId}',
        '/v1/messages/multi_recipient',
      ]),
    );
    const register = doc.paths['/v1/accounts'].post;
    expect(
      register.requestBody.content['application/json'].schema.properties.username.pattern,
    ).toBe('^[A-Za-z0-9_.]{3,32}$');
    expect(doc.components.securitySchemes.device).toMatchObject({ type: 'http', scheme: 'basic' });
  });

  it('answers unknown routes with a JSON 404', async () => {
    const relay = await start();
    const response = await relay.app.inject({ method: 'GET', url: '/admin' });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ error: 'not_found', message: 'no such route' });
  });
});

describe('shutdown', () => {
  it('closes sockets with 1001 and reports not ready while closing', async () => {
    const relay = await start();
    const address = await relay.app.listen({ host: '127.0.0.1', port: 0 });
    const device = await register(relay.app);
    const socket = await connect(address.replace(/^http/, 'ws'), device);
    await socket.waitFor((f) => f.type === 'queue_empty');
    const closing = relay.close();
    expect((await socket.closed).code).toBe(CloseCode.GoingAway);
    expect(relay.app.relay.closing).toBe(true);
    await closing;
  });
});

describe('TLS', () => {
  it('serves HTTPS when given a certificate and key', async () => {
    const relay = await start();
    const cert = join(relay.dir, 'cert.pem');
    const key = join(relay.dir, 'key.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    const tls = await start({
      dir: relay.dir,
      overrides: { tls: { certPath: cert, keyPath: key }, dbPath: join(relay.dir, 'tls.db') },
    });
    const address = await tls.app.listen({ host: '127.0.0.1', port: 0 });
    expect(address).toMatch(/^https:/);
    const { request } = await import('node:https');
    const status = await new Promise<number>((resolve, reject) => {
      request(`${address}/health`, { ca: [readFileSync(cert)] }, (res) =>
        resolve(res.statusCode ?? 0),
      )
        .on('error', reject)
        .end();
    });
    expect(status).toBe(200);
  });
});
