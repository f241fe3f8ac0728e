// The follower's phase (src/exporter/follower.ts) through the simulator: each transition is logged
// under --debug, so these tests read the sequence a real run went through (first read, resync of the
// contacts or of the limits, a failed resync, the connection lost and made again, an event storm
// held during a resync) and check what each one did to the metrics and the AMI actions sent.
import { describe, expect, it } from 'vitest'
import { block } from '../../src/sim/ami.js'
import { startFaultySim, type FaultySim } from '../../src/sim/faults.js'
import { contactCreatedEvents } from '../../src/sim/pjsip.js'
import { defineAor } from '../../src/sim/registrar.js'
import { lockoutSeed } from '../../src/sim/seed.js'
import {
  exportersOfThisFile,
  startExporter,
  until,
  type RunningExporter,
} from '../helpers/exporter.js'
import { CONTACT_FAMILY, home, row } from '../helpers/prune.js'
import { envFor, sim } from '../helpers/sim.js'

const SLOW = { timeout: 90_000 }
const now = (): number => Math.floor(Date.now() / 1000)
const running = exportersOfThisFile()

async function exporterFor(server: FaultySim, ...args: string[]): Promise<RunningExporter> {
  const e = await startExporter([...args, '--debug'], { ...envFor(server), ...home() })
  running.push(e)
  return e
}

/** The transitions the follower of `server` logged, in order: `up -> up, resyncing (resync of the contacts)`. */
function transitions(e: RunningExporter, server: FaultySim | number): string[] {
  const prefix = `127.0.0.1:${typeof server === 'number' ? server : server.port}: `
  return e
    .stderr()
    .split('\n')
    .map((line) => line.replace(/^pjctl: (debug: )?/, ''))
    .filter((line) => line.startsWith(prefix) && / -> .* \(.*\)$/.test(line))
    .map((line) => line.slice(prefix.length))
}

const FIRST_READ = [
  'connecting -> reading (connected)',
  'reading -> applying the first read (read whole)',
  'applying the first read -> up (first read applied)',
]
const RESYNC_OF = (what: string) => [
  `up -> up, resyncing (resync of the ${what})`,
  'up, resyncing -> up, applying a resync (read whole)',
  'up, applying a resync -> up (resync applied)',
]
const RELOAD = block([
  ['Event', 'Reload'],
  ['Privilege', 'system,all'],
  ['Module', 'res_pjsip.so'],
  ['Status', '0'],
])

