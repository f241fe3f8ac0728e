// pjctl doctor against the sim seeded with sourcesSeed (30 contacts from one NAT over 10 AORs,
// a Grandstream leaving a superseded contact on FAP003, a Grandstream Wave with a 60 s expiration
// re-registering every 30 s, an orphaned AOR, max_contacts=1): findings, kinds, subjects, fixes, exit codes.
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
  sessionsOf,
  tempDir,
  writeFile,
} from '../helpers/rows.js'

interface Finding {
  severity: string
  kind: string
  subject: string
  evidence: string
  fix: string
  subjects?: string[]
}
const json = (r: RunResult) => JSON.parse(r.stdout)
const gist = (findings: Finding[]) => findings.map((f) => [f.severity, f.kind, f.subject])
const find = (findings: Finding[], kind: string, subject?: string) =>
  findings.find((f) => f.kind === kind && (subject === undefined || f.subject === subject))!
const GEN_TAIL =
  ' >> /etc/asterisk/pjsip.conf (or any file loaded after the AOR), then: module reload res_pjsip.so'

describe('pjctl doctor', { timeout: 30_000 }, () => {
  it('the scenario: every finding ranked, with its kind, subject, evidence and fix (exit 2)', async () => {
    const server = await sim({ seed: sourcesSeed({ now: nowSeconds() }) })
    const r = await run(['doctor', '--json', '--per-ip-limit', '10'], { env: envFor(server) })
    expect([r.code, r.stderr]).toEqual([2, ''])
    const doc = json(r)
    expect(Object.keys(doc)).toEqual(['server', 'generatedAt', 'source', 'contactsAt', 'findings'])
    expect(doc.contactsAt).toBe(
      "astdb registrar/contact (sorcery.conf: contact=astdb,registrar (res_pjsip's default: sorcery.conf has no contact line))",
    )
    expect(doc.server).toBe(`127.0.0.1:${server.port}`)
    const findings: Finding[] = doc.findings
    expect(gist(findings)).toEqual([
      ['critical', 'aor-at-limit', 'FAP003'],
      ['critical', 'source-at-limit', OFFICE_NAT],
      ['warning', 'stale-device', 'Grandstream GXP2130 1.0.11.3 at 198.51.100.16'],
      ['warning', 'stale-device', 'Grandstream Wave 1.0.5.12 at 198.51.100.30'],
      ['warning', 'orphaned-contacts', 'ext199'],
      ['warning', 'max-contacts-1-without-remove-existing', '1 AOR(s) with max_contacts=1'],
      ['warning', 'registration-churn', 'wave1'],
      ['warning', 'remove-unavailable-without-qualify', 'ext110'],
      ['warning', 'ami-privileges', 'AMI user pjctl'],
      ['info', 'aor-at-limit', 'wave1'],
      ['info', 'lifetime-beyond-maximum-expiration', 'ext105'],
      ['info', 'full-unqualified', 'FAP003'],
      ['info', 'full-unqualified', 'alice'],
    ])
    expect(find(findings, 'aor-at-limit', 'FAP003')).toEqual({
      severity: 'critical',
      kind: 'aor-at-limit',
      subject: 'FAP003',
      evidence:
        '2/2 contacts (full), 1 of them superseded, remove_existing=no: a registration from a new address or port is refused (403)',
      fix: `pjctl gen pjsip FAP003 --append --max-contacts 2${GEN_TAIL}; now: pjctl prune FAP003`,
    })
    expect(
      find(findings, 'stale-device', 'Grandstream GXP2130 1.0.11.3 at 198.51.100.16').fix,
    ).toBe(
      "on the phone set Unregister On Reboot: All (in the account's SIP settings); then pjctl prune FAP003 --superseded",
    )
    const wave = find(findings, 'stale-device', 'Grandstream Wave 1.0.5.12 at 198.51.100.30')
    expect(wave.evidence).toBe(
      '1 superseded contact(s) on 1 AOR(s) (wave1): it registers again from a new port without unregistering the old contact (Grandstream Wave)',
    )
    expect(wave.fix).toContain(
      'in Grandstream Wave set Unregister Before New Registration: All, and a Register Expiration within the server',
    )
    const churn = find(findings, 'registration-churn')
    expect(churn.evidence).toMatch(
      /^Grandstream Wave 1\.0\.5\.12 at 198\.51\.100\.30 re-registered every ~30 s \(2 contacts, expiration_time gaps\), each living at most [1-5]\d s \(the AOR allows minimum_expiration=60, maximum_expiration=3600\)/,
    )
    expect(churn.fix).toMatch(
      new RegExp(
        `^pjctl gen pjsip wave1 --append --max-contacts 3 --minimum-expiration 600${GEN_TAIL.replace(/[()/.]/g, '\\$&')} \\(Asterisk then grants at least 600 s`,
      ),
    )
    const nat = find(findings, 'source-at-limit')
    expect(nat.evidence).toBe(
      `${OFFICE_NAT} (30 contacts over 10 AORs): above --per-ip-limit 10; 0 stale; user agents: Linphone/5.2.5 (belle-sip/5.2.0) ×10, Yealink SIP-T46S 66.86.0.15 ×10, Zoiper rv2.10.20.4 ×10`,
    )
    const orphan = find(findings, 'orphaned-contacts')
    expect(orphan.evidence).toMatch(
      /^1 contact\(s\) in astdb registrar\/contact for an AOR that is not configured/,
    )
    expect(orphan.fix).toBe('pjctl prune ext199 --orphaned')
    expect(find(findings, 'max-contacts-1-without-remove-existing')).toMatchObject({
      subjects: ['alice'],
      fix: `pjctl gen pjsip alice --append --max-contacts 1${GEN_TAIL} (remove_existing=yes: Asterisk replaces the old contact instead of refusing)`,
    })
    expect(find(findings, 'remove-unavailable-without-qualify').fix).toBe(
      `pjctl gen pjsip ext110 --append --max-contacts 6 --qualify-frequency 60 --remove-unavailable${GEN_TAIL}`,
    )
    expect(find(findings, 'ami-privileges')).toMatchObject({
      evidence:
        '[pjctl] may use command (Command: any CLI command, core stop now included), which pjctl never needs: it reads contacts with DBGetTree (reporting)',
      fix: 'in manager.conf, [pjctl]: write = system,reporting,user (drop command), then: manager reload',
    })
    expect(find(findings, 'lifetime-beyond-maximum-expiration').evidence).toMatch(
      /^1 contact\(s\) expire in up to (49\d\d|5000) s, beyond maximum_expiration=3600/,
    )
    // read-only: the shared read, ListCommands, then (allowed Command) manager show user, and CoreSettings (the
    // node's systemname); nothing that changes the server
    expect(sessionsOf(server.received).map((session) => session.map(([action]) => action))).toEqual(
      [
        ['GetConfig', 'DBGetTree', 'ListCommands', 'Command', 'CoreSettings'],
        ['GetConfig', 'GetConfig', 'GetConfig'],
      ],
    )
  })

  it('the table: grouped by severity, each finding with its evidence and fix, a summary line', async () => {
    const server = await sim({ seed: sourcesSeed({ now: nowSeconds() }) })
    const r = await run(['doctor', '--per-ip-limit', '10'], { env: envFor(server) })
    expect([r.code, r.stderr]).toEqual([2, ''])
    const out = r.stdout.split('\n')
    expect(out[0]).toBe(
      `pjctl doctor: 127.0.0.1:${server.port} (36 contacts, 14 AORs, read with dbgettree)`,
    )
    expect(out[1]).toBe(
      "contacts live in astdb registrar/contact (sorcery.conf: contact=astdb,registrar (res_pjsip's default: sorcery.conf has no contact line))",
    )
    expect(out.slice(3, 7)).toEqual([
      'CRITICAL (2)',
      '  1. FAP003  [aor-at-limit]',
      '     2/2 contacts (full), 1 of them superseded, remove_existing=no: a registration from a new address or port is refused (403)',
      `     fix: pjctl gen pjsip FAP003 --append --max-contacts 2${GEN_TAIL}; now: pjctl prune FAP003`,
    ])
    expect(out).toContain('WARNING (7)')
    expect(out).toContain('INFO (4)')
    expect(out).toContain('2 critical, 7 warning, 4 info')
  })

  it('exit 1 when the worst is a warning, 0 when nothing is above info', async () => {
    const server = await sim({ seed: sourcesSeed({ now: nowSeconds() }) })
    const warn = await run(['doctor', '--json', 'ext110', 'ext101'], { env: envFor(server) })
    expect([warn.code, warn.stderr]).toEqual([1, ''])
    expect(gist(json(warn).findings)).toEqual([
      ['warning', 'remove-unavailable-without-qualify', 'ext110'],
      ['warning', 'ami-privileges', 'AMI user pjctl'],
    ])
    // a healthy AOR, read by a least-privilege user (no command)
    const now = nowSeconds()
    const healthy = await sim({
      seed: seedOf(
        [row({ aor: 'bob', expirationTime: now + 1800 })],
        [aor('bob', 2, { removeExisting: true, maximumExpiration: 3600 })],
      ),
      users: [{ username: 'mon', secret: 'mon-secret', write: ['system', 'reporting'] }],
    })
    const ok = await run(['doctor'], { env: envFor(healthy, 'mon') })
    expect([ok.code, ok.stderr]).toEqual([0, ''])
    expect(ok.stdout).toContain('No findings: nothing here causes lockouts.')
    expect(ok.stdout).toContain('0 critical, 0 warning, 0 info')
  })

  it('exit 3 when the server cannot be read; usage errors are 3 too (2 means critical)', async () => {
    const port = await closedPort()
    const r = await run(['doctor', '--port', String(port)], {
      env: { PJCTL_USER: 'pjctl', PJCTL_SECRET: 'pjctl-secret' },
    })
    expect([r.code, r.stdout, r.stderr.split('\n')[0]]).toEqual([
      3,
      '',
      `pjctl: connection refused by 127.0.0.1:${port}`,
    ])
    const bad = await run(['doctor', '--bogus'])
    expect(bad.code).toBe(3)
  })

  it('a saved dump (--input): device and limit findings, no AMI findings', async () => {
    const now = nowSeconds()
    const rows = [
      row({ aor: 'FAP003', viaAddr: '192.0.2.16', viaPort: 5060, expirationTime: now + 1260 }),
      row({ aor: 'FAP003', viaAddr: '192.0.2.16', viaPort: 5062, expirationTime: now + 3480 }),
    ]
    const file = writeFile(tempDir(), 'dump.txt', dumpOf(rows))
    const r = await run(['doctor', '--json', '--input', file, '--max-contacts', '2'])
    expect([r.code, r.stderr]).toEqual([2, ''])
    expect(json(r).server).toBe(file)
    expect(gist(json(r).findings)).toEqual([
      ['critical', 'aor-at-limit', 'FAP003'],
      ['warning', 'stale-device', 'Grandstream GXP2130 1.0.11.3 at 192.0.2.16'],
      ['info', 'full-unqualified', 'FAP003'],
    ])
  })

  it('a fleet: one {server, generatedAt, findings} per server, an unreadable one as an error entry', async () => {
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
    const r = await run(['doctor', '--json', '--config', config, '--all', 'FAP003'])
    expect(r.code).toBe(2)
    const doc = json(r)
    expect(doc.servers.map((s: { server: string }) => s.server)).toEqual(['lab', 'dead'])
    expect(gist(doc.servers[0].findings)).toEqual([
      ['critical', 'aor-at-limit', 'FAP003'],
      ['warning', 'stale-device', 'Grandstream GXP2130 1.0.11.3 at 198.51.100.16'],
      ['warning', 'ami-privileges', 'AMI user pjctl'],
      ['info', 'full-unqualified', 'FAP003'],
    ])
    expect(doc.servers[1]).toMatchObject({
      server: 'dead',
      error: `connection refused by 127.0.0.1:${dead}`,
      exitCode: 3,
    })
    // every prune a fix prints names its server: as printed, it prunes that server alone
    const fixes = doc.servers[0].findings.map((f: Finding) => f.fix).join('\n')
    const prunes = fixes.match(/pjctl prune [^;(\n]*/g) ?? []
    expect(prunes.map((p: string) => p.trim())).toEqual([
      'pjctl prune FAP003 --server lab',
      'pjctl prune FAP003 --superseded --server lab',
    ])
    for (const printed of prunes) {
      const p = await run([...printed.trim().split(' ').slice(1), '--config', config, '--dry-run'])
      expect(p.code, p.stderr).toBe(0)
      expect(p.stdout).toContain('FAP003')
    }
  })
})

describe('pjctl doctor: refused registrations', () => {
  it('a user without read=security: an info finding naming the manager.conf line', async () => {
    const server = await sim({
      users: [
        { username: 'pjctl', secret: 'pjctl-secret', write: ['system', 'command', 'reporting'] },
      ],
    })
    const r = await run(['doctor', '--json'], { env: envFor(server) })
    const finding = json(r).findings.find(
      (f: { kind: string }) => f.kind === 'ami-no-security-events',
    )
    expect(finding.severity).toBe('info')
    expect(finding.fix).toBe(
      'in manager.conf, [pjctl]: read = system,command,reporting,security, then: manager reload (pjctl watch and the exporter then see each refused REGISTER as it happens)',
    )
  })
})
