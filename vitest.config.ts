import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 60_000,
    // GPU suites share one adapter; lavapipe is itself multi-threaded.
    fileParallelism: false,
  },
});
