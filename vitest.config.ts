import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'native-free/**/*.test.ts', 'golden/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Reference-tool and registry tests start processes; two cores, so keep the pool small.
    pool: 'forks',
    maxWorkers: 2,
  },
});
