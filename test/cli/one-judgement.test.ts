// One judgement (core/status.ts, core/classify.ts): one server state through check, doctor and the
// exporter. check's exit code, the exporter's pjctl_check_status and doctor's per-AOR findings must
// agree; doctor does not warn where check calls an AOR OK.
import { describe, expect, it } from 'vitest'
import type { SimSeed } from '../../src/sim/seed.js'
import { captureSeed, lockoutSeed } from '../../src/sim/seed.js'
import { runIn } from '../helpers/cli.js'
import { startExporter } from '../helpers/exporter.js'
import { aor, row, seedOf } from '../helpers/rows.js'
import { envFor, sim } from '../helpers/sim.js'

const now = (): number => Math.floor(Date.now() / 1000)

/** Orphaned contacts (ext199 is not configured) next to a healthy AOR, and bob near (1 of 2). */
function orphanedSeed(): SimSeed {
  const t = now() + 1800
  return seedOf(
    [
      row({ aor: 'ext199', viaAddr: '192.0.2.99', viaPort: 5060, expirationTime: t }),
      row({ aor: 'bob', viaAddr: '192.0.2.20', viaPort: 5060, expirationTime: t }),
    ],
    [aor('bob', 2)],
  )
}

const STATES: Record<string, { seed: () => SimSeed; status: number }> = {
  'orphaned contacts: WARNING': { seed: orphanedSeed, status: 1 },
  'a lockout (superseded): CRITICAL': { seed: () => lockoutSeed({ now: now() }), status: 2 },
  'a lockout (same-second duplicates): CRITICAL': {
    seed: () => captureSeed({ now: now() }),
    status: 2,
  },
}

describe('one judgement: check, doctor and the exporter', { timeout: 60_000 }, () => {
  for (const [state, { seed, status }] of Object.entries(STATES))
    it(state, async () => {
      const server = await sim({ seed: seed() })
      const env = envFor(server)
      const check = await runIn(['check', '--json'], { env })
      expect(check.code).toBe(status)
      const aors = JSON.parse(check.stdout).servers[0].aors as { aor: string; severity: number }[]
      const exporter = await startExporter(['--resync', '1h'], env)
      try {
        await exporter.waitFor(`pjctl_server_up{server="127.0.0.1:${server.port}"}`, 1)
        expect(await exporter.value(`pjctl_check_status{server="127.0.0.1:${server.port}"}`)).toBe(
          check.code,
        )
      } finally {
        await exporter.stop()
      }
      const doctor = await runIn(['doctor', '--json'], { env })
      const findings = JSON.parse(doctor.stdout).findings as {
        kind: string
        subject: string
        severity: string
      }[]
      // doctor's AOR findings carry check's severity: a page there is a warning or worse here, OK is at most info
      const word = ['info', 'warning', 'critical']
      for (const f of findings.filter(
        (f) => f.kind === 'aor-at-limit' || f.kind === 'orphaned-contacts',
      )) {
        const judged = aors.find((a) => a.aor === f.subject)
        expect(judged, f.subject).toBeDefined()
        expect([f.subject, f.severity]).toEqual([f.subject, word[judged!.severity]])
      }
      // and doctor's exit is never below check's for the same AORs
      expect(doctor.code).toBeGreaterThanOrEqual(check.code!)
    })

  it('a near AOR check calls OK: no doctor warning', async () => {
    const server = await sim({ seed: orphanedSeed() })
    const doctor = await runIn(['doctor', '--json', 'bob'], { env: envFor(server) })
    const findings = JSON.parse(doctor.stdout).findings as { subject: string; severity: string }[]
    expect(findings.filter((f) => f.subject === 'bob' && f.severity !== 'info')).toEqual([])
  })
})
