// npm run bench -- --asterisk HOST:PORT: pjctl against a real Asterisk 22 (the lab), at 5,000 AORs /
// 15,000 contacts and 33,333 / 100,000 (issue 10). Every pjctl figure is paired, in the same round,
// with its floor (bench/floor.ts: minimal clients that read the same answers and parse nothing) and
// with `asterisk -rx "database show registrar/contact"`. The Asterisk process must be idle before
// every run (/proc/<pid>/stat); after every pjctl run the bench checks that Asterisk stops computing.
//
// The registrar is built with the lab's bulk_aors.sh and seed_contacts.py, and torn down afterwards:
// the lab is left as it was found (its own contacts put back, bulk_aors.sh 0). Hold the lab lock:
//   flock -o /tmp/pjctl-lab.lock npm run bench -- --asterisk 127.0.0.1:5038
// (-o: if the bench has to restart a lab left computing, the new Asterisk must not inherit the lock.)

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  AmiClient,
  asteriskCpuTicks,
  asteriskPid,
  astdbContacts,
  cli,
  deleteKeys,
  LAB,
  labScript,
  putRows,
  spawnText,
} from './lab.js'
import { fmt, median, runNode, table, type ChildResult } from './measure.js'
import { clusterRounds, REALTIME_ROWS, realtimeRounds } from './realtime.js'

const BIN =
  process.env.PJCTL_BENCH_BIN || fileURLToPath(new URL('../../bin/pjctl.js', import.meta.url))
const FLOOR = fileURLToPath(new URL('./floor.js', import.meta.url))
const TICK_MS = 10 // USER_HZ 100
// issue 20: check ≤ 2× (goal 1.5×), contacts --json at 100k ≤ 2× (goal 1.3×); issue 23: prune with the
// default (expire, then retrieve through Asterisk) ≤ 3× the prune floor, its extra round trips included
const TARGET = { check: 1.5, dryRun: 2, prune: 3, json100k: 1.3, rssMb: 300 }

/** `--quick`: 3 rounds a scale (5 for start-up), no busy-Asterisk or --debug runs: about half the time. */
const QUICK = process.argv.includes('--quick')

/** The 1, 5 and 15 minute load averages, as uptime prints them. */
function loadAverage(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(', ')
}

interface Scale {
  label: string
  aors: number
  contacts: number
  rounds: number
}
const SCALES: Scale[] = [
  {
    label: '5k/15k',
    aors: 5_000,
    contacts: 15_000,
    rounds: Number(process.env.BENCH_ROUNDS ?? (QUICK ? 3 : 5)),
  },
  {
    label: '33k/100k',
    aors: 33_333,
    contacts: 100_000,
    rounds: Number(process.env.BENCH_ROUNDS_BIG ?? (QUICK ? 3 : 5)),
  },
]

type Say = (text?: string) => void
const progress = (text: string) => process.stderr.write(`bench: ${text}\n`)

interface Run {
  what: string
  wallMs: number
  code: number | null
  rssKb: number | null
  stdoutBytes: number
  /** Asterisk CPU during the run (ms), null when the process cannot be watched (remote). */
  asteriskCpuMs: number | null
  /** ms Asterisk kept computing after the client exited (0: idle at once). */
  leftComputingMs: number | null
  stderr: string
  extra?: Record<string, unknown>
}

function cpuMs(): number | null {
  return asteriskPid() ? asteriskCpuTicks() * TICK_MS : null
}

/** Waits until Asterisk has used ≤ 20 ms of CPU over 1 s; resolves with how long that took (ms), or null if it cannot be watched. */
async function untilIdle(limitMs: number): Promise<number | null> {
  if (!asteriskPid()) return null
  const start = performance.now()
  for (let first = true; ; first = false) {
    const before = asteriskCpuTicks()
    await new Promise((r) => setTimeout(r, 1000))
    const used = (asteriskCpuTicks() - before) * TICK_MS
    if (used <= 20) return first ? 0 : performance.now() - start - 1000
    if (performance.now() - start > limitMs)
      throw new Error(
        `Asterisk still computing after ${Math.round(limitMs / 1000)} s (${used} ms CPU in the last second)`,
      )
  }
}

/** How long the bench waits for Asterisk to stop computing after a run before it restarts the lab. */
const LEFT_LIMIT_MS = 90_000
/** Restarts the lab and rebuilds the registrar of the scale being measured (set per scale). */
let recover: (() => Promise<void>) | null = null

/** ms until Asterisk is idle after a run; past LEFT_LIMIT_MS the lab is restarted and that limit returned. */
async function leftComputing(): Promise<number | null> {
  try {
    return await untilIdle(LEFT_LIMIT_MS)
  } catch (error) {
    if (!recover) throw error
    progress(`${(error as Error).message}: restarting the lab`)
    await recover()
    return LEFT_LIMIT_MS
  }
}

