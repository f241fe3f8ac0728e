// pjctl sources, and --per-ip-limit in sources, contacts and check, against the sim seeded with
// sourcesSeed: 30 contacts from one office NAT over 10 AORs, a Grandstream leaving a superseded
// contact on FAP003, a Grandstream Wave re-registering every 30 s, an orphaned AOR, max_contacts=1.
import { describe, expect, it } from 'vitest'
import { OFFICE_NAT, sourcesSeed } from '../../src/sim/seed.js'
import { runIn as run } from '../helpers/cli.js'
import type { RunResult } from '../helpers/run.js'
import { envFor, sim } from '../helpers/sim.js'
import {
  aor,
  closedPort,
  dumpOf,
  nowSeconds,
  row,
  seedOf,
  tempDir,
  writeFile,
} from '../helpers/rows.js'

const json = (r: RunResult) => JSON.parse(r.stdout)
const lines = (r: RunResult) => r.stdout.split('\n')

const UA = {
  yealink: 'Yealink SIP-T46S 66.86.0.15',
  zoiper: 'Zoiper rv2.10.20.4',
  linphone: 'Linphone/5.2.5 (belle-sip/5.2.0)',
  grandstream: 'Grandstream GXP2130 1.0.11.3',
  wave: 'Grandstream Wave 1.0.5.12',
  polycom: 'Polycom/6.4.3.5018',
}

/** `sources --json` of the whole sourcesSeed, busiest first. */
const ALL_SOURCES = [
  {
    address: OFFICE_NAT,
    contacts: 30,
    aors: 10,
    endpoints: 10,
    maxPerAor: 3,
    busiestAor: 'ext101',
    userAgents: [
      { userAgent: UA.linphone, contacts: 10 },
      { userAgent: UA.yealink, contacts: 10 },
      { userAgent: UA.zoiper, contacts: 10 },
    ],
    stale: 0,
    superseded: 0,
    expired: 0,
  },
  {
    address: '198.51.100.16',
    contacts: 2,
    aors: 1,
    endpoints: 1,
    maxPerAor: 2,
    busiestAor: 'FAP003',
    userAgents: [{ userAgent: UA.grandstream, contacts: 2 }],
    stale: 1,
    superseded: 1,
    expired: 0,
  },
  {
    address: '198.51.100.30',
    contacts: 2,
    aors: 1,
    endpoints: 1,
    maxPerAor: 2,
    busiestAor: 'wave1',
    userAgents: [{ userAgent: UA.wave, contacts: 2 }],
    stale: 1,
    superseded: 1,
    expired: 0,
  },
  {
    address: '192.0.2.21',
    contacts: 1,
    aors: 1,
    endpoints: 1,
    maxPerAor: 1,
    busiestAor: 'alice',
    userAgents: [{ userAgent: UA.yealink, contacts: 1 }],
    stale: 0,
    superseded: 0,
    expired: 0,
  },
  {
    address: '192.0.2.99',
    contacts: 1,
    aors: 1,
    endpoints: 1,
    maxPerAor: 1,
    busiestAor: 'ext199',
    userAgents: [{ userAgent: UA.polycom, contacts: 1 }],
    stale: 0,
    superseded: 0,
    expired: 0,
  },
]

