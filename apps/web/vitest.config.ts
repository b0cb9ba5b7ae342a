import react from '@vitejs/plugin-react';
import { defaultClientConditions, defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  plugins: [react()],
  // Workspace packages: their TypeScript sources, not dist/ (docs/packaging.md).
  resolve: { conditions: ['@parley/source', ...defaultClientConditions] },
  // Files on `@vitest-environment node` (the relay-backed model test) resolve as on a server.
  ssr: { resolve: { conditions: ['@parley/source', ...defaultServerConditions] } },
  test: {
    name: 'web',
    environment: 'happy-dom',
    include: ['src/**/*.test.{ts,tsx}'],
    setupFiles: ['src/test-setup.ts'],
    // Generous for a busy machine (see the root vitest.config.ts): waits, never fixed times.
    testTimeout: 60_000,
    hookTimeout: 240_000,
    expect: { poll: { timeout: 30_000 } },
  },
});
