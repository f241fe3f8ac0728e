// prune on a big server: plan from contacts and limits, then qualify state only for the endpoints of
// qualified candidates (pipelined PJSIPShowEndpoint), never a whole-server PJSIPShowContacts or
// PJSIPShowAors; orphaned contacts as a criterion. The exact actions the sim received are asserted.
import { describe, expect, it } from 'vitest'
import { runIn } from '../helpers/cli.js'
import { envFor, sim } from '../helpers/sim.js'
import {
  aor,
  LIMITS_FROM_CONFIG,
  nowSeconds,
  row,
  seedOf,
  sessionsOf,
  SORCERY,
} from '../helpers/rows.js'
import { defineAor } from '../../src/sim/registrar.js'
import type { SimConfigFiles } from '../../src/sim/config.js'

const CONTACTS: [string, Record<string, string>] = ['DBGetTree', { Family: 'registrar/contact' }]
const UA = 'Grandstream GXP2130 1.0.11.3'

/** `n` AORs ext1000…, each with its phone's current contact and one superseded contact from an older port. */
function superseded(n: number, qualifyFrequency = 0) {
  const now = nowSeconds()
  const rows = []
  const aors = []
  for (let i = 0; i < n; i++) {
    const name = `ext${1000 + i}`
    rows.push(
      row({
        aor: name,
        viaAddr: `10.0.${i >> 8}.${i & 255}`,
        viaPort: 5060,
        userAgent: UA,
        expirationTime: now + 600,
      }),
    )
    rows.push(
      row({
        aor: name,
        viaAddr: `10.0.${i >> 8}.${i & 255}`,
        viaPort: 5062,
        userAgent: UA,
        expirationTime: now + 1200,
      }),
    )
    aors.push(aor(name, 2, { qualifyFrequency }))
  }
  return seedOf(rows, aors)
}

type Plan = {
  key: string
  aor: string
  action: string
  reasons: string[]
  qualify: string | null
}[]
const planOf = (stdout: string): Plan => JSON.parse(stdout).servers[0].plan

