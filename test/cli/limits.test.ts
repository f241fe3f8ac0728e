// AOR limits from the config files (GetConfig), --limits auto|config|ami, orphaned contacts, and the
// exact AMI actions each path sends: no whole-server PJSIPShowAors on a config-only server.
import { describe, expect, it } from 'vitest'
import { runIn } from '../helpers/cli.js'
import type { RunResult } from '../helpers/run.js'
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

const json = (r: RunResult) => JSON.parse(r.stdout)
const CONTACTS: [string, Record<string, string>] = ['DBGetTree', { Family: 'registrar/contact' }]
const REALTIME: SimConfigFiles = {
  'sorcery.conf': [
    {
      name: 'res_pjsip',
      lines: [
        ['endpoint', 'realtime,ps_endpoints'],
        ['aor', 'realtime,ps_aors'],
      ],
    },
  ],
}

/** alice (1/1) and erin (remove_existing) in pjsip.conf, wiz (1/2) in pjsip_wizard.conf, a realtime AOR rt,
 *  and a contact of ghost, an AOR no longer configured anywhere. */
function pbx() {
  const now = nowSeconds()
  const rows = [
    row({ aor: 'alice', viaPort: 5070, expirationTime: now + 600 }),
    row({ aor: 'erin', viaPort: 5071, expirationTime: now + 600 }),
    row({ aor: 'wiz', viaPort: 5072, expirationTime: now + 600 }),
    row({ aor: 'rt', viaPort: 5073, expirationTime: now + 600 }),
    row({
      aor: 'ghost',
      viaPort: 5074,
      userAgent: 'Grandstream GXP2130 1.0.11.3',
      expirationTime: now + 600,
    }),
  ]
  return seedOf(rows, [
    aor('alice', 1),
    aor('erin', 2, { removeExisting: true, qualifyFrequency: 30 }),
    defineAor('wiz', { maxContacts: 2, definedIn: 'pjsip_wizard.conf' }),
    defineAor('rt', { maxContacts: 3, definedIn: 'realtime' }),
  ])
}

const states = (doc: {
  aors: { aor: string; state: string; maxContacts: number | null; maxContactsSource: string }[]
}) => doc.aors.map((a) => [a.aor, a.state, a.maxContacts, a.maxContactsSource])

describe.concurrent('--limits auto on a config-only server', () => {
  it('reads pjsip.conf and pjsip_wizard.conf with GetConfig, never PJSIPShowAors; a contact of an unconfigured AOR is orphaned', async () => {
    const server = await sim({ seed: pbx() })
    const r = await runIn(['contacts', '--json'], { env: envFor(server) })
    expect([r.code, r.stderr]).toEqual([0, ''])
    const doc = json(r)
    expect(doc.limits).toEqual({ from: 'getconfig', authoritative: true })
    expect(states(doc)).toEqual([
      ['alice', 'full', 1, 'getconfig'],
      ['erin', 'near', 2, 'getconfig'],
      ['ghost', 'orphaned', null, 'none'],
      ['rt', 'orphaned', null, 'none'], // realtime, but sorcery.conf does not say so: the files are all Asterisk was told
      ['wiz', 'near', 2, 'getconfig'],
    ])
    expect(doc.aors.find((a: { aor: string }) => a.aor === 'ghost').severity).toBe(1)
    expect(sessionsOf(server.received)).toEqual([[SORCERY, CONTACTS], LIMITS_FROM_CONFIG])
  })

  it('the table says orphaned and gives no remove_existing advice for an AOR that does not exist', async () => {
    const server = await sim({ seed: pbx() })
    // on a terminal (piped, contacts prints plain rows)
    const r = await runIn(['contacts', 'ghost', 'alice'], {
      env: envFor(server),
      tty: { stdout: true, columns: 200 },
    })
    expect([r.code, r.stderr]).toEqual([0, ''])
    expect(r.stdout).toContain(
      'AOR ghost  1/?  ORPHANED  (endpoint ghost; AOR not configured: orphaned contacts, pjctl prune removes them)',
    )
    expect(r.stdout).not.toMatch(/remove_existing=yes on AOR ghost|Lasting fix for ghost/)
    expect(r.stdout).toContain('Lasting fix for alice')
  })

  it('one NAME that is no endpoint (an orphaned AOR): PJSIPShowEndpoint, then the config files', async () => {
    const server = await sim({ seed: pbx() })
    const r = await runIn(['contacts', 'ghost', '--json'], { env: envFor(server) })
    expect([r.code, r.stderr]).toEqual([0, ''])
    expect(states(json(r))).toEqual([['ghost', 'orphaned', null, 'none']])
    expect(sessionsOf(server.received)).toEqual([
      [SORCERY, CONTACTS],
      [['PJSIPShowEndpoint', { Endpoint: 'ghost' }], ...LIMITS_FROM_CONFIG],
    ])
  })

  it('check: orphaned contacts are a WARNING naming them and pjctl prune, never UNKNOWN', async () => {
    const server = await sim({ seed: pbx() })
    const r = await runIn(['check', 'ghost', 'wiz'], { env: envFor(server) })
    expect([r.code, r.stderr]).toEqual([1, ''])
    // wiz near is shown, not paged; the orphan is the WARNING
    expect(r.stdout.split('\n')).toEqual([
      "PJCTL WARNING - 1 AOR(s) with orphaned contacts (AOR not configured): ghost (1/? orphaned) | 'aors'=2;;;0 'contacts'=2;;;0 'critical'=0;;0;0;2 'warning'=1;0;;0;2 'full'=0;;;0;2 'near'=1;;;0;2 'superseded'=0;;;0 'expired'=0;;;0 'parse_errors'=0;0;;0 'servers_unreadable'=0;;0;0;1",
      'WARNING: ghost (1/? orphaned) - pjctl prune ghost --orphaned',
      '',
    ])
    expect(sessionsOf(server.received)).toEqual([[SORCERY, CONTACTS], LIMITS_FROM_CONFIG])
  })
})

