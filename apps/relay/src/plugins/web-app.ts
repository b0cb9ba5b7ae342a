/**
 * Serves a built web app (`config.webRoot`, e.g. `apps/web/dist`) on the relay's own origin, so
 * the page and the API share one origin: no CORS, and the page may connect only to itself.
 *
 * Only the files present at start-up get routes (`wildcard: false`), so every other path, and
 * every API path, still reaches the relay's JSON 404. The app keeps its routes in memory, never
 * in the URL, so there is no client-side-routing fallback. These responses get a strict
 * page-level CSP instead of the API's `default-src 'none'`; hashed assets are cached for a year,
 * everything else (index.html) is revalidated on each load.
 * @module
 */
import fastifyStatic from '@fastify/static';
import { webAppContentSecurityPolicy as sharedPolicy } from '@parley/protocol';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { PERMISSIONS_POLICY } from './security.ts';

/** Vite puts content-hashed bundles here; a changed file always gets a new name. */
const HASHED_ASSETS = '/assets/';

/**
 * A Host header we are willing to repeat in a header: hostname or [IPv6] and port characters
 * only (no spaces, quotes or semicolons that could add a directive).
 */
const SAFE_HOST = /^[A-Za-z0-9.:[\]-]{1,262}$/;

/** The page's Content-Security-Policy (shared with the build's `<meta>`), for this origin. */
export function webAppContentSecurityPolicy(request: FastifyRequest): string {
  const ws = request.protocol === 'https' ? 'wss:' : 'ws:';
  // 'self' covers ws(s) to the same host in CSP Level 3; the explicit origin is for browsers
  // that predate it. A malformed Host only drops that fallback, it never reaches the header.
  const sameOriginSocket = SAFE_HOST.test(request.host) ? ` ${ws}//${request.host}` : '';
  return sharedPolicy(`'self'${sameOriginSocket}`, 'header');
}

/**
 * The page's Permissions-Policy: the API's (every feature off) but for the camera, which this
 * origin alone may use, to scan a new device's link QR code. The browser still asks the user.
 */
export const WEB_APP_PERMISSIONS_POLICY = PERMISSIONS_POLICY.replace('camera=()', 'camera=(self)');

/** Registered without fastify-plugin: the hook below applies only to the static routes. */
const webAppPlugin: FastifyPluginAsync<{ root: string }> = async (app, { root }) => {
  // Runs after the relay's global hooks (helmet, no-store), so these values win.
  app.addHook('onRequest', async (request, reply) => {
    reply.header('content-security-policy', webAppContentSecurityPolicy(request));
    reply.header('permissions-policy', WEB_APP_PERMISSIONS_POLICY);
    reply.header(
      'cache-control',
      request.url.startsWith(HASHED_ASSETS) ? 'public, max-age=31536000, immutable' : 'no-cache',
    );
  });
  await app.register(fastifyStatic, {
    root,
    wildcard: false,
    index: 'index.html',
    dotfiles: 'ignore',
    serveDotFiles: false,
    cacheControl: false,
    redirect: false,
  });
};

export default webAppPlugin;
