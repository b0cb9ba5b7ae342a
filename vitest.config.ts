import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

/**
 * Workspace packages export their TypeScript sources under the "@parley/source" condition and
 * built JavaScript (dist/) otherwise; tests run on the sources, no build step (docs/packaging.md).
 */
const conditions = ['@parley/source', ...defaultServerConditions];

// One run covers every package. Each package keeps its tests in its own `test/` folder;
// cross-package end-to-end tests live in the top-level `test/`.
// Limits are generous for a busy 2-core machine: the tests wait for events and readiness,
// so a limit only decides how long a real hang takes to report. `expect.poll` gets the same.
const limits = {
  testTimeout: 60_000,
  hookTimeout: 240_000,
  expect: { poll: { timeout: 30_000 } },
};

// Without "module": as Node itself resolves. Some packages (the AWS SDK, for the relay's S3
// attachment store) publish extension-less ESM under "module" that only bundlers can load.
const plainNodeConditions = conditions.filter((c) => c !== 'module');

const node = (
  name: string,
  include: string[],
  extra: object = {},
  resolveConditions: string[] = conditions,
) => ({
  test: { name, environment: 'node' as const, include, ...limits, ...extra },
  resolve: { conditions: resolveConditions },
  ssr: { resolve: { conditions: resolveConditions } },
});

export default defineConfig({
  test: {
    projects: [
      node('crypto', ['packages/crypto/test/**/*.test.ts']),
      // The same suite on the portable noble backend ('crypto' runs 'auto' = WebCrypto on Node).
      node('crypto-noble', ['packages/crypto/test/**/*.test.ts'], {
        env: { PARLEY_CRYPTO_BACKEND: 'noble' },
        setupFiles: ['packages/crypto/test/support/backend-setup.ts'],
      }),
      // And on Node's node:crypto (@parley/crypto-node), with that package's own tests.
      node(
        'crypto-node',
        ['packages/crypto-node/test/**/*.test.ts', 'packages/crypto/test/**/*.test.ts'],
        {
          env: { PARLEY_CRYPTO_BACKEND: 'node' },
          setupFiles: ['packages/crypto-node/test/setup.ts'],
        },
      ),
      node('protocol', ['packages/protocol/test/**/*.test.ts']),
      node('relay', ['apps/relay/test/**/*.test.ts'], {}, plainNodeConditions),
      node('client', ['packages/client/test/**/*.test.ts']),
      // Most CLI cases start several `parley` processes: seconds each on a busy machine.
      node('cli', ['apps/cli/test/**/*.test.ts'], { testTimeout: 180_000 }),
      node('e2e', ['test/**/*.test.ts']),
      'apps/web/vitest.config.ts',
    ],
  },
});
