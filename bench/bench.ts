// npm run bench: how fast and how big pjctl is on large registrars (issue 6).
//
// Everything runs against the simulated Asterisk (src/sim) started in this process, answering
// in 64 KiB chunks, loaded with generateRows() registrars of 1k, 10k and 100k contacts. pjctl
// and the reference readers run as child processes (bench/probe.ts), measured from spawn to exit.
// Prints tables only; writes nothing into the repository (temporary files go to os.tmpdir()).

import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { cpus, loadavg, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { buildReports } from '../src/core/classify.js'
import { DatabaseShowParser, contactsFromDbTree } from '../src/core/dump.js'
import { CONTACT_FAMILY, type AorConfig, type ContactRow } from '../src/core/types.js'
import { write } from '../src/cli.js'
import { Lazy } from '../src/output/json.js'
import { contactsDoc, contactsJson } from '../src/output/contacts.js'
import { runCli } from '../src/sim/cli.js'
import type { SimAor } from '../src/sim/registrar.js'
import { generateRows, type SimSeed } from '../src/sim/seed.js'
import { startSim, type SimAsterisk, type SimUser } from '../src/sim/server.js'
import { fmt, median, runNode, table, type ChildResult } from './measure.js'

/** PJCTL_BENCH_BIN=/path/to/other/bin/pjctl.js benchmarks another build (e.g. a candidate fix) against the same sims. */
const BIN =
  process.env.PJCTL_BENCH_BIN || fileURLToPath(new URL('../../bin/pjctl.js', import.meta.url))
const PROBE = fileURLToPath(new URL('./probe.js', import.meta.url))
const CHUNK = 64 * 1024
const SIZES = [1_000, 10_000, 100_000] as const
/** Runs per size: medians of 3 for 100k, more for the small ones. */
const RUNS: Record<number, number> = { 1_000: 7, 10_000: 5, 100_000: 3 }
const SOURCES = ['dbgettree', 'command'] as const
type Source = (typeof SOURCES)[number]
const STOCK_CAP_MS = 60_000

const TARGET = { ratio: 1.5, rssMb: 300, pruneMs: 2000, helpMs: 150, jsonWriter: 1.2 }

const benchStart = performance.now()
const now = Math.floor(Date.now() / 1000)
const scratch = mkdtempSync(join(tmpdir(), 'pjctl-bench-'))
const sims: SimAsterisk[] = []
const targets: { name: string; met: boolean; detail: string }[] = []

function say(text = ''): void {
  process.stdout.write(`${text}\n`)
}
function progress(text: string): void {
  process.stderr.write(`bench: ${text}\n`)
}
function target(name: string, met: boolean, detail: string): string {
  targets.push({ name, met, detail })
  return `${met ? 'MET   ' : 'MISSED'}  ${name}: ${detail}`
}

/** A clean environment for pjctl: no PJCTL_* of the caller, an isolated HOME/XDG tree. */
function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !k.startsWith('PJCTL_') && k !== 'FORCE_COLOR' && k !== 'NODE_OPTIONS')
      env[k] = v
  const home = join(scratch, 'home')
  return {
    ...env,
    NO_COLOR: '1',
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_STATE_HOME: join(home, '.local/state'),
    ...extra,
  }
}
function simEnv(
  sim: SimAsterisk,
  user = 'pjctl',
  secret = `${user}-secret`,
): Record<string, string> {
  return childEnv({
    PJCTL_HOST: '127.0.0.1',
    PJCTL_PORT: String(sim.port),
    PJCTL_USER: user,
    PJCTL_SECRET: secret,
  })
}

async function pjctl(
  args: string[],
  env: Record<string, string>,
  opts: { rss?: boolean; keepStdout?: number } = {},
): Promise<ChildResult> {
  const r = await runNode([BIN, ...args], {
    env,
    rss: opts.rss ?? true,
    keepStdout: opts.keepStdout ?? 4096,
    timeoutMs: 120_000,
  })
  return r
}

function assertRun(what: string, r: ChildResult, okCodes: number[]): void {
  if (r.code === null || !okCodes.includes(r.code) || r.timedOut) {
    throw new Error(
      `${what}: exit ${r.code} ${r.signal ?? ''}${r.timedOut ? ' (timed out)' : ''}\n${r.stderr.slice(0, 2000)}`,
    )
  }
}

async function probe(
  mode: string,
  port: number,
  what: string,
  timeoutMs = 120_000,
): Promise<{ run: ChildResult; result: Record<string, unknown> | null }> {
  const run = await runNode([PROBE, mode, String(port), what], {
    env: childEnv(),
    keepStdout: 64 * 1024,
    timeoutMs,
  })
  if (run.timedOut) return { run, result: null }
  if (run.code !== 0) throw new Error(`probe ${mode} ${what}: exit ${run.code}\n${run.stderr}`)
  return { run, result: JSON.parse(run.stdoutHead) as Record<string, unknown> }
}

function aorConfig(aor: SimAor): AorConfig {
  return {
    aor: aor.name,
    maxContacts: aor.maxContacts,
    removeExisting: aor.removeExisting,
    removeUnavailable: aor.removeUnavailable,
    qualifyFrequency: aor.qualifyFrequency,
    minimumExpiration: aor.minimumExpiration,
    maximumExpiration: aor.maximumExpiration,
    defaultExpiration: aor.defaultExpiration,
    source: 'ami',
  }
}

/** Times fn `runs` times (after one warm-up) and returns the median in ms. */
function timeInProcess(runs: number, fn: () => unknown): number {
  fn()
  const times: number[] = []
  for (let i = 0; i < runs; i++) {
    const t = performance.now()
    fn()
    times.push(performance.now() - t)
  }
  return median(times)
}