async function measured(
  what: string,
  start: () => Promise<ChildResult>,
  extra?: (r: ChildResult) => Record<string, unknown>,
): Promise<Run> {
  await untilIdle(600_000)
  const cpu0 = cpuMs()
  const r = await start()
  const cpu1 = cpuMs()
  // Asterisk idle within a second of the client's exit = it left nothing computing
  const left = await leftComputing()
  return {
    what,
    wallMs: r.wallMs,
    code: r.code,
    rssKb: r.peakRssKb,
    stdoutBytes: r.stdoutBytes,
    asteriskCpuMs: cpu0 === null || cpu1 === null ? null : cpu1 - cpu0,
    leftComputingMs: left,
    stderr: r.stderr,
    extra: extra?.(r),
  }
}

function pjctlEnv(scratch: string, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !k.startsWith('PJCTL_') && k !== 'NODE_OPTIONS') env[k] = v
  const home = join(scratch, 'home')
  return {
    ...env,
    ...LAB.env,
    NO_COLOR: '1',
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_STATE_HOME: join(home, '.local/state'),
    ...extra,
  }
}

function pjctl(scratch: string, args: string[]): () => Promise<ChildResult> {
  return () =>
    runNode([BIN, ...args], {
      env: pjctlEnv(scratch),
      rss: true,
      keepStdout: 2 * 1024 * 1024,
      timeoutMs: 600_000,
    })
}

function floor(scratch: string, args: string[]): () => Promise<ChildResult> {
  return () =>
    runNode([FLOOR, ...args], {
      env: pjctlEnv(scratch),
      rss: true,
      keepStdout: 4096,
      // a floor takes seconds; one that hangs is a failed run, not a stalled bench
      timeoutMs: 180_000,
    })
}

async function rx(): Promise<Run> {
  await untilIdle(600_000)
  const t = performance.now()
  const r = await spawnText(
    'bash',
    [join(LAB.dir, 'cli.sh'), 'database', 'show', 'registrar/contact'],
    { LAB_PREFIX: LAB.prefix },
  )
  const wallMs = performance.now() - t
  const count = /(\d+) results found\./.exec(r.stdout.slice(-200))?.[1]
  return {
    what: 'asterisk -rx',
    wallMs,
    code: r.code,
    rssKb: null,
    stdoutBytes: r.stdout.length,
    asteriskCpuMs: null,
    leftComputingMs: 0,
    stderr: r.stderr,
    extra: { count: Number(count) },
  }
}

/** Sums pjctl --debug lines (`< Action id done after N ms at T ms`) per action: count, first sent → last done. */
function whereTimeGoes(stderr: string): string[] {
  const per = new Map<string, { n: number; first: number; last: number; slowest: number }>()
  for (const m of stderr.matchAll(
    /^pjctl: debug: < (\S+) \S+ (?:done|failed) after (\d+) ms at (\d+) ms$/gm,
  )) {
    const [action, after, at] = [m[1], Number(m[2]), Number(m[3])]
    const e = per.get(action!) ?? { n: 0, first: Infinity, last: 0, slowest: 0 }
    e.n++
    e.first = Math.min(e.first, at - after)
    e.last = Math.max(e.last, at)
    e.slowest = Math.max(e.slowest, after)
    per.set(action!, e)
  }
  return [...per].map(
    ([action, e]) =>
      `${action} ×${e.n}: sent at ${e.first} ms, last answer at ${e.last} ms (slowest ${e.slowest} ms)`,
  )
}

/** A client that keeps Asterisk busy: PJSIPShowAors again and again, each read to the end, until stopped. */
function busyLoop(): { stop: () => Promise<number> } {
  let running = true
  let rounds = 0
  const loop = (async () => {
    const client = await AmiClient.open()
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- stop() clears it
    while (running) {
      await client.list('PJSIPShowAors')
      rounds++
    }
    await client.close()
  })()
  return {
    stop: async () => {
      running = false
      await loop
      return rounds
    },
  }
}

async function seed(scale: Scale): Promise<void> {
  progress(`${scale.label}: bulk_aors.sh ${scale.aors}`)
  await labScript('bulk_aors.sh', [String(scale.aors)], 600_000)
  progress(`${scale.label}: seed_contacts.py ${scale.contacts} ${scale.aors}`)
  const seeded = Number(
    (
      await labScript(
        'seed_contacts.py',
        [
          `${LAB.host}:${LAB.port}`,
          LAB.user,
          LAB.secret,
          String(scale.contacts),
          String(scale.aors),
        ],
        900_000,
      )
    ).trim(),
  )
  if (seeded !== scale.contacts)
    throw new Error(`seed_contacts.py put ${seeded} of ${scale.contacts}`)
}

