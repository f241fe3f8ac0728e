// The human tables on a big PBX: capped, attention first, and saying what they left out.
import { describe, expect, it } from 'vitest'
import { adviceFor } from '../../src/core/advice.js'
import { buildReports } from '../../src/core/classify.js'
import type { AorConfig, ServerReport } from '../../src/core/types.js'
import { contactsTable } from '../../src/output/contacts.js'
import { CAPTURE_NOW, makeContact } from '../helpers/captures.js'

function bigReport(aors: number): ServerReport {
  const contacts = []
  const configs: AorConfig[] = []
  for (let i = 0; i < aors; i++) {
    const aor = `ext${String(i).padStart(5, '0')}`
    // every 10th AOR is full (2 of 2) with a superseded pair from one phone; the rest hold one of 4
    const full = i % 10 === 0
    contacts.push(makeContact(aor, 2 * i, { via_addr: '10.0.0.1', user_agent: 'Grandstream GXP2130 1.0.11.3', expiration_time: String(CAPTURE_NOW + 600) }))
    if (full) contacts.push(makeContact(aor, 2 * i + 1, { via_addr: '10.0.0.1', user_agent: 'Grandstream GXP2130 1.0.11.3', expiration_time: String(CAPTURE_NOW + 900) }))
    configs.push({ aor, maxContacts: full ? 2 : 4, removeExisting: false, removeUnavailable: false, qualifyFrequency: 0, minimumExpiration: 60, maximumExpiration: 3600, defaultExpiration: 3600, source: 'ami' })
  }
  return { server: 'pbx1', generatedAt: CAPTURE_NOW, aors: buildReports({ contacts, configs, now: CAPTURE_NOW }), problems: [], source: 'dbgettree', qualifyKnown: false }
}

function render(report: ServerReport): string {
  const advice = report.aors.flatMap((aor) => (adviceFor(aor) ? [{ server: report.server, advice: adviceFor(aor)! }] : []))
  return contactsTable({ generatedAt: CAPTURE_NOW, servers: [report], advice, fleet: false }, { color: false })
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
    expect(out).toContain('2700 of 3000 AORs not shown (the table shows at most 1000, those needing attention first); name them, or use --json for every AOR.')
  })

  it('summarises the lasting-fix advice instead of printing one block per AOR', () => {
    const out = render(bigReport(3000))
    expect(out).not.toContain('Lasting fix for ext')
    expect(out).toContain('Lasting fix for 300 AORs with stale or crowded contacts:')
    expect(out).toContain("  - set remove_existing=yes on 300 of them ('pjctl gen pjsip --from-server' proposes the lines)")
    expect(out).toMatch(/ {2}- 300 AOR\(s\): on the phone set Unregister On Reboot: All/)
  })
})
