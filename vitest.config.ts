import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts', 'examples/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // better-sqlite3 is a native addon: separate processes keep each file's databases apart.
    pool: 'forks',
    // The default report, then every skipped test with the reason its name gives (not only with --reporter=verbose).
    reporters: ['default', './test/support/skip-reasons-reporter.ts'],
  },
})
