// npm run bench (section `exporter`): pjctl exporter at 100k contacts against the simulated Asterisk.
//   - scrape latency (GET /metrics to the last byte), idle, while a resync runs (every --resync: one
//     DBGetTree read and applied) and while an event storm is absorbed;
//   - events per second absorbed: qualify events for known keys (no AMI action), and new contacts
//     (each one DBGet);
//   - the exporter's RSS at 100k contacts (target < 300 MB), and the time of its first full read.
// `npm run bench -- --asterisk HOST:PORT` measures it on a real Asterisk too (exporterOnAsterisk).

import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gunzipSync } from 'node:zlib'
import { get } from 'node:http'
import { CONTACT_FAMILY } from '../src/core/types.js'
import { contactCreatedEvents } from '../src/sim/pjsip.js'
import { contactValue, defineAor } from '../src/sim/registrar.js'
import { generateRows } from '../src/sim/seed.js'
import { startSim, type SimAsterisk } from '../src/sim/server.js'
import { fmt, median, table } from './measure.js'

type Say = (text?: string) => void
export interface ExporterTarget {
  name: string
  met: boolean
  detail: string
}

const TARGET = { scrapeMs: 50, rssMb: 300 }

interface Running {
  child: ChildProcess
  port: number
  stderr(): string
}

async function startExporterChild(
  bin: string,
  env: Record<string, string>,
  args: string[],
): Promise<Running> {
  const child = spawn(process.execPath, [bin, 'exporter', '--listen', '127.0.0.1:0', ...args], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  const deadline = Date.now() + 60_000
  for (;;) {
    const m = /listening on https?:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(stderr)
    if (m) return { child, port: Number(m[1]), stderr: () => stderr }
    if (Date.now() > deadline || child.exitCode !== null)
      throw new Error(`exporter did not start: ${stderr}`)
    await sleep(20)
  }
}

/** GET to the last byte; with `gzip`, asks for it as Prometheus does (the time is to the last compressed byte). */
function scrape(
  port: number,
  path = '/metrics',
  gzip = false,
): Promise<{ ms: number; body: string; bytes: number }> {
  const started = performance.now()
  return new Promise((resolve, reject) => {
    get(
      {
        host: '127.0.0.1',
        port,
        path,
        agent: false,
        headers: gzip ? { 'Accept-Encoding': 'gzip' } : {},
      },
      (response) => {
        const chunks: Buffer[] = []
        response.on('data', (d: Buffer) => chunks.push(d))
        response.on('end', () => {
          const ms = performance.now() - started
          const raw = Buffer.concat(chunks)
          const body = response.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw
          resolve({ ms, body: body.toString('utf8'), bytes: raw.length })
        })
      },
    ).on('error', reject)
  })
}

function sampleOf(body: string, series: string): number | undefined {
  const i = body.indexOf(`\n${series} `)
  if (i < 0) return undefined
  const from = i + series.length + 2
  return Number(body.slice(from, body.indexOf('\n', from)))
}

async function waitForSample(
  port: number,
  series: string,
  done: (v: number | undefined) => boolean,
  timeoutMs: number,
): Promise<number> {
  const started = performance.now()
  for (;;) {
    const { body } = await scrape(port)
    if (done(sampleOf(body, series))) return performance.now() - started
    if (performance.now() - started > timeoutMs)
      throw new Error(`timed out waiting for ${series} (last ${sampleOf(body, series)})`)
    await sleep(20)
  }
}

function rssMb(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (name: string) =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0)
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 }
}

function stop(running: Running): Promise<number | null> {
  return new Promise((resolve) => {
    running.child.once('exit', (code) => resolve(code))
    running.child.kill('SIGTERM')
  })
}

/**
 * A scraper in a process of its own, as Prometheus is: GET /metrics `n` times (or until stop()),
 * `pauseMs` apart, each timed to its last byte; the bytes are counted, not kept. In the bench process
 * itself the simulator's 100,000 contacts and the kept bodies made GC pauses that were counted as the
 * exporter's (a plain 23 MB scrape: 60 ms median / 250 ms p95 in process, 12 / 22 ms with curl).
 */
