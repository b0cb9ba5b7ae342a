import { defineConfig } from 'vitest/config';

// One run covers every package. Each package keeps its tests in its own `test/` folder.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'crypto',
          environment: 'node',
          include: ['packages/crypto/test/**/*.test.ts'],
          testTimeout: 60_000,
        },
      },
    ],
  },
});