function machine(): string {
  let model = cpus()[0]?.model ?? 'unknown'
  try {
    model = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? model
  } catch {
    // not Linux: os.cpus() has it
  }
  return `${model}; ${cpus().length} cores; ${(totalmem() / 1024 ** 3).toFixed(1)} GiB RAM; Node ${process.version}; ${process.platform}/${process.arch}`
}

// ---------------------------------------------------------------------------------------------

interface Lab {
  n: number
  seed: SimSeed
  sim: SimAsterisk
}

/** Puts the registrar back as seeded: PJSIPShowAors deletes expired contacts (as Asterisk's
 *  ast_sip_location_retrieve_aor_contacts does), so every measured run starts from the same rows. */
function restore(lab: Lab): void {
  if (lab.sim.astdb.size === lab.seed.rows.length) return
  lab.sim.load(lab.seed)
  lab.sim.astdb.tree(CONTACT_FAMILY) // re-sort the keys now, not inside a measured answer
}

async function labs(): Promise<Lab[]> {
  const out: Lab[] = []
  for (const n of SIZES) {
    const seed = generateRows({ count: n, now })
    const sim = await startSim({ seed, chunkSize: CHUNK, now: () => now })
    sims.push(sim)
    out.push({ n, seed, sim })
  }
  return out
}

function describeSeeds(all: Lab[]): void {
  say('## Registrars (src/sim/seed.ts generateRows; sim answers in 64 KiB chunks, no writetimeout)')
  const rows = all.map(({ n, seed }) => {
    const parsed = contactsFromDbTree(seed.rows, seed.rows.length)
    const reports = buildReports({
      contacts: parsed.contacts,
      configs: seed.aors.map(aorConfig),
      now,
    })
    const valueBytes =
      seed.rows.reduce((s, r) => s + Buffer.byteLength(r.value), 0) / seed.rows.length
    const ua = Math.max(...parsed.contacts.map((c) => c.userAgent.length))
    const count = (pred: (a: (typeof reports)[number]) => boolean) => reports.filter(pred).length
    return [
      fmt.count(n),
      fmt.count(reports.length),
      fmt.count(count((a) => a.state === 'full' || a.state === 'over')),
      fmt.count(
        count((a) => (a.state === 'full' || a.state === 'over') && a.removeExisting !== true),
      ),
      fmt.count(count((a) => a.state === 'near')),
      fmt.count(count((a) => a.removeExisting === true)),
      fmt.count(reports.reduce((s, a) => s + a.superseded, 0)),
      fmt.count(reports.reduce((s, a) => s + a.expired, 0)),
      `${valueBytes.toFixed(0)} B`,
      `${ua} ch`,
    ]
  })
  say(
    table(
      [
        'contacts',
        'AORs',
        'full',
        'full, remove_existing=no',
        'near',
        'remove_existing',
        'superseded',
        'expired',
        'avg value',
        'max UA',
      ],
      rows,
    ),
  )
  say(
    'Rows are the captured Asterisk 22 JSON shape (15 string fields, call_id, rinstance URIs for soft',
  )
  say(
    'phones); user agents are 8 long real-world strings (84-98 chars); a tenth of the AORs are full with a',
  )
  say(
    'superseded pair (the lockout: full, remove_existing=no, CRITICAL), every 7th AOR has remove_existing=yes at',
  )
  say('max_contacts (full but harmless), ~1% of contacts expired. One AOR per two contacts.')
  say()
}

// ---------------------------------------------------------------------------------------------

interface ParseFigures {
  n: number
  dumpMs: number
  treeMs: number
  judgeMs: number
}

function parseRates(all: Lab[]): ParseFigures[] {
  say('## Parsers in process (median; one warm-up run)')
  const figures: ParseFigures[] = []
  for (const { n, seed, sim } of all) {
    progress(`parsers at ${n}`)
    const cli = runCli(`database show ${CONTACT_FAMILY}`, sim)
    const lines = [...cli.head, ...cli.items, ...cli.tail]
    const prefix = `/${CONTACT_FAMILY}/`
    const rows: ContactRow[] = sim.astdb
      .tree(CONTACT_FAMILY)
      .map((e) => ({ key: e.key.slice(prefix.length), value: e.value }))
    const runs = n >= 100_000 ? 5 : n >= 10_000 ? 10 : 30
    const check = new DatabaseShowParser()
    for (const line of lines) check.push(line)
    const parsed = check.finish()
    if (parsed.contacts.length !== n || parsed.problems.length || parsed.declaredCount !== n)
      throw new Error(
        `dump parser: ${parsed.contacts.length}/${n} contacts, ${parsed.problems.length} problems`,
      )
    const dumpMs = timeInProcess(runs, () => {
      const p = new DatabaseShowParser()
      for (const line of lines) p.push(line)
      return p.finish()
    })
    const treeMs = timeInProcess(runs, () => contactsFromDbTree(rows, rows.length))
    const configs = seed.aors.map(aorConfig)
    const judgeMs = timeInProcess(runs, () =>
      buildReports({ contacts: parsed.contacts, configs, now }),
    )
    figures.push({ n, dumpMs, treeMs, judgeMs })
  }
  say(
    table(
      [
        'contacts',
        'DatabaseShowParser',
        'rate',
        'contactsFromDbTree',
        'rate',
        'buildReports (judge)',
        'rate',
      ],
      figures.map((f) => [
        fmt.count(f.n),
        fmt.ms(f.dumpMs),
        fmt.rate((f.n / f.dumpMs) * 1000),
        fmt.ms(f.treeMs),
        fmt.rate((f.n / f.treeMs) * 1000),
        fmt.ms(f.judgeMs),
        fmt.rate((f.n / f.judgeMs) * 1000),
      ]),
    ),
  )
  say()
  return figures
}

// ---------------------------------------------------------------------------------------------

