import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';
import { contentSecurityPolicy } from './csp.ts';

/** The relay the built app talks to; also the only origin the CSP lets it connect to. */
const relayUrl = process.env.PARLEY_RELAY_URL ?? 'http://127.0.0.1:8080';

/**
 * Puts the CSP into index.html at build time. Only for builds: Vite's dev server relies on an
 * inline React-refresh preamble that a strict policy would block.
 */
function csp(): Plugin {
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

export default defineConfig({
  plugins: [react(), csp()],
  define: { __PARLEY_RELAY_URL__: JSON.stringify(relayUrl) },
  build: {
    // No source maps in production unless asked for.
    sourcemap: process.env.PARLEY_WEB_SOURCEMAP === '1',
    target: 'es2022',
  },
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1', port: 4173, strictPort: true },
});
