// npm run bench -- --asterisk HOST:PORT (scale "realtime"): contacts in PostgreSQL (sorcery.conf
// contact=realtime,ps_contacts), `pjctl contacts --json` at 100,000 rows against a bare
// `psql -c 'select * from ps_contacts' > /dev/null`, paired in the same round (issue 23's target: ≤ 2×).
//
// The 100,000 rows live in a database of their own (PJCTL_BENCH_PG_DB, default pjctl_bench), never in
// the realtime lab's `asterisk` database or the cluster's: pjctl reads the realtime lab's sorcery.conf
// over AMI (LAB_RT_AMI_PORT, default 5338) and is pointed at the bench's database with --contacts-db.
// The bench holds the realtime lab's lock (LAB_RT_LOCK, default /tmp/pjctl-lab-rt.lock) while it runs,
// and empties its table afterwards. The database is created (as the postgres superuser, through su,
// when run as root) if it is missing; otherwise the row is skipped with the reason.

import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { LAB, spawnText } from './lab.js'
import { runNode, type ChildResult } from './measure.js'

const PG = {
  host: process.env.PJCTL_BENCH_PG_HOST ?? '127.0.0.1',
  port: Number(process.env.PJCTL_BENCH_PG_PORT ?? 5432),
  user: process.env.PJCTL_BENCH_PG_USER ?? 'asterisk',
  password: process.env.PGPASSWORD ?? 'asterisk',
  database: process.env.PJCTL_BENCH_PG_DB ?? 'pjctl_bench',
}
const RT = {
  port: Number(process.env.LAB_RT_AMI_PORT ?? 5338),
  lock: process.env.LAB_RT_LOCK ?? '/tmp/pjctl-lab-rt.lock',
}
export const REALTIME_ROWS = Number(process.env.PJCTL_BENCH_RT_ROWS ?? 100_000)

const pgEnv = () => ({ PGPASSWORD: PG.password })
const psqlArgs = (db = PG.database) => [
  '-h',
  PG.host,
  '-p',
  String(PG.port),
  '-U',
  PG.user,
  '-d',
  db,
  '-v',
  'ON_ERROR_STOP=1',
  '-qAt',
]

async function psql(sql: string, db?: string): Promise<string> {
  const r = await spawnText('psql', [...psqlArgs(db), '-c', sql], pgEnv(), 120_000)
  if (r.code !== 0) throw new Error(`psql: ${r.stderr.trim().split('\n')[0] ?? r.code}`)
  return r.stdout
}

/** psql with `input` on its stdin (COPY … FROM STDIN). */
function psqlIn(sql: string, input: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('psql', [...psqlArgs(), '-c', sql], {
      env: { ...process.env, ...pgEnv() },
      stdio: ['pipe', 'ignore', 'pipe'],
    })
    let err = ''
    child.stderr.on('data', (d: Buffer) => (err += d.toString()))
    child.on('error', reject)
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`psql COPY: exit ${code}: ${err.trim()}`)),
    )
    child.stdin.end(input)
  })
}

const SCHEMA = `
DO $$ BEGIN
  CREATE TYPE ast_bool_values AS ENUM ('0', '1', 'off', 'on', 'false', 'true', 'no', 'yes');
EXCEPTION WHEN duplicate_object THEN NULL; END $$;
CREATE TABLE IF NOT EXISTS ps_contacts (
  id varchar(255) NOT NULL UNIQUE, uri varchar(511), expiration_time bigint, qualify_frequency integer,
  outbound_proxy varchar(255), path text, user_agent varchar(255), qualify_timeout double precision,
  reg_server varchar(255), authenticate_qualify ast_bool_values, via_addr varchar(40), via_port integer,
  call_id varchar(255), endpoint varchar(255), prune_on_boot ast_bool_values,
  qualify_2xx_only ast_bool_values, UNIQUE (id, reg_server));
`

const UAS = [
  'Yealink SIP-T46S 66.86.0.15',
  'Grandstream GXP2170 1.0.11.23',
  'PolycomVVX-VVX_450-UA/6.4.3.5018',
  'Zoiper rv2.10.20.1',
  'MicroSIP/3.21.3',
]