function stats(runs: Run[]): {
  med: number
  range: string
  codes: string
  rss: number
  cpu: number | null
  left: number | null
} {
  const walls = runs.map((r) => r.wallMs)
  const cpus = runs.map((r) => r.asteriskCpuMs).filter((c): c is number => c !== null)
  const lefts = runs.map((r) => r.leftComputingMs).filter((c): c is number => c !== null)
  return {
    med: median(walls),
    range:
      runs.length > 1
        ? `${fmt.ms(Math.min(...walls))}–${fmt.ms(Math.max(...walls))}`
        : fmt.ms(walls[0]!),
    codes: [...new Set(runs.map((r) => String(r.code)))].join(','),
    rss: Math.max(...runs.map((r) => r.rssKb ?? NaN)),
    cpu: cpus.length ? median(cpus) : null,
    left: lefts.length ? Math.max(...lefts) : null,
  }
}

/** One row of the issue-20 table: pjctl against its reference, paired round by round. */
interface Paired {
  call: string
  reference: string
  pjctl: Run[]
  base: Run[]
  /** The ratio's target (≤), and the RSS limit in MB where one is asked. */
  limit: number
  goal?: number
  rssMb?: number
  /** A row that is not a wall-time ratio (the exporter's scrape): its cells as printed. */
  cells?: string[]
  /** Its target, for the MET / MISSED line. */
  met?: { ok: boolean; detail: string }
}

/** Per-round ratios (each pjctl run over the reference run of the same round). */
function ratios(p: Paired): number[] {
  return p.pjctl.map((r, i) => r.wallMs / (p.base[i]?.wallMs ?? NaN))
}

function pairedTable(rows: Paired[]): string {
  const range = (values: number[], f: (n: number) => string) =>
    values.length > 1 ? `${f(Math.min(...values))}–${f(Math.max(...values))}` : f(values[0]!)
  return table(
    [
      'call',
      'pjctl',
      'range',
      'reference',
      'ref',
      'ratio',
      'ratio range',
      'target',
      'exit',
      'peak RSS',
      'rounds',
    ],
    rows.map((p) => {
      if (p.cells) return [p.call, ...p.cells]
      const walls = p.pjctl.map((r) => r.wallMs)
      const r = ratios(p)
      const rss = Math.max(...p.pjctl.map((run) => run.rssKb ?? NaN))
      return [
        p.call,
        fmt.ms(median(walls)),
        range(walls, fmt.ms),
        p.reference,
        fmt.ms(median(p.base.map((b) => b.wallMs))),
        fmt.ratio(median(r)),
        range(r, fmt.ratio),
        `≤ ${p.limit}×${p.goal ? ` (goal ${p.goal}×)` : ''}${p.rssMb ? `, < ${p.rssMb} MB` : ''}`,
        [...new Set(p.pjctl.map((run) => String(run.code)))].join(','),
        Number.isNaN(rss) ? '-' : fmt.mb(rss),
        String(p.pjctl.length),
      ]
    }),
  )
}

/** Start-up, on the lab as found: `node -e 0`, `pjctl --version` and `pjctl contacts FAP003`, in turn, each round. */
async function startupRounds(scratch: string, rounds: number): Promise<Paired[]> {
  const node: Run[] = []
  const version: Run[] = []
  const fap: Run[] = []
  const once = async (args: string[]): Promise<Run> => {
    const r = await runNode(args, {
      env: pjctlEnv(scratch),
      rss: true,
      keepStdout: 64 * 1024,
      timeoutMs: 60_000,
    })
    return asRun(args.join(' '), r)
  }
  await untilIdle(600_000)
  // one unmeasured run of each: the files in the page cache, as for every later round
  for (const args of [
    ['-e', '0'],
    [BIN, '--version'],
    [BIN, 'contacts', 'FAP003'],
  ])
    await once(args)
  for (let round = 1; round <= rounds; round++) {
    progress(`start-up: round ${round}/${rounds}`)
    node.push(await once(['-e', '0']))
    version.push(await once([BIN, '--version']))
    fap.push(await once([BIN, 'contacts', 'FAP003']))
  }
  return [
    {
      call: 'pjctl --version',
      reference: 'node -e 0',
      pjctl: version,
      base: node,
      limit: 1.5,
    },
    {
      call: 'pjctl contacts FAP003 (the lab as found)',
      reference: 'node -e 0',
      pjctl: fap,
      base: node,
      limit: 2,
    },
  ]
}

