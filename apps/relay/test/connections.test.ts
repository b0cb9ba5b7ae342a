/**
 * Connection hygiene and framework errors through real sockets (`inject` bypasses the HTTP
 * server): stalled and idle connections are closed while other clients are served, one IP
 * cannot hold more than its share of connections, and undecodable URLs or malformed HTTP get
 * the relay's JSON error with every security header and no echo of the input.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../src/config.ts';
import { API_SECURITY_HEADERS } from '../src/plugins/connections.ts';
import { listen, startRelay, type TestRelay } from './helpers.ts';

interface RawConnection {
  socket: Socket;
  /** Everything received until the server closed the connection. */
  closed: Promise<string>;
}

function open(port: number, send = ''): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    const closed = new Promise<string>((done) => {
      socket.on('data', (chunk) => (received += chunk.toString('latin1')));
      socket.on('close', () => done(received));
    });
    socket.on('error', () => undefined); // a reset is a close too
    socket.once('connect', () => {
      if (send !== '') socket.write(send);
      resolve({ socket, closed });
    });
    socket.once('error', reject);
  });
}

/** One raw HTTP/1.1 exchange: the status line, headers and body of the first response. */
async function exchange(port: number, raw: string) {
  const { closed, socket } = await open(port, raw);
  const text = await Promise.race([
    closed,
    new Promise<string>((resolve) => {
      let buffer = '';
      socket.on('data', (chunk) => {
        buffer += chunk.toString('latin1');
        const [head, body] = buffer.split('\r\n\r\n');
        const length = /content-length: (\d+)/i.exec(head ?? '')?.[1];
        if (length !== undefined && body !== undefined && body.length >= Number(length)) {
          resolve(buffer);
        }
      });
    }),
  ]);
  socket.destroy();
  const [head = '', body = ''] = text.split('\r\n\r\n');
  const [statusLine = '', ...headerLines] = head.split('\r\n');
  const headers = Object.fromEntries(
    headerLines.map((line) => {
      const at = line.indexOf(':');
      return [line.slice(0, at).toLowerCase(), line.slice(at + 1).trim()];
    }),
  );
  return { status: Number(statusLine.split(' ')[1]), headers, body, text };
}

let relay: TestRelay;
let port: number;
beforeAll(async () => {
  relay = await startRelay({
    overrides: {
      connections: {
        ...defaultConfig().connections,
        headersTimeoutMs: 500,
        requestTimeoutMs: 1000,
        keepAliveTimeoutMs: 500,
        checkingIntervalMs: 100,
        maxPerIp: 20,
      },
    },
  });
  port = Number(new URL((await listen(relay.app)).http).port);
});
afterAll(async () => relay.destroy());

const healthy = async () => (await fetch(`http://127.0.0.1:${port}/health`)).status;

describe('framework errors', () => {
  it('the API security headers are the ones every normal response carries', async () => {
    const normal = await relay.app.inject({ method: 'GET', url: '/no/such/route' });
    for (const [name, value] of Object.entries(API_SECURITY_HEADERS)) {
      expect(normal.headers[name], name).toBe(value);
    }
  });

  it.each([
    ['an undecodable percent escape', 'GET /v1/keys/%c0/1 HTTP/1.1\r\nHost: x\r\n\r\n', 'c0'],
    [
      'an invalid escape with markup',
      'GET /v1/%3Cscript%3E%zz HTTP/1.1\r\nHost: x\r\n\r\n',
      'script',
    ],
  ])('%s gets the JSON 400 with security headers and no echo', async (_name, raw, marker) => {
    const response = await exchange(port, raw);
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body)).toEqual({ error: 'bad_request', message: 'malformed URL' });
    for (const [name, value] of Object.entries(API_SECURITY_HEADERS)) {
      expect(response.headers[name], name).toBe(value);
    }
    expect(response.text).not.toContain(marker);
  });

  it('a raw <script> in the path is a plain JSON 404 without echo', async () => {
    const response = await exchange(port, 'GET /v1/<script>x</script> HTTP/1.1\r\nHost: x\r\n\r\n');
    expect([400, 404]).toContain(response.status);
    expect(response.headers['content-security-policy']).toBe(
      API_SECURITY_HEADERS['content-security-policy'],
    );
    expect(response.text).not.toContain('script');
  });

  it.each([
    ['garbage instead of HTTP', 'BLAH <script>\r\n\r\n'],
    ['a bad header line', 'GET /health HTTP/1.1\r\nHost: x\r\nbad header <script>\r\n\r\n'],
  ])('%s gets the JSON 400 with security headers, and the connection closes', async (_n, raw) => {
    const { closed } = await open(port, raw);
    const text = await closed;
    expect(text.startsWith('HTTP/1.1 400 ')).toBe(true);
    const [head = '', body = ''] = text.split('\r\n\r\n');
    expect(JSON.parse(body)).toEqual({ error: 'bad_request', message: 'malformed request' });
    for (const [name, value] of Object.entries(API_SECURITY_HEADERS)) {
      expect(head.toLowerCase()).toContain(`${name}: ${value}`.toLowerCase());
    }
    expect(text).not.toContain('script');
  });
});

describe('timeouts', () => {
  it('closes a connection that never sends a request, while others are served', async () => {
    const silent = await open(port);
    expect(await healthy()).toBe(200);
    await silent.closed; // the server, not the client, ends it
    expect(silent.socket.destroyed).toBe(true);
  });

  it('closes a request stalled inside its headers with 408', async () => {
    const stalled = await open(port, 'GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    expect(await healthy()).toBe(200);
    const text = await stalled.closed;
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    expect(text).toContain('"error":"bad_request"');
  });

  it('closes a request stalled inside its body', async () => {
    const stalled = await open(
      port,
      'PUT /v1/keys HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"a":',
    );
    expect(await healthy()).toBe(200);
    const text = await stalled.closed;
    expect(text).not.toMatch(/^HTTP\/1\.1 2/);
  });

  it('closes an idle keep-alive connection after its response', async () => {
    const kept = await open(port, 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
    const text = await kept.closed;
    expect(text).toMatch(/^HTTP\/1\.1 200 /);
  });
});

describe('connections per IP', () => {
  it('refuses connections beyond the cap from one IP; they are served again once it drops', async () => {
    const held = await Promise.all(Array.from({ length: 20 }, () => open(port)));
    const refused = await open(port, 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(await refused.closed).toBe('');
    for (const c of held) c.socket.destroy();
    await Promise.all(held.map((c) => c.closed));
    await expect.poll(healthy, { timeout: 30_000 }).toBe(200);
  });
});
