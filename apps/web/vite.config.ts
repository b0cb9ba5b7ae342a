import react from '@vitejs/plugin-react';
import { defaultClientConditions, defineConfig, type Plugin } from 'vite';
import { contentSecurityPolicy } from './csp.ts';

/**
 * The relay the app talks to; also the only origin the CSP lets it connect to. A build without
 * it is for the relay to serve (`PARLEY_RELAY_WEB_ROOT`): the page talks to its own origin.
 * The dev server runs on its own port, so it defaults to a local relay.
 */
const configuredRelayUrl = process.env.PARLEY_RELAY_URL?.trim() || undefined;

/**
 * Puts the CSP into index.html at build time. Only for builds: Vite's dev server relies on an
 * inline React-refresh preamble that a strict policy would block.
 */
function csp(relayUrl: string | undefined): Plugin {
  return {
    name: 'parley-csp',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler: () => [
        {
          tag: 'meta',
          attrs: {
            'http-equiv': 'Content-Security-Policy',
            content: contentSecurityPolicy(relayUrl),
          },
          injectTo: 'head-prepend',
        },
      ],
    },
  };
}

export default defineConfig(({ command }) => {
  const relayUrl =
    configuredRelayUrl ?? (command === 'serve' ? 'http://127.0.0.1:8080' : undefined);
  return {
    plugins: [react(), csp(relayUrl)],
    // Workspace packages: their TypeScript sources, not dist/ (docs/packaging.md).
    resolve: { conditions: ['@parley/source', ...defaultClientConditions] },
    // '' = same origin (see main.tsx).
    define: { __PARLEY_RELAY_URL__: JSON.stringify(relayUrl ?? '') },
    build: {
      // No source maps in production unless asked for.
      sourcemap: process.env.PARLEY_WEB_SOURCEMAP === '1',
      target: 'es2022',
    },
    server: { host: '127.0.0.1' },
    preview: { host: '127.0.0.1', port: 4173, strictPort: true },
  };
});
