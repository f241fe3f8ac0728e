// The exporter's hand-rendered per-AOR exposition: exact lines, label escaping, removal, and the
// prom-client part after it.

import { describe, expect, it } from 'vitest'
import type { AorSummary } from '../../src/core/live.js'
import { ExporterMetrics } from '../../src/exporter/metrics.js'

const summary = (aor: string, over: Partial<AorSummary> = {}): AorSummary => ({
  aor,
  count: 1,
  maxContacts: 2,
  superseded: 0,
  removeExisting: null,
  expired: 0,
  stale: 0,
  state: 'ok',
  severity: 0,
  ...over,
})
const problem = (s: AorSummary): boolean => s.severity > 0 || s.superseded > 0

/** The per-AOR part of the body: everything before prom-client's first family. */
async function perAorText(metrics: ExporterMetrics): Promise<string> {
  const body = Buffer.concat(await metrics.renderChunks()).toString('utf8')
  return body.slice(0, body.indexOf('# HELP pjctl_source_contacts'))
}

describe('exporter metrics: hand-rendered per-AOR families', () => {
  it('renders exact lines for a small state, escaping \\, " and line feeds in server and AOR names', async () => {
    const metrics = new ExporterMetrics('all', problem)
    metrics.addServer('pbx "1"')
    metrics.setAor(
      'pbx "1"',
      'FAP003',
      summary('FAP003', { count: 2, superseded: 1, state: 'full', severity: 2 }),
    )
    metrics.setAor(
      'pbx "1"',
      'taker',
      summary('taker', { count: 2, state: 'full', removeExisting: true }),
    )
    metrics.setAor(
      'pbx "1"',
      'we\\ird"\nname',
      summary('we\\ird"\nname', { maxContacts: null, expired: 3, state: 'unknown' }),
    )
    expect(await perAorText(metrics)).toBe(
      [
        '# HELP pjctl_aor_contacts Unexpired contacts registered to the AOR.',
        '# TYPE pjctl_aor_contacts gauge',
        'pjctl_aor_contacts{server="pbx \\"1\\"",aor="FAP003"} 2',
        'pjctl_aor_contacts{server="pbx \\"1\\"",aor="taker"} 2',
        'pjctl_aor_contacts{server="pbx \\"1\\"",aor="we\\\\ird\\"\\nname"} 1',
        "# HELP pjctl_aor_max_contacts The AOR's max_contacts (absent when unknown).",
        '# TYPE pjctl_aor_max_contacts gauge',
        'pjctl_aor_max_contacts{server="pbx \\"1\\"",aor="FAP003"} 2',
        'pjctl_aor_max_contacts{server="pbx \\"1\\"",aor="taker"} 2',
        '# HELP pjctl_aor_superseded_contacts Contacts superseded by a newer registration from the same device.',
        '# TYPE pjctl_aor_superseded_contacts gauge',
        'pjctl_aor_superseded_contacts{server="pbx \\"1\\"",aor="FAP003"} 1',
        'pjctl_aor_superseded_contacts{server="pbx \\"1\\"",aor="taker"} 0',
        'pjctl_aor_superseded_contacts{server="pbx \\"1\\"",aor="we\\\\ird\\"\\nname"} 0',
        '# HELP pjctl_aor_expired_contacts Contacts past expiration_time that Asterisk has not swept yet.',
        '# TYPE pjctl_aor_expired_contacts gauge',
        'pjctl_aor_expired_contacts{server="pbx \\"1\\"",aor="FAP003"} 0',
        'pjctl_aor_expired_contacts{server="pbx \\"1\\"",aor="taker"} 0',
        'pjctl_aor_expired_contacts{server="pbx \\"1\\"",aor="we\\\\ird\\"\\nname"} 3',
        "# HELP pjctl_aor_state The AOR's state (ok, near, full, over, unknown): 1 for the current one.",
        '# TYPE pjctl_aor_state gauge',
        'pjctl_aor_state{server="pbx \\"1\\"",aor="FAP003",state="full"} 1',
        'pjctl_aor_state{server="pbx \\"1\\"",aor="taker",state="full"} 1',
        'pjctl_aor_state{server="pbx \\"1\\"",aor="we\\\\ird\\"\\nname",state="unknown"} 1',
        '# HELP pjctl_aor_remove_existing 1 for an AOR with remove_existing=yes (a full AOR then takes a new registration); no series when it is no or unknown.',
        '# TYPE pjctl_aor_remove_existing gauge',
        'pjctl_aor_remove_existing{server="pbx \\"1\\"",aor="taker"} 1',
        '',
      ].join('\n'),
    )
  })

  it("replaces a changed AOR's lines (one state line), drops removed AORs, and with --per-aor problems only problems", async () => {
    const metrics = new ExporterMetrics('problems', problem)
    metrics.addServer('s')
    metrics.setAor('s', 'a', summary('a', { count: 2, state: 'full', severity: 2 }))
    metrics.setAor('s', 'b', summary('b'))
    metrics.setAor('s', 'c', summary('c', { superseded: 1 }))
    let text = await perAorText(metrics)
    expect(text).toContain('pjctl_aor_state{server="s",aor="a",state="full"} 1\n')
    expect(text).not.toContain('aor="b"')
    expect(text).toContain('pjctl_aor_superseded_contacts{server="s",aor="c"} 1\n')
    metrics.setAor('s', 'a', summary('a', { count: 1, state: 'near', severity: 1 }))
    metrics.setAor('s', 'c', null)
    text = await perAorText(metrics)
    expect(text.match(/aor="a",state=/g)).toHaveLength(1)
    expect(text).toContain('pjctl_aor_state{server="s",aor="a",state="near"} 1\n')
    expect(text).not.toContain('aor="c"')
  })

  it('serverDown drops every per-AOR line of that server; prom-client still renders the rest', async () => {
    const metrics = new ExporterMetrics('all', problem)
    metrics.addServer('s')
    metrics.setAor('s', 'a', summary('a'))
    metrics.setUp('s', true)
    metrics.serverDown('s')
    const body = Buffer.concat(await metrics.renderChunks()).toString('utf8')
    expect(body).not.toContain('aor="a"')
    expect(body).toContain('# TYPE pjctl_aor_contacts gauge\n# HELP pjctl_aor_max_contacts')
    expect(body).toContain('pjctl_server_up{server="s"} 0\n')
  })

  it('version moves with every change a render would show, not with a set that changes nothing', () => {
    const metrics = new ExporterMetrics('all', problem)
    metrics.addServer('s')
    const totals = () => ({
      status: 0 as const,
      aorsByState: new Map([['ok' as const, 1]]),
      contacts: 1,
      superseded: 0,
      expired: 0,
      qualify: new Map([['NonQualified', 1]]),
    })
    metrics.setTotals('s', totals())
    metrics.setSources('s', [{ address: '10.0.0.1', contacts: 1 }])
    const v = metrics.version
    metrics.setTotals('s', totals())
    metrics.setSources('s', [{ address: '10.0.0.1', contacts: 1 }])
    metrics.countEvent('s', 'ContactStatus')
    expect(metrics.version).toBe(v)
    metrics.setTotals('s', { ...totals(), qualify: new Map([['Reachable', 1]]) })
    expect(metrics.version).toBe(v + 1)
    metrics.setSources('s', [{ address: '10.0.0.2', contacts: 1 }])
    metrics.setAor('s', 'a', summary('a'))
    expect(metrics.version).toBe(v + 3)
    metrics.serverDown('s')
    metrics.setTotals('s', totals())
    expect(metrics.version).toBe(v + 5)
  })

  it('yields to the event loop while rendering many AORs (a timer fires mid-render), and loses no line', async () => {
    const metrics = new ExporterMetrics('all', problem)
    for (let i = 0; i < 20_000; i++) metrics.setAor('s', `aor${i}`, summary(`aor${i}`))
    let ticks = 0
    const timer = setInterval(() => ticks++, 0)
    const body = Buffer.concat(await metrics.renderChunks(() => 0)).toString('utf8')
    clearInterval(timer)
    expect(ticks).toBeGreaterThan(0)
    expect(body.match(/^pjctl_aor_contacts\{/gm)).toHaveLength(20_000)
    expect(body.match(/^pjctl_aor_state\{/gm)).toHaveLength(20_000)
    // served as pieces of whole lines (never one 23 MB copy at 100k contacts): the same text
    const pieces = await metrics.renderChunks()
    expect(pieces.length).toBeGreaterThan(20)
    expect(pieces.every((piece) => piece.length === 0 || piece.at(-1) === 10)).toBe(true)
    expect(Buffer.concat(pieces).toString('utf8')).toBe(body)
  })
})
