// pjctl check: exit 0/1/2 by the thresholds, 3 when unreadable; Nagios, JSON and Prometheus output.
import { describe, expect, it } from 'vitest'
import { runIn as run } from '../helpers/cli.js'
import type { RunResult } from '../helpers/run.js'
import { envFor, sim } from '../helpers/sim.js'
import {
  aor,
  closedPort,
  LIMITS_FROM_CONFIG,
  sessionsOf,
  dumpOf,
  expectNoSecret,
  nowSeconds,
  row,
  seedOf,
  tempDir,
  writeFile,
  SORCERY,
} from '../helpers/rows.js'

const lines = (r: RunResult) => r.stdout.split('\n')

/** The perfdata of a status line, label → value;warn;crit;min;max. */
function perfOf(line: string): Record<string, string> {
  const [text, perf, ...rest] = line.split('|')
  expect(rest).toEqual([])
  expect(text!.endsWith(' ')).toBe(true)
  const out: Record<string, string> = {}
  for (const item of perf!.trim().split(' ')) {
    const m = /^'([^'=|]*)'=(-?\d+(?:;[^;]*){0,4})$/.exec(item)
    expect(m, item).not.toBeNull()
    out[m![1]!] = m![2]!
  }
  return out
}

const PERF_LAB =
  "'aors'=9;;;0 'contacts'=13;;;0 'critical'=1;;0;0;9 'warning'=1;0;;0;9 'full'=5;;;0;9 'near'=2;;;0;9 'superseded'=1;;;0 'expired'=0;;;0 'parse_errors'=0;0;;0 'servers_unreadable'=0;;0;0;1"