interface E2E {
  n: number
  source: Source
  bare: number
  bareAll: number
  contacts: number
  contactsRss: number
  contactsBytes: number
  contactsPolled: number
  check: number
  checkRss: number
  checkBytes: number
  checkExit: number
}

async function endToEnd(all: Lab[]): Promise<E2E[]> {
  const results: E2E[] = []
  for (const lab of all) {
    const { n, sim } = lab
    for (const source of SOURCES) {
      progress(`end to end at ${n}, --source ${source}`)
      const runs = RUNS[n]
      const bare: number[] = []
      const bareAll: number[] = []
      const contacts: ChildResult[] = []
      const check: ChildResult[] = []
      const env = simEnv(sim)
      for (let i = 0; i < runs!; i++) {
        restore(lab)
        bare.push((await probe('bare', sim.port, source)).run.wallMs)
        bareAll.push((await probe('bare', sim.port, `${source},aors`)).run.wallMs)
        restore(lab)
        const c = await pjctl(['contacts', '--json', '--source', source], env)
        assertRun(`contacts --json --source ${source} (${n})`, c, [0])
        if (!new RegExp(`"source": ?"${source}"`).test(c.stdoutHead))
          throw new Error(`contacts --json did not report source ${source}`)
        contacts.push(c)
        restore(lab)
        const k = await pjctl(['check', '--source', source], env)
        assertRun(`check --source ${source} (${n})`, k, [0, 1, 2])
        check.push(k)
        restore(lab)
      }
      results.push({
        n,
        source,
        bare: median(bare),
        bareAll: median(bareAll),
        contacts: median(contacts.map((r) => r.wallMs)),
        contactsRss: Math.max(...contacts.map((r) => r.peakRssKb ?? NaN)),
        contactsPolled: Math.max(...contacts.map((r) => r.polledHwmKb ?? NaN)),
        contactsBytes: contacts[0]!.stdoutBytes,
        check: median(check.map((r) => r.wallMs)),
        checkRss: Math.max(...check.map((r) => r.peakRssKb ?? NaN)),
        checkBytes: check[0]!.stdoutBytes,
        checkExit: check[0]!.code ?? -1,
      })
    }
  }
  say(
    '## End to end over TCP (child processes; wall = spawn to exit; median of 7 / 5 / 3 runs at 1k / 10k / 100k)',
  )
  say(
    'bare = a minimal node:net reader (bench/probe.ts) in its own process: login, the one action, find the end of',
  )
  say(
    'the answer, exit. bare+aors = the same reader sending what pjctl contacts/check send: that action, then',
  )
  say(
    "PJSIPShowAors (max_contacts of every AOR). Peak RSS = max over the runs of the child's getrusage ru_maxrss.",
  )
  say()
  say('pjctl contacts --json')
  say(
    table(
      [
        'contacts',
        'source',
        'bare',
        'bare+aors',
        'pjctl',
        '× bare',
        '× bare+aors',
        'peak RSS',
        'stdout',
      ],
      results.map((r) => [
        fmt.count(r.n),
        r.source,
        fmt.ms(r.bare),
        fmt.ms(r.bareAll),
        fmt.ms(r.contacts),
        fmt.ratio(r.contacts / r.bare),
        fmt.ratio(r.contacts / r.bareAll),
        fmt.mb(r.contactsRss),
        fmt.bytes(r.contactsBytes),
      ]),
    ),
  )
  say()
  say('pjctl check (nagios)')
  say(
    table(
      [
        'contacts',
        'source',
        'bare',
        'bare+aors',
        'pjctl',
        '× bare',
        '× bare+aors',
        'peak RSS',
        'stdout',
        'exit',
      ],
      results.map((r) => [
        fmt.count(r.n),
        r.source,
        fmt.ms(r.bare),
        fmt.ms(r.bareAll),
        fmt.ms(r.check),
        fmt.ratio(r.check / r.bare),
        fmt.ratio(r.check / r.bareAll),
        fmt.mb(r.checkRss),
        fmt.bytes(r.checkBytes),
        r.checkExit,
      ]),
    ),
  )
  const big = results.filter((r) => r.n === 100_000)
  const polled = big
    .map(
      (r) =>
        `${r.source}: ru_maxrss ${fmt.mb(r.contactsRss)}, polled VmHWM ${fmt.mb(r.contactsPolled)}`,
    )
    .join('; ')
  say(
    `(RSS cross-check at 100k, contacts --json — ${polled}. Polling every 5 ms can miss a peak just before exit; ru_maxrss cannot.)`,
  )
  say()
  for (const r of big) {
    say(
      target(
        `contacts --json --source ${r.source} at 100k ≤ ${TARGET.ratio}× bare read`,
        r.contacts / r.bare <= TARGET.ratio,
        `${fmt.ms(r.contacts)} vs ${fmt.ms(r.bare)} = ${fmt.ratio(r.contacts / r.bare)} (${fmt.ratio(r.contacts / r.bareAll)} of bare+aors)`,
      ),
    )
    say(
      target(
        `check --source ${r.source} at 100k ≤ ${TARGET.ratio}× bare read`,
        r.check / r.bare <= TARGET.ratio,
        `${fmt.ms(r.check)} vs ${fmt.ms(r.bare)} = ${fmt.ratio(r.check / r.bare)} (${fmt.ratio(r.check / r.bareAll)} of bare+aors)`,
      ),
    )
    say(
      target(
        `contacts --json --source ${r.source} at 100k < ${TARGET.rssMb} MB peak RSS`,
        r.contactsRss / 1024 < TARGET.rssMb,
        fmt.mb(r.contactsRss),
      ),
    )
    say(
      target(
        `check --source ${r.source} at 100k < ${TARGET.rssMb} MB peak RSS`,
        r.checkRss / 1024 < TARGET.rssMb,
        fmt.mb(r.checkRss),
      ),
    )
  }
  say()
  return results
}