describe('prune reads qualify state only where a decision needs it', () => {
  it('a config-only server without qualify: DBGetTree and the config files, nothing else, for 500 AORs', async () => {
    const server = await sim({ seed: superseded(500) })
    const r = await runIn(['prune', '--via', 'delete', '--dry-run', '--json', '--force'], {
      env: envFor(server),
    })
    expect([r.code, r.stderr]).toEqual([0, ''])
    expect(planOf(r.stdout).filter((p) => p.action === 'delete')).toHaveLength(500)
    expect(sessionsOf(server.received)).toEqual([[SORCERY, CONTACTS], LIMITS_FROM_CONFIG])
  })

  it('the plan of 500 AORs ends with one lasting-fix summary, not a block per AOR (as contacts and check)', async () => {
    const server = await sim({ seed: superseded(500) })
    const r = await runIn(['prune', '--dry-run', '--force'], { env: envFor(server) })
    expect([r.code, r.stderr]).toEqual([0, ''])
    expect(r.stdout).not.toContain('Lasting fix for ext')
    expect(r.stdout).toContain('Lasting fix for 500 AORs with stale or crowded contacts:')
    expect(r.stdout.trimEnd().split('\n').at(-1)).toMatch(/^pjctl prune: mode=dry-run /)
  })

  it('qualified candidates: one PJSIPShowEndpoint per endpoint owning a candidate, a Reachable one kept', async () => {
    const server = await sim({ seed: superseded(3, 60) })
    const old = (i: number) =>
      row({
        aor: `ext${1000 + i}`,
        viaAddr: `10.0.0.${i}`,
        viaPort: 5060,
        userAgent: UA,
        expirationTime: 0,
      }).key
    server.setQualify(old(1), 'Reachable', 800)
    server.setQualify(old(2), 'Unreachable')
    const r = await runIn(['prune', '--via', 'delete', '--dry-run', '--json'], {
      env: envFor(server),
    })
    expect([r.code, r.stderr]).toEqual([0, ''])
    expect(
      planOf(r.stdout).map((p) => [p.aor, p.action, p.qualify, p.reasons[0]!.split(' (')[0]]),
    ).toEqual([
      [
        'ext1000',
        'delete',
        'NonQualified',
        'superseded by a newer registration from the same device',
      ],
      ['ext1001', 'keep', 'Reachable', 'qualify reports it reachable'],
      [
        'ext1002',
        'delete',
        'Unreachable',
        'superseded by a newer registration from the same device',
      ],
    ])
    expect(sessionsOf(server.received)).toEqual([
      [
        SORCERY,
        CONTACTS,
        ['PJSIPShowEndpoint', { Endpoint: 'ext1000' }],
        ['PJSIPShowEndpoint', { Endpoint: 'ext1001' }],
        ['PJSIPShowEndpoint', { Endpoint: 'ext1002' }],
      ],
      LIMITS_FROM_CONFIG,
    ])
  })

  it('a contact registered while its AOR was qualified (qualify_frequency in the contact, not in the AOR now) has its state read', async () => {
    const seed = superseded(2)
    const qualified = (r: { key: string; value: string }) => ({
      ...r,
      value: r.value.replace('"qualify_frequency":"0"', '"qualify_frequency":"60"'),
    })
    seed.rows = seed.rows.map((r) => (r.key.startsWith('ext1001;@') ? qualified(r) : r))
    const server = await sim({ seed })
    const r = await runIn(['prune', '--via', 'delete', '--dry-run', '--json'], {
      env: envFor(server),
    })
    expect([r.code, r.stderr]).toEqual([0, ''])
    expect(
      server.received
        .filter((a) => a.action === 'PJSIPShowEndpoint')
        .map((a) => a.headers.find(([n]) => n === 'Endpoint')?.[1]),
    ).toEqual(['ext1001'])
  })

  it('a qualified candidate whose state cannot be read (its endpoint is gone) is kept, not deleted', async () => {
    const now = nowSeconds()
    const rows = [
      row({
        aor: 'desk',
        endpoint: 'old-desk',
        viaAddr: '10.1.1.1',
        viaPort: 5060,
        userAgent: UA,
        expirationTime: now + 600,
      }),
      row({
        aor: 'desk',
        endpoint: 'old-desk',
        viaAddr: '10.1.1.1',
        viaPort: 5062,
        userAgent: UA,
        expirationTime: now + 1200,
      }),
    ]
    const server = await sim({ seed: seedOf(rows, [aor('desk', 2, { qualifyFrequency: 30 })]) })
    const r = await runIn(['prune', '--via', 'delete', '--yes', '--json'], { env: envFor(server) })
    expect(r.code).toBe(0)
    expect(planOf(r.stdout)).toMatchObject([
      {
        key: rows[0]!.key,
        action: 'keep',
        reasons: [
          'its qualify state could not be read (PJSIPShowEndpoint): kept rather than deleted on a guess',
          expect.stringMatching(/^superseded/),
        ],
      },
    ])
    expect(server.received.filter((a) => /^(DBDel|DBPut)$/i.test(a.action))).toEqual([])
    expect(sessionsOf(server.received)[0]).toEqual([
      SORCERY,
      CONTACTS,
      ['PJSIPShowEndpoint', { Endpoint: 'old-desk' }],
      // old-desk is not found: the configured endpoints are read, and desk's own names the AOR desk, so
      // Asterisk qualifies the contact through it (its state exists, unread): kept
      ['GetConfig', { Filename: 'sorcery.conf' }],
      ['GetConfig', { Filename: 'pjsip.conf', Filter: 'type=endpoint' }],
      ['GetConfig', { Filename: 'pjsip_wizard.conf', Filter: 'type=^wizard$' }],
    ])
  })
})

