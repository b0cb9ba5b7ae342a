/**
 * The web app's Content-Security-Policy, in one place for both ways a page gets it: the
 * `<meta>` a build of apps/web carries, and the header the relay sends when it serves the app.
 * Everything from the page's own origin only, no inline script or style, no eval; network access
 * only to `connectSrc` (the relay's HTTP and WebSocket origins). The QR codes are inline SVG and
 * the data export a `blob:` download, so `img-src` needs no `data:`.
 * @module
 */

/**
 * The policy with `connect-src connectSrc`. `frame-ancestors` only works in a header (a browser
 * ignores it in `<meta>`, with a console warning), so only `delivery: 'header'` includes it.
 */
export function webAppContentSecurityPolicy(
  connectSrc: string,
  delivery: 'header' | 'meta',
): string {
  const directives = [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' blob:",
    "font-src 'self'",
    "manifest-src 'self'",
    `connect-src ${connectSrc}`,
    "worker-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ];
  if (delivery === 'header') directives.push("frame-ancestors 'none'");
  return directives.join('; ');
}