describe('pjctl sources', { timeout: 30_000 }, () => {
  it('--json: one row per via_addr, busiest first, with exact counts', async () => {
    const server = await sim({ seed: sourcesSeed({ now: nowSeconds() }) })
    const r = await run(['sources', '--json'], { env: envFor(server) })
    expect([r.code, r.stderr]).toEqual([0, ''])
    const doc = json(r)
    expect(Object.keys(doc)).toEqual(['server', 'generatedAt', 'source', 'sources'])
    expect(doc.server).toBe(`127.0.0.1:${server.port}`)
    expect(doc.source).toBe('dbgettree')
    expect(doc.sources).toEqual(ALL_SOURCES)
  })

  it('NAME narrows it to those AORs (or endpoints)', async () => {
    const server = await sim({ seed: sourcesSeed({ now: nowSeconds() }) })
    const r = await run(['sources', '--json', 'FAP003', 'ext101', 'ext102'], {
      env: envFor(server),
    })
    expect([r.code, r.stderr]).toEqual([0, ''])
    expect(
      json(r).sources.map((s: { address: string; contacts: number; aors: number }) => [
        s.address,
        s.contacts,
        s.aors,
      ]),
    ).toEqual([
      [OFFICE_NAT, 6, 2],
      ['198.51.100.16', 2, 1],
    ])
  })

  it('the table: a row per address, user agents with counts, a total line', async () => {
    const server = await sim({ seed: sourcesSeed({ now: nowSeconds() }) })
    // a terminal of 200 columns: the whole table
    const r = await run(['sources'], { env: envFor(server), tty: { stdout: true, columns: 200 } })
    expect([r.code, r.stderr]).toEqual([0, ''])
    const rows = lines(r)
    expect(rows[0]).toMatch(
      /^ {2}SOURCE +CONTACTS {2}AORS {2}ENDPOINTS {2}MAX\/AOR {2}STALE {2}USER AGENTS$/,
    )
    expect(rows[1]).toMatch(
      new RegExp(
        `^ {2}${OFFICE_NAT.replace(/\./g, '\\.')} +30 +10 +10 +3 +0 +Linphone/5\\.2\\.5 \\(belle-sip/5\\.2\\.0\\) ×10, Yealink SIP-T46S 66\\.86\\.0\\.15 ×10, Zoiper rv2\\.10\\.20\\.4 ×10$`,
      ),
    )
    expect(rows[2]).toMatch(
      /^ {2}198\.51\.100\.16 +2 +1 +1 +2 +1 +Grandstream GXP2130 1\.0\.11\.3 ×2$/,
    )
    // piped: one tab-separated row per address, no header, no boxes
    const piped = await run(['sources'], { env: envFor(server) })
    expect(lines(piped)[0]).toBe(
      `${OFFICE_NAT}\t30\t10\t10\t3\t0\tLinphone/5.2.5 (belle-sip/5.2.0) ×10, Yealink SIP-T46S 66.86.0.15 ×10, Zoiper rv2.10.20.4 ×10`,
    )
    expect(piped.stdout).not.toMatch(/[│┌└├─]/)
    expect(r.stdout).toContain('5 source address(es), 36 unexpired contact(s).')
  })

  it("--per-ip-limit N marks addresses at (== N) and above (> N) it; --per aor counts one AOR's contacts from the address", async () => {
    const server = await sim({ seed: sourcesSeed({ now: nowSeconds() }) })
    const states = async (args: string[]) => {
      const r = await run(['sources', '--json', ...args], { env: envFor(server) })
      expect([r.code, r.stderr]).toEqual([0, ''])
      return {
        limit: json(r).perIpLimit,
        states: json(r).sources.map(
          (s: { address: string; limitState: string }) => `${s.address}=${s.limitState}`,
        ),
      }
    }
    expect(await states(['--per-ip-limit', '10'])).toEqual({
      limit: { limit: 10, per: 'address' },
      states: [
        `${OFFICE_NAT}=above`,
        '198.51.100.16=below',
        '198.51.100.30=below',
        '192.0.2.21=below',
        '192.0.2.99=below',
      ],
    })
    expect((await states(['--per-ip-limit', '30'])).states[0]).toBe(`${OFFICE_NAT}=at`)
    expect(await states(['--per-ip-limit', '2', '--per', 'aor'])).toEqual({
      limit: { limit: 2, per: 'aor' },
      states: [
        `${OFFICE_NAT}=above`,
        '198.51.100.16=at',
        '198.51.100.30=at',
        '192.0.2.21=below',
        '192.0.2.99=below',
      ],
    })
    const table = await run(['sources', '--per-ip-limit', '2', '--per', 'aor'], {
      env: envFor(server),
    })
    expect(table.stdout).toContain(
      '3 source address(es) at or above --per-ip-limit 2 (contacts per AOR from one address):',
    )
    expect(table.stdout).toContain(`  - ${OFFICE_NAT} (3 on AOR ext101): above the limit (3/2)`)
    expect(table.stdout).toContain(
      '  - 198.51.100.16 (2 on AOR FAP003): at the limit (2/2), 1 stale',
    )
    expect(lines(table).find((l) => l.startsWith(`${OFFICE_NAT}\t`))).toMatch(/\tABOVE$/)
  })

  it('--per aor without --per-ip-limit is a usage error (exit 2), before connecting', async () => {
    const r = await run(['sources', '--per', 'aor', '--port', String(await closedPort())], {
      env: { PJCTL_USER: 'pjctl', PJCTL_SECRET: 'x' },
    })
    expect([r.code, r.stderr]).toEqual([2, 'pjctl: --per aor needs --per-ip-limit N\n'])
    const bad = await run(['sources', '--per-ip-limit', '0'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain("option '--per-ip-limit <n>': expected a number from 1")
  })

  it('works on a saved dump (--input), with expired contacts counted as stale', async () => {
    const now = nowSeconds()
    const rows = [
      row({ aor: 'a1', viaAddr: '198.51.100.7', viaPort: 5060, expirationTime: now + 100 }),
      row({ aor: 'a1', viaAddr: '198.51.100.7', viaPort: 5062, expirationTime: now + 900 }),
      row({
        aor: 'a2',
        viaAddr: '198.51.100.7',
        viaPort: 5064,
        expirationTime: now - 50,
        userAgent: 'Zoiper rv2.10.20.4',
        endpoint: 'ep2',
      }),
      row({ aor: 'b1', viaAddr: '192.0.2.8', viaPort: 5060, expirationTime: now + 900 }),
    ]
    const file = writeFile(tempDir(), 'dump.txt', dumpOf(rows))
    const r = await run(['sources', '--json', '--input', file, '--per-ip-limit', '2'])
    expect([r.code, r.stderr]).toEqual([0, ''])
    expect(json(r)).toMatchObject({ server: file, source: 'dump' })
    expect(json(r).sources).toEqual([
      {
        address: '198.51.100.7',
        contacts: 2,
        aors: 2,
        endpoints: 2,
        maxPerAor: 2,
        busiestAor: 'a1',
        userAgents: [{ userAgent: UA.grandstream, contacts: 2 }],
        stale: 2,
        superseded: 1,
        expired: 1,
        limitState: 'at',
      },
      {
        address: '192.0.2.8',
        contacts: 1,
        aors: 1,
        endpoints: 1,
        maxPerAor: 1,
        busiestAor: 'b1',
        userAgents: [{ userAgent: UA.grandstream, contacts: 1 }],
        stale: 0,
        superseded: 0,
        expired: 0,
        limitState: 'below',
      },
    ])
  })

  it('a fleet: one document per server, an unreadable one as an error entry (exit 3)', async () => {
    const server = await sim({ seed: sourcesSeed({ now: nowSeconds() }) })
    const dead = await closedPort()
    const config = writeFile(
      tempDir(),
      'config.json',
      JSON.stringify({
        servers: {
          lab: { host: '127.0.0.1', port: server.port, user: 'pjctl', secret: 'pjctl-secret' },
          dead: { host: '127.0.0.1', port: dead, user: 'pjctl', secret: 'pjctl-secret' },
        },
      }),
    )
    const r = await run(['sources', '--json', '--config', config, '--all'])
    expect(r.code).toBe(3)
    expect(r.stderr).toBe(`pjctl: warning: dead: connection refused by 127.0.0.1:${dead}\n`)
    const doc = json(r)
    expect(doc.servers.map((s: { server: string }) => s.server)).toEqual(['lab', 'dead'])
    expect(doc.servers[0].sources).toEqual(ALL_SOURCES)
    expect(doc.servers[1]).toEqual({
      server: 'dead',
      error: `connection refused by 127.0.0.1:${dead}`,
      hint: expect.any(String),
      exitCode: 3,
    })
    const table = await run(['sources', '--config', config, '--all'])
    expect(table.stdout).toContain('== lab ==')
    expect(table.stdout).toContain(`dead: could not read: connection refused by 127.0.0.1:${dead}`)
  })
})

describe('--per-ip-limit in contacts and check', { timeout: 30_000 }, () => {
  it('contacts: the addresses at or above it under the tables, and in --json', async () => {
    const server = await sim({ seed: sourcesSeed({ now: nowSeconds() }) })
    // on a terminal: the limit block under the tables (piped, contacts prints one plain row per contact only)
    const table = await run(['contacts', '--per-ip-limit', '10'], {
      env: envFor(server),
      tty: { stdout: true, columns: 200 },
    })
    expect([table.code, table.stderr]).toEqual([0, ''])
    expect(table.stdout).toContain(
      `1 source address(es) at or above --per-ip-limit 10 (contacts per address):\n  - ${OFFICE_NAT} (30 contacts over 10 AORs): above the limit (30/10)\n`,
    )
    const r = await run(
      ['contacts', '--json', '--per-ip-limit', '2', '--per', 'aor', 'FAP003', 'alice'],
      { env: envFor(server) },
    )
    expect(r.code).toBe(0)
    expect(json(r).perIpLimit).toEqual({ limit: 2, per: 'aor' })
    expect(json(r).sourcesAtOrAboveLimit).toEqual([{ ...ALL_SOURCES[1], limitState: 'at' }])
    const none = await run(['contacts', '--per-ip-limit', '50'], {
      env: envFor(server),
      tty: { stdout: true, columns: 200 },
    })
    expect(none.stdout).toContain(
      'No source address at or above --per-ip-limit 50 (contacts per address).',
    )
  })

  it('check: an address at the limit is WARNING, above it CRITICAL, each named in the status line', async () => {
    const server = await sim({ seed: sourcesSeed({ now: nowSeconds() }) })
    // ext101..ext110 alone are OK by max_contacts (3/6): the address decides
    const names = Array.from({ length: 10 }, (_, i) => `ext${101 + i}`)
    const ok = await run(['check', ...names], { env: envFor(server) })
    expect([ok.code, lines(ok)[0]!.split(' | ')[0]]).toEqual([
      0,
      'PJCTL OK - 10 AOR(s), 30 contact(s), no lockout',
    ])
    expect(lines(ok)[0]).not.toContain('sources_at_limit')
    const at = await run(['check', ...names, '--per-ip-limit', '30'], { env: envFor(server) })
    expect(at.code).toBe(1)
    expect(lines(at).slice(0, 2)).toEqual([
      `PJCTL WARNING - 1 address(es) at --per-ip-limit 30: ${OFFICE_NAT} (30 contacts over 10 AORs) | 'aors'=10;;;0 'contacts'=30;;;0 'critical'=0;;0;0;10 'warning'=0;0;;0;10 'full'=0;;;0;10 'near'=0;;;0;10 'superseded'=0;;;0 'expired'=0;;;0 'parse_errors'=0;0;;0 'servers_unreadable'=0;;0;0;1 'sources_at_limit'=1;0;;0 'sources_above_limit'=0;;0;0`,
      `WARNING: source ${OFFICE_NAT} (30 contacts over 10 AORs) at --per-ip-limit 30`,
    ])
    const above = await run(['check', ...names, '--per-ip-limit', '2', '--per', 'aor'], {
      env: envFor(server),
    })
    expect(above.code).toBe(2)
    expect(lines(above)[0]).toBe(
      `PJCTL CRITICAL - 1 address(es) above --per-ip-limit 2 per AOR: ${OFFICE_NAT} (3 on AOR ext101) | 'aors'=10;;;0 'contacts'=30;;;0 'critical'=0;;0;0;10 'warning'=0;0;;0;10 'full'=0;;;0;10 'near'=0;;;0;10 'superseded'=0;;;0 'expired'=0;;;0 'parse_errors'=0;0;;0 'servers_unreadable'=0;;0;0;1 'sources_at_limit'=0;0;;0 'sources_above_limit'=1;;0;0`,
    )
    const doc = await run(['check', ...names, '--per-ip-limit', '30', '--format', 'json'], {
      env: envFor(server),
    })
    expect(doc.code).toBe(1)
    expect(json(doc)).toMatchObject({
      status: 1,
      perIpLimit: { limit: 30, per: 'address' },
      servers: [{ status: 1, sourcesAtOrAboveLimit: [{ ...ALL_SOURCES[0], limitState: 'at' }] }],
    })
  })

  it('check --format prometheus: pjctl_source_contacts for the 100 busiest addresses plus every one at or above the limit', async () => {
    const now = nowSeconds()
    // 150 addresses with one contact each (AORs n0..n149), and 198.51.100.200 with 2 contacts on one AOR … and 0 on others
    const rows = Array.from({ length: 150 }, (_, i) =>
      row({ aor: `n${i}`, viaAddr: `10.0.${i >> 8}.${i & 255}`, expirationTime: now + 600 + i }),
    )
    const aors = Array.from({ length: 150 }, (_, i) => aor(`n${i}`, 5))
    const server = await sim({ seed: seedOf(rows, aors) })
    const metric = (r: RunResult) => lines(r).filter((l) => l.startsWith('pjctl_source_contacts{'))
    const plain = await run(['check', '--format', 'prometheus'], { env: envFor(server) })
    expect(plain.code).toBe(0)
    expect(lines(plain)).toContain('# TYPE pjctl_source_contacts gauge')
    expect(metric(plain)).toHaveLength(100)
    expect(metric(plain)[0]).toBe(
      `pjctl_source_contacts{server="127.0.0.1:${server.port}",address="10.0.0.0"} 1`,
    )
    const limited = await run(['check', '--format', 'prometheus', '--per-ip-limit', '1'], {
      env: envFor(server),
    })
    expect(limited.code).toBe(1)
    expect(metric(limited)).toHaveLength(150)
    expect(lines(limited)).toContain(`pjctl_check_status{server="127.0.0.1:${server.port}"} 1`)
  })
})