// ---------------------------------------------------------------------------------------------

/** The default output (cli-table3 tables, one per AOR) costs far more per contact than --json: measured at 1k and 10k only. */
async function tableOutput(all: Lab[], e2e: E2E[]): Promise<void> {
  say(
    '## pjctl contacts (default table output, --source dbgettree; median of 5 / 3 runs; not run at 100k: extrapolated)',
  )
  const rows: (string | number)[][] = []
  const walls: { n: number; wall: number }[] = []
  for (const lab of all.filter((l) => l.n <= 10_000)) {
    progress(`contacts table at ${lab.n}`)
    const runs: ChildResult[] = []
    for (let i = 0; i < (lab.n >= 10_000 ? 3 : 5); i++) {
      restore(lab)
      const r = await pjctl(['contacts', '--source', 'dbgettree'], simEnv(lab.sim))
      assertRun(`contacts (table) ${lab.n}`, r, [0])
      runs.push(r)
    }
    const wall = median(runs.map((r) => r.wallMs))
    walls.push({ n: lab.n, wall })
    const json = e2e.find((r) => r.n === lab.n && r.source === 'dbgettree')
    rows.push([
      fmt.count(lab.n),
      fmt.ms(wall),
      json ? fmt.ms(json.contacts) : '-',
      fmt.mb(Math.max(...runs.map((r) => r.peakRssKb ?? NaN))),
      fmt.bytes(runs[0]!.stdoutBytes),
      fmt.us((wall / lab.n) * 1000),
    ])
  }
  say(table(['contacts', 'table', '--json (above)', 'peak RSS', 'stdout', 'per contact'], rows))
  if (walls.length === 2) {
    const marginal = (walls[1]!.wall - walls[0]!.wall) / (walls[1]!.n - walls[0]!.n)
    say(
      `marginal ${fmt.us(marginal * 1000)} per contact → about ${fmt.ms(walls[1]!.wall + marginal * 90_000)} at 100k if it stays linear.`,
    )
  }
  say()
}

/** The document with every Lazy array made a plain array: what JSON.stringify is handed. */
function eager(value: unknown): unknown {
  if (value instanceof Lazy) return [...(value.items as Iterable<unknown>)].map(eager)
  if (Array.isArray(value)) return value.map(eager)
  if (value === null || typeof value !== 'object') return value
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, eager(v)]))
}

/** A stream that takes every write and keeps nothing; strings are encoded to Buffers, as stdout's are. */
function discard(): Writable & { bytes: number } {
  const sink = Object.assign(
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        sink.bytes += chunk.length
        done()
      },
    }),
    { bytes: 0 },
  )
  return sink
}

/** Issue 20: `contacts --json` should write 100,000 contacts at the speed of JSON.stringify on the same data.
 *  In process, paired per round: pjctl's renderer through the CLI's own writer (64 KiB batches, honouring
 *  backpressure) into a sink that discards, against JSON.stringify of the same document, made plain,
 *  written once into such a sink. */
async function jsonWriter(): Promise<void> {
  const aorCount = 33_333
  const contactCount = 100_000
  const rounds = 7
  say(
    `## JSON writer: ${fmt.count(aorCount)} AORs / ${fmt.count(contactCount)} contacts, in process, into a sink that discards (median of ${rounds} paired rounds, one warm-up)`,
  )
  progress('JSON writer at 33k/100k')
  const seed = generateRows({ count: contactCount, now, aors: aorCount })
  const parsed = contactsFromDbTree(seed.rows, seed.rows.length)
  const aors = buildReports({ contacts: parsed.contacts, configs: seed.aors.map(aorConfig), now })
  const data = {
    generatedAt: now,
    servers: [
      {
        server: 'pbx1',
        generatedAt: now,
        aors,
        problems: [],
        source: 'DBGetTree registrar/contact',
        qualifyKnown: false,
        limits: { from: 'getconfig' as const, authoritative: true },
      },
    ],
    advice: [],
    fleet: false,
  }
  const rows: (string | number)[][] = []
  for (const indent of [false, true]) {
    const style = { color: false, indent }
    const plain = eager(contactsDoc(data, style))
    const stringify = (): string =>
      `${indent ? JSON.stringify(plain, null, 2) : JSON.stringify(plain)}\n`
    const text = [...contactsJson(data, style)].join('')
    if (text !== stringify())
      throw new Error(`JSON writer (${indent ? 'indented' : 'compact'}): not JSON.stringify's text`)
    const viaPjctl = async (): Promise<number> => {
      const sink = discard()
      const t = performance.now()
      const failure = await write(sink, contactsJson(data, style))
      if (failure || sink.bytes !== Buffer.byteLength(text))
        throw new Error('JSON writer: short write')
      return performance.now() - t
    }
    const viaStringify = async (): Promise<number> => {
      const sink = discard()
      const t = performance.now()
      const failure = await write(sink, stringify())
      if (failure || sink.bytes !== Buffer.byteLength(text))
        throw new Error('JSON.stringify: short write')
      return performance.now() - t
    }
    await viaPjctl()
    await viaStringify()
    const mine: number[] = []
    const theirs: number[] = []
    for (let i = 0; i < rounds; i++) {
      // alternate which goes first, so neither always inherits the other's garbage
      if (i % 2 === 0) {
        mine.push(await viaPjctl())
        theirs.push(await viaStringify())
      } else {
        theirs.push(await viaStringify())
        mine.push(await viaPjctl())
      }
    }
    const ratios = mine.map((m, i) => m / theirs[i]!)
    const ratio = median(ratios)
    const name = `pjctl contacts --json writer${indent ? ' (indented, a terminal)' : ''}, 33k/100k`
    rows.push([
      name,
      fmt.ms(median(mine)),
      indent ? 'JSON.stringify(doc, null, 2), one write' : 'JSON.stringify(doc), one write',
      fmt.ms(median(theirs)),
      fmt.ratio(ratio),
      `${fmt.ratio(Math.min(...ratios))}–${fmt.ratio(Math.max(...ratios))}`,
      `≤ ${TARGET.jsonWriter}×`,
      fmt.bytes(Buffer.byteLength(text)),
    ])
    target(
      `${name} ≤ ${TARGET.jsonWriter}× JSON.stringify`,
      ratio <= TARGET.jsonWriter,
      `${fmt.ratio(ratio)} (${fmt.ms(median(mine))} vs ${fmt.ms(median(theirs))})`,
    )
  }
  say(
    table(
      ['writer', 'pjctl', 'reference', 'ref', 'ratio', 'ratio range', 'target', 'output'],
      rows,
    ),
  )
  say(
    `same bytes as JSON.stringify, checked before timing; load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(', ')} at the end`,
  )
  say()
}

