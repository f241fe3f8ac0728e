// contrib/: the alert rules (promtool check rules and test rules when promtool is installed, and a
// line saying so when it is not), what every rule and panel must have, that they name only metrics
// the exporter serves, and `promtool check metrics` on a real scrape of the exporter.
import { execFileSync, spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { defineAor } from '../src/sim/registrar.js'
import { startIn } from './helpers/cli.js'
import { httpGet } from './helpers/exporter.js'
import { home } from './helpers/prune.js'
import { envFor, sim } from './helpers/sim.js'

const ROOT = join(__dirname, '..')
const RULES = join(ROOT, 'contrib/prometheus/pjctl-alerts.yml')
const RULE_TESTS = join(ROOT, 'contrib/prometheus/pjctl-alerts.test.yml')
const DASHBOARD = join(ROOT, 'contrib/grafana/pjctl-dashboard.json')

const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' }).status === 0
if (!promtool)
  process.stderr.write(
    'promtool not installed: promtool check rules, test rules and check metrics not run (Debian: apt-get install prometheus)\n',
  )

interface Rule {
  alert: string
  expr: string
  for?: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
}
const rules = (
  parse(readFileSync(RULES, 'utf8')) as { groups: { rules: Rule[] }[] }
).groups.flatMap((g) => g.rules)
const ruleTests = parse(readFileSync(RULE_TESTS, 'utf8')) as {
  tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[]
}

interface Panel {
  type: string
  title: string
  datasource?: { uid: string }
  targets?: { expr: string }[]
}
const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
  templating: { list: { name: string; type: string; query: unknown }[] }
  panels: Panel[]
}

/** Every metric family a running exporter serves (a sim with one changed AOR with remove_existing, --per-ip-limit). */
async function scrapeExporter(): Promise<string> {
  const server = await sim({
    seed: { rows: [], aors: [defineAor('FAP003', { maxContacts: 2, removeExisting: true })] },
  })
  const run = startIn(
    ['exporter', '--listen', '127.0.0.1:0', '--resync', '1h', '--per-ip-limit', '5'],
    { env: { ...envFor(server), ...home() }, killAfterMs: 50_000 },
  )
  try {
    let port = 0
    for (const until = Date.now() + 20_000; !port && Date.now() < until;) {
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)\//.exec(run.stderr())
      if (m) port = Number(m[1])
      else await new Promise((r) => setTimeout(r, 20))
    }
    const up = `pjctl_server_up{server="127.0.0.1:${server.port}"} 1`
    let text = ''
    for (const until = Date.now() + 20_000; Date.now() < until;) {
      text = (await httpGet(port, '/metrics')).body
      if (text.includes(up)) break
      await new Promise((r) => setTimeout(r, 50))
    }
    server.registrar.register({
      aor: 'FAP003',
      uri: 'sip:FAP003@192.0.2.16:5071',
      viaAddr: '192.0.2.16',
      viaPort: 5071,
      userAgent: 'Grandstream GXP2130 1.0.11.3',
    })
    for (const until = Date.now() + 20_000; Date.now() < until;) {
      text = (await httpGet(port, '/metrics')).body
      if (text.includes('pjctl_aor_contacts_added_total{')) break
      await new Promise((r) => setTimeout(r, 50))
    }
    return text
  } finally {
    run.signals.emit('SIGTERM', 'SIGTERM')
    await run.done
  }
}

