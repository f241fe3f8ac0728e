// `npm run test:asterisk`: the opt-in suite against the real Asterisk labs (test/asterisk/). One file at a
// time (they share one Asterisk), generous timeouts (a reload of 5,000 AORs takes seconds).
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    // scripts/test-asterisk.mjs runs this once per lab that is up: a realtime lab (contacts in SQL) gets
    // the realtime tests, an astdb lab the rest
    // the cluster (lab/cluster.sh, LAB_KIND=cluster) gets the cluster tests
    include:
      process.env.LAB_KIND === 'realtime'
        ? ['test/asterisk/realtime*.test.ts']
        : process.env.LAB_KIND === 'cluster'
          ? ['test/asterisk/cluster*.test.ts']
          : ['test/asterisk/**/*.test.ts'],
    exclude:
      process.env.LAB_KIND === 'realtime' || process.env.LAB_KIND === 'cluster'
        ? []
        : ['test/asterisk/realtime*.test.ts', 'test/asterisk/cluster*.test.ts'],
    globalSetup: ['test/asterisk/setup.ts'],
    setupFiles: ['test/setup.ts'],
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 300_000,
  },
})
