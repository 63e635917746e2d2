import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Rebuilds dist/ when a source is newer: the CLI tests run the built code (issue 18).
    globalSetup: ['test/global-setup.ts'],
    // Bounds on a failure, not expectations: a passing test never comes near them, and the
    // 2-core machine is shared (issue 9).
    testTimeout: 180_000,
    hookTimeout: 180_000,
    pool: 'forks',
  },
});