describe('pjctl check --format nagios (default)', () => {
  it('the captured lab is CRITICAL (exit 2) for the FAP003 lockout only: full AORs with one healthy phone and near AORs do not page', async () => {
    const server = await sim()
    const r = await run(['check'], { env: envFor(server) })
    expect(r.stderr).toBe('')
    expect(r.code).toBe(2)
    expect(r.stdout).toBe(
      [
        'PJCTL CRITICAL - 1 AOR(s) locked out (full, holding stale contacts): FAP003 (2/2 full, 1 duplicate from the same device); ' +
          `1 AOR(s) full without remove_existing: bob (2/2 full) | ${PERF_LAB}`,
        'CRITICAL: FAP003 (2/2 full, 1 duplicate from the same device) - pjctl prune FAP003 --key e6b0e56f68ce8a45f643c8c7fd05c854 (same-second duplicates of one device, not qualified: which is stale cannot be told; deleting either frees a slot)',
        'WARNING: bob (2/2 full)',
        '',
      ].join('\n'),
    )
    // contacts and limits on two sessions at once; the limits from the config files, never the whole-server PJSIPShowAors
    expect(sessionsOf(server.received)).toEqual([
      [SORCERY, ['DBGetTree', { Family: 'registrar/contact' }]],
      LIMITS_FROM_CONFIG,
    ])
  })

  it('OK (exit 0) says why full and near AORs are no risk; WARNING (exit 1) for a full AOR of two devices', async () => {
    const server = await sim()
    const ok = await run(['check', 'alice', 'erin', 'phone1', 'phone2'], { env: envFor(server) })
    expect([ok.code, ok.stderr]).toEqual([0, ''])
    expect(lines(ok)).toEqual([
      "PJCTL OK - 4 AOR(s), 6 contact(s), no lockout (1 full with remove_existing=yes, 1 full with one healthy contact, 1 near max_contacts) | 'aors'=4;;;0 'contacts'=6;;;0 'critical'=0;;0;0;4 'warning'=0;0;;0;4 'full'=2;;;0;4 'near'=1;;;0;4 'superseded'=1;;;0 'expired'=0;;;0 'parse_errors'=0;0;;0 'servers_unreadable'=0;;0;0;1",
      '',
    ])
    const warn = await run(['check', 'bob', 'carol'], { env: envFor(server) })
    expect([warn.code, warn.stderr]).toEqual([1, ''])
    expect(lines(warn)[0]!.split(' | ')[0]).toBe(
      'PJCTL WARNING - 1 AOR(s) full without remove_existing: bob (2/2 full)',
    )
    expect(lines(warn).slice(1)).toEqual(['WARNING: bob (2/2 full)', ''])
  })

  // phone1 holds 3 of 4 (1 free, 75 % used); alice 1 of 1
  it.each([
    [['phone1'], 0, 'PJCTL OK - 1 AOR(s), 3 contact(s), no lockout (1 near max_contacts)'],
    [
      ['phone1', '--warn', '1,80%'],
      1,
      'PJCTL WARNING - 1 AOR(s) at or past --warn: phone1 (3/4 near)',
    ],
    [['phone1', '-w', '0'], 0, 'PJCTL OK - 1 AOR(s), 3 contact(s), no lockout'],
    [['phone1', '--warn', '0,90%'], 0, 'PJCTL OK - 1 AOR(s), 3 contact(s), no lockout'],
    [['phone1', '--warn', '2'], 1, 'PJCTL WARNING - 1 AOR(s) at or past --warn: phone1 (3/4 near)'],
    [['phone1', '-w', '75%'], 1, 'PJCTL WARNING - 1 AOR(s) at or past --warn: phone1 (3/4 near)'],
    [
      ['phone1', '--warn', '76%', '--crit', '0'],
      0,
      'PJCTL OK - 1 AOR(s), 3 contact(s), no lockout',
    ],
    [
      ['phone1', '--warn', '0', '--crit', '1'],
      2,
      'PJCTL CRITICAL - 1 AOR(s) at or past --crit: phone1 (3/4 near)',
    ],
    [['phone1', '-c', '75%'], 2, 'PJCTL CRITICAL - 1 AOR(s) at or past --crit: phone1 (3/4 near)'],
    [
      ['phone1', '--crit', '80%'],
      0,
      'PJCTL OK - 1 AOR(s), 3 contact(s), no lockout (1 near max_contacts)',
    ],
    [
      ['phone1', '--warn', '50%', '--crit', '1,90%'],
      2,
      'PJCTL CRITICAL - 1 AOR(s) at or past --crit: phone1 (3/4 near)',
    ],
    // the old policy for those who want it: every full AOR without remove_existing is CRITICAL
    [['alice', '--crit', '0'], 2, 'PJCTL CRITICAL - 1 AOR(s) at or past --crit: alice (1/1 full)'],
  ])('thresholds %j: exit %i', async (flags, code, first) => {
    const server = await sim()
    const r = await run(['check', ...flags], { env: envFor(server) })
    expect([r.code, r.stderr]).toEqual([code, ''])
    expect(lines(r)[0]!.split(' | ')[0]).toBe(first)
    const perf = perfOf(lines(r)[0]!)
    expect([perf.warning!.split(';')[0], perf.critical!.split(';')[0]]).toEqual([
      code === 1 ? '1' : '0',
      code === 2 ? '1' : '0',
    ])
  })

  it('perfdata follows the plugin guidelines: quoted labels, value;warn;crit;min;max, no `|` anywhere else (an AOR named a|b)', async () => {
    const now = nowSeconds()
    const ua = 'Grandstream GXP2130 1.0.11.3'
    const rows = [
      row({
        aor: 'a|b',
        viaAddr: '192.0.2.16',
        viaPort: 5060,
        userAgent: ua,
        expirationTime: now + 60,
      }),
      row({
        aor: 'a|b',
        viaAddr: '192.0.2.16',
        viaPort: 5062,
        userAgent: ua,
        expirationTime: now + 3480,
      }),
    ]
    const server = await sim({ seed: seedOf(rows, [aor('a|b', 2)]) })
    const r = await run(['check'], { env: envFor(server) })
    expect(r.code).toBe(2)
    expect(r.stdout.split('|')).toHaveLength(2)
    expect(lines(r)[0]!.split(' | ')[0]).toBe(
      'PJCTL CRITICAL - 1 AOR(s) locked out (full, holding stale contacts): a\\x7cb (2/2 full, 1 superseded)',
    )
    expect(lines(r)[1]).toBe('CRITICAL: a\\x7cb (2/2 full, 1 superseded) - pjctl prune a\\x7cb')
    expect(perfOf(lines(r)[0]!)).toEqual({
      aors: '1;;;0',
      contacts: '2;;;0',
      critical: '1;;0;0;1',
      warning: '0;0;;0;1',
      full: '1;;;0;1',
      near: '0;;;0;1',
      superseded: '1;;;0',
      expired: '0;;;0',
      parse_errors: '0;0;;0',
      servers_unreadable: '0;;0;0;1',
    })
  })

  it('the long output is bounded: the first 20 AORs, then "and N more"; -v lists them all', async () => {
    const now = nowSeconds()
    const names = Array.from({ length: 25 }, (_, i) => `ext${100 + i}`)
    const rows = names.flatMap((name, i) => [
      row({
        aor: name,
        viaAddr: '192.0.2.1',
        viaPort: 6000 + i,
        userAgent: 'Yealink SIP-T46S',
        expirationTime: now + 600,
      }),
      row({
        aor: name,
        viaAddr: '192.0.2.2',
        viaPort: 6000 + i,
        userAgent: 'Zoiper',
        expirationTime: now + 900,
      }),
    ])
    const server = await sim({
      seed: seedOf(
        rows,
        names.map((name) => aor(name, 2)),
      ),
    })
    const r = await run(['check'], { env: envFor(server) })
    expect(r.code).toBe(1)
    expect(lines(r)[0]!.split(' | ')[0]).toBe(
      'PJCTL WARNING - 25 AOR(s) full without remove_existing: ext100 (2/2 full), ext101 (2/2 full), ext102 (2/2 full), ext103 (2/2 full), ext104 (2/2 full) and 20 more',
    )
    expect(lines(r).slice(1)).toEqual([
      ...names.slice(0, 20).map((n) => `WARNING: ${n} (2/2 full)`),
      'and 5 more (pjctl check -v lists them all)',
      '',
    ])
    const verbose = await run(['check', '-v'], { env: envFor(server) })
    expect(lines(verbose).slice(1)).toEqual([...names.map((n) => `WARNING: ${n} (2/2 full)`), ''])
  })

  it('-H host, -p port and -t timeout are --host, --port and --timeout', async () => {
    const server = await sim()
    const r = await run(
      ['check', 'carol', '-H', '127.0.0.1', '-p', String(server.port), '-t', '5'],
      { env: { PJCTL_USER: 'pjctl', PJCTL_SECRET: 'pjctl-secret' } },
    )
    expect([r.code, r.stderr]).toEqual([0, ''])
    expect(lines(r)[0]).toMatch(/^PJCTL OK - 1 AOR\(s\), 1 contact\(s\), no lockout \| /)
    const dead = await closedPort()
    const refused = await run(['check', '-H', '127.0.0.1', '-p', String(dead)], {
      env: { PJCTL_USER: 'pjctl', PJCTL_SECRET: 'pjctl-secret' },
    })
    expect(refused.stdout).toBe(`PJCTL UNKNOWN - connection refused by 127.0.0.1:${dead}\n`)
  })

  it('--strict exits 3 (UNKNOWN) under check, and its help says so', async () => {
    const dir = tempDir()
    const now = nowSeconds()
    const dump = writeFile(
      dir,
      'dump.txt',
      dumpOf([row({ aor: 'alice', expirationTime: now + 600 })])
        .replace('/registrar/contact/', 'garbage\n/registrar/contact/')
        .replace(/(\d+) results found/, (_, n) => `${Number(n) + 1} results found`),
    )
    const r = await run(['check', '--strict', '--input', dump, '--max-contacts', '2'])
    expect(r.code).toBe(3)
    expect(r.stdout).toMatch(/^PJCTL UNKNOWN - 1 line\(s\) did not parse; first at line 1: /)
    const help = await run(['check', '--help'])
    expect(help.stdout.replace(/\s+/g, ' ')).toContain(
      '--strict Fail when any line of the answer does not parse, instead of warning: exit 2, or 3 (UNKNOWN) under check.',
    )
  })

  it('a bad threshold is UNKNOWN (exit 3) and nothing is sent', async () => {
    const server = await sim()
    const r = await run(['check', '--warn', '80 %'], { env: envFor(server) })
    expect(r.code).toBe(3)
    expect(r.stdout).toBe(
      'PJCTL UNKNOWN - invalid threshold "80 %": give free slots left (1), percent used (80%), or both (1,80%)\n',
    )
    const pct = await run(['check', '--crit', '101%'], { env: envFor(server) })
    expect(pct.code).toBe(3)
    expect(pct.stderr).toBe(
      'pjctl: invalid threshold "101%": give free slots left (1), percent used (80%), or both (1,80%)\n',
    )
    expect(server.received).toEqual([])
  })

  it('remove_existing=yes AORs at (or over) their limit are not critical', async () => {
    const now = nowSeconds()
    const rows = [
      row({ aor: 'erin', viaPort: 5096, expirationTime: now + 600 }),
      row({ aor: 'erin', viaPort: 5097, expirationTime: now + 900 }),
      row({ aor: 'frank', viaPort: 5100, expirationTime: now + 600 }),
      row({ aor: 'frank', viaPort: 5101, expirationTime: now + 700 }),
      row({ aor: 'frank', viaPort: 5102, expirationTime: now + 800 }),
    ]
    const server = await sim({
      seed: seedOf(rows, [
        aor('erin', 2, { removeExisting: true }),
        aor('frank', 2, { removeExisting: true }),
      ]),
    })
    const r = await run(['check'], { env: envFor(server) })
    expect([r.code, r.stderr]).toEqual([0, ''])
    expect(lines(r)).toEqual([
      "PJCTL OK - 2 AOR(s), 5 contact(s), no lockout (2 full with remove_existing=yes) | 'aors'=2;;;0 'contacts'=5;;;0 'critical'=0;;0;0;2 'warning'=0;0;;0;2 'full'=2;;;0;2 'near'=0;;;0;2 'superseded'=3;;;0 'expired'=0;;;0 'parse_errors'=0;0;;0 'servers_unreadable'=0;;0;0;1",
      '',
    ])
    const doc = JSON.parse(
      (await run(['check', '--format', 'json'], { env: envFor(server) })).stdout,
    )
    expect(
      doc.servers[0].aors.map(
        (a: {
          aor: string
          count: number
          state: string
          severity: number
          removeExisting: boolean
        }) => [a.aor, a.count, a.state, a.severity, a.removeExisting],
      ),
    ).toEqual([
      ['erin', 2, 'full', 0, true],
      ['frank', 3, 'over', 0, true],
    ])
  })

  it('names a superseded contact and the prune that frees it', async () => {
    const now = nowSeconds()
    const ua = 'Grandstream GXP2130 1.0.11.3'
    const rows = [
      row({
        aor: 'FAP003',
        viaAddr: '192.0.2.16',
        viaPort: 5060,
        userAgent: ua,
        expirationTime: now + 1260,
      }),
      row({
        aor: 'FAP003',
        viaAddr: '192.0.2.16',
        viaPort: 5062,
        userAgent: ua,
        expirationTime: now + 3480,
      }),
    ]
    const server = await sim({ seed: seedOf(rows, [aor('FAP003', 2)]) })
    const r = await run(['check'], { env: envFor(server) })
    expect(r.code).toBe(2)
    expect(lines(r)).toEqual([
      "PJCTL CRITICAL - 1 AOR(s) locked out (full, holding stale contacts): FAP003 (2/2 full, 1 superseded) | 'aors'=1;;;0 'contacts'=2;;;0 'critical'=1;;0;0;1 'warning'=0;0;;0;1 'full'=1;;;0;1 'near'=0;;;0;1 'superseded'=1;;;0 'expired'=0;;;0 'parse_errors'=0;0;;0 'servers_unreadable'=0;;0;0;1",
      'CRITICAL: FAP003 (2/2 full, 1 superseded) - pjctl prune FAP003',
      '',
    ])
  })

  it('an unreadable server is UNKNOWN: exit 3 and `PJCTL UNKNOWN - …` on stdout', async () => {
    const port = await closedPort()
    const env = {
      PJCTL_HOST: '127.0.0.1',
      PJCTL_PORT: String(port),
      PJCTL_USER: 'pjctl',
      PJCTL_SECRET: 'pjctl-secret',
    }
    const r = await run(['check'], { env })
    expect(r.code).toBe(3)
    expect(r.stdout).toBe(`PJCTL UNKNOWN - connection refused by 127.0.0.1:${port}\n`)
    expect(r.stderr.split('\n')[0]).toBe(`pjctl: connection refused by 127.0.0.1:${port}`)
    expectNoSecret(r, 'pjctl-secret')
    // json and prometheus say UNKNOWN too: a textfile collector must see the server down, not an empty file
    const json = await run(['check', '--format', 'json'], { env })
    expect(json.code).toBe(3)
    expect(json.stderr.split('\n')[0]).toBe(`pjctl: connection refused by 127.0.0.1:${port}`)
    expect(JSON.parse(json.stdout)).toMatchObject({
      status: 3,
      statusText: 'UNKNOWN',
      servers: [
        {
          server: `127.0.0.1:${port}`,
          status: 3,
          error: `connection refused by 127.0.0.1:${port}`,
        },
      ],
    })
    const prom = await run(['check', '--format', 'prometheus'], { env })
    expect(prom.code).toBe(3)
    expect(lines(prom)).toContain(`pjctl_server_up{server="127.0.0.1:${port}"} 0`)
    expect(lines(prom)).toContain(`pjctl_check_status{server="127.0.0.1:${port}"} 3`)
    expectNoSecret(json, 'pjctl-secret')
  })

  it('usage errors are UNKNOWN too (exit 3): an unknown option, an unknown name', async () => {
    const server = await sim()
    const option = await run(['check', '--bogus'], { env: envFor(server) })
    expect([option.code, option.stderr]).toEqual([3, "pjctl: unknown option '--bogus'\n"])
    const name = await run(['check', 'nosuch'], { env: envFor(server) })
    expect(name.code).toBe(3)
    expect(name.stdout).toBe(
      `PJCTL UNKNOWN - no AOR or endpoint named 'nosuch' on 127.0.0.1:${server.port}\n`,
    )
    expectNoSecret(name, 'pjctl-secret')
    expectNoSecret(option, 'pjctl-secret')
  })
})

