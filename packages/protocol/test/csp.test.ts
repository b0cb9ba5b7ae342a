import { describe, expect, it } from 'vitest';
import { webAppContentSecurityPolicy } from '../src/csp.ts';

const directives = (csp: string) =>
  new Map(csp.split(';').map((d) => d.trim().split(/\s+(.*)/s) as [string, string]));

describe('the web app CSP', () => {
  it('allows only its own origin and the given connect sources, inline nothing', () => {
    const csp = webAppContentSecurityPolicy('https://relay.example wss://relay.example', 'meta');
    const d = directives(csp);
    expect(d.get('default-src')).toBe("'none'");
    expect(d.get('script-src')).toBe("'self'");
    expect(d.get('connect-src')).toBe('https://relay.example wss://relay.example');
    expect(csp).not.toMatch(/unsafe-|\*/);
  });

  it('puts frame-ancestors only into a header (browsers ignore it in <meta>)', () => {
    expect(directives(webAppContentSecurityPolicy("'self'", 'header')).get('frame-ancestors')).toBe(
      "'none'",
    );
    expect(directives(webAppContentSecurityPolicy("'self'", 'meta')).has('frame-ancestors')).toBe(
      false,
    );
  });
});
