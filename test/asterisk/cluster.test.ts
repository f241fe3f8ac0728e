// Against the two-node cluster lab (lab/cluster.sh: pbxA and pbxB on one PostgreSQL ps_contacts table,
// each with its systemname). Run by `npm run test:asterisk` when both nodes are up (LAB_KIND=cluster).
// What it proves: each contact's node (reg_server) as Asterisk wrote it, shown by pjctl and filtered with
// --node; doctor learns each node's systemname (CoreSettings) and reports the contacts of a node pjctl
// is not configured with, leaving them alone. With both nodes configured the shared table is read and
// judged once (check --all, FAP003's lockout), and prune expires each contact and has it retrieved through
// the node that registered it: that node itself sends ContactStatus Removed and stops qualifying it.
// watch --heal and exporter --heal route the same way; a contact of a node not configured is left alone by heal.
// Environment: CLUSTER_A_AMI (6138), CLUSTER_B_AMI (6238), CLUSTER_B_SIP (6260), LAB_PG_URL (the
// cluster's database, postgresql://asterisk:asterisk@127.0.0.1:5432/asterisk_cluster).
import { createHash } from 'node:crypto'
import { createSocket } from 'node:dgram'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startExporter } from '../helpers/exporter.js'
import { spawnCli } from '../helpers/prune.js'
import { LAB, pjctl, register } from './lab.js'

const URL =
  process.env.LAB_PG_URL ?? 'postgresql://asterisk:asterisk@127.0.0.1:5432/asterisk_cluster'
const A_AMI = Number(process.env.CLUSTER_A_AMI ?? 6138)
const B_AMI = Number(process.env.CLUSTER_B_AMI ?? 6238)
const B_SIP = Number(process.env.CLUSTER_B_SIP ?? 6260)
// below 32768: a port in the ephemeral range (32768-60999) may be held by any process, an Asterisk included
const PORTS = [25201, 25202]
const QUIET_MS = 25_000
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function query(text: string, values: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: URL })
  await client.connect()
  try {
    return await client.query(text, values)
  } finally {
    await client.end()
  }
}

/** A pjctl config home naming these nodes (pjctl's first server is the first named). */
function configWith(nodes: [string, number][]): Record<string, string | undefined> {
  const home = mkdtempSync(join(tmpdir(), 'pjctl-cluster-'))
  const servers = Object.fromEntries(
    nodes.map(([name, port]) => [
      name,
      { host: '127.0.0.1', port, user: LAB.user, secret: LAB.secret },
    ]),
  )
  mkdirSync(join(home, 'pjctl'), { recursive: true, mode: 0o700 })
  writeFileSync(join(home, 'pjctl', 'config.json'), JSON.stringify({ servers }), { mode: 0o600 })
  return {
    XDG_CONFIG_HOME: home,
    XDG_STATE_HOME: home,
    PJCTL_HOST: undefined,
    PJCTL_PORT: undefined,
    PJCTL_USER: undefined,
    PJCTL_SECRET: undefined,
  }
}

const bobRows = async () =>
  (await query("SELECT id, reg_server FROM ps_contacts WHERE id LIKE 'bob^3B@%' ORDER BY id")).rows

