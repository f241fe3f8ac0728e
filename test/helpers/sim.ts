// A simulated Asterisk per test, and the environment that points the CLI at it.
import { afterEach } from 'vitest'
import { startSim, type SimAsterisk, type SimOptions } from '../../src/sim/server.js'

const running: SimAsterisk[] = []

afterEach(async () => {
  await Promise.all(running.splice(0).map((sim) => sim.stop()))
})

/** Starts a sim on 127.0.0.1 port 0; it is stopped after the test. */
export async function sim(opts: SimOptions = {}): Promise<SimAsterisk> {
  const started = await startSim(opts)
  running.push(started)
  return started
}

/** PJCTL_* variables for user `pjctl` (all classes) or another user of the sim. */
export function envFor(server: SimAsterisk, user = 'pjctl', secret = `${user}-secret`): Record<string, string> {
  return { PJCTL_HOST: '127.0.0.1', PJCTL_PORT: String(server.port), PJCTL_USER: user, PJCTL_SECRET: secret }
}

/** The actions the sim received, without the login (Challenge, Login) and Logoff. */
export function actionsOf(server: SimAsterisk): string[] {
  return server.received.filter((r) => !/^(challenge|login|logoff)$/i.test(r.action)).map((r) => r.action)
}