const SCRAPER = `
const [port, n, gzip, pauseMs] = process.argv.slice(1, 5).map(Number)
// over HTTPS (trusting the CA file) with basic auth, when given
const [caFile, auth] = process.argv.slice(5)
const { get } = require(caFile ? 'node:https' : 'node:http')
const tls = caFile ? { ca: require('node:fs').readFileSync(caFile) } : {}
const authorization = auth ? { Authorization: 'Basic ' + Buffer.from(auth).toString('base64') } : {}
let stopped = false
process.stdin.on('end', () => (stopped = true)).resume()
const times = []
const starts = []
let sent = 0
const one = () => new Promise((resolve, reject) => {
  starts.push(Date.now())
  const started = performance.now()
  get({ host: '127.0.0.1', port, path: '/metrics', agent: false, ...tls, headers: { ...authorization, ...(gzip ? { 'Accept-Encoding': 'gzip' } : {}) } }, (response) => {
    if (response.statusCode !== 200) return reject(new Error('HTTP ' + response.statusCode))
    let bytes = 0
    response.on('data', (d) => (bytes += d.length))
    response.on('end', () => { times.push(performance.now() - started); sent = bytes; resolve() })
  }).on('error', reject)
})
;(async () => {
  for (let i = 0; i < n && !stopped; i++) {
    await one()
    if (pauseMs) await new Promise((r) => setTimeout(r, pauseMs))
  }
  process.stdout.write(JSON.stringify({ times, starts, sent }))
  process.exit(0)
})()
`

/** What the scraper measured: each scrape's ms to the last byte and its start (Unix ms), in order; the bytes of the last one. */
interface Scraped {
  times: number[]
  starts: number[]
  sent: number
}

function startScraper(
  port: number,
  options: { n?: number; gzip?: boolean; pauseMs?: number; caFile?: string; auth?: string } = {},
): { stop(): Promise<Scraped>; done: Promise<Scraped> } {
  const child = spawn(
    process.execPath,
    [
      '-e',
      SCRAPER,
      String(port),
      String(options.n ?? 1e9),
      options.gzip ? '1' : '0',
      String(options.pauseMs ?? 0),
      ...(options.caFile ? [options.caFile, options.auth ?? ''] : []),
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  )
  let out = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d))
  const done = new Promise<Scraped>((resolve, reject) =>
    child.once('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out) as Scraped) : reject(new Error(`scraper exit ${code}`)),
    ),
  )
  return {
    done,
    stop: () => {
      child.stdin.end()
      return done
    },
  }
}

async function scrapeFigures(
  port: number,
  n: number,
  gzip = false,
): Promise<{ median: number; p95: number; max: number; bytes: number; sent: number }> {
  const bytes = (await scrape(port, '/metrics', gzip)).body.length
  const { times, sent } = await startScraper(port, { n, gzip }).done
  const sorted = [...times].sort((a, b) => a - b)
  return {
    median: median(times),
    p95: sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))]!,
    max: sorted[sorted.length - 1]!,
    bytes,
    sent,
  }
}

/**
 * The same idle scrapes with curl (a C client, closer to Prometheus's Go one), when curl is installed:
 * null otherwise. A Node scraper's own parsing and GC show in its p95 for a 23 MB body (13 / 69 ms
 * against curl's 12 / 22 ms on a 17 MB one).
 */
function curlFigures(port: number, n: number): { median: number; p95: number; max: number } | null {
  const times: number[] = []
  for (let i = 0; i < n; i++) {
    const r = spawnSync(
      'curl',
      ['-s', '-o', '/dev/null', '-w', '%{time_total}', `http://127.0.0.1:${port}/metrics`],
      { encoding: 'utf8' },
    )
    if (r.error || r.status !== 0) return null
    times.push(Number(r.stdout) * 1000)
  }
  const sorted = [...times].sort((a, b) => a - b)
  return {
    median: median(times),
    p95: sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))]!,
    max: sorted[sorted.length - 1]!,
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** --resync of the bench's exporters: the first periodic resync comes after the idle figures, the next after the storms. */
const RESYNC_S = 40

/**
 * Gzip scrapes (10 ms apart, from a process of their own) while the exporter's next periodic resync runs:
 * the resync's DBGetTree read and its apply (LiveServer.loading, in slices). The window is the resync's
 * own duration as the exporter logs it (`resync: N contacts read in S s`), ending when that line appears
 * (polled every 10 ms); a scrape counts when it overlaps the window.
 */