describe.concurrent('the follower’s phase, through the simulator', () => {
  it(
    'first read, then a Reload: a resync of the limits; a resync whose every try is short fails back to up with the last picture',
    SLOW,
    async () => {
      const server = await sim({ seed: lockoutSeed({ now: now() }) })
      const e = await exporterFor(server, '--resync', '1h')
      const S = `127.0.0.1:${server.port}`
      const fap = `pjctl_aor_contacts{server="${S}",aor="FAP003"}`
      await e.waitFor(fap, 2)
      expect(transitions(e, server)).toEqual(FIRST_READ)

      // a module reload may have changed pjsip.conf: the limits are read again (GetConfig), at once
      const configsBefore = server.received.filter((r) => r.action === 'GetConfig').length
      server.broadcast([RELOAD])
      await until(e, () => transitions(e, server).length === 6)
      expect(transitions(e, server)).toEqual([...FIRST_READ, ...RESYNC_OF('limits')])
      expect(server.received.filter((r) => r.action === 'GetConfig').length).toBeGreaterThan(
        configsBefore,
      )

      // every try short: the resync fails; the phase is up again with the last whole picture
      server.setFaults({ dropOutputLines: { action: 'DBGetTree', count: 1 } })
      server.broadcast([RELOAD])
      await until(e, () => transitions(e, server).length === 8)
      expect(transitions(e, server).slice(6)).toEqual([
        'up -> up, resyncing (resync of the limits)',
        'up, resyncing -> up (resync failed)',
      ])
      expect(e.stderr()).toContain(`pjctl exporter: ${S}: resync failed: `)
      expect(await e.value(fap)).toBe(2)
      expect(await e.value(`pjctl_server_up{server="${S}"}`)).toBe(1)
      expect((await e.fetch('/healthz')).status).toBe(200)
    },
  )

  it(
    'the connection lost: down, then reconnecting until Asterisk is back, then a first read again',
    SLOW,
    async () => {
      const first = await startFaultySim({ seed: lockoutSeed({ now: now() }) })
      const port = first.port
      const e = await exporterFor(first, '--resync', '1h')
      const up = `pjctl_server_up{server="127.0.0.1:${port}"}`
      await e.waitFor(up, 1)
      await first.stop()
      await e.waitFor(up, 0)
      // it tries again (1 s later), and fails while nothing listens
      await until(e, () => transitions(e, port).includes('down -> connecting (reconnect)'))
      const health = await e.fetch('/healthz')
      expect(health.status).toBe(503)
      expect(health.body).toMatch(/: down: /)
      const second = await startFaultySim({ seed: lockoutSeed({ now: now() }) }, port)
      try {
        await e.waitFor(up, 1, 30_000)
        const seen = transitions(e, port)
        expect(seen.slice(0, 3)).toEqual(FIRST_READ)
        expect(seen[3]).toMatch(/^up -> down \(.+\)$/)
        // every attempt while it was away: connecting, then down again (connection refused)
        const away = seen.slice(4, -3)
        expect(away.length).toBeGreaterThanOrEqual(2)
        for (let i = 0; i < away.length; i += 2) {
          expect(away[i]).toBe('down -> connecting (reconnect)')
          if (i + 1 < away.length) expect(away[i + 1]).toMatch(/^connecting -> down \(.+\)$/)
        }
        expect(seen.slice(-3)).toEqual(FIRST_READ)
        expect(await e.value(`pjctl_aor_contacts{server="127.0.0.1:${port}",aor="FAP003"}`)).toBe(2)
      } finally {
        await second.stop()
      }
    },
  )

  it(
    'an event storm during a resync is held, then applied after it: none of its contacts is drift, none costs a DBGet',
    SLOW,
    async () => {
      const STORM = 2000
      const aors = Array.from({ length: STORM }, (_, i) => defineAor(`t${i}`, { maxContacts: 2 }))
      const server = await sim({ seed: { rows: [], aors } })
      const e = await exporterFor(server, '--resync', '1h')
      const S = `127.0.0.1:${server.port}`
      await e.waitFor(`pjctl_server_up{server="${S}"}`, 1)
      const rows = Array.from({ length: STORM }, (_, i) =>
        row(`t${i}`, `10.8.${i >> 8}.${i & 255}`, 5060, 'Storm', now() + 3600),
      )
      // stored, then a Reload and the storm of their events in one burst: the Reload starts a resync
      // at once, and the storm comes while it is read (before the DBGetTree the resync then asks for)
      for (const r of rows) server.astdb.put(CONTACT_FAMILY, r.key, r.value)
      server.broadcast([
        RELOAD,
        ...rows.flatMap((r, i) =>
          contactCreatedEvents({
            aor: `t${i}`,
            uri: (JSON.parse(r.value) as { uri: string }).uri,
            endpoint: `t${i}`,
            status: 'NonQualified',
            firstOfAor: true,
          }),
        ),
      ])
      await e.waitFor(`pjctl_server_contacts{server="${S}"}`, STORM, 60_000)
      await until(e, () => transitions(e, server).length === 6)
      expect(transitions(e, server)).toEqual([...FIRST_READ, ...RESYNC_OF('limits')])
      // held while the read ran, their keys are not drift; applied after it, they found the
      // contacts the read had brought: no DBGet
      expect(await e.value(`pjctl_resync_drift_contacts_total{server="${S}",kind="added"}`)).toBe(0)
      expect(server.received.filter((r) => r.action === 'DBGet')).toHaveLength(0)
      expect(
        await e.value(`pjctl_events_received_total{server="${S}",event="ContactStatus"}`),
      ).toBeGreaterThanOrEqual(STORM)
    },
  )
})
