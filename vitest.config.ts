// `npm test`: everything except the opt-in real-Asterisk suite (test/asterisk/, `npm run test:asterisk`).
import { availableParallelism } from 'node:os'
import { configDefaults, defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    exclude: [...configDefaults.exclude, 'test/asterisk/**'],
    // Test files share one module graph per worker instead of re-importing pjctl, the simulator and
    // vitest for each file (12 s of imports on 2 cores). That is safe because src/ keeps no module
    // state a test could see (the AMI ActionID counter only counts up) and every in-process run
    // gets its own env, streams, clock and signals through main(argv, io).
    isolate: false,
    // Per-file hooks (stopping the sims a test started) live here, not in the shared helpers.
    setupFiles: ['test/setup.ts'],
    // Most of a CLI test is waiting on sockets and timers, not CPU: one worker per core, at least two
    // (vitest's default leaves one core idle, which on a 2-core machine means a single worker).
    maxWorkers: Math.max(2, availableParallelism()),
    // A CLI test that starts sims and reads thousands of contacts can take seconds on a loaded
    // 2-core machine; 5 s (vitest's default) failed healthy tests there. A hung test still fails.
    testTimeout: 30_000,
  },
})