async function scrapesDuringResync(
  running: Running,
  timeoutMs: number,
): Promise<{ seconds: number; n: number; median: number; p95: number; max: number }> {
  const pattern = /: resync: \d+ contacts read in ([\d.]+) s/g
  const before = [...running.stderr().matchAll(pattern)].length
  const scraper = startScraper(running.port, { gzip: true, pauseMs: 10 })
  const deadline = Date.now() + timeoutMs
  let seconds = NaN
  for (;;) {
    const found = [...running.stderr().matchAll(pattern)]
    if (found.length > before) {
      seconds = Number(found[before]![1])
      break
    }
    if (Date.now() > deadline) {
      await scraper.stop()
      throw new Error(`no resync within ${timeoutMs} ms: ${running.stderr()}`)
    }
    await sleep(10)
  }
  const end = Date.now()
  // the scrapes in flight at the end finish
  await sleep(300)
  const { times, starts } = await scraper.stop()
  const from = end - seconds * 1000 - 10
  const during = times
    .filter((ms, i) => starts[i]! <= end && starts[i]! + ms >= from)
    .sort((a, b) => a - b)
  if (!during.length) throw new Error('no scrape overlapped the resync')
  return {
    seconds,
    n: during.length,
    median: median(during),
    p95: during[Math.min(during.length - 1, Math.floor(during.length * 0.95))]!,
    max: during[during.length - 1]!,
  }
}

/** What both scenarios measure on one exporter: its first read, idle scrapes, RSS, and scrapes during a resync. */
interface Measured {
  running: Running
  idle: { bytes: number; sent: number }
}

/**
 * Starts the exporter (`--per-aor perAor`, `--resync RESYNC_S`), waits for `up`, and adds to `rows` and `met`
 * the figures both scenarios report: the first full read, the body, scrapes while idle (plain, curl, gzip),
 * RSS, and scrapes during its first resync. `where` labels the targets (sim or real Asterisk); `extraRows`
 * adds rows of the scenario's own right after the first read (the body is read once for them).
 */
async function startAndMeasure(
  bin: string,
  env: Record<string, string>,
  perAor: 'all' | 'problems',
  server: string,
  what: {
    where: string
    contacts: string
    readLabel: string
    extraRows?: (body: string) => (string | number)[][]
  },
  rows: (string | number)[][],
  met: ExporterTarget[],
  children: Set<ChildProcess>,
  progress: (t: string) => void,
): Promise<Measured> {
  const started = performance.now()
  const running = await startExporterChild(bin, env, [
    '--resync',
    `${RESYNC_S}s`,
    '--per-aor',
    perAor,
    '--timeout',
    '300',
  ])
  children.add(running.child)
  await waitForSample(running.port, `pjctl_server_up{server="${server}"}`, (v) => v === 1, 900_000)
  const readMs = performance.now() - started
  await sleep(1000)
  const plain = await scrapeFigures(running.port, 30)
  const idle = await scrapeFigures(running.port, 30, true)
  const memory = rssMb(running.child.pid!)
  rows.push([`--per-aor ${perAor}: first full read (${what.readLabel})`, fmt.ms(readMs)])
  if (what.extraRows) rows.push(...what.extraRows((await scrape(running.port)).body))
  const figures = (f: { median: number; p95: number; max: number }) =>
    `${f.median.toFixed(1)} / ${f.p95.toFixed(1)} / ${f.max.toFixed(1)} ms`
  rows.push([
    `--per-aor ${perAor}: /metrics body (gzip, as Prometheus asks)`,
    `${(idle.bytes / 1024 / 1024).toFixed(1)} MB (${(idle.sent / 1024 / 1024).toFixed(1)} MB)`,
  ])
  rows.push([
    `--per-aor ${perAor}: scrape, idle, no gzip (median / p95 / max of 30)`,
    figures(plain),
  ])
  const curled = curlFigures(running.port, 30)
  if (curled)
    rows.push([
      `--per-aor ${perAor}: scrape, idle, no gzip, with curl (median / p95 / max of 30)`,
      figures(curled),
    ])
  rows.push([`--per-aor ${perAor}: scrape, idle, gzip (median / p95 / max of 30)`, figures(idle)])
  rows.push([
    `--per-aor ${perAor}: RSS after the read (peak)`,
    `${memory.rss.toFixed(0)} MB (${memory.hwm.toFixed(0)} MB)`,
  ])
  met.push({
    name: `exporter scrape at ${what.contacts} contacts, --per-aor ${perAor} (${what.where})`,
    met: idle.p95 < TARGET.scrapeMs,
    detail: `p95 ${idle.p95.toFixed(1)} ms with gzip, ${plain.p95.toFixed(1)} ms without${curled ? ` (curl ${curled.p95.toFixed(1)} ms)` : ''} (target < ${TARGET.scrapeMs} ms)`,
  })
  met.push({
    name: `exporter RSS at ${what.contacts} contacts, --per-aor ${perAor} (${what.where})`,
    met: memory.hwm < TARGET.rssMb,
    detail: `${memory.rss.toFixed(0)} MB, peak ${memory.hwm.toFixed(0)} MB (target < ${TARGET.rssMb} MB)`,
  })
  progress(`exporter: --per-aor ${perAor}: scrapes during the first resync (--resync ${RESYNC_S}s)`)
  const resync = await scrapesDuringResync(running, 2 * RESYNC_S * 1000)
  rows.push([
    `--per-aor ${perAor}: scrape during a resync, gzip (median / p95 / max of ${resync.n}; resync ${resync.seconds.toFixed(2)} s)`,
    figures(resync),
  ])
  met.push({
    name: `exporter scrape during a resync at ${what.contacts} contacts, --per-aor ${perAor} (${what.where})`,
    met: resync.p95 < TARGET.scrapeMs,
    detail: `p95 ${resync.p95.toFixed(1)} ms, max ${resync.max.toFixed(1)} ms with gzip, ${resync.n} scrapes over a ${resync.seconds.toFixed(2)} s resync (target < ${TARGET.scrapeMs} ms)`,
  })
  return { running, idle }
}

