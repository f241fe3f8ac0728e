// The human tables on a big PBX: capped, attention first, and saying what they left out.
import { describe, expect, it } from 'vitest'
import { adviceFor } from '../../src/core/advice.js'
import { buildReports } from '../../src/core/classify.js'
import type { AorConfig, ServerReport } from '../../src/core/types.js'
import { contactsTable } from '../../src/output/contacts.js'
import { fitColumns } from '../../src/output/fitted.js'
import { CAPTURE_NOW, makeContact } from '../helpers/captures.js'

function bigReport(aors: number): ServerReport {
  const contacts = []
  const configs: AorConfig[] = []
  for (let i = 0; i < aors; i++) {
    const aor = `ext${String(i).padStart(5, '0')}`
    // every 10th AOR is full (2 of 2) with a superseded pair from one phone; the rest hold one of 4
    const full = i % 10 === 0
    contacts.push(
      makeContact(aor, 2 * i, {
        via_addr: '10.0.0.1',
        user_agent: 'Grandstream GXP2130 1.0.11.3',
        expiration_time: String(CAPTURE_NOW + 600),
      }),
    )
    if (full)
      contacts.push(
        makeContact(aor, 2 * i + 1, {
          via_addr: '10.0.0.1',
          user_agent: 'Grandstream GXP2130 1.0.11.3',
          expiration_time: String(CAPTURE_NOW + 900),
        }),
      )
    configs.push({
      aor,
      maxContacts: full ? 2 : 4,
      removeExisting: false,
      removeUnavailable: false,
      qualifyFrequency: 0,
      minimumExpiration: 60,
      maximumExpiration: 3600,
      defaultExpiration: 3600,
      source: 'ami',
    })
  }
  return {
    server: 'pbx1',
    generatedAt: CAPTURE_NOW,
    aors: buildReports({ contacts, configs, now: CAPTURE_NOW }),
    problems: [],
    source: 'dbgettree',
    qualifyKnown: false,
  }
}

function render(report: ServerReport): string {
  const advice = report.aors.flatMap((aor) =>
    adviceFor(aor) ? [{ server: report.server, advice: adviceFor(aor)! }] : [],
  )
  return contactsTable(
    { generatedAt: CAPTURE_NOW, servers: [report], advice, fleet: false },
    { color: false },
  ) as string
}

describe('contacts table on a big PBX', () => {
  it('shows every AOR up to 1,000 AORs', () => {
    const out = render(bigReport(1000))
    expect(out.match(/^AOR ext/gm)).toHaveLength(1000)
    expect(out).not.toContain('not shown')
  })

  it('beyond 1,000 AORs shows only those needing attention, and says how many it left out', () => {
    const out = render(bigReport(3000))
    const shown = out.match(/^AOR ext\d+ {2}\d\/\d {2}[A-Z]+/gm)!
    expect(shown).toHaveLength(300)
    expect(shown.every((line) => / {2}2\/2 {2}FULL$/.test(line))).toBe(true)
    expect(out).toContain(
      '2700 of 3000 AORs not shown (the table shows at most 1000, those needing attention first); name them, or use --json for every AOR.',
    )
  })

  it('summarises the lasting-fix advice instead of printing one block per AOR', () => {
    const out = render(bigReport(3000))
    expect(out).not.toContain('Lasting fix for ext')
    expect(out).toContain('Lasting fix for 300 AORs with stale or crowded contacts:')
    expect(out).toContain(
      "  - set remove_existing=yes on 300 of them ('pjctl gen pjsip --from-server' proposes the lines)",
    )
    expect(out).toMatch(/ {2}- 300 AOR\(s\): on the phone set Unregister On Reboot: All/)
  })
})

describe('contacts table width (fitColumns)', () => {
  it('keeps natural widths when they fit, and without a width', () => {
    expect(fitColumns([8, 26, 15, 28, 7, 10], 200)).toEqual([8, 26, 15, 28, 7, 10])
    expect(fitColumns([8, 26, 15, 28, 7, 10], undefined)).toEqual([8, 26, 15, 28, 7, 10])
  })

  it('at 80 columns shortens URI and USER AGENT (widest first) and nothing else', () => {
    const widths = fitColumns([8, 26, 15, 28, 7, 10], 80)
    expect(widths.reduce((a, b) => a + b, 0) + 12).toBe(80)
    expect([widths[0], widths[2], widths[4], widths[5]]).toEqual([8, 15, 7, 10])
    expect(Math.abs(widths[1]! - widths[3]!)).toBeLessThanOrEqual(1)
  })

  it('on a very narrow terminal every column gives way, and the row still fits', () => {
    const widths = fitColumns([8, 26, 15, 28, 7, 22], 40)
    expect(widths.reduce((a, b) => a + b, 0) + 12).toBeLessThanOrEqual(40)
  })

  it('renders a 50-AOR PBX at 80 columns with no line wider than 80 and no box drawing', () => {
    const report = bigReport(50)
    const out = contactsTable(
      { generatedAt: CAPTURE_NOW, servers: [report], advice: [], fleet: false },
      { color: false, width: 80 },
    ) as string
    for (const line of out.split('\n')) expect(line.length).toBeLessThanOrEqual(80)
    expect(out).not.toMatch(/[│┌└├─]/)
  })

  it('plain (piped): one row per contact with its AOR, full values', () => {
    const report = bigReport(20)
    const out = Array.from(
      contactsTable(
        { generatedAt: CAPTURE_NOW, servers: [report], advice: [], fleet: false },
        { color: false, plain: true },
      ),
    ).join('')
    const rows = out.trimEnd().split('\n')
    expect(rows).toHaveLength(report.aors.reduce((n, a) => n + a.contacts.length, 0))
    for (const row of rows) expect(row.split('\t')).toHaveLength(9)
    expect(rows[0]!.split('\t').slice(0, 3)).toEqual(['ext00000', '2/2', 'full'])
  })
})