async function readers(all: Lab[]): Promise<void> {
  say(
    '## Readers on the Command answer (database show registrar/contact), action sent → whole answer read',
  )
  say(
    "stock = asterisk-manager 0.2.0's own reader (lib/ami.js ManagerReader); ours = pjctl's session (asterisk-manager",
  )
  say(
    'for connect/login/dispatch, src/ami/wire.ts framing, lines handed to a counting sink, no parsing); bare = node:net.',
  )
  const extra: Lab[] = []
  for (const n of [20_000, 50_000]) {
    const seed = generateRows({ count: n, now })
    const sim = await startSim({ seed, chunkSize: CHUNK, now: () => now })
    sims.push(sim)
    extra.push({ n, seed, sim })
  }
  const labsBySize = [...all, ...extra].sort((a, b) => a.n - b.n)
  const rows: (string | number)[][] = []
  for (const lab of labsBySize) {
    const { n, sim } = lab
    restore(lab)
    progress(`readers at ${n}`)
    const stockRuns = n <= 10_000 ? 3 : n <= 20_000 ? 1 : n <= 50_000 ? 1 : 0
    const ourRuns = n >= 100_000 ? 3 : 5
    const stock: number[] = []
    let stockCapped = false
    let stockLines = 0
    for (let i = 0; i < stockRuns && !stockCapped; i++) {
      const { result } = await probe('stock', sim.port, '', STOCK_CAP_MS)
      if (!result) stockCapped = true
      else {
        stock.push(result.ms as number)
        stockLines = result.lines as number
      }
    }
    const ours: number[] = []
    const bare: number[] = []
    let ourLines = 0
    for (let i = 0; i < ourRuns; i++) {
      const { result } = await probe('ours', sim.port, 'command')
      ours.push(result!.ms as number)
      ourLines = result!.items as number
      const b = await probe('bare', sim.port, 'command')
      bare.push((b.result!.actions as { ms: number }[])[0]!.ms)
    }
    if (ourLines !== n + 1) throw new Error(`our reader got ${ourLines} lines of ${n + 1}`)
    if (stock.length && stockLines !== n + 1)
      throw new Error(`stock reader got ${stockLines} lines of ${n + 1}`)
    const s = stockCapped ? NaN : median(stock)
    const o = median(ours)
    rows.push([
      fmt.count(n),
      stockRuns === 0 ? 'not run' : stockCapped ? `> ${STOCK_CAP_MS / 1000} s` : fmt.ms(s),
      fmt.ms(o),
      stockCapped ? `> ${fmt.ratio(STOCK_CAP_MS / o)}` : Number.isNaN(s) ? '-' : fmt.ratio(s / o),
      fmt.ms(median(bare)),
      stockRuns === 0 || stockCapped ? '-' : fmt.us((s / n) * 1000),
      fmt.us((o / n) * 1000),
    ])
  }
  say(
    table(
      ['contacts', 'stock', 'ours', 'stock/ours', 'bare', 'stock per contact', 'ours per contact'],
      rows,
    ),
  )
  say(
    `(stock: median of 3 at 1k/10k, 1 run at 20k/50k capped at ${STOCK_CAP_MS / 1000} s, not run at 100k; ours/bare: median of 5, 3 at 100k)`,
  )
  say()
  for (const lab of extra) await lab.sim.stop()
}

// ---------------------------------------------------------------------------------------------

function perContact(parse: ParseFigures[], e2e: E2E[]): void {
  say('## Time per contact (does it grow with size?)')
  const rows: (string | number)[][] = []
  for (const source of SOURCES) {
    const mine = e2e.filter((r) => r.source === source)
    for (const [i, r] of mine.entries()) {
      const prev = mine[i - 1]
      const p = parse.find((f) => f.n === r.n)!
      const parseMs = source === 'command' ? p.dumpMs : p.treeMs
      rows.push([
        source,
        fmt.count(r.n),
        fmt.us((parseMs / r.n) * 1000),
        fmt.us((p.judgeMs / r.n) * 1000),
        fmt.us((r.contacts / r.n) * 1000),
        prev ? fmt.us(((r.contacts - prev.contacts) / (r.n - prev.n)) * 1000) : '-',
        fmt.us((r.check / r.n) * 1000),
        prev ? fmt.us(((r.check - prev.check) / (r.n - prev.n)) * 1000) : '-',
      ])
    }
  }
  say(
    table(
      ['source', 'contacts', 'parse', 'judge', 'contacts --json', 'marginal', 'check', 'marginal'],
      rows,
    ),
  )
  say(
    'parse/judge: in-process medians ÷ contacts. Whole-run figures include Node start-up (~100 ms), which dominates',
  )
  say(
    'at 1k; "marginal" = extra time per extra contact from the previous size, the figure that shows linearity.',
  )
  for (const source of SOURCES) {
    const p1 = parse.find((f) => f.n === 10_000)!
    const p2 = parse.find((f) => f.n === 100_000)!
    const a = source === 'command' ? [p1.dumpMs, p2.dumpMs] : [p1.treeMs, p2.treeMs]
    const mine = e2e.filter((r) => r.source === source)
    const m1 = (mine[1]!.contacts - mine[0]!.contacts) / (mine[1]!.n - mine[0]!.n)
    const m2 = (mine[2]!.contacts - mine[1]!.contacts) / (mine[2]!.n - mine[1]!.n)
    say(
      `${source}: parser per contact 100k/10k = ${fmt.ratio(a[1]! / 10 / a[0]!)}; contacts --json marginal per contact 10k→100k vs 1k→10k = ${fmt.ratio(m2 / m1)} (1.00× is perfectly linear)`,
    )
  }
  say()
}

