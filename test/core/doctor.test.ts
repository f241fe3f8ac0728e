// doctor's pure judgement: the AMI-side findings, summarising, and the churn measurement.
import { describe, expect, it } from 'vitest'
import { buildReports } from '../../src/core/classify.js'
import { contactFromRow } from '../../src/core/contact.js'
import {
  actionsFromListCommands,
  diagnose,
  exitCodeOf,
  registrarAnswerBytes,
} from '../../src/core/doctor.js'
import type { AorConfig, Contact, ServerReport } from '../../src/core/types.js'
import { row, type RowSpec } from '../helpers/rows.js'

const NOW = 1_800_000_000

function reportOf(specs: RowSpec[], configs: AorConfig[] = []): ServerReport {
  const contacts = specs.map((s) => {
    const r = row(s)
    return contactFromRow(r.key, r.value) as Contact
  })
  return {
    server: 'pbx',
    generatedAt: NOW,
    aors: buildReports({ contacts, configs, now: NOW }),
    problems: [],
    source: 'dbgettree',
    qualifyKnown: false,
    configs,
  }
}

function config(aor: string, settings: Partial<AorConfig> = {}): AorConfig {
  return {
    aor,
    maxContacts: 10,
    removeExisting: true,
    removeUnavailable: false,
    qualifyFrequency: 0,
    minimumExpiration: 60,
    maximumExpiration: 3600,
    defaultExpiration: 3600,
    source: 'ami',
    ...settings,
  }
}

