import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration suites start real servers and PostgreSQL; on 2 cores running them in parallel
    // makes them measure each other. One file at a time keeps the load figures meaningful.
    fileParallelism: false,
    reporters: ['default'],
    setupFiles: ['test/helpers/setup.ts'],
  },
});