/** A child run of the start-up, realtime and cluster rows, which measure no Asterisk CPU. */
function asRun(what: string, r: ChildResult): Run {
  return {
    what,
    wallMs: r.wallMs,
    code: r.code,
    rssKb: r.peakRssKb,
    stdoutBytes: r.stdoutBytes,
    asteriskCpuMs: null,
    leftComputingMs: null,
    stderr: r.stderr,
  }
}

/**
 * Realtime (PostgreSQL) at 100,000 rows: pjctl contacts --json against a bare psql select, paired per
 * round (bench/realtime.ts). Null, with the reason said, when the realtime lab or PostgreSQL is not
 * there: the astdb rows are still worth their table.
 */
async function realtimeRow(scratch: string, notes: string[]): Promise<Paired | null> {
  const rounds = Number(process.env.BENCH_ROUNDS_RT ?? (QUICK ? 3 : 5))
  try {
    const rt = await realtimeRounds(BIN, pjctlEnv(scratch), rounds, progress)
    notes.push(`realtime row: ${rt.note}`)
    return {
      call: `pjctl contacts --json, realtime ${REALTIME_ROWS / 1000}k rows (PostgreSQL)`,
      reference: "psql 'select * from ps_contacts'",
      pjctl: rt.rounds.map((r) => asRun('contacts --json (realtime)', r.pjctl)),
      base: rt.rounds.map((r) => asRun('psql', r.psql)),
      limit: 2,
    }
  } catch (error) {
    notes.push(`realtime row skipped: ${(error as Error).message}`)
    return null
  }
}

/**
 * A cluster of 2 nodes on one table (bench/realtime.ts clusterRounds): contacts --json --all with both
 * nodes configured, paired with the single-node read. The shared table is read once: about 1×, not 2×.
 * PJCTL_BENCH_CLUSTER_ROWS sets the rows (default REALTIME_ROWS).
 */
async function clusterRow(scratch: string, notes: string[]): Promise<Paired | null> {
  const rounds = Number(process.env.BENCH_ROUNDS_RT ?? (QUICK ? 3 : 5))
  const rows = Number(process.env.PJCTL_BENCH_CLUSTER_ROWS ?? REALTIME_ROWS)
  try {
    const cl = await clusterRounds(BIN, pjctlEnv(scratch), scratch, rows, rounds, progress)
    notes.push(`cluster row: ${cl.note}`)
    return {
      call: `pjctl contacts --json --all, 2 nodes on one table of ${rows / 1000}k rows`,
      reference: 'the same read of one node (--server pbxA)',
      pjctl: cl.rounds.map((r) => asRun('contacts --json --all (cluster)', r.cluster)),
      base: cl.rounds.map((r) => asRun('contacts --json --server pbxA', r.single)),
      limit: 1.25,
    }
  } catch (error) {
    notes.push(`cluster row skipped: ${(error as Error).message}`)
    return null
  }
}

export interface AsteriskTarget {
  name: string
  met: boolean
  detail: string
}