// ---------------------------------------------------------------------------------------------

/** 20,000 contacts on 10,000 AORs, every AOR full (max_contacts 2) with one phone registered twice from
 *  two ports: the older contact of each pair is superseded, 10,000 stale contacts in all. (Expired contacts
 *  would not do: PJSIPShowAors, which pjctl reads before planning, makes Asterisk delete them itself, so
 *  pjctl finds them gone at its DBGet and reports them 'vanished' without a DBDel.) */
function pruneSeed(): { seed: SimSeed; stale: number } {
  const generated = generateRows({ count: 20_000, now, aors: 10_000, fullAors: 10_000 })
  return { seed: { rows: generated.rows, aors: generated.aors }, stale: generated.aors.length }
}

async function pruneRun(
  seed: SimSeed,
  stale: number,
  i: number,
  extra: string[],
): Promise<{ row: (string | number)[]; wallMs: number }> {
  let firstGet = NaN
  let lastAction = NaN
  // the sim's hook (no fault): when the first DBGet (the first compare) and the last action arrive. prune's
  // default (--via asterisk) removes a contact by expiring it (DBPut) and having Asterisk retrieve it
  // (PJSIPShowEndpoint), not by DBDel: what it removed is counted in the sim's astdb afterwards
  const beforeAction = (action: string) => {
    const a = action.toLowerCase()
    if (a === 'dbget' && Number.isNaN(firstGet)) firstGet = performance.now()
    if (!Number.isNaN(firstGet) && a !== 'logoff') lastAction = performance.now()
  }
  const sim = await startSim({ seed, chunkSize: CHUNK, now: () => now, hooks: { beforeAction } })
  sims.push(sim)
  const backup = join(scratch, `prune-backup-${i}.jsonl`)
  const started = performance.now()
  const r = await pjctl(
    ['prune', '--yes', '--force', '--max-delete', '20000', '--backup', backup, ...extra],
    simEnv(sim),
  )
  assertRun('prune', r, [0])
  const left = sim.astdb.size
  const removed = seed.rows.length - left
  const backedUp = readFileSync(backup, 'utf8').split('\n').filter(Boolean).length
  await sim.stop()
  if (removed !== stale || backedUp !== stale) {
    throw new Error(
      `prune: ${removed} removed, ${left} rows left, ${backedUp} backed up; expected ${stale} removed`,
    )
  }
  const phase = lastAction - firstGet
  const row = [
    extra.length ? extra.join(' ') : '(as given)',
    fmt.ms(r.wallMs),
    fmt.count(removed),
    fmt.rate((removed / r.wallMs) * 1000),
    fmt.ms(firstGet - started),
    fmt.ms(phase),
    fmt.rate((removed / phase) * 1000),
    fmt.ms(started + r.wallMs - lastAction),
    fmt.bytes(r.stdoutBytes),
    fmt.mb(r.peakRssKb),
  ]
  return { row, wallMs: r.wallMs }
}

async function pruneBench(): Promise<void> {
  say(
    '## Prune: 10,000 stale contacts (20,000 on 10,000 full AORs, the older of each pair superseded), fresh sim per run',
  )
  say(
    'pjctl prune --yes --force --max-delete 20000 --backup <tmp file>   (3 runs; 1 if the first takes over 10 s),',
  )
  say(
    'then the same with --quiet (summary line only, no plan table) 3 times, to separate deleting from drawing the plan.',
  )
  const { seed, stale } = pruneSeed()
  const rows: (string | number)[][] = []
  const walls: number[] = []
  let i = 0
  for (let run = 0; run < 3; run++) {
    progress(`prune run ${run + 1}`)
    const r = await pruneRun(seed, stale, i++, [])
    rows.push(r.row)
    walls.push(r.wallMs)
    if (r.wallMs > 10_000) break
  }
  const quiet: number[] = []
  for (let run = 0; run < 3; run++) {
    progress(`prune --quiet run ${run + 1}`)
    const r = await pruneRun(seed, stale, i++, ['--quiet'])
    rows.push(r.row)
    quiet.push(r.wallMs)
  }
  say(
    table(
      [
        'output',
        'wall',
        'removed',
        'removed/s (wall)',
        'start → 1st DBGet',
        'prune phase',
        'removed/s (phase)',
        'last action → exit',
        'stdout',
        'peak RSS',
      ],
      rows,
    ),
  )
  say(
    'start → 1st DBGet = start-up, login, the read (contacts and AOR limits), judge, plan, open the backup.',
  )
  say(
    "prune phase = first DBGet to the last action as the sim received them (prune's default, --via asterisk:",
  )
  say(
    'compare, backup + fdatasync, expire (DBPut), PJSIPShowEndpoint so the sim collects it, look again; 64 in flight).',
  )
  say(
    'last action → exit = the last answers, Logoff, drawing the output, exit. Checked every run: 10,000 contacts',
  )
  say('removed from the sim, 10,000 rows left, 10,000 lines in the backup file.')
  const wall = median(walls)
  say(
    target(
      `prune of 10,000 stale contacts < ${TARGET.pruneMs / 1000} s`,
      wall < TARGET.pruneMs,
      `median ${fmt.ms(wall)} as given (${walls.length} run(s)); ${fmt.ms(median(quiet))} with --quiet`,
    ),
  )
  say()
}

