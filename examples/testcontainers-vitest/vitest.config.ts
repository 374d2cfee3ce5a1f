import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Starting and forming a cluster takes seconds; a drill waits for a failover.
    testTimeout: 180_000,
    hookTimeout: 180_000,
    // testcontainers' reaper (Ryuk) needs its image from a registry; rctl cleans up without it.
    env: { TESTCONTAINERS_RYUK_DISABLED: process.env['TESTCONTAINERS_RYUK_DISABLED'] ?? 'true' },
  },
});