/** The sim scenario. `env(sim)` gives the child's environment for a sim. */
export async function exporterBench(
  bin: string,
  env: (sim: SimAsterisk) => Record<string, string>,
  say: Say,
  progress: (t: string) => void,
): Promise<ExporterTarget[]> {
  const now = Math.floor(Date.now() / 1000)
  const count = 100_000
  const seed = generateRows({ count, now: now + 3000 })
  // 20,000 spare AORs for the new-contact storm
  const spare = Array.from({ length: 20_000 }, (_, i) => defineAor(`storm${i}`, { maxContacts: 2 }))
  const sim = await startSim({
    seed: { rows: seed.rows, aors: [...seed.aors, ...spare] },
    chunkSize: 64 * 1024,
  })
  const met: ExporterTarget[] = []
  const rows: (string | number)[][] = []
  const children = new Set<ChildProcess>()
  try {
    for (const perAor of ['all', 'problems'] as const) {
      progress(`exporter: --per-aor ${perAor} at ${count} contacts`)
      const server = `127.0.0.1:${sim.port}`
      const { running } = await startAndMeasure(
        bin,
        env(sim),
        perAor,
        server,
        { where: 'sim', contacts: '100k', readLabel: 'spawn to up' },
        rows,
        met,
        children,
        progress,
      )

      if (perAor === 'all') {
        // qualify storm: 50,000 ContactStatus Reachable events for known contacts (no AMI action each)
        const keys = seed.rows.slice(0, 50_000)
        const qualifyEvents = keys.map((row) => {
          const value = JSON.parse(row.value) as Record<string, string>
          const aor = row.key.slice(0, row.key.indexOf(';@'))
          return `Event: ContactStatus\r\nPrivilege: system,all\r\nURI: ${value.uri}\r\nContactStatus: Reachable\r\nAOR: ${aor}\r\nEndpointName: ${aor}\r\nRoundtripUsec: 1234\r\n\r\n`
        })
        const series = `pjctl_events_received_total{server="${server}",event="ContactStatus"}`
        const t0 = performance.now()
        sim.broadcast(qualifyEvents)
        const scraper = startScraper(running.port, { gzip: true, pauseMs: 50 })
        await waitForSample(running.port, series, (v) => v === 50_000, 900_000)
        const qualifyMs = performance.now() - t0
        // new contacts: 20,000 rows, then their NonQualified events in one burst (each costs one DBGet)
        const stormRows = spare.map((aor, i) => {
          const uri = `sip:${aor.name}@10.200.${i >> 8}.${i & 255}:5060`
          return {
            key: `${aor.name};@${md5(uri)}`,
            uri,
            value: contactValue({
              via_addr: `10.200.${i >> 8}.${i & 255}`,
              qualify_timeout: '3.000000',
              qualify_2xx_only: 'false',
              call_id: `c${i}`,
              reg_server: '',
              prune_on_boot: 'no',
              path: '',
              endpoint: aor.name,
              via_port: '5060',
              authenticate_qualify: 'no',
              uri,
              qualify_frequency: '0',
              user_agent: 'Bench',
              expiration_time: String(now + 3600),
              outbound_proxy: '',
            }),
          }
        })
        for (const r of stormRows) sim.astdb.put(CONTACT_FAMILY, r.key, r.value)
        const t1 = performance.now()
        sim.broadcast(
          stormRows.flatMap((r, i) =>
            contactCreatedEvents({
              aor: spare[i]!.name,
              uri: r.uri,
              endpoint: spare[i]!.name,
              status: 'NonQualified',
              firstOfAor: true,
            }),
          ),
        )
        await waitForSample(
          running.port,
          `pjctl_server_contacts{server="${server}"}`,
          (v) => v === count + 20_000,
          900_000,
        )
        const newMs = performance.now() - t1
        const during = (await scraper.stop()).times.sort((a, b) => a - b)
        const after = rssMb(running.child.pid!)
        rows.push([
          'qualify events absorbed (50,000 ContactStatus Reachable, known keys)',
          `${fmt.ms(qualifyMs)} = ${Math.round(50_000 / (qualifyMs / 1000)).toLocaleString('en')} events/s`,
        ])
        rows.push([
          'new contacts absorbed (20,000 ContactStatus NonQualified + 20,000 DBGet)',
          `${fmt.ms(newMs)} = ${Math.round(20_000 / (newMs / 1000)).toLocaleString('en')} events/s`,
        ])
        rows.push([
          `scrape during the storms, gzip (median / p95 / max of ${during.length})`,
          `${median(during).toFixed(1)} / ${during[Math.floor(during.length * 0.95)]?.toFixed(1)} / ${during.at(-1)?.toFixed(1)} ms`,
        ])
        rows.push([
          'RSS after the storms, 120k contacts (peak)',
          `${after.rss.toFixed(0)} MB (${after.hwm.toFixed(0)} MB)`,
        ])
        for (const r of stormRows) sim.astdb.del(CONTACT_FAMILY, r.key)
      }
      const code = await stop(running)
      if (code !== 0) throw new Error(`exporter exit ${code}: ${running.stderr()}`)
    }
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
    await sim.stop()
  }
  say('## pjctl exporter (simulated Asterisk, 100,000 contacts on 50,000 AORs)')
  say(table(['what', 'figure'], rows))
  say()
  return met
}