// ---------------------------------------------------------------------------------------------

async function coldStart(): Promise<void> {
  say(
    '## Cold start (median of 10, the three commands interleaved so machine load hits them alike; no RSS probe)',
  )
  const env = childEnv()
  const commands: [string, string[]][] = [
    ['node -e 0 (baseline)', ['-e', '0']],
    ['pjctl --help', [BIN, '--help']],
    ['pjctl --version', [BIN, '--version']],
  ]
  const times = commands.map(() => [] as number[])
  for (let i = 0; i < 10; i++) {
    for (const [k, [label, args]] of commands.entries()) {
      const r = await runNode(args, { env, timeoutMs: 10_000 })
      if (r.code !== 0) throw new Error(`${label}: exit ${r.code}\n${r.stderr}`)
      times[k]!.push(r.wallMs)
    }
  }
  const base = median(times[0]!)
  say(
    table(
      ['command', 'median', 'min', 'max', 'over node -e 0'],
      commands.map(([label], k) => [
        label,
        fmt.ms(median(times[k]!)),
        fmt.ms(Math.min(...times[k]!)),
        fmt.ms(Math.max(...times[k]!)),
        k ? fmt.ms(median(times[k]!) - base) : '-',
      ]),
    ),
  )
  const help = median(times[1]!)
  say(
    target(
      `pjctl --help cold start < ${TARGET.helpMs} ms`,
      help < TARGET.helpMs,
      `median ${fmt.ms(help)} (node itself: ${fmt.ms(base)})`,
    ),
  )
  say()
}

// ---------------------------------------------------------------------------------------------

async function autoSource(e2e: E2E[]): Promise<void> {
  say('## --source auto')
  const seed = generateRows({ count: 1_000, now })
  const users: SimUser[] = [
    { username: 'pjctl', secret: 'pjctl-secret', write: ['system', 'command', 'reporting'] },
    { username: 'cmdonly', secret: 'cmdonly-secret', write: ['command'] },
  ]
  const modern = await startSim({ seed, chunkSize: CHUNK, now: () => now, users })
  const old = await startSim({ seed, chunkSize: CHUNK, now: () => now, version: '13' })
  sims.push(modern, old)
  const cases: [string, SimAsterisk, string][] = [
    ['Asterisk 22, write=system,command,reporting', modern, 'pjctl'],
    ['Asterisk 22, write=command only', modern, 'cmdonly'],
    ['Asterisk 13 (no DBGetTree), write=system,command,reporting', old, 'pjctl'],
  ]
  const rows: string[][] = []
  for (const [label, sim, user] of cases) {
    const r = await pjctl(['contacts', '--json', '--quiet'], simEnv(sim, user), { rss: false })
    assertRun(`auto (${label})`, r, [0])
    rows.push([label, /"source": ?"(\w+)"/.exec(r.stdoutHead)?.[1] ?? '?'])
  }
  await modern.stop()
  await old.stop()
  say(table(['server and manager.conf user', 'auto picked'], rows))
  const at = (source: Source) => e2e.find((r) => r.n === 100_000 && r.source === source)
  const t = at('dbgettree')
  const c = at('command')
  if (!t || !c) {
    say()
    return
  }
  say(
    `auto tries DBGetTree first (src/commands/read.ts readContacts) and falls back to Command only when DBGetTree is`,
  )
  say(
    `unknown (Asterisk < 16.28/18.14/19.6) or refused: it needs write=system or reporting, not the shell-equivalent`,
  )
  say(
    `'command' class, and its answer is structured (Key/Val per row, ListItems count) instead of padded CLI text.`,
  )
  say(
    `At 100k: DBGetTree ${fmt.ms(t.contacts)} / ${fmt.mb(t.contactsRss)} (bare ${fmt.ms(t.bare)}) vs Command ${fmt.ms(c.contacts)} / ${fmt.mb(c.contactsRss)} (bare ${fmt.ms(c.bare)}) for contacts --json;`,
  )
  const faster =
    t.contacts <= c.contacts
      ? `DBGetTree is ${fmt.ratio(c.contacts / t.contacts)} as fast`
      : `Command is ${fmt.ratio(t.contacts / c.contacts)} as fast`
  say(
    `check ${fmt.ms(t.check)} vs ${fmt.ms(c.check)}. ${faster} end to end here (run-to-run noise on this machine is ~±10%); the bare`,
  )
  say(
    `DBGetTree answer is ${fmt.ratio(t.bare / c.bare)} the time of the Command one (a Key/Val event per row is bigger than a padded line).`,
  )
  say('So auto costs little or nothing in speed and keeps pjctl off the command class.')
  say()
}

// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------

/** Issue 10's scenarios on the simulator with its cost model on (src/sim/cost.ts, calibrated on the lab):
 *  what the model predicts, next to the same floors the real-Asterisk bench uses. */