describe('pjctl check on several servers (--server a,b)', () => {
  it('one unreadable server is UNKNOWN in the output; a CRITICAL AOR elsewhere still decides the exit (2)', async () => {
    const server = await sim()
    const dead = await closedPort()
    const dir = tempDir()
    const config = writeFile(
      dir,
      'config.json',
      JSON.stringify({
        servers: {
          lab: { host: '127.0.0.1', port: server.port, user: 'pjctl', secret: 'pjctl-secret' },
          dead: { host: '127.0.0.1', port: dead, user: 'pjctl', secret: 'pjctl-secret' },
        },
      }),
    )
    const nagios = await run(['check', 'FAP003', '--config', config, '--server', 'lab,dead'])
    expect(nagios.code).toBe(2)
    expect(nagios.stderr).toBe(`pjctl: warning: dead: connection refused by 127.0.0.1:${dead}\n`)
    expect(lines(nagios)).toEqual([
      'PJCTL CRITICAL - 1 AOR(s) locked out (full, holding stale contacts): lab/FAP003 (2/2 full, 1 duplicate from the same device); 1 server(s) unreadable: dead | ' +
        "'aors'=1;;;0 'contacts'=2;;;0 'critical'=1;;0;0;1 'warning'=0;0;;0;1 'full'=1;;;0;1 'near'=0;;;0;1 'superseded'=0;;;0 'expired'=0;;;0 'parse_errors'=0;0;;0 'servers_unreadable'=1;;0;0;2 'lab status'=2;1;2;0;3 'dead status'=3;1;2;0;3",
      `dead: UNKNOWN - connection refused by 127.0.0.1:${dead}`,
      'CRITICAL: lab/FAP003 (2/2 full, 1 duplicate from the same device) - pjctl prune FAP003 --key e6b0e56f68ce8a45f643c8c7fd05c854 --server lab (same-second duplicates of one device, not qualified: which is stale cannot be told; deleting either frees a slot)',
      'server lab: CRITICAL',
      'server dead: UNKNOWN',
      '',
    ])
    const prom = await run([
      'check',
      'FAP003',
      '--config',
      config,
      '--server',
      'lab,dead',
      '--format',
      'prometheus',
    ])
    expect(prom.code).toBe(2)
    for (const line of [
      'pjctl_aor_contacts{server="lab",aor="FAP003"} 2',
      'pjctl_server_up{server="lab"} 1',
      'pjctl_server_up{server="dead"} 0',
      'pjctl_check_status{server="lab"} 2',
      'pjctl_check_status{server="dead"} 3',
    ]) {
      expect(lines(prom)).toContain(line)
    }
    const okAndDead = await run(['check', 'carol', '--config', config, '--server', 'lab,dead'])
    expect(okAndDead.code).toBe(3)
    expect(lines(okAndDead)[0]).toBe(
      "PJCTL UNKNOWN - 1 server(s) unreadable: dead | 'aors'=1;;;0 'contacts'=1;;;0 'critical'=0;;0;0;1 'warning'=0;0;;0;1 'full'=0;;;0;1 'near'=0;;;0;1 'superseded'=0;;;0 'expired'=0;;;0 'parse_errors'=0;0;;0 'servers_unreadable'=1;;0;0;2 'lab status'=0;1;2;0;3 'dead status'=3;1;2;0;3",
    )
  })
})