describe('prune --orphaned', () => {
  const now = nowSeconds()
  const ghostRow = row({
    aor: 'ghost',
    viaAddr: '10.9.9.9',
    viaPort: 5060,
    userAgent: 'Yealink SIP-T46S',
    expirationTime: now + 3000,
  })
  const aliceRow = row({
    aor: 'alice',
    viaAddr: '10.0.0.1',
    viaPort: 5060,
    userAgent: UA,
    expirationTime: now + 3000,
  })
  const bobRow = row({
    aor: 'bob',
    viaAddr: '10.0.0.2',
    viaPort: 5060,
    userAgent: UA,
    expirationTime: now + 3000,
  })
  const seed = () => seedOf([ghostRow, aliceRow, bobRow], [aor('alice', 1), aor('bob', 1)])

  it('is in the default set: the orphaned contact is compared, backed up and deleted; nothing else', async () => {
    const server = await sim({ seed: seed() })
    const r = await runIn(['prune', '--via', 'delete', '--yes', '--json'], { env: envFor(server) })
    expect([r.code, r.stderr]).toEqual([0, ''])
    const doc = JSON.parse(r.stdout)
    expect(doc.servers[0].plan).toMatchObject([
      {
        key: ghostRow.key,
        aor: 'ghost',
        action: 'delete',
        reasons: ['orphaned: AOR ghost is not configured'],
      },
    ])
    expect(doc.servers[0].outcomes).toEqual([
      { key: ghostRow.key, aor: 'ghost', outcome: 'deleted' },
    ])
    expect(server.astdb.get('registrar/contact', ghostRow.key)).toBeUndefined()
    expect(sessionsOf(server.received)[0]!.slice(0, 4)).toEqual([
      SORCERY,
      CONTACTS,
      ['DBGet', { Family: 'registrar/contact', Key: ghostRow.key }],
      ['DBDel', { Family: 'registrar/contact', Key: ghostRow.key }],
    ])
    expect(
      sessionsOf(server.received)[0]!
        .slice(4)
        .map(([action]) => action),
    ).toEqual(['UserEvent']) // the announcement to exporters
  })

  it('not with another criterion alone (--expired); and the half-the-server guard applies', async () => {
    const server = await sim({ seed: seed() })
    const expired = await runIn(['prune', '--via', 'delete', '--expired', '--dry-run', '--json'], {
      env: envFor(server),
    })
    expect(planOf(expired.stdout)).toEqual([])
    const lonely = await sim({
      seed: seedOf([ghostRow, aliceRow], [aor('alice', 1), defineAor('bob', { maxContacts: 1 })]),
    })
    const guarded = await runIn(['prune', '--via', 'delete', '--orphaned', '--yes', '--json'], {
      env: envFor(lonely),
    })
    expect(guarded.code).toBe(0)
    // 1 of 2 contacts is not more than half: allowed; make it 2 of 3 and it is refused
    const more = await sim({
      seed: seedOf(
        [ghostRow, row({ aor: 'ghost2', viaPort: 5070, expirationTime: now + 3000 }), aliceRow],
        [aor('alice', 1)],
      ),
    })
    const refused = await runIn(['prune', '--via', 'delete', '--orphaned', '--yes', '--json'], {
      env: envFor(more),
    })
    expect(refused.code).toBe(2)
    expect(JSON.parse(refused.stdout).servers[0].reason).toBe(
      "refusing to delete 2 of the server's 3 contacts (more than half); pass --force to allow it",
    )
    expect(more.received.filter((a) => a.action === 'DBDel')).toEqual([])
  })

  it('never when the AOR list is not authoritative (--limits config, AORs in realtime): the AOR is unknown, nothing planned', async () => {
    const realtime: SimConfigFiles = {
      'sorcery.conf': [
        {
          name: 'res_pjsip',
          lines: [
            ['aor', 'config,pjsip.conf,criteria=type=aor'],
            ['aor', 'realtime,ps_aors'],
          ],
        },
      ],
    }
    const server = await sim({ seed: seed(), configFiles: realtime })
    const r = await runIn(
      ['prune', '--via', 'delete', '--orphaned', '--dry-run', '--json', '--limits', 'config'],
      {
        env: envFor(server),
      },
    )
    expect([r.code, r.stderr]).toEqual([0, ''])
    expect(planOf(r.stdout)).toEqual([])
  })
})
