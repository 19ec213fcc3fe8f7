import { defineConfig } from 'vitest/config'

// Runs the kit against the sample channel and its broken variants; kit.test.ts starts it and reads
// the results. These files are not in the main suite: three of them are meant to fail.
export default defineConfig({
  test: {
    root: import.meta.dirname,
    include: ['*.kit.ts'],
    testTimeout: 30_000,
    pool: 'forks',
  },
})
