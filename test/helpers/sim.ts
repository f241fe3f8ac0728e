// A simulated Asterisk per test, and the environment that points the CLI at it.
import { startFaultySim, type FaultySim, type FaultySimOptions } from '../../src/sim/faults.js'
import type { SimAsterisk } from '../../src/sim/server.js'

const running: FaultySim[] = []

/**
 * Stops every sim started so far. test/setup.ts calls it after each test (after the last one
 * still running, for `describe.concurrent` blocks). It is not an afterEach here: test files share
 * this module (vitest isolate: false), so a hook registered at its import would belong only to
 * the first file that imported it.
 */
export async function stopSims(): Promise<void> {
  await Promise.all(running.splice(0).map((sim) => sim.stop()))
}

/** Starts a sim (faults may be injected) on 127.0.0.1 port 0; it is stopped after the test. */
export async function sim(opts: FaultySimOptions = {}): Promise<FaultySim> {
  const started = await startFaultySim(opts)
  running.push(started)
  return started
}

/** PJCTL_* variables for user `pjctl` (all classes) or another user of the sim. */
export function envFor(
  server: SimAsterisk,
  user = 'pjctl',
  secret = `${user}-secret`,
): Record<string, string> {
  return {
    PJCTL_HOST: '127.0.0.1',
    PJCTL_PORT: String(server.port),
    PJCTL_USER: user,
    PJCTL_SECRET: secret,
  }
}