export async function asteriskBench(
  where: string,
  say: Say,
  only: Set<string> | null,
): Promise<AsteriskTarget[]> {
  const at = where.lastIndexOf(':')
  LAB.host = at > 0 ? where.slice(0, at) : where
  LAB.port = at > 0 ? Number(where.slice(at + 1)) : 5038
  const targets: AsteriskTarget[] = []
  const target = (name: string, met: boolean, detail: string) => {
    targets.push({ name, met, detail })
    say(`${met ? 'MET   ' : 'MISSED'}  ${name}: ${detail}`)
  }
  const scratch = mkdtempSync(join(tmpdir(), 'pjctl-bench-ast-'))
  const version = (await cli('core show version')).trim()
  const pid = asteriskPid()
  say(
    `## Real Asterisk: ${version} at ${LAB.host}:${LAB.port} (pid ${pid ?? 'unknown: CPU checks off'})`,
  )
  say(
    'Every figure below is real Asterisk, not the simulator. Wall = spawn to exit of a child process (node start-up',
  )
  say(
    'included, for pjctl and for the floors alike). Floors (bench/floor.ts): read = DBGetTree registrar/contact ∥',
  )
  say(
    'GetConfig pjsip.conf (Filter: type=aor) on two sessions, read to the end, nothing parsed; prune = that',
  )
  say(
    'DBGetTree, then a pipelined DBGet + DBDel per deleted key, 64 in flight. "ast CPU" = Asterisk\'s own CPU during',
  )
  say(
    'the run (/proc/<pid>/stat); "left" = how long Asterisk kept computing after the client exited.',
  )
  say()

  const found = await astdbContacts()
  const bulk = (key: string) => /^\d+;@/.test(key) && Number(key.split(';@')[0]) >= 2000
  if ([...found.keys()].some(bulk))
    throw new Error(
      'the lab already holds bulk contacts (AORs 2000…): clean it first (lab/README.md, Scale)',
    )
  const tidy = async () => {
    const now = await astdbContacts()
    await deleteKeys([...now.keys()].filter((k) => !found.has(k)))
    await putRows([...found].filter(([k, v]) => now.get(k) !== v))
  }

  const paired: Paired[] = []
  let exporterRow: Paired | null = null
  const notes: string[] = []
  const loadBefore = loadAverage()
  say(`load average (1, 5, 15 min) at the start: ${loadBefore}`)
  say()
  try {
    if (!only || only.has('start-up'))
      paired.push(
        ...(await startupRounds(
          scratch,
          Number(process.env.BENCH_ROUNDS_START ?? (QUICK ? 5 : 9)),
        )),
      )
    for (const scale of SCALES.filter((s) => !only || only.has(s.label))) {
      recover = async () => {
        // Asterisk 22 booting with many contacts in astdb takes minutes: start it empty, then rebuild
        await spawnText('bash', [join(LAB.dir, 'stop.sh')], { LAB_PREFIX: LAB.prefix }, 300_000)
        const started = await spawnText(
          'bash',
          [join(LAB.dir, 'start.sh')],
          { LAB_PREFIX: LAB.prefix, LAB_CLEAN_DB: '1' },
          300_000,
        )
        if (started.code !== 0) throw new Error(`start.sh: exit ${started.code}: ${started.stderr}`)
        await putRows(found)
        await seed(scale)
        await untilIdle(600_000)
      }
      await seed(scale)
      await untilIdle(600_000)
      const total = (await astdbContacts()).size
      const rows = new Map<string, Run[]>()
      const add = (key: string, run: Run) => rows.set(key, [...(rows.get(key) ?? []), run])
      const big = scale.contacts >= 100_000

      // the keys pjctl prune --keep 1 deletes: from its own dry-run plan, so the floor deletes the same ones
      let pruneKeys: string[] = []
      if (!big) {
        let plan = await runNode(
          [
            BIN,
            'prune',
            '--keep',
            '1',
            '--dry-run',
            '--force',
            '--max-delete',
            '1000000',
            '--json',
            '--quiet',
          ],
          { env: pjctlEnv(scratch), keepStdout: 64 * 1024 * 1024, timeoutMs: 600_000 },
        )
        for (let retry = 0; plan.code !== 0 && retry < 3; retry++) {
          progress(`prune --keep 1 --dry-run failed (${plan.stderr.trim().split('\n')[0]}); again`)
          await untilIdle(600_000)
          plan = await runNode(
            [
              BIN,
              'prune',
              '--keep',
              '1',
              '--dry-run',
              '--force',
              '--max-delete',
              '1000000',
              '--json',
              '--quiet',
            ],
            { env: pjctlEnv(scratch), keepStdout: 64 * 1024 * 1024, timeoutMs: 600_000 },
          )
        }
        if (plan.code === 0) {
          const doc = JSON.parse(plan.stdoutHead) as {
            servers: { plan: { key: string; action: string }[] }[]
          }
          pruneKeys = doc.servers[0]!.plan.filter((p) => p.action === 'delete').map((p) => p.key)
        } else {
          // pjctl could not plan: the same rule by hand (each AOR keeps its latest-expiring contact)
          const byAor = new Map<string, [string, number][]>()
          for (const [key, value] of await astdbContacts()) {
            const aor = key.split(';@')[0]
            byAor.set(aor!, [
              ...(byAor.get(aor!) ?? []),
              [key, Number((JSON.parse(value) as { expiration_time: string }).expiration_time)],
            ])
          }
          pruneKeys = [...byAor.values()].flatMap((list) =>
            list
              .sort((a, b) => b[1] - a[1])
              .slice(1)
              .map(([key]) => key),
          )
          say(
            `(pjctl prune --keep 1 --dry-run failed 4 times; the prune floor's keys were chosen by the same rule in the bench)`,
          )
        }
        writeFileSync(join(scratch, 'keys.txt'), pruneKeys.join('\n') + '\n')
      }
      const saved = big ? new Map<string, string>() : await astdbContacts()
      // every saved contact as it was: the deleted ones, and those prune expired (its default sets
      // expiration_time in the past) that Asterisk has not removed yet
      const putBack = async () => {
        const now = await astdbContacts()
        await putRows([...saved].filter(([k, v]) => now.get(k) !== v))
      }

      for (let round = 1; round <= scale.rounds; round++) {
        progress(`${scale.label}: round ${round}/${scale.rounds}`)
        add('rx', await rx())
        add(
          'read floor',
          await measured('read floor', floor(scratch, ['read', `${LAB.host}:${LAB.port}`]), (r) =>
            JSON.parse(r.stdoutHead),
          ),
        )
        add('check', await measured('check', pjctl(scratch, ['check'])))
        add(
          'contacts --json',
          await measured('contacts --json', pjctl(scratch, ['contacts', '--json'])),
        )
        add(
          'prune --dry-run',
          await measured('prune --dry-run', pjctl(scratch, ['prune', '--dry-run', '--quiet'])),
        )
        if (!big) {
          add(
            'prune floor',
            await measured(
              'prune floor',
              floor(scratch, ['prune', `${LAB.host}:${LAB.port}`, join(scratch, 'keys.txt')]),
            ),
          )
          await putBack()
          const backup = join(scratch, `backup-${round}.jsonl`)
          add(
            'prune --keep 1 --yes',
            await measured(
              'prune --keep 1 --yes',
              pjctl(scratch, [
                'prune',
                '--keep',
                '1',
                '--yes',
                '--force',
                '--max-delete',
                '1000000',
                '--quiet',
                '--backup',
                backup,
              ]),
            ),
          )
          await putBack()
        }
      }
      if (big && !QUICK) {
        progress(`${scale.label}: while Asterisk is busy (another client looping PJSIPShowAors)`)
        for (const [key, args] of [
          ['check (busy)', ['check']],
          ['contacts --json (busy)', ['contacts', '--json']],
          ['prune --dry-run (busy)', ['prune', '--dry-run', '--quiet']],
        ] as const) {
          await untilIdle(600_000)
          const busy = busyLoop()
          await new Promise((r) => setTimeout(r, 1500))
          const cpu0 = cpuMs()
          const r = await pjctl(scratch, [...args])()
          const cpu1 = cpuMs()
          const loops = await busy.stop()
          const left = await leftComputing()
          add(key, {
            what: key,
            wallMs: r.wallMs,
            code: r.code,
            rssKb: r.peakRssKb,
            stdoutBytes: r.stdoutBytes,
            asteriskCpuMs: cpu0 === null || cpu1 === null ? null : cpu1 - cpu0,
            leftComputingMs: left,
            stderr: r.stderr,
            extra: { loops },
          })
        }
      }

      // one --debug run of each command, to show where the time goes
      const debug = new Map<string, string[]>()
      for (const [key, args] of QUICK
        ? []
        : ([
            ['check', ['check']],
            ['prune --dry-run', ['prune', '--dry-run', '--quiet']],
          ] as const)) {
        const r = await measured(`${key} --debug`, pjctl(scratch, [...args, '--debug']))
        debug.set(key, whereTimeGoes(r.stderr))
      }

      const readFloorRuns = rows.get('read floor')!
      if (!big) {
        paired.push(
          {
            call: `pjctl check, ${scale.label}`,
            reference: 'read floor',
            pjctl: rows.get('check')!,
            base: readFloorRuns,
            limit: 2,
            goal: 1.5,
          },
          {
            call: `pjctl prune --dry-run, ${scale.label}`,
            reference: 'read floor',
            pjctl: rows.get('prune --dry-run')!,
            base: readFloorRuns,
            limit: 2,
          },
          {
            call: `pjctl prune --keep 1 --yes, ${scale.label}`,
            reference: 'prune floor',
            pjctl: rows.get('prune --keep 1 --yes')!,
            base: rows.get('prune floor')!,
            limit: TARGET.prune,
          },
        )
      } else {
        progress(`${scale.label}: pjctl exporter, idle scrapes`)
        const { idleScrapeOnLab } = await import('./exporter.js')
        const scrape = await idleScrapeOnLab(
          BIN,
          pjctlEnv(scratch),
          `${LAB.host}:${LAB.port}`,
          QUICK ? 20 : 40,
        )
        exporterRow = {
          call: `pjctl exporter scrape, ${scale.label}, gzip (p50 / p95)`,
          reference: '-',
          pjctl: [],
          base: [],
          limit: NaN,
          cells: [
            `${scrape.median.toFixed(1)} ms`,
            `p95 ${scrape.p95.toFixed(1)} ms, max ${scrape.max.toFixed(1)} ms`,
            '-',
            '-',
            '-',
            '-',
            '< 50 ms',
            '-',
            fmt.mb(scrape.hwmMb * 1024),
            `${QUICK ? 20 : 40} scrapes`,
          ],
          met: {
            ok: scrape.p95 < 50,
            detail: `p50 ${scrape.median.toFixed(1)} ms, p95 ${scrape.p95.toFixed(1)} ms (${fmt.bytes(scrape.bytes)} a scrape unzipped; first read ${fmt.ms(scrape.readMs)} spawn to up)`,
          },
        }
        paired.push({
          call: `pjctl contacts --json, ${scale.label}`,
          reference: 'read floor',
          pjctl: rows.get('contacts --json')!,
          base: readFloorRuns,
          limit: 2,
          goal: 1.3,
          rssMb: 250,
        })
      }
      const floorRead = stats(rows.get('read floor')!).med
      const floorPrune = rows.has('prune floor') ? stats(rows.get('prune floor')!).med : NaN
      const rxMed = stats(rows.get('rx')!).med
      say(
        `### ${scale.aors.toLocaleString('en-US')} AORs / ${scale.contacts.toLocaleString('en-US')} contacts (${total.toLocaleString('en-US')} in registrar/contact with the lab's own), real Asterisk, ${scale.rounds} rounds`,
      )
      const tableRows = [...rows].map(([key, runs]) => {
        const s = stats(runs)
        const base = key.startsWith('prune --keep')
          ? floorPrune
          : key === 'rx' || key.includes('floor')
            ? NaN
            : floorRead
        return [
          key === 'rx'
            ? 'asterisk -rx "database show registrar/contact"'
            : key.includes('floor')
              ? key
              : `pjctl ${key}`,
          fmt.ms(s.med),
          s.range,
          Number.isNaN(base) ? '-' : fmt.ratio(s.med / base),
          fmt.ratio(s.med / rxMed),
          s.codes,
          key === 'rx' ? '-' : fmt.mb(s.rss),
          s.cpu === null ? '-' : fmt.ms(s.cpu),
          s.left === null ? '-' : s.left > 0 ? fmt.ms(s.left) : '0',
        ]
      })
      say(
        table(
          ['run', 'median', 'range', '× floor', '× rx', 'exit', 'peak RSS', 'ast CPU', 'left'],
          tableRows,
        ),
      )
      const rf = rows.get('read floor')!.map(
        (r) =>
          r.extra as {
            dbGetTree: { ms: number; bytes: number; items: number }
            getConfig: { ms: number; bytes: number }
          },
      )
      const short = rf.filter((f) => f.dbGetTree.items !== total)
      if (short.length)
        say(
          `WARNING: ${short.length} floor read(s) got fewer DBGetTree items than the ${total} stored (${short.map((f) => f.dbGetTree.items).join(', ')}): Asterisk dropped output (writetimeout)`,
        )
      say(
        `read floor actions (median): DBGetTree ${fmt.ms(median(rf.map((f) => f.dbGetTree.ms)))} (${fmt.bytes(rf[0]!.dbGetTree.bytes)}), GetConfig ${fmt.ms(median(rf.map((f) => f.getConfig.ms)))} (${fmt.bytes(rf[0]!.getConfig.bytes)}); asterisk -rx counted ${(rows.get('rx')![0]!.extra as { count: number }).count.toLocaleString('en-US')} contacts`,
      )
      if (!big)
        say(
          `prune: ${pruneKeys.length.toLocaleString('en-US')} contacts deleted per run (pjctl's own --keep 1 plan; the floor deletes the same keys), put back after each run`,
        )
      for (const [key, lines] of debug)
        say(`where the time goes, pjctl ${key} --debug: ${lines.join('; ') || '(no AMI actions)'}`)
      const errs = [...rows].flatMap(([key, runs]) =>
        runs
          .filter((r) => r.code !== 0 && r.stderr.trim())
          .map(
            (r) => `${key}: exit ${r.code}: ${r.stderr.trim().split('\n').slice(0, 2).join(' / ')}`,
          ),
      )
      for (const line of [...new Set(errs)]) say(`  ${line}`)
      say()

      const med = (key: string) => (rows.has(key) ? stats(rows.get(key)!).med : NaN)
      // a run that failed (exit 3: incomplete answer, timeout) meets no time target, however fast it failed
      const ok = (key: string, codes: number[]) =>
        (rows.get(key) ?? []).every((r) => r.code !== null && codes.includes(r.code))
      const pair = (key: string, base: number, codes: number[]) =>
        `${fmt.ms(med(key))} vs ${fmt.ms(base)} = ${fmt.ratio(med(key) / base)} (asterisk -rx ${fmt.ms(rxMed)})${ok(key, codes) ? '' : `; exit ${stats(rows.get(key)!).codes}: failed runs count as missed`}`
      if (!big) {
        target(
          `check at ${scale.label} ≤ ${TARGET.check}× read floor`,
          ok('check', [0, 1, 2]) && med('check') <= TARGET.check * floorRead,
          pair('check', floorRead, [0, 1, 2]),
        )
        target(
          `prune --dry-run at ${scale.label} ≤ ${TARGET.dryRun}× read floor`,
          ok('prune --dry-run', [0, 2]) && med('prune --dry-run') <= TARGET.dryRun * floorRead,
          pair('prune --dry-run', floorRead, [0, 2]),
        )
        target(
          `prune --keep 1 --yes at ${scale.label} ≤ ${TARGET.prune}× prune floor`,
          ok('prune --keep 1 --yes', [0]) &&
            med('prune --keep 1 --yes') <= TARGET.prune * floorPrune,
          pair('prune --keep 1 --yes', floorPrune, [0]),
        )
      } else {
        for (const key of [
          'check',
          'contacts --json',
          'prune --dry-run',
          'check (busy)',
          'contacts --json (busy)',
          'prune --dry-run (busy)',
        ]) {
          const s = stats(rows.get(key)!)
          target(
            `${key} at ${scale.label} exits 0–2 with the default --timeout`,
            s.codes.split(',').every((c) => ['0', '1', '2'].includes(c)),
            `exit ${s.codes}, ${fmt.ms(s.med)}`,
          )
        }
        target(
          `contacts --json at ${scale.label} ≤ ${TARGET.json100k}× read floor`,
          ok('contacts --json', [0]) && med('contacts --json') <= TARGET.json100k * floorRead,
          pair('contacts --json', floorRead, [0]),
        )
      }
      const pjctlRuns = [...rows]
        .filter(([key]) => key !== 'rx' && !key.includes('floor'))
        .flatMap(([, runs]) => runs)
      const rss = Math.max(...pjctlRuns.map((r) => r.rssKb ?? NaN))
      target(
        `peak RSS at ${scale.label} < ${TARGET.rssMb} MB`,
        rss / 1024 < TARGET.rssMb,
        `${fmt.mb(rss)} (largest of every pjctl run)`,
      )
      const left = pjctlRuns.filter((r) => (r.leftComputingMs ?? 0) > 0)
      if (pid)
        target(
          `Asterisk left computing after pjctl exits at ${scale.label}`,
          left.length === 0,
          left.length
            ? left.map((r) => `${r.what}: ${fmt.ms(r.leftComputingMs!)}`).join(', ')
            : `never (${pjctlRuns.length} runs; idle = ≤ 20 ms CPU in the second after exit)`,
        )
      say()
      progress(`${scale.label}: cleaning up`)
      await tidy()
      await labScript('bulk_aors.sh', ['0'], 600_000)
    }
    if (!only || only.has('realtime')) {
      const rt = await realtimeRow(scratch, notes)
      if (rt) paired.push(rt)
    }
    if (!only || only.has('cluster')) {
      const cl = await clusterRow(scratch, notes)
      if (cl) paired.push(cl)
    }
    if (exporterRow) paired.push(exporterRow)
    if (paired.length) {
      say(
        '## pjctl against its floor (issues 20 and 23): each pjctl run paired with its reference in the same round',
      )
      say(
        `load average (1, 5, 15 min): ${loadBefore} at the start, ${loadAverage()} at the end${QUICK ? '; --quick' : ''}`,
      )
      say(
        'ratio = median of the per-round ratios (pjctl wall / reference wall, both spawn to exit); peak RSS = largest of the pjctl runs',
      )
      say(pairedTable(paired))
      for (const note of notes) say(note)
      say()
      for (const p of paired) {
        if (p.cells) {
          if (p.met) target(p.call, p.met.ok, p.met.detail)
          continue
        }
        const r = median(ratios(p))
        const rss = Math.max(...p.pjctl.map((run) => run.rssKb ?? NaN)) / 1024
        const okCodes =
          p.call.startsWith('pjctl check') || p.call.includes('--dry-run') ? [0, 1, 2] : [0]
        const exits = p.pjctl.every((run) => run.code !== null && okCodes.includes(run.code))
        target(
          `${p.call} ≤ ${p.limit}× ${p.reference}${p.rssMb ? `, peak RSS < ${p.rssMb} MB` : ''}`,
          exits && r <= p.limit && (!p.rssMb || rss < p.rssMb),
          `${fmt.ratio(r)} (${fmt.ms(median(p.pjctl.map((x) => x.wallMs)))} vs ${fmt.ms(median(p.base.map((x) => x.wallMs)))})${p.rssMb ? `, ${fmt.mb(rss * 1024)}` : ''}${p.goal ? `; goal ${p.goal}×: ${r <= p.goal ? 'met' : 'missed'}` : ''}${exits ? '' : '; a run failed'}`,
        )
      }
      say()
    }
  } finally {
    await tidy().catch((e: unknown) => progress(`cleanup failed: ${(e as Error).message}`))
    await labScript('bulk_aors.sh', ['0'], 600_000).catch(() => undefined)
    rmSync(scratch, { recursive: true, force: true })
  }
  return targets
}