describe('pjctl check --format json', () => {
  it('status, statusText, thresholds and every AOR of the server', async () => {
    const server = await sim()
    const r = await run(['check', '--format', 'json', '--warn', '2,70%', '--crit', '0,100%'], {
      env: envFor(server),
    })
    expect([r.code, r.stderr]).toEqual([2, ''])
    const doc = JSON.parse(r.stdout)
    expect(Object.keys(doc)).toEqual([
      'generatedAt',
      'status',
      'statusText',
      'thresholds',
      'servers',
    ])
    expect(doc).toMatchObject({
      status: 2,
      statusText: 'CRITICAL',
      thresholds: { warn: { free: 2, percent: 70 }, crit: { free: 0, percent: 100 } },
    })
    expect(Math.abs(Date.parse(doc.generatedAt) / 1000 - nowSeconds())).toBeLessThan(5)
    expect(doc.servers).toHaveLength(1)
    expect(doc.servers[0]).toMatchObject({
      server: `127.0.0.1:${server.port}`,
      status: 2,
      statusText: 'CRITICAL',
    })
    expect(
      doc.servers[0].aors.map(
        (a: {
          aor: string
          count: number
          maxContacts: number
          state: string
          severity: number
        }) => [a.aor, a.count, a.maxContacts, a.state, a.severity],
      ),
    ).toEqual([
      ['FAP003', 2, 2, 'full', 2],
      ['alice', 1, 1, 'full', 2],
      ['bob', 2, 2, 'full', 2],
      ['carol', 1, 3, 'near', 1],
      ['dave', 1, 1, 'full', 2],
      ['erin', 2, 2, 'full', 0],
      ['phone1', 3, 4, 'near', 1],
      ['phone2', 0, 1, 'ok', 0],
      ['wizphone', 1, 2, 'near', 1],
    ])
    const json = await run(['check', '--json', 'carol'], { env: envFor(server) })
    expect([json.code, JSON.parse(json.stdout).statusText]).toEqual([0, 'OK'])
  })
})