async function costModel(): Promise<void> {
  say(
    '## Simulator WITH the cost model (startSim({ cost: 1 })): 5,000 AORs / 15,000 contacts, median of 3',
  )
  say(
    'Simulator figures, not real Asterisk: PJSIPShowAors/PJSIPShowContacts wait an n² first byte and GetConfig a linear',
  )
  say(
    'one, as measured on the lab; the floor is bench/floor.ts (DBGetTree ∥ GetConfig pjsip.conf type=aor, two sessions).',
  )
  const generated = generateRows({ count: 15_000, now, aors: 5_000 })
  const sim = await startSim({
    seed: { rows: generated.rows, aors: generated.aors },
    chunkSize: CHUNK,
    now: () => now,
    cost: 1,
  })
  sims.push(sim)
  const floorJs = fileURLToPath(new URL('./floor.js', import.meta.url))
  const rows: (string | number)[][] = []
  const runs: Record<string, ChildResult[]> = { floor: [], check: [], 'prune --dry-run': [] }
  for (let i = 0; i < 3; i++) {
    progress(`cost model round ${i + 1}`)
    runs.floor!.push(
      await runNode([floorJs, 'read', `127.0.0.1:${sim.port}`], {
        env: childEnv(),
        keepStdout: 4096,
        timeoutMs: 120_000,
      }),
    )
    runs.check!.push(await pjctl(['check'], simEnv(sim)))
    runs['prune --dry-run']!.push(await pjctl(['prune', '--dry-run', '--quiet'], simEnv(sim)))
    while (sim.computingMs() > 0) await new Promise((r) => setTimeout(r, 100))
  }
  const floorMs = median(runs.floor!.map((r) => r.wallMs))
  for (const [name, list] of Object.entries(runs)) {
    const wall = median(list.map((r) => r.wallMs))
    rows.push([
      name === 'floor' ? 'read floor' : `pjctl ${name}`,
      fmt.ms(wall),
      name === 'floor' ? '-' : fmt.ratio(wall / floorMs),
      [...new Set(list.map((r) => r.code))].join(','),
      fmt.mb(Math.max(...list.map((r) => r.peakRssKb ?? NaN))),
    ])
  }
  say(table(['run (simulator)', 'median', '× floor', 'exit', 'peak RSS'], rows))
  const sent = new Set(sim.received.map((r) => r.action))
  say(`actions the simulator received: ${[...sent].join(', ')}`)
  say()
  await sim.stop()
}

/** `npm run bench -- --only prune,cold` runs some sections: json, e2e, readers, prune, cold, auto, exporter, exporter-tls, cost (parsers always). */
const ONLY = (() => {
  const i = process.argv.indexOf('--only')
  return i < 0 ? null : new Set(process.argv[i + 1]?.split(',') ?? [])
})()
const wanted = (section: string): boolean => ONLY === null || ONLY.has(section)

/** `npm run bench -- --asterisk HOST:PORT [--scales 5k/15k,33k/100k]`: the real-Asterisk scenarios only (bench/asterisk.ts);
 *  with `--only exporter`, the exporter's instead (bench/exporter.ts). */
const ASTERISK = (() => {
  const i = process.argv.indexOf('--asterisk')
  return i < 0 ? null : (process.argv[i + 1] ?? '127.0.0.1:5038')
})()
const SCALES = (() => {
  const i = process.argv.indexOf('--scales')
  return i < 0 ? null : new Set(process.argv[i + 1]?.split(',') ?? [])
})()

async function main(): Promise<void> {
  say('# pjctl bench')
  say(`machine: ${machine()}`)
  say(`pjctl: ${BIN}`)
  say()
  if (ASTERISK && ONLY?.has('exporter')) {
    const { exporterOnAsterisk } = await import('./exporter.js')
    const { LAB } = await import('./lab.js')
    const at = ASTERISK.lastIndexOf(':')
    LAB.host = ASTERISK.slice(0, at)
    LAB.port = Number(ASTERISK.slice(at + 1))
    for (const t of await exporterOnAsterisk(BIN, childEnv(LAB.env), say, progress))
      say(`${t.met ? 'MET   ' : 'MISSED'}  ${t.name}: ${t.detail}`)
    say()
    say(`bench took ${fmt.ms(performance.now() - benchStart)}`)
    return
  } else if (ASTERISK) {
    const { asteriskBench } = await import('./asterisk.js')
    const met = await asteriskBench(ASTERISK, say, SCALES)
    say('## Targets (real Asterisk)')
    for (const t of met) say(`${t.met ? 'MET   ' : 'MISSED'}  ${t.name}: ${t.detail}`)
    say()
    say(`bench took ${fmt.ms(performance.now() - benchStart)}`)
    return
  }
  progress('generating registrars and starting sims')
  const all = await labs()
  describeSeeds(all)
  const parse = parseRates(all)
  if (wanted('json')) await jsonWriter()
  const e2e = wanted('e2e') ? await endToEnd(all) : []
  if (wanted('table')) await tableOutput(all, e2e)
  if (wanted('readers')) await readers(all)
  if (e2e.length) perContact(parse, e2e)
  for (const lab of all) await lab.sim.stop()
  if (wanted('prune')) await pruneBench()
  if (wanted('cold')) await coldStart()
  if (wanted('auto')) await autoSource(e2e)
  if (wanted('cost')) await costModel()
  if (wanted('exporter')) {
    const { exporterBench } = await import('./exporter.js')
    targets.push(...(await exporterBench(BIN, (sim) => simEnv(sim), say, progress)))
  }
  if (wanted('exporter-tls')) {
    const { exporterTlsBench } = await import('./exporter.js')
    targets.push(...(await exporterTlsBench(BIN, (sim) => simEnv(sim), say, progress)))
  }
  say('## Targets')
  for (const t of targets) say(`${t.met ? 'MET   ' : 'MISSED'}  ${t.name}: ${t.detail}`)
  say()
  say(`bench took ${fmt.ms(performance.now() - benchStart)}`)
}

main()
  .catch((error: unknown) => {
    process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`)
    process.exitCode = 1
  })
  .finally(async () => {
    await Promise.all(sims.map((s) => s.stop()))
    rmSync(scratch, { recursive: true, force: true })
  })