/** `rows` contacts on rows/3 AORs as res_pjsip writes them to ps_contacts (ids `^3B`-escaped), as COPY text. */
function rowsText(rows: number): string {
  const aors = Math.max(1, Math.floor(rows / 3))
  const now = Math.floor(Date.now() / 1000)
  const lines: string[] = []
  for (let i = 0; i < rows; i++) {
    const aor = String(2000 + (i % aors))
    const port = 5060 + Math.floor(i / aors) * 1000 + (i % 5)
    const uri = `sip:${aor}@192.168.1.${(port % 250) + 2}:${port};transport=udp;rinstance=${port.toString(16).padStart(8, '0')}`
    const hash = createHash('md5').update(uri).digest('hex')
    lines.push(
      [
        `${aor}^3B@${hash}`,
        uri,
        String(now + 600 + (i % 3000)),
        '0',
        '\\N',
        '\\N',
        UAS[i % UAS.length],
        '3',
        'pbx01',
        'no',
        '203.0.113.7',
        String(port),
        `${hash.slice(0, 24)}@192.168.1.2`,
        aor,
        'no',
        'false',
      ].join('\t'),
    )
  }
  return lines.join('\n') + '\n'
}

/** Creates the bench's database (if it can) and its ps_contacts table; fills it with `rows` rows. */
async function prepare(rows: number): Promise<void> {
  try {
    await psql('select 1')
  } catch {
    // the role cannot create databases: the postgres superuser can, when the bench runs as root
    const r = await spawnText('su', [
      'postgres',
      '-c',
      `psql -qAt -c "create database ${PG.database} owner ${PG.user}"`,
    ])
    if (r.code !== 0)
      throw new Error(
        `no database ${PG.database} for ${PG.user}@${PG.host}:${PG.port}, and it could not be created (${r.stderr.trim()}): create it, owned by ${PG.user}, or set PJCTL_BENCH_PG_DB`,
      )
  }
  await psql(SCHEMA)
  await psql('TRUNCATE ps_contacts')
  await psqlIn('COPY ps_contacts FROM STDIN', rowsText(rows))
  await psql('VACUUM ANALYZE ps_contacts')
  const count = Number((await psql('select count(*) from ps_contacts')).trim())
  if (count !== rows) throw new Error(`ps_contacts holds ${count} rows, not ${rows}`)
}

/** Holds a lab's lock (the realtime lab's by default) until release() (flock -w 300; rejects when it cannot be had). */
async function holdLock(lock = RT.lock): Promise<{ release: () => void }> {
  const child = spawn(
    'flock',
    ['-w', '300', lock, 'sh', '-c', 'echo locked; read _ignored || true'],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  )
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve())
    child.on('error', reject)
    child.on('exit', (code) =>
      reject(new Error(`could not take ${lock} within 300 s (flock exit ${code})`)),
    )
  })
  return { release: () => child.stdin.end() }
}

export interface RealtimeRound {
  psql: ChildResult & { wallMs: number }
  pjctl: ChildResult
}

/**
 * `rounds` paired rounds: the bare psql read, then pjctl contacts --json, each spawn to exit.
 * `env` is pjctl's environment (HOME and the like); the AMI target is the realtime lab.
 */
export async function realtimeRounds(
  bin: string,
  env: Record<string, string>,
  rounds: number,
  progress: (text: string) => void,
): Promise<{ rounds: RealtimeRound[]; rows: number; note: string }> {
  const lock = await holdLock()
  try {
    progress(`realtime: ${REALTIME_ROWS.toLocaleString('en-US')} rows into ${PG.database}`)
    await prepare(REALTIME_ROWS)
    const pjEnv = {
      ...env,
      PJCTL_HOST: '127.0.0.1',
      PJCTL_PORT: String(RT.port),
      PJCTL_USER: LAB.user,
      PJCTL_SECRET: LAB.secret,
      PJCTL_CONTACTS_DB: `postgresql://${PG.user}@${PG.host}:${PG.port}/${PG.database}`,
      PGPASSWORD: PG.password,
    }
    const pjctl = () =>
      runNode([bin, 'contacts', '--json'], {
        env: pjEnv,
        rss: true,
        keepStdout: 4096,
        timeoutMs: 300_000,
      })
    const bare = async (): Promise<ChildResult & { wallMs: number }> => {
      const t = performance.now()
      const r = await spawnText(
        'sh',
        [
          '-c',
          // as issue 23 measured it: psql's default (aligned) output, to /dev/null
          `psql -h '${PG.host}' -p ${PG.port} -U '${PG.user}' -d '${PG.database}' -c 'select * from ps_contacts' > /dev/null`,
        ],
        pgEnv(),
        300_000,
      )
      return {
        wallMs: performance.now() - t,
        peakRssKb: null,
        rssMethod: 'none',
        polledHwmKb: null,
        stdoutBytes: 0,
        stdoutHead: '',
        stderr: r.stderr,
        code: r.code,
        signal: null,
        timedOut: false,
      }
    }
    // one unmeasured run of each: the table in PostgreSQL's cache, pjctl's files in the page cache
    await bare()
    const first = await pjctl()
    if (first.code !== 0)
      throw new Error(
        `pjctl contacts --json on the realtime lab: exit ${first.code}: ${first.stderr.trim().split('\n')[0]}`,
      )
    const out: RealtimeRound[] = []
    for (let round = 1; round <= rounds; round++) {
      progress(`realtime: round ${round}/${rounds}`)
      out.push({ psql: await bare(), pjctl: await pjctl() })
    }
    return {
      rounds: out,
      rows: REALTIME_ROWS,
      note: `PostgreSQL ${PG.user}@${PG.host}:${PG.port}/${PG.database}, ${REALTIME_ROWS.toLocaleString('en-US')} rows; sorcery.conf from the realtime lab (AMI ${RT.port}), where these AORs are not configured`,
    }
  } finally {
    await psql('TRUNCATE ps_contacts').catch(() => undefined)
    lock.release()
  }
}

