// Against the two-node cluster lab (lab/cluster.sh: pbxA and pbxB on one PostgreSQL ps_contacts table,
// each with its systemname). Run by `npm run test:asterisk` when both nodes are up (LAB_KIND=cluster).
// What it proves: each contact's node (reg_server) as Asterisk wrote it, shown by pjctl and filtered with
// --node; doctor learns each node's systemname (CoreSettings) and reports the contacts of a node pjctl
// is not configured with, leaving them alone.
// Environment: CLUSTER_A_AMI (6138), CLUSTER_B_AMI (6238), CLUSTER_B_SIP (6260), LAB_PG_URL (the
// cluster's database, postgresql://asterisk:asterisk@127.0.0.1:5432/asterisk_cluster).
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LAB, pjctl, register } from './lab.js'

const URL =
  process.env.LAB_PG_URL ?? 'postgresql://asterisk:asterisk@127.0.0.1:5432/asterisk_cluster'
const A_AMI = Number(process.env.CLUSTER_A_AMI ?? 6138)
const B_AMI = Number(process.env.CLUSTER_B_AMI ?? 6238)
const B_SIP = Number(process.env.CLUSTER_B_SIP ?? 6260)
const PORTS = [45201, 45202]

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
      node?: string
      findings: { kind: string }[]
    }[]
    expect(servers.map((s) => s.node)).toEqual(['pbxA', 'pbxB'])
    for (const s of servers)
      expect(s.findings.map((f) => f.kind)).not.toContain('contacts-of-unknown-node')
  })
})
