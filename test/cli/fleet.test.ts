// Fleet runs: one config file (XDG_CONFIG_HOME/pjctl/config.json, mode 0600) naming 20 servers,
// one of them unreachable (a port nothing listens on) and one slow (DBGetTree answered after ~1 s).
// Every test reads the same sims, so they run concurrently; the whole file takes a few seconds.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { captureSeed } from '../../src/sim/seed.js'
import { startFaultySim, type FaultySim } from '../../src/sim/faults.js'
import { runIn as run } from '../helpers/cli.js'

const COUNT = 20
const DOWN = 'pbx07'
const SLOW = 'pbx13'
/** In the second config only: this server holds the captured lab, where FAP003 and alice are full (CRITICAL). */
const CRITICAL = 'pbx02'
const SLOW_MS = 1000

const names = Array.from({ length: COUNT }, (_, i) => `pbx${String(i + 1).padStart(2, '0')}`)
const sims = new Map<string, FaultySim>()
/** Per sim: when each Login and Logoff arrived (the span a connection was in use). */
const spans = new Map<FaultySim, { action: string; at: number }[]>()
let criticalSim: FaultySim
let downPort = 0
let healthyHome = ''
let criticalHome = ''

/** The captured lab with max_contacts 10 everywhere: every AOR OK. */
function healthySeed() {
  const seed = captureSeed({ now: Math.floor(Date.now() / 1000) })
  return { ...seed, aors: seed.aors.map((aor) => ({ ...aor, maxContacts: 10 })) }
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

function writeConfig(portOf: (name: string) => number): string {
  const home = mkdtempSync(join(tmpdir(), 'pjctl-fleet-'))
  const servers = Object.fromEntries(
    names.map((name) => [
      name,
      { host: '127.0.0.1', port: portOf(name), user: 'pjctl', secret: 'pjctl-secret' },
    ]),
  )
  mkdirSync(join(home, 'pjctl'), { recursive: true, mode: 0o700 })
  writeFileSync(join(home, 'pjctl', 'config.json'), JSON.stringify({ servers }, null, 2), {
    mode: 0o600,
  })
  return home
}

function track(sim: FaultySim, extra?: (action: string) => Promise<void> | void): void {
  const log: { action: string; at: number }[] = []
  spans.set(sim, log)
  sim.setFaults({
    beforeAction: async (action) => {
      if (/^(login|logoff)$/i.test(action))
        log.push({ action: action.toLowerCase(), at: performance.now() })
      await extra?.(action)
    },
  })
}

/** The most connections (Login..Logoff spans) that were open at once, across all sims, since `from`. */
/** The most servers worked on at once: a server counts while any of its sessions (contacts, limits) is open. */
function maxOverlap(from: number): number {
  const edges: [number, number][] = []
  for (const log of spans.values()) {
    let sessions = 0
    for (const entry of [...log].filter((e) => e.at >= from).sort((a, b) => a.at - b.at)) {
      const before = sessions
      sessions += entry.action === 'login' ? 1 : -1
      if (before === 0 && sessions > 0) edges.push([entry.at, 1])
      if (before > 0 && sessions === 0) edges.push([entry.at, -1])
    }
  }
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1])
  let open = 0
  let most = 0
  for (const [, delta] of edges) most = Math.max(most, (open += delta))
  return most
}

beforeAll(async () => {
  for (const name of names) {
    if (name === DOWN) continue
    const sim = await startFaultySim({ seed: healthySeed() })
    track(
      sim,
      name === SLOW
        ? (action) =>
            /^dbgettree$/i.test(action) ? new Promise((r) => setTimeout(r, SLOW_MS)) : undefined
        : undefined,
    )
    sims.set(name, sim)
  }
  criticalSim = await startFaultySim()
  track(criticalSim)
  downPort = await freePort()
  healthyHome = writeConfig((name) => (name === DOWN ? downPort : sims.get(name)!.port))
  criticalHome = writeConfig((name) =>
    name === DOWN ? downPort : name === CRITICAL ? criticalSim.port : sims.get(name)!.port,
  )
})