function md5(text: string): string {
  return createHash('md5').update(text).digest('hex')
}

/**
 * `npm run bench -- --asterisk HOST:PORT --only exporter`: the exporter on a real Asterisk at 33,333 AORs /
 * 100,000 contacts (bulk_aors.sh + seed_contacts.py), then torn down (the lab's own contacts put back,
 * bulk_aors.sh 0). Hold the lab lock. Events/s cannot be driven at this rate with real REGISTERs here:
 * that figure is the simulator's.
 */
export async function exporterOnAsterisk(
  bin: string,
  env: Record<string, string>,
  say: Say,
  progress: (t: string) => void,
): Promise<ExporterTarget[]> {
  const lab = await import('./lab.js')
  const found = await lab.astdbContacts()
  const met: ExporterTarget[] = []
  const rows: (string | number)[][] = []
  const server = `${lab.LAB.host}:${lab.LAB.port}`
  // PJCTL_BENCH_EXPORTER_SCALE=AORS/CONTACTS (default 33333/100000)
  const [aorCount, contactCount] = (process.env.PJCTL_BENCH_EXPORTER_SCALE ?? '33333/100000')
    .split('/')
    .map(Number)
  const children = new Set<ChildProcess>()
  try {
    progress(`exporter: bulk_aors.sh ${aorCount}`)
    await lab.labScript('bulk_aors.sh', [String(aorCount)], 600_000)
    progress(`exporter: seed_contacts.py ${contactCount} ${aorCount}`)
    await lab.labScript(
      'seed_contacts.py',
      [server, lab.LAB.user, lab.LAB.secret, String(contactCount), String(aorCount)],
      900_000,
    )
    const total = (await lab.astdbContacts()).size
    for (const perAor of ['all', 'problems'] as const) {
      progress(`exporter: --per-aor ${perAor} on real Asterisk (${total} contacts)`)
      // the machine is shared: each figure is paired with asterisk -rx in the same run, on an idle Asterisk
      await lab.waitIdle()
      const rxStarted = performance.now()
      const rxCount = /(\d+) results found/.exec(
        await lab.cli('database show registrar/contact'),
      )?.[1]
      rows.push([
        `--per-aor ${perAor}: asterisk -rx "database show registrar/contact" just before (paired)`,
        `${fmt.ms(performance.now() - rxStarted)} (${rxCount} results)`,
      ])
      const contactsSeen = (body: string) => [
        [
          `--per-aor ${perAor}: contacts seen / in astdb`,
          `${sampleOf(body, `pjctl_server_contacts{server="${server}"}`)! + sampleOf(body, `pjctl_server_expired_contacts{server="${server}"}`)!} / ${total}`,
        ],
      ]
      const { running } = await startAndMeasure(
        bin,
        env,
        perAor,
        server,
        {
          where: 'real Asterisk',
          contacts: String(total),
          readLabel: 'spawn to up; limits included',
          extraRows: contactsSeen,
        },
        rows,
        met,
        children,
        progress,
      )
      const code = await stop(running)
      if (code !== 0) throw new Error(`exporter exit ${code}: ${running.stderr()}`)
    }
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
    progress('exporter: cleaning up')
    const now = await lab.astdbContacts()
    await lab.deleteKeys([...now.keys()].filter((k) => !found.has(k)))
    await lab.putRows([...found].filter(([k, v]) => now.get(k) !== v))
    await lab.labScript('bulk_aors.sh', ['0'], 600_000)
  }
  say(
    `## pjctl exporter on real Asterisk (${(await lab.cli('core show version')).trim().split(' ').slice(0, 2).join(' ')}, ${aorCount} AORs / ${contactCount} contacts)`,
  )
  say(table(['what', 'figure'], rows))
  say()
  return met
}

