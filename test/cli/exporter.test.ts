// pjctl exporter against the simulated Asterisk: metrics follow registrations (ContactStatus events),
// prunes (UserEvent, or the resync when nobody announced), a restarting Asterisk, an event storm,
// a slow scraper; a scrape never sends an AMI action.
import { get } from 'node:http'
import { connect } from 'node:net'
import { gunzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { contactKey, defineAor } from '../../src/sim/registrar.js'
import { lockoutSeed, type SimSeed } from '../../src/sim/seed.js'
import { startSim, type SimAsterisk } from '../../src/sim/server.js'
import {
  exportersOfThisFile,
  startExporter,
  until,
  type ExporterMode,
  type RunningExporter,
} from '../helpers/exporter.js'
import { CONTACT_FAMILY, home, row, staleSeed } from '../helpers/prune.js'
import { contactCreatedEvents, contactRemovedEvents } from '../../src/sim/pjsip.js'
import { block } from '../../src/sim/ami.js'
import { runIn as run } from '../helpers/cli.js'
import { envFor, sim } from '../helpers/sim.js'

const SLOW = { timeout: 90_000 }
const now = (): number => Math.floor(Date.now() / 1000)
const running = exportersOfThisFile()

/** The exporter on `server`, in this process (one test runs it as a child, for a real SIGTERM). */
async function exporterFor(server: SimAsterisk, ...args: string[]): Promise<RunningExporter> {
  return exporterOn(server, args, 'in-process')
}

async function exporterOn(
  server: SimAsterisk,
  args: string[],
  mode: ExporterMode,
): Promise<RunningExporter> {
  const e = await startExporter(args, { ...envFor(server), ...home() }, undefined, mode)
  running.push(e)
  return e
}

const S = (server: SimAsterisk): string => `127.0.0.1:${server.port}`
const aor = (server: SimAsterisk, metric: string, name: string): string =>
  `${metric}{server="${S(server)}",aor="${name}"}`
const total = (server: SimAsterisk, metric: string): string => `${metric}{server="${S(server)}"}`
const GS = 'Grandstream GXP2130 1.0.11.3'
const phone = (port: number, expires?: number) => ({
  aor: 'FAP003',
  uri: `sip:FAP003@192.0.2.16:${port}`,
  viaAddr: '192.0.2.16',
  viaPort: port,
  userAgent: GS,
  expires,
})

function emptyFap(): SimSeed {
  return { rows: [], aors: [defineAor('FAP003', { maxContacts: 2, maximumExpiration: 3600 })] }
}

/** The actions the sim received from connections other than `except`, without Login/Logoff/Ping. */
function actions(server: SimAsterisk): string[] {
  return server.received
    .filter((r) => !/^(login|logoff|ping)$/i.test(r.action))
    .map((r) => {
      const key = r.headers.find(([n]) => n.toLowerCase() === 'key')?.[1]
      return key ? `${r.action} ${key}` : r.action
    })
}

describe.concurrent('pjctl exporter', () => {
  it(
    'register and unregister show in /metrics; a new key costs one DBGet; scrapes send no AMI action; SIGTERM exits 0',
    SLOW,
    async () => {
      const server = await sim({ seed: emptyFap() })
      // a child process: the SIGTERM and the exit code are real
      const e = await exporterOn(server, ['--resync', '1h'], 'spawned')
      await e.waitFor(total(server, 'pjctl_server_up'), 1)
      expect(await e.value(aor(server, 'pjctl_aor_contacts', 'FAP003'))).toBe(0)
      const read = actions(server)
      server.registrar.register(phone(5071))
      server.registrar.register(phone(5072))
      await e.waitFor(aor(server, 'pjctl_aor_contacts', 'FAP003'), 2)
      await e.waitFor(`pjctl_aor_state{server="${S(server)}",aor="FAP003",state="full"}`, 1)
      const k1 = contactKey('FAP003', 'sip:FAP003@192.0.2.16:5071')
      const k2 = contactKey('FAP003', 'sip:FAP003@192.0.2.16:5072')
      expect(actions(server).slice(read.length).sort()).toEqual(
        [`DBGet ${k1}`, `DBGet ${k2}`].sort(),
      )
      server.registrar.register(phone(5072, 0))
      await e.waitFor(aor(server, 'pjctl_aor_contacts', 'FAP003'), 1)
      await e.waitFor(`pjctl_aor_state{server="${S(server)}",aor="FAP003",state="full"}`, undefined)
      expect(
        await e.value(`pjctl_aor_state{server="${S(server)}",aor="FAP003",state="near"}`),
      ).toBe(1)
      expect(
        await e.value(`pjctl_events_received_total{server="${S(server)}",event="ContactStatus"}`),
      ).toBe(3)
      // contacts added and removed since the first read: per server, and per AOR (--per-aor all)
      expect(await e.value(total(server, 'pjctl_contacts_added_total'))).toBe(2)
      expect(await e.value(total(server, 'pjctl_contacts_removed_total'))).toBe(1)
      expect(await e.value(aor(server, 'pjctl_aor_contacts_added_total', 'FAP003'))).toBe(2)
      expect(await e.value(aor(server, 'pjctl_aor_contacts_removed_total', 'FAP003'))).toBe(1)
      // scrapes are served from memory
      const before = server.received.length
      for (let i = 0; i < 20; i++) await e.scrape()
      expect(
        server.received
          .slice(before)
          .map((r) => r.action)
          .filter((a) => a !== 'Ping'),
      ).toEqual([])
      const text = await e.scrape()
      expect(text).toContain(
        '# HELP pjctl_aor_contacts Unexpired contacts registered to the AOR.\n# TYPE pjctl_aor_contacts gauge\n',
      )
      // asked for gzip (as Prometheus does), the same body comes compressed
      const zipped = await new Promise<{ encoding?: string; body: Buffer }>((resolve, reject) => {
        get(
          {
            host: '127.0.0.1',
            port: e.port,
            path: '/metrics',
            agent: false,
            headers: { 'Accept-Encoding': 'gzip' },
          },
          (response) => {
            const chunks: Buffer[] = []
            response
              .on('data', (d: Buffer) => chunks.push(d))
              .on('end', () =>
                resolve({
                  encoding: response.headers['content-encoding'],
                  body: Buffer.concat(chunks),
                }),
              )
          },
        ).on('error', reject)
      })
      expect(zipped.encoding).toBe('gzip')
      // the same, but for the process's own metrics (CPU, memory: they move between two scrapes)
      const known = (text: string) =>
        text.split('\n').filter((l) => !/^(# (HELP|TYPE) )?(process|nodejs)_/.test(l))
      expect(known(gunzipSync(zipped.body).toString('utf8'))).toEqual(known(await e.scrape()))
      expect(text).toMatch(/^process_cpu_seconds_total \d/m)
      expect(text).toMatch(/^process_resident_memory_bytes \d/m)
      expect(text).toContain('# TYPE pjctl_exporter_build_info gauge\n')
      expect(text).toMatch(
        /^pjctl_exporter_build_info\{version="\d+\.\d+\.\d+",nodejs_version="v\d+[^"]*"\} 1$/m,
      )
      const health = await e.fetch('/healthz')
      expect(health.status).toBe(200)
      expect(health.body).toBe(`ok: ${S(server)} up (1 contacts)\n`)
      const r = await e.stop()
      running.splice(running.indexOf(e), 1)
      expect(r.code).toBe(0)
      expect(r.stdout).toBe('')
      expect(r.stderr).toContain('pjctl exporter: stopping\n')
      expect(server.received.at(-1)?.action).toBe('Logoff')
    },
  )

  it(
    'the same names and values as check --format prometheus, for every line check prints',
    SLOW,
    async () => {
      const server = await sim({ seed: lockoutSeed({ now: now() }) })
      const e = await exporterFor(server, '--resync', '1h')
      await e.waitFor(total(server, 'pjctl_server_up'), 1)
      const check = await run(['check', '--format', 'prometheus'], {
        env: { ...envFor(server), ...home() },
      })
      const mine = new Set((await e.scrape()).split('\n'))
      // check's per-run extras are not the exporter's: source addresses (--per-ip-limit, sources) and parse errors of one read
      const missing = check.stdout
        .split('\n')
        .filter(
          (line) => line && !mine.has(line) && !/pjctl_(source_contacts|parse_errors)\b/.test(line),
        )
      expect(missing).toEqual([])
    },
  )

  it(
    'an event for an AOR never seen: the contact is fetched and shown, its limit unknown; a ContactStatus for a key no longer stored adds nothing',
    SLOW,
    async () => {
      const server = await sim({ seed: emptyFap() })
      const e = await exporterFor(server, '--resync', '1h')
      await e.waitFor(total(server, 'pjctl_server_up'), 1)
      server.registrar.setAor(defineAor('newbie', { maxContacts: 3 }))
      server.registrar.register({
        aor: 'newbie',
        uri: 'sip:newbie@192.0.2.50:5060',
        viaAddr: '192.0.2.50',
        viaPort: 5060,
        userAgent: 'Yealink',
      })
      await e.waitFor(aor(server, 'pjctl_aor_contacts', 'newbie'), 1)
      expect(
        await e.value(`pjctl_aor_state{server="${S(server)}",aor="newbie",state="unknown"}`),
      ).toBe(1)
      expect(await e.value(aor(server, 'pjctl_aor_max_contacts', 'newbie'))).toBeUndefined()
      expect(await e.value(total(server, 'pjctl_check_status'))).toBe(3)
      server.broadcast([
        'Event: ContactStatus\r\nPrivilege: system,all\r\nURI: sip:ghost@192.0.2.9:5060\r\nContactStatus: NonQualified\r\nAOR: ghost\r\nEndpointName: ghost\r\nRoundtripUsec: 0\r\n\r\n',
      ])
      const ghost = contactKey('ghost', 'sip:ghost@192.0.2.9:5060')
      const deadline = Date.now() + 10_000
      while (
        !server.received.some((r) => r.action === 'DBGet' && r.headers.some(([, v]) => v === ghost))
      ) {
        if (Date.now() > deadline) throw new Error('no DBGet for the ghost key')
        await new Promise((r) => setTimeout(r, 20))
      }
      await new Promise((r) => setTimeout(r, 300))
      expect(await e.scrape()).not.toContain('aor="ghost"')
      expect(await e.value(total(server, 'pjctl_server_contacts'))).toBe(1)
    },
  )

  it(
    'a prune by another process: applied at once when announced (UserEvent), found by the resync when not',
    SLOW,
    async () => {
      const seed = lockoutSeed({ now: now() })
      const server = await sim({
        seed,
        users: [
          { username: 'pjctl', secret: 'pjctl-secret', write: ['system', 'reporting', 'user'] },
          { username: 'quiet', secret: 'quiet-secret', write: ['system', 'reporting'] },
        ],
      })
      const e = await exporterFor(server, '--resync', '1h')
      await e.waitFor(aor(server, 'pjctl_aor_superseded_contacts', 'FAP003'), 1)
      const env = { ...envFor(server), ...home() }
      expect((await run(['prune', '--via', 'delete', 'FAP003', '--yes'], { env })).code).toBe(0)
      await e.waitFor(aor(server, 'pjctl_aor_contacts', 'FAP003'), 1)
      expect(await e.value(aor(server, 'pjctl_aor_superseded_contacts', 'FAP003'))).toBe(0)
      // applied from the announcement: the exporter's connection read the tree once, at its start
      const mine = server.received.find((r) => r.action === 'DBGetTree')!.connection
      expect(
        server.received.filter((r) => r.action === 'DBGetTree' && r.connection === mine),
      ).toHaveLength(1)

      // the same without write=user: no announcement; a short --resync finds it and counts the drift
      const quiet = await sim({
        seed: lockoutSeed({ now: now() }),
        users: [
          { username: 'pjctl', secret: 'pjctl-secret', write: ['system', 'reporting', 'user'] },
          { username: 'quiet', secret: 'quiet-secret', write: ['system', 'reporting'] },
        ],
      })
      const f = await exporterFor(quiet, '--resync', '1s')
      await f.waitFor(aor(quiet, 'pjctl_aor_superseded_contacts', 'FAP003'), 1)
      const r = await run(['prune', '--via', 'delete', 'FAP003', '--yes'], {
        env: { ...envFor(quiet, 'quiet'), ...home() },
      })
      expect(r.code).toBe(0)
      expect(r.stderr).toContain('lacks write=user')
      await f.waitFor(aor(quiet, 'pjctl_aor_superseded_contacts', 'FAP003'), 0)
      expect(await f.value(aor(quiet, 'pjctl_aor_contacts', 'FAP003'))).toBe(1)
      await f.waitFor(`pjctl_resync_drift_contacts_total{server="${S(quiet)}",kind="removed"}`, 1)
      expect(f.stderr()).toContain(
        `pjctl exporter: ${S(quiet)}: drift: 0 contact(s) unknown to the exporter, 1 gone from Asterisk without an event`,
      )
      // a removal found by a resync is a removal all the same
      expect(await f.value(total(quiet, 'pjctl_contacts_removed_total'))).toBe(1)
      expect(await f.value(aor(quiet, 'pjctl_aor_contacts_removed_total', 'FAP003'))).toBe(1)
      expect(await f.value(total(quiet, 'pjctl_contacts_added_total'))).toBe(0)
    },
  )

  it(
    'Asterisk restarting: up 0 and no per-AOR series while it is down, /healthz 503; then up 1 with the counts of the new start',
    SLOW,
    async () => {
      const first = await startSim({ seed: lockoutSeed({ now: now() }) })
      const port = first.port
      const e = await startExporter(['--resync', '1h'], { ...envFor(first), ...home() })
      running.push(e)
      const up = `pjctl_server_up{server="127.0.0.1:${port}"}`
      const fap = `pjctl_aor_contacts{server="127.0.0.1:${port}",aor="FAP003"}`
      await e.waitFor(fap, 2)
      await first.stop()
      await e.waitFor(up, 0)
      expect(await e.value(fap)).toBeUndefined()
      expect(await e.value(`pjctl_check_status{server="127.0.0.1:${port}"}`)).toBe(3)
      const health = await e.fetch('/healthz')
      expect(health.status).toBe(503)
      expect(health.body).toMatch(new RegExp(`^127\\.0\\.0\\.1:${port}: (down: .+|connecting)\\n$`))
      // Asterisk comes back with one FAP003 contact fewer (deleted while it was down)
      const seed = lockoutSeed({ now: now() })
      seed.rows = seed.rows.filter(
        (row) => row.key !== contactKey('FAP003', 'sip:FAP003@192.0.2.16:5060'),
      )
      const second = await startSim({ seed }, port)
      try {
        await e.waitFor(up, 1, 30_000)
        expect(await e.value(fap)).toBe(1)
        expect(e.stderr()).toMatch(/disconnected: .*\n/)
        expect((await e.fetch('/healthz')).status).toBe(200)
      } finally {
        await e.stop()
        running.splice(running.indexOf(e), 1)
        await second.stop()
      }
    },
  )

  it(
    'an event storm: 10,000 new contacts announced within a second are all absorbed (one DBGet each)',
    { timeout: 180_000 },
    async () => {
      const aors = Array.from({ length: 10_000 }, (_, i) => defineAor(`s${i}`, { maxContacts: 2 }))
      const server = await sim({ seed: { rows: [], aors } })
      const e = await exporterFor(server, '--resync', '1h', '--per-aor', 'problems')
      await e.waitFor(total(server, 'pjctl_server_up'), 1)
      // what 10,000 REGISTERs leave (the sim's registrar is too slow to make them in a second): the rows, then their events in one burst
      const rows = Array.from({ length: 10_000 }, (_, i) =>
        row(`s${i}`, `10.9.${i >> 8}.${i & 255}`, 5060, 'Storm', now() + 3600),
      )
      for (const r of rows) server.astdb.put(CONTACT_FAMILY, r.key, r.value)
      server.broadcast(
        rows.flatMap((r, i) =>
          contactCreatedEvents({
            aor: `s${i}`,
            uri: JSON.parse(r.value).uri,
            endpoint: `s${i}`,
            status: 'NonQualified',
            firstOfAor: true,
          }),
        ),
      )
      await e.waitFor(total(server, 'pjctl_server_contacts'), 10_000, 150_000)
      expect(
        await e.value(`pjctl_events_received_total{server="${S(server)}",event="ContactStatus"}`),
      ).toBe(10_000)
      expect(server.received.filter((r) => r.action === 'DBGet')).toHaveLength(10_000)
      expect(await e.value(`pjctl_server_aors{server="${S(server)}",state="near"}`)).toBe(10_000)
      expect(await e.value(total(server, 'pjctl_contacts_added_total'))).toBe(10_000)
    },
  )

  it(
    'a resync is applied in slices: scrapes answered meanwhile get the last complete body; events during the read and the apply are applied after it; drift counts what no event told',
    { timeout: 120_000 },
    async () => {
      const t = now()
      // 4,000 AORs, each with its contact and a superseded one: at most 4,096 contacts are applied
      // per slice, so the apply of 8,000 takes two slices at the very least (more at 3 ms each)
      const AORS = 4_000
      const CONTACTS = 2 * AORS
      const seed = staleSeed(t, AORS, 1)
      const server = await sim({ seed: { rows: seed.rows, aors: seed.aors } })
      const e = await exporterFor(server, '--resync', '1h', '--debug')
      const contacts = total(server, 'pjctl_server_contacts')
      const removedDrift = `pjctl_resync_drift_contacts_total{server="${S(server)}",kind="removed"}`
      const addedDrift = `pjctl_resync_drift_contacts_total{server="${S(server)}",kind="added"}`
      await e.waitFor(contacts, CONTACTS, 60_000)
      // what only the resync can find: 30 contacts deleted and 20 stored without an event
      for (const key of seed.staleKeys.slice(0, 30)) server.astdb.del(CONTACT_FAMILY, key)
      for (let i = 0; i < 20; i++) {
        const r = row(`ext${1100 + i}`, '10.7.0.1', 6000 + i, GS, t + 3600)
        server.astdb.put(CONTACT_FAMILY, r.key, r.value)
      }
      // K: removed by an event sent as the resync's DBGetTree is answered (the tree still holds it: the read is older than the event);
      // R: removed by an event sent once a scrape was answered while the read was being applied
      const removal = (aor: string) => {
        const r = seed.rows.find(
          (x) => x.key.startsWith(`${aor};@`) && !seed.staleKeys.includes(x.key),
        )!
        return {
          key: r.key,
          events: contactRemovedEvents({
            aor,
            uri: JSON.parse(r.value).uri,
            endpoint: aor,
            lastOfAor: false,
          }),
        }
      }
      const K = removal(`ext${1000 + AORS - 1}`)
      const R = removal(`ext${1000 + AORS - 2}`)
      server.setFaults({
        beforeAction: (action) => {
          if (action.toLowerCase() === 'dbgettree') server.broadcast(K.events)
        },
      })
      const phase = (): 'before' | 'applying' | 'applied' => {
        const log = e.stderr()
        return !log.includes(`: resync: ${CONTACTS - 30 + 20} contacts read, applying`)
          ? 'before'
          : /: resync: \d+ contacts read in /.test(log)
            ? 'applied'
            : 'applying'
      }
      const scrapes: {
        phase: string
        contacts: number | undefined
        removed: number | undefined
      }[] = []
      let done = false
      const scraping = (async () => {
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set when the storm ends
        while (!done) {
          const text = await gzipScrape(e.port)
          const at = phase()
          scrapes.push({
            phase: at,
            contacts: sample(text, contacts),
            removed: sample(text, removedDrift),
          })
          if (at === 'applying' && server.astdb.del(CONTACT_FAMILY, R.key))
            server.broadcast(R.events)
        }
      })()
      server.broadcast([
        block([
          ['Event', 'Reload'],
          ['Privilege', 'system,all'],
          ['Module', 'res_pjsip.so'],
          ['Status', '0'],
        ]),
      ])
      try {
        await e.waitFor(removedDrift, 30, 60_000)
        await e.waitFor(contacts, CONTACTS - 30 + 20 - 2)
      } finally {
        done = true
        await scraping
      }
      // answered while the apply ran (before, the apply was one block: no scrape could end inside it)
      expect(scrapes.filter((s) => s.phase === 'applying').length).toBeGreaterThan(0)
      // every answer a whole picture: before the resync, after it (R's event applied with it or just after), never half applied
      for (const s of scrapes)
        expect([
          [CONTACTS, 0],
          [CONTACTS - 11, 30],
          [CONTACTS - 12, 30],
        ]).toContainEqual([s.contacts, s.removed])
      expect(await e.value(addedDrift)).toBe(20)
      expect(await e.value(aor(server, 'pjctl_aor_contacts', `ext${1000 + AORS - 1}`))).toBe(1)
      expect(await e.value(aor(server, 'pjctl_aor_contacts', `ext${1000 + AORS - 2}`))).toBe(1)
      expect(e.stderr()).toContain(
        `pjctl exporter: ${S(server)}: drift: 20 contact(s) unknown to the exporter, 30 gone from Asterisk without an event`,
      )
    },
  )

  it(
    'a resync whose DBGetTree comes back short is read again on a new session (the one read path), never applied as whole',
    SLOW,
    async () => {
      const server = await sim({ seed: lockoutSeed({ now: now() }) })
      const e = await exporterFor(server, '--resync', '1s')
      const fap = aor(server, 'pjctl_aor_contacts', 'FAP003')
      const removedDrift = `pjctl_resync_drift_contacts_total{server="${S(server)}",kind="removed"}`
      await e.waitFor(fap, 2)
      const trees = () => server.received.filter((r) => r.action === 'DBGetTree').length
      // the next DBGetTree (a resync's) loses a contact while its ListItems stays true
      const before = trees()
      server.setFaults({ dropOutputLines: { action: 'DBGetTree', count: 1, times: 1 } })
      await until(e, () =>
        /resync: \d+ contacts read in/.test(e.stderr().split('try 2 of 3')[1] ?? ''),
      )
      expect(e.stderr()).toContain(
        `incomplete answer to DBGetTree from ${S(server)}: it announced 6 items, 5 arrived; reading again on a new session (try 2 of 3)`,
      )
      expect(trees() - before).toBeGreaterThanOrEqual(2)
      expect(e.stderr()).not.toContain('resync failed')
      expect(e.stderr()).not.toContain('drift:')
      expect(await e.value(removedDrift)).toBe(0)
      expect(await e.value(fap)).toBe(2)

      // short on every try: the resync fails, and the picture is the last whole one
      server.setFaults({ dropOutputLines: { action: 'DBGetTree', count: 1 } })
      await until(e, () => e.stderr().includes('resync failed'))
      expect(e.stderr()).toContain('(try 3 of 3)')
      expect(await e.value(removedDrift)).toBe(0)
      expect(await e.value(fap)).toBe(2)
      expect(await e.value(total(server, 'pjctl_contacts_removed_total'))).toBe(0)
    },
  )

  it(
    'a slow scraper (a request never read, another never finished) holds up neither events nor other scrapes',
    SLOW,
    async () => {
      const seed = staleSeed(now(), 2000, 1)
      const server = await sim({
        seed: { rows: seed.rows, aors: [...seed.aors, defineAor('FAP003', { maxContacts: 2 })] },
      })
      const e = await exporterFor(server, '--resync', '1h')
      await e.waitFor(total(server, 'pjctl_server_contacts'), 4000)
      const stalled = connect(e.port, '127.0.0.1')
      stalled.on('error', () => undefined)
      stalled.write('GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(20))
      stalled.pause()
      const unfinished = connect(e.port, '127.0.0.1')
      unfinished.on('error', () => undefined)
      unfinished.write('GET /metr')
      await new Promise((r) => setTimeout(r, 200))
      server.registrar.register(phone(5071))
      await e.waitFor(aor(server, 'pjctl_aor_contacts', 'FAP003'), 1)
      expect((await e.fetch('/healthz')).status).toBe(200)
      stalled.destroy()
      unfinished.destroy()
    },
  )

  it(
    '--per-aor problems: per-AOR series only for AORs check pages for or holding stale contacts; aggregates for all',
    SLOW,
    async () => {
      const server = await sim({ seed: lockoutSeed({ now: now() }) })
      const e = await exporterFor(
        server,
        '--resync',
        '1h',
        '--per-aor',
        'problems',
        '--per-ip-limit',
        '5',
      )
      await e.waitFor(total(server, 'pjctl_server_up'), 1)
      const text = await e.scrape()
      expect(sample(text, total(server, 'pjctl_source_contacts_limit'))).toBe(5)
      const shown = [
        ...new Set(
          [...text.matchAll(/pjctl_aor_contacts\{server="[^"]+",aor="([^"]+)"\}/g)].map(
            (m) => m[1],
          ),
        ),
      ].sort()
      // FAP003 full with a superseded contact; alice and erin near (1 of 2) and phone1 (2 of 4) are
      // what check calls OK, with nothing stale: not problems (core/status.ts, as contacts --problems)
      expect(shown).toEqual(['FAP003'])
      expect(text).not.toContain('aor="phone1"')
      expect(text).not.toContain('aor="alice"')
      expect(sample(text, total(server, 'pjctl_server_contacts'))).toBe(6)
      expect(sample(text, `pjctl_server_aors{server="${S(server)}",state="ok"}`)).toBe(1)
      expect(sample(text, `pjctl_server_aors{server="${S(server)}",state="near"}`)).toBe(2)
      // what was there at the first read is no change; the server's counters are there, per AOR none
      expect(sample(text, total(server, 'pjctl_contacts_added_total'))).toBe(0)
      expect(sample(text, total(server, 'pjctl_contacts_removed_total'))).toBe(0)
      server.registrar.register({
        aor: 'phone1',
        uri: 'sip:phone1@192.0.2.77:5099',
        viaAddr: '192.0.2.77',
        viaPort: 5099,
        userAgent: GS,
      })
      await e.waitFor(total(server, 'pjctl_contacts_added_total'), 1)
      expect(await e.scrape()).not.toContain('pjctl_aor_contacts_added_total')
    },
  )

  it('--listen that cannot be used: a one-line error, no stack', SLOW, async () => {
    const server = await sim({ seed: emptyFap() })
    const bad = await run(['exporter', '--listen', 'nonsense'], {
      env: { ...envFor(server), ...home() },
    })
    expect(bad.code).toBe(2)
    expect(bad.stderr).toBe(
      "pjctl: option '--listen <host:port>': expected HOST:PORT (e.g. 127.0.0.1:9814, [::1]:9814 or :9814), got 'nonsense'\n",
    )
    const e = await exporterFor(server, '--resync', '1h')
    const busy = await run(['exporter', '--listen', `127.0.0.1:${e.port}`], {
      env: { ...envFor(server), ...home() },
    })
    expect(busy.code).toBe(2)
    expect(busy.stderr).toBe(
      `pjctl: cannot listen on 127.0.0.1:${e.port}: EADDRINUSE\nhint: another process (another pjctl exporter?) uses that port; pick another with --listen\n`,
    )
  })
})

function sample(text: string, series: string): number | undefined {
  const m = new RegExp(`^${series.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} (\\S+)$`, 'm').exec(text)
  return m ? Number(m[1]) : undefined
}

/** The body of /metrics asked for gzip, as Prometheus asks (a small answer: a few turns of the event loop). */
function gzipScrape(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = get(
      {
        host: '127.0.0.1',
        port,
        path: '/metrics',
        agent: false,
        headers: { 'Accept-Encoding': 'gzip' },
      },
      (response) => {
        const chunks: Buffer[] = []
        response.on('data', (d: Buffer) => chunks.push(d))
        response.on('end', () => resolve(gunzipSync(Buffer.concat(chunks)).toString('utf8')))
      },
    )
    request.on('error', reject)
  })
}