afterAll(async () => {
  await Promise.all([...sims.values(), criticalSim].filter(Boolean).map((sim) => sim.stop()))
  for (const home of [healthyHome, criticalHome])
    if (home) rmSync(home, { recursive: true, force: true })
})

const opts = (home: string) => ({ env: { XDG_CONFIG_HOME: home }, killAfterMs: 15_000 })

interface ServerDoc {
  server: string
  error?: string
  hint?: string | null
  exitCode?: number
  source?: string
  status?: number
  statusText?: string
  aors?: { aor: string; state: string; count: number }[]
}

describe.concurrent('fleet (--all / --server a,b over 20 sims, one unreachable, one slow)', () => {
  it('contacts --all --json: every server in config order, the unreachable one as an error entry, exit 3', async () => {
    const r = await run(['contacts', '--all', '--json'], opts(healthyHome))
    expect(r.code).toBe(3)
    const doc = JSON.parse(r.stdout) as { generatedAt: string; servers: ServerDoc[] }
    expect(doc.servers.map((s) => s.server)).toEqual(names)
    const down = doc.servers.find((s) => s.server === DOWN)!
    expect(down).toMatchObject({ exitCode: 3 })
    expect(down.error).toMatch(new RegExp(`connection refused by 127\\.0\\.0\\.1:${downPort}`))
    expect(down.aors).toBeUndefined()
    for (const server of doc.servers.filter((s) => s.server !== DOWN)) {
      expect(server.error).toBeUndefined()
      expect(server.source).toBe('dbgettree')
      expect(server.aors!.map((a) => a.aor)).toContain('FAP003')
      expect(server.aors!.every((a) => a.state === 'ok')).toBe(true)
    }
    // the slow server is there, in its place, complete
    expect(doc.servers[names.indexOf(SLOW)]!.aors!.find((a) => a.aor === 'FAP003')!.count).toBe(2)
    expect(r.stderr).toContain(`pjctl: warning: ${DOWN}: connection refused`)
    expect(r.stderr).not.toMatch(/readable by/)
  })

  it('check --all (nagios): UNKNOWN for the unreachable server while the others are OK, exit 3', async () => {
    const r = await run(['check', '--all', '--format', 'nagios'], opts(healthyHome))
    expect(r.code).toBe(3)
    const lines = r.stdout.trimEnd().split('\n')
    expect(lines[0]).toMatch(
      new RegExp(
        `^PJCTL UNKNOWN - 1 server\\(s\\) unreadable: ${DOWN} \\| 'aors'=\\d+;;;0 'contacts'=\\d+;;;0 'critical'=0;;0;0;\\d+ 'warning'=0;0;;0;\\d+ .* 'servers_unreadable'=1;;0;0;20 .*'${DOWN} status'=3;1;2;0;3`,
      ),
    )
    expect(lines).toContain(`${DOWN}: UNKNOWN - connection refused by 127.0.0.1:${downPort}`)
    for (const name of names)
      expect(lines).toContain(`server ${name}: ${name === DOWN ? 'UNKNOWN' : 'OK'}`)
  })

  it('check --all --format json: per-server status, the worst is UNKNOWN (3)', async () => {
    const r = await run(['check', '--all', '--format', 'json'], opts(healthyHome))
    expect(r.code).toBe(3)
    const doc = JSON.parse(r.stdout) as { status: number; statusText: string; servers: ServerDoc[] }
    expect(doc).toMatchObject({ status: 3, statusText: 'UNKNOWN' })
    expect(doc.servers.map((s) => s.server)).toEqual(names)
    for (const server of doc.servers) {
      if (server.server === DOWN)
        expect(server).toMatchObject({ status: 3, statusText: 'UNKNOWN', exitCode: 3 })
      else expect(server).toMatchObject({ status: 0, statusText: 'OK' })
    }
  })

  it('check --all: a CRITICAL AOR on one server beats UNKNOWN elsewhere (exit 2)', async () => {
    const nagios = await run(['check', '--all'], opts(criticalHome))
    expect(nagios.code).toBe(2)
    expect(nagios.stdout).toMatch(
      new RegExp(
        `^PJCTL CRITICAL - 1 AOR\\(s\\) locked out \\(full, holding stale contacts\\): ${CRITICAL}/FAP003 \\(2/2 full, 1 duplicate from the same device\\).*; 1 server\\(s\\) unreadable: ${DOWN} \\|`,
      ),
    )
    expect(nagios.stdout).toContain(`server ${CRITICAL}: CRITICAL`)
    expect(nagios.stdout).toContain(`server ${DOWN}: UNKNOWN`)
    const json = await run(['check', '--all', '--json'], opts(criticalHome))
    expect(json.code).toBe(2)
    const doc = JSON.parse(json.stdout) as { status: number; servers: ServerDoc[] }
    expect(doc.status).toBe(2)
    expect(doc.servers.filter((s) => s.status === 2).map((s) => s.server)).toEqual([CRITICAL])
  })

  it('contacts --server pbx01,pbx02 piped: every row starts with its server, exit 0', async () => {
    const r = await run(['contacts', '--server', 'pbx01,pbx02'], opts(healthyHome))
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const servers = r.stdout
      .trimEnd()
      .split('\n')
      .map((line) => line.split('\t').slice(0, 2).join(' '))
    expect(servers).toContain('pbx01 FAP003')
    expect(servers).toContain('pbx02 FAP003')
    expect(new Set(servers.map((s) => s.split(' ')[0]))).toEqual(new Set(['pbx01', 'pbx02']))
  })

  it('contacts --server pbx01,<unreachable>: the reachable one is shown, the other as a warning on stderr, exit 3', async () => {
    const r = await run(['contacts', '--server', `pbx01,${DOWN}`], opts(healthyHome))
    expect(r.code).toBe(3)
    expect(r.stdout).toMatch(/^pbx01\tFAP003\t/)
    expect(r.stdout).not.toContain(DOWN)
    expect(r.stderr).toContain(`${DOWN}: connection refused by 127.0.0.1:${downPort}`)
  })

  it('one unreachable server named alone is an error, not a fleet entry (exit 3, the error as the --json document)', async () => {
    const r = await run(['contacts', '--server', DOWN, '--json'], opts(healthyHome))
    expect(r.code).toBe(3)
    expect(JSON.parse(r.stdout)).toEqual({
      server: DOWN,
      error: expect.stringMatching(/^connection refused by 127\.0\.0\.1:\d+$/),
      hint: expect.any(String),
      exitCode: 3,
    })
    expect(r.stderr).toMatch(/^pjctl: connection refused by 127\.0\.0\.1:\d+\n/)
  })
})

describe('every --json command on an unreachable server', () => {
  it.each(['contacts', 'doctor', 'sources', 'prune'])(
    '%s --json prints {server, error, hint, exitCode}, as check --json prints its error',
    async (command) => {
      const args = command === 'prune' ? [command, '--dry-run'] : [command]
      const r = await run([...args, '--server', DOWN, '--json'], opts(healthyHome))
      expect(r.code).toBe(3)
      expect(JSON.parse(r.stdout)).toMatchObject({ server: DOWN, exitCode: 3 })
      expect(JSON.parse(r.stdout).error).toMatch(/^connection refused by /)
    },
  )
})

describe('fleet --parallel', () => {
  it('--parallel 2: at most two servers at once, output still in config order', async () => {
    const from = performance.now()
    const r = await run(['contacts', '--all', '--json', '--parallel', '2'], opts(healthyHome))
    expect(r.code).toBe(3)
    const doc = JSON.parse(r.stdout) as { servers: ServerDoc[] }
    expect(doc.servers.map((s) => s.server)).toEqual(names)
    // while the slow server holds one worker for ~1 s, the other works through the rest
    expect(maxOverlap(from)).toBe(2)
  })
})