describe.concurrent('when the config files are not the whole truth', () => {
  it('auto: sorcery.conf maps aor to realtime, so PJSIPShowAors is read, and the user is told why, once', async () => {
    const server = await sim({ seed: pbx(), configFiles: REALTIME })
    const r = await runIn(['contacts', '--json'], { env: envFor(server) })
    expect(r.code).toBe(0)
    expect(r.stderr).toBe(
      "pjctl: warning: limits: sorcery.conf maps res_pjsip aor to 'realtime,ps_aors': AORs may live outside the config files; reading PJSIPShowAors (what Asterisk runs) instead\n",
    )
    const doc = json(r)
    expect(doc.limits).toEqual({ from: 'pjsipshowaors', authoritative: true })
    expect(states(doc).filter(([name]) => name === 'rt' || name === 'ghost')).toEqual([
      ['ghost', 'orphaned', null, 'none'],
      ['rt', 'ok', 3, 'ami'],
    ])
    expect(sessionsOf(server.received)).toEqual([
      [SORCERY, CONTACTS],
      [...LIMITS_FROM_CONFIG, ['PJSIPShowAors', {}]],
    ])
  })

  it('--limits config: the files only; a contact outside them is unknown (not orphaned), and check says the real cause', async () => {
    const server = await sim({ seed: pbx(), configFiles: REALTIME })
    const r = await runIn(['contacts', '--json', '--limits', 'config'], { env: envFor(server) })
    expect([r.code, r.stderr]).toEqual([0, ''])
    const doc = json(r)
    expect(doc.limits).toEqual({
      from: 'getconfig',
      authoritative: false,
      note: "sorcery.conf maps res_pjsip aor to 'realtime,ps_aors': AORs may live outside the config files",
    })
    expect(states(doc).filter(([name]) => name === 'rt' || name === 'ghost')).toEqual([
      ['ghost', 'unknown', null, 'none'],
      ['rt', 'unknown', null, 'none'],
    ])
    // two names: one NAME would ask its endpoint (PJSIPShowEndpoint), which knows rt
    const check = await runIn(['check', 'rt', 'ghost', '--limits', 'config'], {
      env: envFor(server),
    })
    expect(check.code).toBe(3)
    expect(check.stdout.split('\n')[0]).toBe(
      "PJCTL UNKNOWN - 2 AOR(s) with unknown max_contacts (sorcery.conf maps res_pjsip aor to 'realtime,ps_aors': AORs may live outside the config files; pass --pjsip-conf/--max-contacts): ghost (1/? unknown), rt (1/? unknown) | 'aors'=2;;;0 'contacts'=2;;;0 'critical'=0;;0;0;2 'warning'=0;0;;0;2 'full'=0;;;0;2 'near'=0;;;0;2 'superseded'=0;;;0 'expired'=0;;;0 'parse_errors'=0;0;;0 'servers_unreadable'=0;;0;0;1",
    )
    expect(server.received.filter((a) => a.action === 'PJSIPShowAors')).toEqual([])
  })

  it('--limits ami: PJSIPShowAors alone (what Asterisk runs)', async () => {
    const server = await sim({ seed: pbx() })
    const r = await runIn(['contacts', '--json', '--limits', 'ami'], { env: envFor(server) })
    expect([r.code, r.stderr]).toEqual([0, ''])
    expect(json(r).limits).toEqual({ from: 'pjsipshowaors', authoritative: true })
    expect(states(json(r)).find(([name]) => name === 'rt')).toEqual(['rt', 'ok', 3, 'ami'])
    expect(sessionsOf(server.received)).toEqual([[SORCERY, CONTACTS], [['PJSIPShowAors', {}]]])
  })

  it('least privilege: write=reporting,config reads contacts and every limit (no system needed)', async () => {
    const server = await sim({
      seed: pbx(),
      users: [{ username: 'mon', secret: 'mon-secret', write: ['reporting', 'config'] }],
    })
    const r = await runIn(['check', '--format', 'json'], { env: envFor(server, 'mon') })
    expect([r.code, r.stderr]).toEqual([1, '']) // ghost and rt orphaned: WARNING (alice full with its one phone does not page)
    expect(
      json(r).servers[0].aors.map((a: { aor: string; state: string }) => [a.aor, a.state]),
    ).toEqual([
      ['alice', 'full'],
      ['erin', 'near'],
      ['ghost', 'orphaned'],
      ['rt', 'orphaned'],
      ['wiz', 'near'],
    ])
    expect(sessionsOf(server.received)).toEqual([[SORCERY, CONTACTS], LIMITS_FROM_CONFIG])
  })

  it('a PJSIPShowAors that does not answer in time: the error says why and the ways out', async () => {
    const server = await sim({
      seed: pbx(),
      configFiles: REALTIME,
      faults: { stall: { action: 'PJSIPShowAors' } },
    })
    const r = await runIn(['check', '--timeout', '0.5'], { env: envFor(server) })
    expect(r.code).toBe(3)
    // sorcery.conf maps aor to realtime only: the one AOR the files still give is the wizard's
    expect(r.stderr).toContain(
      `pjctl: no answer to PJSIPShowAors from 127.0.0.1:${server.port} within 0.5 s: Asterisk builds the whole AOR list (1 in the config files) before it sends the first one, which takes seconds on a big server\n` +
        'hint: --limits config reads the limits from the config files (GetConfig) instead; or raise --timeout\n',
    )
    expect(r.stdout).toMatch(/^PJCTL UNKNOWN - no answer to PJSIPShowAors/)
  })
})
