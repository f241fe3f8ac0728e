// Runs before every test file (vitest setupFiles), unlike a hook in a shared helper module, which
// vitest (isolate: false) evaluates once per worker and so would attach to one file only.
import { afterEach, beforeEach } from 'vitest'
import { stopSims } from './helpers/sim.js'

let testsInFlight = 0
beforeEach(() => {
  testsInFlight++
})
// The sims are stopped when no test of the file is running: in a `describe.concurrent` block, a
// test that ends must not stop the sim another one is still talking to.
afterEach(async () => {
  if (--testsInFlight === 0) await stopSims()
})
