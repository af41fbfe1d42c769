import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
    // Browser and engine assertions poll; under a loaded CI machine one second is too short.
    expect: { poll: { timeout: 15_000, interval: 50 } },
  },
});
