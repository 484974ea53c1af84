import { defineConfig } from 'vitest/config';

// Integration tests start real processes (provider, Chromium, keyring), so
// they get generous timeouts and at most two files run at once on a 2-core box.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
  },
});