describe('contrib/prometheus/pjctl-alerts.yml', () => {
  it('covers the seven conditions', () => {
    expect(rules.map((r) => r.alert).sort()).toEqual(
      [
        'PjctlServerUnreadable',
        'PjsipAorLockedOut',
        'PjsipRegistrationRefused',
        'PjsipAorOverLimit',
        'PjsipContactsDropped',
        'PjsipPhoneFlapping',
        'PjsipSourceAtPerIpLimit',
      ].sort(),
    )
  })

  it('every rule: a for:, a severity, a summary naming the server (and the AOR where there is one), a runbook_url to its section of docs/alerts.md', () => {
    const runbook = readFileSync(join(ROOT, 'docs/alerts.md'), 'utf8')
    for (const rule of rules) {
      expect(rule.for, rule.alert).toMatch(/^\d+[smh]$/)
      expect(['critical', 'warning'], rule.alert).toContain(rule.labels?.severity)
      const summary = rule.annotations?.summary ?? ''
      expect(summary, rule.alert).toContain('{{ $labels.server }}')
      if (/\baor\b/.test(rule.expr) || rule.expr.includes('pjctl_aor_'))
        expect(summary, rule.alert).toContain('{{ $labels.aor }}')
      expect(rule.annotations?.runbook_url).toBe(`docs/alerts.md#${rule.alert.toLowerCase()}`)
      expect(runbook).toContain(`\n## ${rule.alert}\n`)
      expect(rule.annotations?.description, rule.alert).toMatch(
        /pjctl (prune|gen|sources|doctor|contacts)\b/,
      )
    }
  })

  it('every rule has a unit test where it fires and one where it does not', () => {
    for (const rule of rules) {
      const cases = ruleTests.tests
        .flatMap((t) => t.alert_rule_test)
        .filter((c) => c.alertname === rule.alert)
      expect(
        cases.some((c) => c.exp_alerts.length > 0),
        rule.alert,
      ).toBe(true)
      expect(
        cases.some((c) => c.exp_alerts.length === 0),
        rule.alert,
      ).toBe(true)
    }
  })

  it.runIf(promtool)('promtool check rules, then promtool test rules', () => {
    const check = spawnSync('promtool', ['check', 'rules', RULES], { encoding: 'utf8' })
    expect(check.stdout + check.stderr).toContain(`SUCCESS: ${rules.length} rules found`)
    expect(check.status).toBe(0)
    const test = spawnSync('promtool', ['test', 'rules', RULE_TESTS], { encoding: 'utf8' })
    expect(test.stdout + test.stderr).toContain('SUCCESS')
    expect(test.status).toBe(0)
  })
})

describe('contrib/grafana/pjctl-dashboard.json', () => {
  it('a datasource variable, and job and server variables built from the metrics', () => {
    const vars = Object.fromEntries(dashboard.templating.list.map((v) => [v.name, v]))
    expect(vars.datasource).toMatchObject({ type: 'datasource', query: 'prometheus' })
    expect(JSON.stringify(vars.server!.query)).toContain('label_values(pjctl_server_up')
    expect(JSON.stringify(vars.job!.query)).toContain('label_values(pjctl_exporter_build_info')
  })

  it('the panels the issue lists, each querying the chosen data source', () => {
    const titles = dashboard.panels.filter((p) => p.type !== 'row').map((p) => p.title)
    for (const wanted of [
      'AORs by state',
      'Top AORs by fill',
      'Stale contacts',
      'Contacts by qualify status',
      'Busiest source addresses and the per-IP limit',
      'Registrations and removals per minute',
      'Servers up',
      'Resync duration',
      'Drift',
      'AMI events per second',
      'Locked-out AORs',
    ])
      expect(
        titles.some((t) => t.startsWith(wanted)),
        wanted,
      ).toBe(true)
    for (const panel of dashboard.panels.filter((p) => p.type !== 'row')) {
      expect(panel.datasource?.uid, panel.title).toBe('${datasource}')
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0)
    }
  })
})

describe('contrib/systemd/pjctl-exporter.service', () => {
  it('a dynamic user, the secrets as credentials (never the environment), sandboxed, restarted on failure', () => {
    const unit = readFileSync(join(ROOT, 'contrib/systemd/pjctl-exporter.service'), 'utf8')
    for (const line of [
      'DynamicUser=yes',
      'LoadCredential=config.json:/etc/pjctl/config.json',
      'NoNewPrivileges=yes',
      'ProtectSystem=strict',
      'ProtectHome=yes',
      'PrivateTmp=yes',
      'Restart=on-failure',
    ])
      expect(unit.split('\n')).toContain(line)
    expect(unit).not.toMatch(/^Environment=.*(SECRET|PASSWORD)/m)
    expect(unit).toMatch(/^ExecStart=.* --config \$\{CREDENTIALS_DIRECTORY\}\/config\.json /m)
  })
})

describe('what contrib/ queries, the exporter serves', () => {
  it(
    'every metric the rules and the dashboard name is in a real scrape, and promtool check metrics finds no problem in it',
    { timeout: 60_000 },
    async () => {
      const text = await scrapeExporter()
      const served = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]))
      const named = new Set<string>()
      const exprs = [
        ...rules.map((r) => r.expr),
        ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)),
      ]
      for (const expr of exprs)
        for (const m of expr.matchAll(/\b((?:pjctl|process|nodejs)_[a-z_]+)/g)) named.add(m[1]!)
      expect([...named].filter((n) => !served.has(n))).toEqual([])
      expect(served).toContain('pjctl_aor_contacts_added_total')
      expect(served).toContain('pjctl_aor_remove_existing')
      expect(text).toMatch(/^pjctl_aor_remove_existing\{server="[^"]+",aor="FAP003"\} 1$/m)
      expect(text).toMatch(/^pjctl_source_contacts_limit\{server="[^"]+"\} 5$/m)
      if (!promtool) return
      const out = execFileSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' })
      expect(out).toBe('')
    },
  )
})