describe('pjctl check --format prometheus', () => {
  it('per-AOR gauges and server gauges', async () => {
    const server = await sim()
    const r = await run(['check', '--format', 'prometheus'], { env: envFor(server) })
    expect([r.code, r.stderr]).toEqual([2, ''])
    const s = `server="127.0.0.1:${server.port}"`
    const out = lines(r)
    for (const line of [
      '# HELP pjctl_aor_contacts Unexpired contacts registered to the AOR.',
      '# TYPE pjctl_aor_contacts gauge',
      `pjctl_aor_contacts{${s},aor="FAP003"} 2`,
      `pjctl_aor_contacts{${s},aor="phone1"} 3`,
      `pjctl_aor_contacts{${s},aor="phone2"} 0`,
      '# TYPE pjctl_aor_max_contacts gauge',
      `pjctl_aor_max_contacts{${s},aor="FAP003"} 2`,
      `pjctl_aor_max_contacts{${s},aor="phone1"} 4`,
      '# TYPE pjctl_aor_superseded_contacts gauge',
      `pjctl_aor_superseded_contacts{${s},aor="erin"} 1`,
      `pjctl_aor_superseded_contacts{${s},aor="FAP003"} 0`,
      `pjctl_aor_expired_contacts{${s},aor="FAP003"} 0`,
      `pjctl_server_up{${s}} 1`,
      `pjctl_check_status{${s}} 2`,
    ]) {
      expect(out).toContain(line)
    }
    // 4 per-AOR metrics x 9 AORs, 3 server metrics, 1 per source address, HELP+TYPE for each of the 8
    expect(out.filter((l) => l.startsWith('pjctl_aor_'))).toHaveLength(36)
    expect(out.filter((l) => l.startsWith('# '))).toHaveLength(16)
    expect(out.filter((l) => l.startsWith('pjctl_source_contacts{'))).toEqual([
      `pjctl_source_contacts{${s},address="127.0.0.1"} 13`,
    ])
    expect(out).toContain(`pjctl_parse_errors{${s}} 0`)
    expect(r.stdout.endsWith('\n')).toBe(true)
  })

  it('leaves out max_contacts when it is unknown', async () => {
    const dir = tempDir()
    const now = nowSeconds()
    const dump = writeFile(
      dir,
      'dump.txt',
      dumpOf([row({ aor: 'FAP003', expirationTime: now + 600 })]),
    )
    const r = await run(['check', '--format', 'prometheus', '--input', dump])
    // an AOR with contacts and no known limit cannot be judged: UNKNOWN
    expect(r.code).toBe(3)
    expect(lines(r)).toContain(`pjctl_check_status{server="${dump}"} 3`)
    expect(lines(r).filter((l) => l.startsWith('pjctl_aor_max_contacts'))).toEqual([])
    expect(lines(r)).toContain(`pjctl_aor_contacts{server="${dump}",aor="FAP003"} 1`)
  })

  it('escapes `"` and `\\` in label values (server name from the config file, AOR name from the store)', async () => {
    const now = nowSeconds()
    const weird = 'we"ird\\aor'
    const server = await sim({
      seed: seedOf([row({ aor: weird, expirationTime: now + 600 })], [aor(weird, 3)]),
    })
    const dir = tempDir()
    const name = 'lab "east"\\1'
    const config = writeFile(
      dir,
      'config.json',
      JSON.stringify({
        servers: {
          [name]: { host: '127.0.0.1', port: server.port, user: 'pjctl', secret: 'pjctl-secret' },
        },
      }),
    )
    const r = await run(['check', '--format', 'prometheus', '--config', config, '--server', name])
    expect([r.code, r.stderr]).toEqual([0, ''])
    expect(lines(r)).toContain(
      'pjctl_aor_contacts{server="lab \\"east\\"\\\\1",aor="we\\"ird\\\\aor"} 1',
    )
    expect(lines(r)).toContain(
      'pjctl_aor_max_contacts{server="lab \\"east\\"\\\\1",aor="we\\"ird\\\\aor"} 3',
    )
    expect(lines(r)).toContain('pjctl_server_up{server="lab \\"east\\"\\\\1"} 1')
  })
})

describe('pjctl check when max_contacts cannot be known', () => {
  it('is UNKNOWN (exit 3) and says which AORs and why, instead of a silent OK', async () => {
    const server = await sim()
    const r = await run(['check', 'alice'], { env: envFor(server, 'pjro') })
    expect(r.code).toBe(3)
    expect(lines(r)[0]).toBe(
      "PJCTL UNKNOWN - 1 AOR(s) with unknown max_contacts (AMI actions GetConfig and PJSIPShowAors were refused: permission denied (needs write=config or system); pass --pjsip-conf/--max-contacts): alice (1/? unknown) | 'aors'=1;;;0 'contacts'=1;;;0 'critical'=0;;0;0;1 'warning'=0;0;;0;1 'full'=0;;;0;1 'near'=0;;;0;1 'superseded'=0;;;0 'expired'=0;;;0 'parse_errors'=0;0;;0 'servers_unreadable'=0;;0;0;1",
    )
    const known = await run(['check', 'alice', '--max-contacts', '1', '--crit', '0'], {
      env: envFor(server, 'pjro'),
    })
    expect(known.code).toBe(2)
  })
})