const CLUSTER = {
  a: Number(process.env.CLUSTER_A_AMI ?? 6138),
  b: Number(process.env.CLUSTER_B_AMI ?? 6238),
  lock: process.env.CLUSTER_LOCK ?? '/tmp/pjctl-lab-cluster.lock',
}

export interface ClusterRound {
  single: ChildResult
  cluster: ChildResult
}

/**
 * A cluster of two nodes on one table of `rows` contacts: `pjctl contacts --json --all` with both nodes
 * configured, paired with the single-node read `--server pbxA`, each spawn to exit. The nodes are the
 * cluster lab's (lab/cluster.sh; AMI CLUSTER_A_AMI and CLUSTER_B_AMI, their sorcery.conf), both pointed
 * (contactsDb) at the bench's own table, never at the cluster's: the same store, so read once. Holds the
 * cluster lab's lock and the realtime lab's (the bench's table is the realtime row's too).
 */
export async function clusterRounds(
  bin: string,
  env: Record<string, string>,
  scratch: string,
  rows: number,
  rounds: number,
  progress: (text: string) => void,
): Promise<{ rounds: ClusterRound[]; note: string }> {
  const locks = [await holdLock(CLUSTER.lock), await holdLock()]
  try {
    progress(`cluster: ${rows.toLocaleString('en-US')} rows into ${PG.database}`)
    await prepare(rows)
    const contactsDb = `postgresql://${PG.user}:${PG.password}@${PG.host}:${PG.port}/${PG.database}`
    const node = (port: number) => ({
      host: '127.0.0.1',
      port,
      user: LAB.user,
      secret: LAB.secret,
      contactsDb,
    })
    const config = join(scratch, 'cluster-config.json')
    writeFileSync(
      config,
      JSON.stringify({ servers: { pbxA: node(CLUSTER.a), pbxB: node(CLUSTER.b) } }),
      { mode: 0o600 },
    )
    const run = (which: string[]) => () =>
      runNode([bin, 'contacts', '--json', ...which], {
        // the nodes come from the config file alone: a PJCTL_HOST/PORT in env would override both
        env: {
          ...Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith('PJCTL_'))),
          PJCTL_CONFIG: config,
        },
        rss: true,
        keepStdout: 4096,
        timeoutMs: 300_000,
      })
    const single = run(['--server', 'pbxA'])
    const both = run(['--all'])
    // one unmeasured run of each; the --all one must be one entry named after both nodes
    await single()
    const first = await both()
    if (first.code !== 0)
      throw new Error(
        `pjctl contacts --json --all on the cluster: exit ${first.code}: ${first.stderr.trim().split('\n')[0]}`,
      )
    if (!first.stdoutHead.includes('"server":"pbxA,pbxB"'))
      throw new Error(`the cluster was not read as one: ${first.stdoutHead.slice(0, 120)}`)
    const out: ClusterRound[] = []
    for (let round = 1; round <= rounds; round++) {
      progress(`cluster: round ${round}/${rounds}`)
      out.push({ single: await single(), cluster: await both() })
    }
    return {
      rounds: out,
      note: `2 nodes (AMI ${CLUSTER.a}, ${CLUSTER.b}) on PostgreSQL ${PG.user}@${PG.host}:${PG.port}/${PG.database}, ${rows.toLocaleString('en-US')} rows`,
    }
  } finally {
    await psql('TRUNCATE ps_contacts').catch(() => undefined)
    for (const lock of locks.reverse()) lock.release()
  }
}