describe('a two-node cluster on one ps_contacts table', () => {
  beforeAll(async () => {
    await query("DELETE FROM ps_contacts WHERE id LIKE 'bob^3B@%'")
    // bob registered through pbxB
    LAB.sipPort = B_SIP
    for (const port of PORTS) expect((await register('bob', 'bob-pass', port, 600)).code).toBe(0)
  })

  afterAll(async () => {
    await query("DELETE FROM ps_contacts WHERE id LIKE 'bob^3B@%'")
  })

  it('each row carries the node that registered it; pjctl shows it and --node filters by it', async () => {
    expect((await bobRows()).map((r) => r.reg_server)).toEqual(['pbxB', 'pbxB'])
    const env = configWith([['pbxA', A_AMI]])
    const json = await pjctl(['contacts', 'bob', '--server', 'pbxA', '--json'], env)
    expect([json.code, json.stderr]).toEqual([0, ''])
    const bob = JSON.parse(json.stdout).aors[0]
    expect(bob.contacts.map((c: { node: string }) => c.node)).toEqual(['pbxB', 'pbxB'])
    const onA = await pjctl(['contacts', '--server', 'pbxA', '--node', 'pbxA', '--json'], env)
    expect(JSON.parse(onA.stdout).aors.filter((a: { aor: string }) => a.aor === 'bob')).toEqual([])
    console.log(
      `cluster: bob's ${bob.contacts.length} contacts read through pbxA, node ${bob.contacts[0].node}`,
    )
  })

  it("doctor with pbxA alone reports pbxB's contacts as a node it is not configured with, and leaves them alone", async () => {
    const env = configWith([['pbxA', A_AMI]])
    const doctor = await pjctl(['doctor', '--server', 'pbxA', '--json'], env)
    const report = JSON.parse(doctor.stdout)
    expect(report.node).toBe('pbxA')
    const unknown = report.findings.find(
      (f: { kind: string }) => f.kind === 'contacts-of-unknown-node',
    )
    expect(unknown?.subject).toBe('pbxB')
    console.log(`cluster: doctor on pbxA alone: ${unknown.evidence}`)
    expect(await bobRows()).toHaveLength(2)

    // both nodes configured: each knows its systemname, and no contact is of an unknown node
    const both = configWith([
      ['pbxA', A_AMI],
      ['pbxB', B_AMI],
    ])
    const all = await pjctl(['doctor', '--all', '--json'], both)
    const servers = JSON.parse(all.stdout).servers as {
      server: string
      node?: string
      nodes?: string[]
      findings: { kind: string; subject: string }[]
    }[]
    // one store: read and judged once, each node's own systemname and AMI user said
    expect(servers.map((s) => [s.server, s.node, s.nodes])).toEqual([
      ['pbxA,pbxB', 'pbxA,pbxB', ['pbxA', 'pbxB']],
    ])
    for (const s of servers)
      expect(s.findings.map((f) => f.kind)).not.toContain('contacts-of-unknown-node')
  })
})

const BOTH: [string, number][] = [
  ['pbxA', A_AMI],
  ['pbxB', B_AMI],
]

const rowsOf = async (aor: string) =>
  (
    await query('SELECT id, reg_server FROM ps_contacts WHERE id LIKE $1 ORDER BY id', [
      `${aor}^3B@%`,
    ])
  ).rows as { id: string; reg_server: string }[]

/** A phone that never answers: the OPTIONS `fromPort` (a node's SIP port) starts to it, by Via branch. */
async function deadPhone(port: number, fromPort: number) {
  const socket = createSocket('udp4')
  const branches = new Map<string, number>()
  const others: number[] = []
  socket.on('message', (msg, from) => {
    const text = msg.toString('utf8')
    if (!text.startsWith('OPTIONS ')) return
    if (from.port !== fromPort) return void others.push(from.port)
    const branch = /^Via:.*;branch=([^;\s]+)/im.exec(text)?.[1]
    if (branch && !branches.has(branch)) branches.set(branch, Date.now())
  })
  await new Promise<void>((resolve) => socket.bind(port, '127.0.0.1', resolve))
  return { branches, others, close: () => socket.close() }
}

/** A node's AMI events of class system (ContactStatus), as they arrive. */
async function systemEvents(amiPort: number) {
  const socket = connect(amiPort, '127.0.0.1')
  socket.setEncoding('utf8')
  const events: { at: number; headers: Record<string, string> }[] = []
  let buffer = ''
  socket.on('data', (chunk: string) => {
    buffer += chunk
    for (let end = buffer.indexOf('\r\n\r\n'); end >= 0; end = buffer.indexOf('\r\n\r\n')) {
      const headers: Record<string, string> = {}
      for (const line of buffer.slice(0, end).split('\r\n')) {
        const colon = line.indexOf(': ')
        if (colon > 0) headers[line.slice(0, colon)] = line.slice(colon + 2)
      }
      buffer = buffer.slice(end + 4)
      if (headers.Event) events.push({ at: Date.now(), headers })
    }
  })
  socket.write(
    `Action: Login\r\nUsername: ${LAB.user}\r\nSecret: ${LAB.secret}\r\nEvents: system\r\n\r\n`,
  )
  await sleep(500)
  return { events, close: () => socket.destroy() }
}

