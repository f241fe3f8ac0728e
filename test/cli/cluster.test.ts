// A cluster node (asterisk.conf systemname) against the sim: each contact carries the node that
// registered it (reg_server), every contacts view shows it, and --node keeps one node's contacts
// while the AOR is still judged on all of them.
import { describe, expect, it } from 'vitest'
import { defineAor } from '../../src/sim/registrar.js'
import { runIn as run } from '../helpers/cli.js'
import { envFor, sim } from '../helpers/sim.js'

/** bob alone (max_contacts 2, as in the lab), nothing registered. */
const BOB = { aors: [defineAor('bob', { maxContacts: 2 })], rows: [] }

const phone = (port: number) => ({
  aor: 'bob',
  uri: `sip:bob@192.0.2.30:${port}`,
  viaAddr: '192.0.2.30',
  viaPort: port,
  userAgent: 'Yealink SIP-T46S 66.86.0.15',
})

describe('a cluster node (systemname)', () => {
  it('writes its systemname into reg_server', async () => {
    const server = await sim({ seed: BOB, systemName: 'pbxB' })
    expect(server.registrar.register(phone(5301)).code).toBe(200)
    const stored = server.astdb.tree('registrar/contact').find((row) => row.key.includes('/bob;@'))
    expect(JSON.parse(stored!.value).reg_server).toBe('pbxB')
  })

  it('contacts shows each contact node; --node keeps one node, the AOR judged on all', async () => {
    const server = await sim({ seed: BOB, systemName: 'pbxA' })
    expect(server.registrar.register(phone(5301)).code).toBe(200)
    server.systemName = 'pbxB'
    expect(server.registrar.register(phone(5302)).code).toBe(200)

    const json = await run(['contacts', 'bob', '--json'], { env: envFor(server) })
    expect([json.code, json.stderr]).toEqual([0, ''])
    const bob = JSON.parse(json.stdout).aors[0]
    expect(bob.contacts.map((c: { node: string }) => c.node).sort()).toEqual(['pbxA', 'pbxB'])

    const table = await run(['contacts', 'bob'], { env: envFor(server), tty: true })
    expect(table.stdout).toMatch(/NODE/)
    expect(table.stdout).toMatch(/pbxB/)

    const onB = await run(['contacts', 'bob', '--node', 'pbxB', '--json'], { env: envFor(server) })
    expect(onB.code).toBe(0)
    const bobOnB = JSON.parse(onB.stdout).aors[0]
    expect(
      bobOnB.contacts.map((c: { node: string; viaPort: number }) => [c.node, c.viaPort]),
    ).toEqual([['pbxB', 5302]])
    // judged once, on both nodes' contacts: 2 of max 2
    expect([bobOnB.count, bobOnB.state]).toEqual([2, 'full'])

    const none = await run(['contacts', '--node', 'pbxC', '--json'], { env: envFor(server) })
    expect(JSON.parse(none.stdout).aors).toEqual([])
  })
})

describe('how registrations spread over the nodes', () => {
  /** bob through pbxA and pbxB, alice through pbxA. */
  async function spread() {
    const server = await sim({
      seed: {
        aors: [defineAor('bob', { maxContacts: 2 }), defineAor('alice', { maxContacts: 2 })],
        rows: [],
      },
      systemName: 'pbxA',
    })
    expect(server.registrar.register(phone(5301)).code).toBe(200)
    expect(
      server.registrar.register({ ...phone(5303), aor: 'alice', uri: 'sip:alice@192.0.2.30:5303' })
        .code,
    ).toBe(200)
    server.systemName = 'pbxB'
    expect(server.registrar.register(phone(5302)).code).toBe(200)
    return server
  }

  it('sources --by node: one row per node (reg_server), with its contacts and AORs', async () => {
    const server = await spread()
    const json = await run(['sources', '--by', 'node', '--json'], { env: envFor(server) })
    expect([json.code, json.stderr]).toEqual([0, ''])
    const rows = JSON.parse(json.stdout).sources as {
      node: string
      contacts: number
      aors: number
    }[]
    expect(rows.map((r) => [r.node, r.contacts, r.aors])).toEqual([
      ['pbxA', 2, 2],
      ['pbxB', 1, 1],
    ])
    const table = await run(['sources', '--by', 'node'], { env: envFor(server), tty: true })
    expect(table.stdout).toMatch(/NODE/)
    expect(table.stdout).toMatch(/2 node\(s\), 3 unexpired contact\(s\)/)
    const refused = await run(['sources', '--by', 'node', '--per-ip-limit', '5'], {
      env: envFor(server),
    })
    expect(refused.code).toBe(2)
  })

  it('check and sources --node: the AORs with contacts of those nodes, each judged on all its contacts', async () => {
    const server = await spread()
    const onB = await run(['check', '--node', 'pbxB', '--json'], { env: envFor(server) })
    const aors = JSON.parse(onB.stdout).servers[0].aors as {
      aor: string
      count: number
      contacts: unknown[]
    }[]
    expect(aors.map((a) => [a.aor, a.count, a.contacts.length])).toEqual([['bob', 2, 1]])
    const none = await run(['check', '--node', 'pbxC', '--json'], { env: envFor(server) })
    expect([none.code, JSON.parse(none.stdout).servers[0].aors]).toEqual([0, []])
    const sources = await run(['sources', '--node', 'pbxA', '--json'], { env: envFor(server) })
    expect(JSON.parse(sources.stdout).sources.map((r: { contacts: number }) => r.contacts)).toEqual(
      [2],
    )
  })
})

describe('doctor in a cluster', () => {
  it('learns the node (CoreSettings), reports contacts of a node no server is, and AORs split across nodes', async () => {
    const server = await sim({ seed: BOB, systemName: 'pbxA' })
    expect(server.registrar.register(phone(5301)).code).toBe(200)
    server.systemName = 'pbxC'
    expect(server.registrar.register(phone(5302)).code).toBe(200)
    server.systemName = 'pbxA'

    const doctor = await run(['doctor', '--json'], { env: envFor(server) })
    const report = JSON.parse(doctor.stdout)
    expect(server.received.some((a) => a.action === 'CoreSettings')).toBe(true)
    expect(report.node).toBe('pbxA')
    const kinds = report.findings.map((f: { kind: string; subject: string }) => [f.kind, f.subject])
    expect(kinds).toContainEqual(['contacts-of-unknown-node', 'pbxC'])
    expect(kinds).toContainEqual(['aor-split-across-nodes', 'bob'])
    expect(kinds.map((k: string[]) => k[0])).not.toContain('cluster-systemname')
  })

  it('warns that a node without systemname cannot tell who registered what', async () => {
    const server = await sim({ seed: BOB, systemName: 'pbxB' })
    expect(server.registrar.register(phone(5301)).code).toBe(200)
    server.systemName = ''
    const doctor = await run(['doctor', '--json'], { env: envFor(server) })
    const report = JSON.parse(doctor.stdout)
    expect(report.node).toBeUndefined()
    const finding = report.findings.find((f: { kind: string }) => f.kind === 'cluster-systemname')
    expect(finding?.evidence).toMatch(/no systemname/)
  })
})
