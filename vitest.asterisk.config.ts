// `npm run test:asterisk`: the opt-in suite against a real Asterisk lab (test/asterisk/). One file at a
// time (they share one Asterisk), generous timeouts (a reload of 5,000 AORs takes seconds).
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/asterisk/**/*.test.ts'],
    globalSetup: ['test/asterisk/setup.ts'],
    setupFiles: ['test/setup.ts'],
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 300_000,
  },
})