describe('diagnose', () => {
  it('registrar answer size: info from 1 MiB, warning from 10 MiB or when pjctl itself read it with Command', () => {
    const specs = (n: number) =>
      Array.from({ length: n }, (_, i) => ({
        aor: `e${i % 500}`,
        viaAddr: `10.0.${(i >> 8) & 255}.${i & 255}`,
        viaPort: 5060 + (i % 7),
        expirationTime: NOW + 600,
      }))
    const small = reportOf(specs(1000))
    expect(registrarAnswerBytes(small.aors)).toBeLessThan(1024 * 1024)
    expect(
      diagnose({ report: small, limit: null, now: NOW, ami: null }).filter(
        (f) => f.kind === 'registrar-answer-size',
      ),
    ).toEqual([])
    const big = reportOf(specs(3000))
    const bytes = registrarAnswerBytes(big.aors)
    // every contact: `Output: ` + the CLI line padded to 50 + `: ` + value + CRLF
    const perContact = big.aors
      .flatMap((a) => a.contacts)
      .reduce((n, c) => n + 8 + `/registrar/contact/${c.key}`.length + 2 + c.value.length + 2, 0)
    expect(bytes).toBe(
      perContact +
        'Response: Success\r\nMessage: Command output follows\r\n'.length +
        'Output: 3000 results found.\r\n\r\n'.length,
    )
    const [info] = diagnose({
      report: big,
      limit: null,
      now: NOW,
      ami: { user: 'pjctl', source: 'dbgettree', actions: null },
    }).filter((f) => f.kind === 'registrar-answer-size')
    expect(info!.severity).toBe('info')
    expect(info!.evidence).toMatch(
      /^your registrar answer is 1\.\d MiB \(3000 contacts\) in one AMI Command message; Asterisk drops AMI output that a client leaves unread for writetimeout \(100 ms by default\): other AMI tools on this server may get partial answers$/,
    )
    const [self] = diagnose({
      report: { ...big, source: 'command' },
      limit: null,
      now: NOW,
      ami: { user: 'pjctl', source: 'command', actions: null },
    }).filter((f) => f.kind === 'registrar-answer-size')
    expect(self!.severity).toBe('warning')
    expect(self!.fix).toContain('(give [pjctl] write=reporting)')
  })

  it('AMI privileges: command is needless where DBGetTree works, not where it is the only way in', () => {
    const report = reportOf([])
    const actions = actionsFromListCommands([
      'Response',
      'ActionID',
      'Login',
      'Command',
      'DBGetTree',
      'DBDel',
      'Originate',
    ])
    expect([...actions]).toEqual(['login', 'command', 'dbgettree', 'dbdel', 'originate'])
    const [f] = diagnose({
      report,
      limit: null,
      now: NOW,
      ami: { user: 'ops', source: 'dbgettree', actions },
    })
    expect(f).toMatchObject({
      severity: 'warning',
      kind: 'ami-privileges',
      subject: 'AMI user ops',
      fix: 'in manager.conf, [ops]: write = system,reporting (drop command, originate), then: manager reload',
    })
    // Asterisk 13: no DBGetTree, Command is how contacts are read
    const old = diagnose({
      report: { ...report, source: 'command' },
      limit: null,
      now: NOW,
      ami: {
        user: 'ops',
        source: 'command',
        actions: actionsFromListCommands(['Command', 'DBDel']),
      },
    })
    expect(old).toEqual([])
    // contacts in a realtime table: Command is still needless, but they are not read with DBGetTree
    const [realtime] = diagnose({
      report: { ...report, source: 'pgsql' },
      limit: null,
      now: NOW,
      ami: { user: 'ops', source: 'pgsql', actions },
    })
    expect(realtime?.kind).toBe('ami-privileges')
    expect(realtime?.evidence).toMatch(/which pjctl never needs$/)
  })

  it('more than 20 findings of one kind become one, listing every subject', () => {
    const specs = Array.from({ length: 25 }, (_, i) => [
      {
        aor: `a${String(i).padStart(2, '0')}`,
        viaAddr: '192.0.2.1',
        viaPort: 5060,
        expirationTime: NOW + 600,
      },
      {
        aor: `a${String(i).padStart(2, '0')}`,
        viaAddr: '192.0.2.1',
        viaPort: 5062,
        expirationTime: NOW + 1200,
      },
    ]).flat()
    const configs = Array.from({ length: 25 }, (_, i) =>
      config(`a${String(i).padStart(2, '0')}`, { maxContacts: 2, removeExisting: false }),
    )
    const findings = diagnose({
      report: reportOf(specs, configs),
      limit: null,
      now: NOW,
      ami: null,
    })
    const atLimit = findings.filter((f) => f.kind === 'aor-at-limit')
    expect(atLimit).toHaveLength(1)
    expect(atLimit[0]).toMatchObject({ severity: 'critical', subject: '25 AORs' })
    expect(atLimit[0]!.subjects).toHaveLength(25)
    expect(atLimit[0]!.evidence).toMatch(
      /^25 AORs: a00, a01, a02, a03, a04 and 20 more; for example a00: 2\/2 contacts/,
    )
    expect(atLimit[0]!.fix).toMatch(
      /^for each \(subjects lists them all in --json\), as for a00: pjctl gen pjsip a00 --append --max-contacts 2 /,
    )
    // one device on 25 AORs: one stale-device finding, prune without names
    const device = findings.filter((f) => f.kind === 'stale-device')
    expect(device).toHaveLength(1)
    expect(device[0]!.evidence).toBe(
      '25 superseded contact(s) on 25 AOR(s) (a00, a01, a02, a03, a04 and 20 more): it registers again from a new port without unregistering the old contact (Grandstream desk phone)',
    )
    expect(device[0]!.fix).toMatch(/; then pjctl prune --superseded$/)
    expect(exitCodeOf(findings)).toBe(2)
  })

  it('more than 20 devices leaving stale contacts: one finding per phone model, every device in subjects', () => {
    const uas = ['Grandstream GXP2130 1.0.11.3', 'Zoiper rv2.10.20.4']
    const specs = Array.from({ length: 30 }, (_, i) =>
      [600, 1200].map((ttl, j) => ({
        aor: `d${i}`,
        viaAddr: `192.0.2.${i}`,
        viaPort: 5060 + j,
        userAgent: uas[i % 2],
        expirationTime: NOW + ttl,
      })),
    ).flat()
    const devices = diagnose({ report: reportOf(specs), limit: null, now: NOW, ami: null }).filter(
      (f) => f.kind === 'stale-device',
    )
    expect(devices.map((f) => [f.subject, f.subjects?.length])).toEqual([
      ['Grandstream desk phone: 15 device(s)', 15],
      ['Zoiper: 15 device(s)', 15],
    ])
    expect(devices[0]!.evidence).toBe(
      '15 superseded contact(s) from 15 device(s) (user agent + address) on 15 AOR(s): they register again from a new port without unregistering the old contact; e.g. Grandstream GXP2130 1.0.11.3 at 192.0.2.0',
    )
    expect(devices[1]!.fix).toMatch(
      /^Zoiper registers a new contact .*; then pjctl prune --superseded$/,
    )
  })

  it('churn needs two contacts of one device each living at most 300 s: a lone short-lived contact is not measured', () => {
    const configs = [config('w', { maxContacts: 3 }), config('d', { maxContacts: 3 })]
    const report = reportOf(
      [
        {
          aor: 'w',
          viaAddr: '198.51.100.30',
          viaPort: 40001,
          userAgent: 'Grandstream Wave 1.0.5.12',
          expirationTime: NOW + 20,
        },
        {
          aor: 'w',
          viaAddr: '198.51.100.30',
          viaPort: 40002,
          userAgent: 'Grandstream Wave 1.0.5.12',
          expirationTime: NOW + 40,
        },
        {
          aor: 'w',
          viaAddr: '198.51.100.30',
          viaPort: 40003,
          userAgent: 'Grandstream Wave 1.0.5.12',
          expirationTime: NOW + 60,
        },
        // a desk phone 30 s before its hourly refresh, and one that rebooted twice a second apart
        {
          aor: 'd',
          viaAddr: '192.0.2.5',
          viaPort: 5060,
          userAgent: 'Yealink SIP-T46S',
          expirationTime: NOW + 30,
        },
        {
          aor: 'd',
          viaAddr: '192.0.2.6',
          viaPort: 5060,
          userAgent: 'Yealink SIP-T46S',
          expirationTime: NOW + 3599,
        },
        {
          aor: 'd',
          viaAddr: '192.0.2.6',
          viaPort: 5062,
          userAgent: 'Yealink SIP-T46S',
          expirationTime: NOW + 3600,
        },
      ],
      configs,
    )
    const churn = diagnose({ report, limit: null, now: NOW, ami: null }).filter(
      (f) => f.kind === 'registration-churn',
    )
    expect(churn.map((f) => [f.subject, f.evidence])).toEqual([
      [
        'w',
        'Grandstream Wave 1.0.5.12 at 198.51.100.30 re-registered every ~20 s (3 contacts, expiration_time gaps), each living at most 60 s (the AOR allows minimum_expiration=60, maximum_expiration=3600): a REGISTER and an astdb write every 20 s from one device',
      ],
    ])
  })
})