/** FAP003's contacts from `ports` removed (expires 0) through each node at `sips`. */
async function unregister(ports: number[], sips: number[]): Promise<void> {
  for (const sip of sips) {
    LAB.sipPort = sip
    for (const port of ports) await register('FAP003', 'FAP003-pass', port, 0)
  }
}

/** FAP003 (max_contacts 2) filled through pbxB from the first two of `ports`, the first expiring sooner. */
async function fillThroughB(ports: number[]): Promise<void> {
  LAB.sipPort = B_SIP
  expect((await register('FAP003', 'FAP003-pass', ports[0]!, 1800)).code).toBe(0)
  expect((await register('FAP003', 'FAP003-pass', ports[1]!, 3600)).code).toBe(0)
  expect((await rowsOf('FAP003')).map((r) => r.reg_server)).toEqual(['pbxB', 'pbxB'])
}

describe('both nodes configured: the shared table read once, each contact changed through its node', () => {
  const FAP = [25211, 25212, 25213]
  const clean = () => unregister(FAP, [B_SIP])
  beforeAll(clean)
  afterAll(clean)

  it('FAP003 locked out through pbxB: check --all exits 2 naming FAP003 with each contact once; prune --all lets the third REGISTER through pbxB in', async () => {
    await fillThroughB(FAP)
    expect((await register('FAP003', 'FAP003-pass', FAP[2]!, 3600)).code).toBe(3)

    const env = configWith(BOTH)
    const text = await pjctl(['check', '--all'], env)
    expect(text.code).toBe(2)
    expect(text.stdout).toMatch(
      /^PJCTL CRITICAL - 1 AOR\(s\) locked out .*pbxA,pbxB\/FAP003 \(2\/2 full/,
    )
    const json = await pjctl(['check', '--all', '--json'], env)
    expect(json.code).toBe(2)
    const servers = JSON.parse(json.stdout).servers as {
      server: string
      nodes: string[]
      aors: { aor: string; count: number; contacts: unknown[] }[]
    }[]
    // one store, one judgement: not one per node
    expect(servers.map((s) => [s.server, s.nodes])).toEqual([['pbxA,pbxB', ['pbxA', 'pbxB']]])
    const fap = servers[0]!.aors.find((a) => a.aor === 'FAP003')!
    expect([fap.count, fap.contacts.length]).toEqual([2, 2])
    console.log(`cluster: ${text.stdout.split(' | ')[0]}`)

    const prune = await pjctl(['prune', 'FAP003', '--all', '--yes', '--json'], {
      ...env,
      XDG_STATE_HOME: mkdtempSync(join(tmpdir(), 'pjctl-cluster-prune-')),
    })
    expect([prune.code, prune.stderr]).toEqual([0, ''])
    const result = JSON.parse(prune.stdout)
    expect(result.servers.map((s: { server: string }) => s.server)).toEqual(['pbxA,pbxB'])
    expect(result.summary.deleted).toBe(1)
    expect(result.servers[0].outcomes[0].detail).toMatch(/on pbxB, the node that registered it/)
    expect((await register('FAP003', 'FAP003-pass', FAP[2]!, 3600)).code).toBe(0)
    console.log(
      `cluster: prune --all: ${result.servers[0].outcomes[0].detail}; third REGISTER through pbxB: 200`,
    )
  })

  it("carol (qualified) registered through pbxB, pruned by key with pjctl's first server pbxA: pbxB sends Removed and starts no new OPTIONS transaction", async () => {
    const port = 25221
    LAB.sipPort = B_SIP
    expect((await register('carol', 'carol-pass', port, 3600)).code).toBe(0)
    const uri = `sip:carol@127.0.0.1:${port}`
    const hash = createHash('md5').update(uri).digest('hex')
    const key = `carol;@${hash}`
    const phone = await deadPhone(port, B_SIP)
    const events = await systemEvents(B_AMI)
    const env = {
      ...configWith(BOTH),
      XDG_STATE_HOME: mkdtempSync(join(tmpdir(), 'pjctl-cluster-carol-')),
    }
    try {
      for (let waited = 0; !phone.branches.size && waited < 15_000; waited += 250) await sleep(250)
      expect(phone.branches.size).toBeGreaterThan(0)
      expect((await rowsOf('carol')).map((r) => r.reg_server)).toEqual(['pbxB'])
      const r = await pjctl(
        ['prune', 'carol', '--key', hash, '--server', 'pbxA', '--yes', '--force', '--json'],
        env,
      )
      const exited = Date.now()
      expect([r.code, r.stderr]).toEqual([0, ''])
      expect(JSON.parse(r.stdout).servers[0].outcomes[0]).toMatchObject({ key, outcome: 'deleted' })
      const before = new Set(phone.branches.keys())
      await sleep(QUIET_MS)
      const removed = events.events.find(
        (e) =>
          e.headers.Event === 'ContactStatus' &&
          e.headers.ContactStatus === 'Removed' &&
          e.headers.URI === uri,
      )
      const fresh = [...phone.branches].filter(([b, at]) => !before.has(b) && at > exited)
      console.log(
        `cluster: carol via pbxA's pjctl: pbxB sent Removed ${removed ? `${removed.at - exited} ms after prune exited (SystemName ${removed.headers.SystemName})` : 'never'}; ${before.size} OPTIONS transaction(s) from pbxB before, ${fresh.length} new in the ${QUIET_MS / 1000} s after; OPTIONS from other ports: ${phone.others.length}`,
      )
      expect(removed?.headers.SystemName).toBe('pbxB')
      expect(fresh).toEqual([])
      expect(phone.others).toEqual([])
      expect(await rowsOf('carol')).toEqual([])
    } finally {
      events.close()
      phone.close()
      // leave the lab as found, through pbxB (which qualifies carol)
      if ((await rowsOf('carol')).length)
        await pjctl(['prune', 'carol', '--key', hash, '--server', 'pbxB', '--yes', '--force'], env)
    }
  })

  it('a contact of a node pjctl is not configured with is reported and left alone; --unknown-node delete prunes it and says pbxB goes on qualifying it', async () => {
    LAB.sipPort = B_SIP
    const port = 25231
    expect((await register('dave', 'dave-pass', port, 600)).code).toBe(0)
    const hash = createHash('md5').update(`sip:dave@127.0.0.1:${port}`).digest('hex')
    const env = {
      ...configWith([['pbxA', A_AMI]]),
      XDG_STATE_HOME: mkdtempSync(join(tmpdir(), 'pjctl-cluster-unknown-')),
    }
    try {
      const kept = await pjctl(
        ['prune', 'dave', '--key', hash, '--server', 'pbxA', '--yes', '--force', '--json'],
        env,
      )
      expect(kept.code).toBe(1)
      const server = JSON.parse(kept.stdout).servers[0]
      expect(server.plan[0]).toMatchObject({ action: 'keep' })
      expect(server.plan[0].reasons[0]).toMatch(/cluster node pbxB, which no configured server is/)
      expect(server.notes.join('\n')).toMatch(/--unknown-node delete/)
      expect(await rowsOf('dave')).toHaveLength(1)
      console.log(`cluster: dave (pbxB's) with pbxA alone configured: ${server.notes.at(-1)}`)

      const gone = await pjctl(
        [
          'prune',
          'dave',
          '--key',
          hash,
          '--server',
          'pbxA',
          '--unknown-node',
          'delete',
          '--yes',
          '--force',
          '--json',
        ],
        env,
      )
      expect(gone.code).toBe(0)
      const outcome = JSON.parse(gone.stdout).servers[0].outcomes[0]
      expect(outcome.outcome).toBe('deleted')
      expect(outcome.detail).toMatch(/pbxB goes on qualifying it until it restarts/)
      expect(await rowsOf('dave')).toEqual([])
    } finally {
      await register('dave', 'dave-pass', port, 0)
    }
  })
})

describe('the exporter on a cluster: one follower reads the shared table once and follows every node', () => {
  const port = 25241
  afterAll(async () => {
    LAB.sipPort = B_SIP
    await register('FAP003', 'FAP003-pass', port, 0)
  })

  it('series labelled server="pbxA,pbxB" only, and a REGISTER through pbxB shows within 3 s (its events, not a resync: --resync 1h)', async () => {
    const env = Object.fromEntries(
      Object.entries(configWith(BOTH)).filter((kv): kv is [string, string] => kv[1] !== undefined),
    )
    const e = await startExporter(['--all', '--resync', '1h'], env, 120_000, 'spawned')
    try {
      const contacts = 'pjctl_aor_contacts{server="pbxA,pbxB",aor="FAP003"}'
      await e.waitFor('pjctl_server_up{server="pbxA,pbxB"}', 1, 30_000)
      for (let waited = 0; (await e.value(contacts)) === undefined; waited += 100) {
        if (waited > 5_000) throw new Error(`no ${contacts}: ${e.stderr()}`)
        await sleep(100)
      }
      const before = (await e.value(contacts)) ?? 0
      for (
        let waited = 0;
        !e.stderr().includes('following the events of node pbxB');
        waited += 100
      ) {
        if (waited > 10_000) throw new Error(`no peer session: ${e.stderr()}`)
        await sleep(100)
      }
      LAB.sipPort = B_SIP
      const registered = Date.now()
      expect((await register('FAP003', 'FAP003-pass', port, 600)).code).toBe(0)
      await e.waitFor(contacts, before + 1, 3_000)
      const { body } = await e.fetch('/metrics')
      const servers = new Set([...body.matchAll(/server="([^"]*)"/g)].map((m) => m[1]))
      expect([...servers]).toEqual(['pbxA,pbxB'])
      console.log(
        `cluster: exporter --all: FAP003 registered through pbxB counted within ${Date.now() - registered} ms; series of server(s) ${[...servers].join(' ')}`,
      )
    } finally {
      expect((await e.stop()).code).toBe(0)
    }
  })
})

describe('exporter --heal on a cluster: the stale contact is removed through the node that registered it', () => {
  const FAP = [25251, 25252, 25253]
  const clean = () => unregister(FAP, [B_SIP])
  beforeAll(clean)
  afterAll(clean)

  it('FAP003 full through pbxB, exporter --all --heal led by pbxA: pbxB sends Removed for the stale contact and the retry through pbxB gets 200', async () => {
    await fillThroughB(FAP)
    const stale = `sip:FAP003@127.0.0.1:${FAP[0]}`
    const settings: Record<string, string | undefined> = {
      ...configWith(BOTH),
      XDG_STATE_HOME: mkdtempSync(join(tmpdir(), 'pjctl-cluster-heal-')),
    }
    const env = Object.fromEntries(
      Object.entries(settings).filter((kv): kv is [string, string] => kv[1] !== undefined),
    )
    const events = await systemEvents(B_AMI)
    const e = await startExporter(['--all', '--heal', '--resync', '1h'], env, 120_000, 'spawned')
    try {
      await e.waitFor('pjctl_server_up{server="pbxA,pbxB"}', 1, 30_000)
      for (
        let waited = 0;
        !e.stderr().includes('following the events of node pbxB');
        waited += 100
      ) {
        if (waited > 10_000) throw new Error(`no peer session: ${e.stderr()}`)
        await sleep(100)
      }
      expect((await register('FAP003', 'FAP003-pass', FAP[2]!, 3600)).code).toBe(3)
      const refused = Date.now()
      for (let waited = 0; !/pjctl heal: .*FAP003/.test(e.stderr()); waited += 100) {
        if (waited > 15_000) throw new Error(`no heal: ${e.stderr()}`)
        await sleep(100)
      }
      const line = /pjctl heal: .*FAP003.*/.exec(e.stderr())![0]
      for (let waited = 0; waited < 5_000; waited += 100) {
        if (events.events.some((ev) => ev.headers.URI === stale)) break
        await sleep(100)
      }
      const removed = events.events.find(
        (ev) =>
          ev.headers.Event === 'ContactStatus' &&
          ev.headers.ContactStatus === 'Removed' &&
          ev.headers.URI === stale,
      )
      expect(line).toMatch(/removed FAP003;@/)
      expect(removed?.headers.SystemName).toBe('pbxB')
      expect((await rowsOf('FAP003')).map((r) => r.reg_server)).toEqual(['pbxB'])
      expect((await register('FAP003', 'FAP003-pass', FAP[2]!, 3600)).code).toBe(0)
      console.log(
        `cluster: exporter --all --heal (pbxA first): ${line}; pbxB sent Removed for ${stale} ${removed ? `${removed.at - refused} ms after the refusal (SystemName ${removed.headers.SystemName})` : 'never'}; retry through pbxB: 200`,
      )
    } finally {
      events.close()
      expect((await e.stop()).code).toBe(0)
    }
  })
})

describe('watch --heal on a cluster: the phone moved to pbxA, its stale contacts are of pbxB', () => {
  const A_SIP = Number(process.env.CLUSTER_A_SIP ?? 6160)
  const FAP = [25261, 25262, 25263]
  // each contact removed through the node that registered it (the retry of the first case is pbxA's)
  const clean = () => unregister(FAP, [A_SIP, B_SIP])
  beforeEach(clean)
  afterAll(clean)

  /** FAP003 full through pbxB; watch --heal --server pbxA with `nodes` configured; the third REGISTER through pbxA. */
  async function refusedOnA(nodes: [string, number][]) {
    await fillThroughB(FAP)
    const settings: Record<string, string | undefined> = {
      ...configWith(nodes),
      XDG_STATE_HOME: mkdtempSync(join(tmpdir(), 'pjctl-cluster-watch-')),
    }
    const env = Object.fromEntries(
      Object.entries(settings).filter((kv): kv is [string, string] => kv[1] !== undefined),
    )
    const watch = spawnCli(['watch', '--server', 'pbxA', '--heal', '--json'], env, 60_000)
    for (let waited = 0; !watch.stderr().includes('pbxA: connected'); waited += 100) {
      if (waited > 15_000) throw new Error(`watch did not connect: ${watch.stderr()}`)
      await sleep(100)
    }
    LAB.sipPort = A_SIP
    expect((await register('FAP003', 'FAP003-pass', FAP[2]!, 3600)).code).toBe(3)
    for (let waited = 0; !/pjctl heal: .*FAP003/.test(watch.stderr()); waited += 100) {
      if (waited > 15_000) throw new Error(`no heal: ${watch.stderr()}`)
      await sleep(100)
    }
    return { watch, line: /pjctl heal: .*FAP003.*/.exec(watch.stderr())![0] }
  }

  it('both nodes configured: the stale contact is removed through pbxB (pbxB sends Removed), the retry through pbxA gets 200', async () => {
    const events = await systemEvents(B_AMI)
    const stale = `sip:FAP003@127.0.0.1:${FAP[0]}`
    const { watch, line } = await refusedOnA(BOTH)
    try {
      for (let waited = 0; waited < 5_000; waited += 100) {
        if (events.events.some((ev) => ev.headers.URI === stale)) break
        await sleep(100)
      }
      const removed = events.events.find(
        (ev) =>
          ev.headers.Event === 'ContactStatus' &&
          ev.headers.ContactStatus === 'Removed' &&
          ev.headers.URI === stale,
      )
      expect(line).toMatch(/removed FAP003;@/)
      expect(removed?.headers.SystemName).toBe('pbxB')
      LAB.sipPort = A_SIP
      expect((await register('FAP003', 'FAP003-pass', FAP[2]!, 3600)).code).toBe(0)
      console.log(
        `cluster: watch --heal on pbxA: ${line}; pbxB sent Removed for ${stale}: ${removed ? 'yes' : 'no'} (SystemName ${removed?.headers.SystemName}); retry through pbxA: 200`,
      )
    } finally {
      events.close()
      watch.child.kill('SIGINT')
      await watch.done
    }
  })

  it('pbxA alone configured: heal leaves the contacts of pbxB alone and its log line names pbxB', async () => {
    const { watch, line } = await refusedOnA([['pbxA', A_AMI]])
    try {
      expect(line).toMatch(/FAP003: nothing: .*cluster node pbxB left alone/)
      expect(await rowsOf('FAP003')).toHaveLength(2)
      console.log(`cluster: watch --heal, pbxA alone configured: ${line}`)
    } finally {
      watch.child.kill('SIGINT')
      await watch.done
    }
  })
})