/**
 * `npm run bench -- --only exporter-tls`: the scrape at 100,000 contacts over HTTPS with basic auth
 * (--web-config: TLS with the test certificate, one bcrypt user) against the same scrape over plain
 * HTTP, in one run: two exporters on one sim, scraped in alternating rounds by a scraper process of its
 * own, gzip as Prometheus asks, a new connection (and so a TLS handshake) for every scrape, as the
 * bench's other scrapes. Target: HTTPS p95 at most 1.5 times plain, and under 50 ms.
 */
export async function exporterTlsBench(
  bin: string,
  env: (sim: SimAsterisk) => Record<string, string>,
  say: Say,
  progress: (t: string) => void,
): Promise<ExporterTarget[]> {
  const now = Math.floor(Date.now() / 1000)
  const count = 100_000
  const seed = generateRows({ count, now: now + 3000 })
  const sim = await startSim({ seed: { rows: seed.rows, aors: seed.aors }, chunkSize: 64 * 1024 })
  const dir = mkdtempSync(join(tmpdir(), 'pjctl-bench-tls-'))
  const fixtures = fileURLToPath(new URL('../../test/fixtures/web-config/', import.meta.url))
  for (const f of ['server.crt', 'server.key']) copyFileSync(join(fixtures, f), join(dir, f))
  writeFileSync(
    join(dir, 'web.yml'),
    "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\nbasic_auth_users:\n  prometheus: '$2b$10$AhMa6fiPTYKXiDyU25R3R.KURjzAQzjEC7c/HBvhNI1O3ua9plBM2'\n",
  )
  const auth = { caFile: join(dir, 'server.crt'), auth: 'prometheus:scrape-secret' }
  const children: ChildProcess[] = []
  try {
    progress(`exporter-tls: two exporters at ${count} contacts, plain and HTTPS + basic auth`)
    const plain = await startExporterChild(bin, env(sim), ['--resync', '1h'])
    children.push(plain.child)
    const secure = await startExporterChild(bin, env(sim), [
      '--resync',
      '1h',
      '--web-config',
      join(dir, 'web.yml'),
    ])
    children.push(secure.child)
    const server = `127.0.0.1:${sim.port}`
    await waitForSample(plain.port, `pjctl_server_up{server="${server}"}`, (v) => v === 1, 900_000)
    for (const until = Date.now() + 900_000; !/: up: \d+ contacts read/.test(secure.stderr());) {
      if (Date.now() > until)
        throw new Error(`the HTTPS exporter did not come up: ${secure.stderr()}`)
      await sleep(100)
    }
    // the first render after the read, and the one bcrypt comparison, before the figures
    await sleep(3000)
    await startScraper(secure.port, { n: 2, gzip: true, ...auth }).done
    const times = { plain: [] as number[], secure: [] as number[] }
    let bytes = 0
    for (let round = 0; round < 6; round++) {
      progress(`exporter-tls: round ${round + 1} of 6`)
      times.plain.push(...(await startScraper(plain.port, { n: 20, gzip: true }).done).times)
      const s = await startScraper(secure.port, { n: 20, gzip: true, ...auth }).done
      times.secure.push(...s.times)
      bytes = s.sent
    }
    const stats = (t: number[]) => {
      const sorted = [...t].sort((a, b) => a - b)
      return {
        median: median(t),
        p95: sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))]!,
        max: sorted[sorted.length - 1]!,
      }
    }
    const p = stats(times.plain)
    const t = stats(times.secure)
    const row = (f: { median: number; p95: number; max: number }) =>
      `${f.median.toFixed(1)} / ${f.p95.toFixed(1)} / ${f.max.toFixed(1)} ms`
    say(`## Exporter scrape over HTTPS with basic auth (${count} contacts, sim)`)
    say()
    say(
      table(
        ['what', 'value'],
        [
          ['/metrics body, gzip', `${(bytes / 1024 / 1024).toFixed(2)} MB`],
          [`plain HTTP, gzip (median / p95 / max of ${times.plain.length})`, row(p)],
          [`HTTPS + basic auth, gzip (median / p95 / max of ${times.secure.length})`, row(t)],
          ['HTTPS p95 / plain p95', `${(t.p95 / p.p95).toFixed(2)}x`],
        ],
      ),
    )
    say()
    return [
      {
        name: `exporter scrape over HTTPS with basic auth at ${count / 1000}k contacts (sim)`,
        met: t.p95 <= 1.5 * p.p95 && t.p95 < TARGET.scrapeMs,
        detail: `p95 ${t.p95.toFixed(1)} ms against ${p.p95.toFixed(1)} ms over plain HTTP (${(t.p95 / p.p95).toFixed(2)}x; target at most 1.5x and < ${TARGET.scrapeMs} ms)`,
      },
    ]
  } finally {
    for (const child of children) child.kill('SIGTERM')
    await sim.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * The idle scrape for the bench's one table (`npm run bench -- --asterisk`): `pjctl exporter --per-aor
 * all` on the lab as it is (the 33k/100k registrar), `n` gzip scrapes from a process of its own once
 * it is up, with no resync due meanwhile. The exporter is stopped before this returns.
 */
export async function idleScrapeOnLab(
  bin: string,
  env: Record<string, string>,
  server: string,
  n = 30,
): Promise<{
  median: number
  p95: number
  max: number
  bytes: number
  hwmMb: number
  readMs: number
}> {
  const started = performance.now()
  const running = await startExporterChild(bin, env, [
    '--per-aor',
    'all',
    '--resync',
    '3600s',
    '--timeout',
    '300',
  ])
  try {
    await waitForSample(
      running.port,
      `pjctl_server_up{server="${server}"}`,
      (v) => v === 1,
      900_000,
    )
    const readMs = performance.now() - started
    await sleep(1000)
    const figures = await scrapeFigures(running.port, n, true)
    return { ...figures, hwmMb: rssMb(running.child.pid!).hwm, readMs }
  } finally {
    await stop(running)
  }
}
