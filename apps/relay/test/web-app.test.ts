import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, ENV, loadConfig } from '../src/config.ts';
import { register, startRelay, type TestRelay } from './helpers.ts';

/** The relay's API policy (helmet's formatting). */
const API_CSP = "default-src 'none';frame-ancestors 'none';base-uri 'none';form-action 'none'";

/** A miniature Vite build: index.html, a hashed bundle and a stylesheet, a favicon. */
function fakeBuild(): string {
  const root = mkdtempSync(join(tmpdir(), 'parley-web-'));
  mkdirSync(join(root, 'assets'));
  writeFileSync(
    join(root, 'index.html'),
    '<!doctype html><html><head><script type="module" src="/assets/index-AbC123.js"></script>' +
      '</head><body><div id="root"></div></body></html>',
  );
  writeFileSync(join(root, 'assets', 'index-AbC123.js'), 'console.log("parley");\n');
  writeFileSync(join(root, 'assets', 'index-AbC123.css'), 'body { margin: 0 }\n');
  writeFileSync(join(root, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  writeFileSync(join(root, '.env'), 'SECRET=1\n');
  return root;
}

function directives(csp: string | undefined): Map<string, string> {
  return new Map(
    (csp ?? '')
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .map(([name = '', ...values]) => [name, values.join(' ')]),
  );
}

describe('the relay serving the web app (PARLEY_RELAY_WEB_ROOT)', () => {
  let web: string;
  let relay: TestRelay;
  beforeAll(async () => {
    web = fakeBuild();
    relay = await startRelay({ overrides: { webRoot: web } });
  });
  afterAll(async () => {
    await relay.destroy();
    rmSync(web, { recursive: true, force: true });
  });

  it('serves index.html at / with a strict page CSP', async () => {
    const res = await relay.app.inject({
      method: 'GET',
      url: '/',
      headers: { host: 'chat.example.com:8080' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.body).toContain('<div id="root"></div>');
    expect(res.headers['cache-control']).toBe('no-cache');
    const csp = res.headers['content-security-policy'] as string;
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
    const d = directives(csp);
    expect(d.get('default-src')).toBe("'none'");
    expect(d.get('script-src')).toBe("'self'");
    expect(d.get('style-src')).toBe("'self'");
    expect(d.get('img-src')).toBe("'self' blob:");
    expect(d.get('font-src')).toBe("'self'");
    expect(d.get('connect-src')).toBe("'self' ws://chat.example.com:8080");
    expect(d.get('base-uri')).toBe("'none'");
    expect(d.get('form-action')).toBe("'none'");
    expect(d.get('frame-ancestors')).toBe("'none'");
    // The page may use the camera (QR scanning), on this origin only; every other feature off.
    const permissions = res.headers['permissions-policy'] as string;
    expect(permissions).toContain('camera=(self)');
    expect(permissions).toContain('microphone=()');
    expect(permissions).toContain('geolocation=()');
    // The relay's other hardening headers stay.
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['access-control-allow-origin']).toBeUndefined();

    const again = await relay.app.inject({ method: 'GET', url: '/index.html' });
    expect(again.statusCode).toBe(200);
    expect(again.body).toBe(res.body);
  });

  it('uses wss: behind TLS and never repeats a malformed Host', async () => {
    const evil = await relay.app.inject({
      method: 'GET',
      url: '/',
      headers: { host: "evil.example; script-src 'unsafe-inline'" },
    });
    expect(evil.statusCode).toBe(200);
    expect(evil.headers['content-security-policy']).not.toContain('unsafe-inline');
    expect(directives(evil.headers['content-security-policy'] as string).get('connect-src')).toBe(
      "'self'",
    );
  });

  it('serves hashed assets with long-lived cache headers, other files revalidated', async () => {
    const js = await relay.app.inject({ method: 'GET', url: '/assets/index-AbC123.js' });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toMatch(/javascript/);
    expect(js.body).toBe('console.log("parley");\n');
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const css = await relay.app.inject({ method: 'GET', url: '/assets/index-AbC123.css' });
    expect(css.headers['content-type']).toMatch(/^text\/css/);
    expect(css.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const icon = await relay.app.inject({ method: 'GET', url: '/favicon.svg' });
    expect(icon.statusCode).toBe(200);
    expect(icon.headers['cache-control']).toBe('no-cache');
    const head = await relay.app.inject({ method: 'HEAD', url: '/' });
    expect(head.statusCode).toBe(200);
  });

  it('answers unknown paths, dotfiles and unknown API paths with the JSON 404', async () => {
    for (const url of ['/v1/nope', '/nope', '/assets/missing.js', '/.env', '/../package.json']) {
      const res = await relay.app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(404);
      expect(res.json(), url).toEqual({ error: 'not_found', message: 'no such route' });
      expect(res.headers['content-security-policy'], url).toBe(API_CSP);
    }
  });

  it('leaves the API and its headers as they were', async () => {
    const health = await relay.app.inject({ method: 'GET', url: '/health' });
    expect(health.json()).toEqual({ status: 'ok' });
    expect(health.headers['cache-control']).toBe('no-store');
    expect(health.headers['content-security-policy']).toBe(API_CSP);
    expect(health.headers['permissions-policy']).toContain('camera=()');
    const device = await register(relay.app);
    expect(device.deviceId).toBe(1);
  });
});

describe('without PARLEY_RELAY_WEB_ROOT', () => {
  it('serves no web app', async () => {
    const relay = await startRelay();
    try {
      const res = await relay.app.inject({ method: 'GET', url: '/' });
      expect(res.statusCode).toBe(404);
      expect(res.json()).toMatchObject({ error: 'not_found' });
    } finally {
      await relay.destroy();
    }
  });
});

describe('PARLEY_RELAY_WEB_ROOT validation', () => {
  const problemsFor = (value: string): readonly string[] => {
    try {
      loadConfig({ [ENV.webRoot]: value });
    } catch (err) {
      if (err instanceof ConfigError) return err.problems;
      throw err;
    }
    return [];
  };

  it('accepts a directory with index.html and resolves it', () => {
    const web = fakeBuild();
    try {
      expect(loadConfig({ [ENV.webRoot]: web }).webRoot).toBe(web);
      expect(loadConfig({}).webRoot).toBeUndefined();
    } finally {
      rmSync(web, { recursive: true, force: true });
    }
  });

  it('rejects a missing path, a file, and a directory without index.html', () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-web-bad-'));
    try {
      writeFileSync(join(dir, 'file.txt'), 'x');
      const missing = problemsFor(join(dir, 'nope'));
      expect(missing).toHaveLength(1);
      expect(missing[0]).toMatch(/^PARLEY_RELAY_WEB_ROOT must be an existing directory/);
      expect(problemsFor(join(dir, 'file.txt'))[0]).toMatch(/must be an existing directory/);
      expect(problemsFor(dir)[0]).toMatch(/^PARLEY_RELAY_WEB_ROOT must contain index\.html/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
