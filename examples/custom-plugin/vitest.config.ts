import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // The kit runs a whole gateway per case; its stalled-provider case waits for the adapter's timeout.
    testTimeout: 30_000,
  },
})
