/**
 * The page's Content-Security-Policy, generated at build time from the relay's URL: scripts and
 * styles only from our own origin (no inline script, no eval), network access only to the relay
 * (HTTP and WebSocket), nothing may be framed, posted or based elsewhere. Without a relay URL
 * the app talks to the origin it was loaded from (the relay serves it: `PARLEY_RELAY_WEB_ROOT`),
 * and `connect-src 'self'` covers that origin's HTTP and WebSocket (CSP Level 3); the relay's
 * own header adds the explicit `ws(s):` origin, which it knows and a build does not.
 * @module
 */
// By path, not by package name: Vite's config loader leaves workspace packages to Node, which
// (20) cannot load their TypeScript; a relative import is bundled into the config.
import { webAppContentSecurityPolicy } from '../../packages/protocol/src/csp.ts';

/** The relay's HTTP origin and matching WebSocket origin. */
export function relayOrigins(relayUrl: string): { http: string; ws: string } {
  const url = new URL(relayUrl);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`PARLEY_RELAY_URL must be an http(s) URL, got "${relayUrl}"`);
  }
  const ws = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return { http: url.origin, ws: `${ws}//${url.host}` };
}

export function contentSecurityPolicy(relayUrl: string | undefined): string {
  let connect = "'self'";
  if (relayUrl !== undefined) {
    const { http, ws } = relayOrigins(relayUrl);
    connect = `${http} ${ws}`;
  }
  return webAppContentSecurityPolicy(connect, 'meta');
}
