// A real Prometheus (Debian's 2.42) scraping `pjctl exporter --web-config` on the Asterisk 22 lab over
// HTTPS with basic auth every second, with contrib/'s alert rules loaded: FAP003's real lockout (two
// REGISTERs, the third answered 403) must show as PjsipAorLockedOut pending or firing in Prometheus'
// API, every PromQL expression of the Grafana dashboard must evaluate, and one of its panels must show
// FAP003. curl: no password 401, a wrong one 401, the right one 200, plain HTTP no metrics.
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawnCli } from '../helpers/prune.js'
import { LAB, contactsOf, deleteKeys, putRows, register } from './lab.js'

const ROOT = join(__dirname, '..', '..')
const FIXTURES = join(ROOT, 'test/fixtures/web-config')
const AOR = 'FAP003'
const PASS = 'FAP003-pass'
// URIs this Asterisk has not seen since boot (a re-registered known URI makes no event): ports of our
// own per run, apart from the lab mix's 5071-5099, the other suites' 51xx and exporter.test's 53xx-58xx
const BASE = 6000 + 3 * (Math.floor(Date.now() / 1000) % 300)
const PORTS = [BASE, BASE + 1, BASE + 2]
const USER = 'prometheus'
const PASSWORD = 'scrape-secret'
const HASH = '$2b$10$AhMa6fiPTYKXiDyU25R3R.KURjzAQzjEC7c/HBvhNI1O3ua9plBM2'
const SERVER = `${LAB.host}:${LAB.port}`

const hasPrometheus = spawnSync('prometheus', ['--version']).status === 0
if (!hasPrometheus)
  process.stderr.write(
    'prometheus not installed: the real-Prometheus test is not run (Debian: apt-get install prometheus)\n',
  )

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    })
  })
}

function curl(args: string[]): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    execFile(
      'curl',
      ['-s', '-m', '10', '-o', '-', '-w', '\n%{http_code}', ...args],
      { maxBuffer: 64 * 1024 * 1024 },
      (_error, stdout) => {
        const cut = stdout.lastIndexOf('\n')
        resolve({ status: Number(stdout.slice(cut + 1)), body: stdout.slice(0, cut) })
      },
    )
  })
}

async function until<T>(
  what: () => Promise<T | undefined>,
  ms: number,
  why: () => string,
): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const got = await what().catch(() => undefined)
    if (got !== undefined) return got
    if (Date.now() > deadline) throw new Error(`timed out: ${why()}`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

/** Grafana's variables as the dashboard would send them: every job and server, a rate window of 4 scrapes. */
function substitute(expr: string, server = '.*'): string {
  return expr
    .replaceAll('$job', '.*')
    .replaceAll('$server', server)
    .replaceAll('$__rate_interval', '4s')
    .replaceAll('$__interval', '1s')
}

describe.runIf(hasPrometheus)(
  'a real Prometheus scraping pjctl exporter over HTTPS with basic auth',
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'pjctl-prometheus-'))
    let saved = new Map<string, string>()
    let exporter: ReturnType<typeof spawnCli> | null = null
    let prometheus: ChildProcess | null = null
    let prometheusLog = ''
    let exporterPort = 0
    let api = ''

    const query = async (
      q: string,
    ): Promise<{ metric: Record<string, string>; value: [number, string] }[]> => {
      const r = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(q)}`)
      const doc = (await r.json()) as { status: string; error?: string; data: { result: never[] } }
      if (doc.status !== 'success') throw new Error(`${q}: ${doc.error}`)
      return doc.data.result
    }

    beforeAll(async () => {
      saved = await contactsOf(AOR)
      await deleteKeys(saved.keys())
      for (const f of ['server.crt', 'server.key']) copyFileSync(join(FIXTURES, f), join(dir, f))
      writeFileSync(
        join(dir, 'web.yml'),
        `tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\nbasic_auth_users:\n  ${USER}: '${HASH}'\n`,
      )
      writeFileSync(join(dir, 'password'), PASSWORD, { mode: 0o600 })
      exporter = spawnCli(
        [
          'exporter',
          '--listen',
          '127.0.0.1:0',
          '--resync',
          '1h',
          '--web-config',
          join(dir, 'web.yml'),
        ],
        LAB.env,
        900_000,
      )
      exporterPort = await until(
        async () => {
          const m = /listening on https:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(exporter!.stderr())
          return m ? Number(m[1]) : undefined
        },
        20_000,
        () => `the exporter did not start: ${exporter!.stderr()}`,
      )
      const promPort = await freePort()
      api = `http://127.0.0.1:${promPort}`
      writeFileSync(
        join(dir, 'prometheus.yml'),
        [
          'global:',
          '  scrape_interval: 1s',
          '  evaluation_interval: 1s',
          'rule_files:',
          `  - ${join(ROOT, 'contrib/prometheus/pjctl-alerts.yml')}`,
          'scrape_configs:',
          '  - job_name: pjctl',
          '    scheme: https',
          '    tls_config:',
          `      ca_file: ${join(dir, 'server.crt')}`,
          '    basic_auth:',
          `      username: ${USER}`,
          `      password_file: ${join(dir, 'password')}`,
          '    static_configs:',
          `      - targets: ['127.0.0.1:${exporterPort}']`,
          '',
        ].join('\n'),
      )
      prometheus = spawn(
        'prometheus',
        [
          `--config.file=${join(dir, 'prometheus.yml')}`,
          `--storage.tsdb.path=${join(dir, 'data')}`,
          `--web.listen-address=127.0.0.1:${promPort}`,
          '--log.level=warn',
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      )
      prometheus.stdout!.on('data', (d: Buffer) => (prometheusLog += d.toString()))
      prometheus.stderr!.on('data', (d: Buffer) => (prometheusLog += d.toString()))
      await until(
        async () => ((await fetch(`${api}/-/ready`)).ok ? true : undefined),
        30_000,
        () => `Prometheus did not get ready: ${prometheusLog}`,
      )
      // scraped over HTTPS with the password: up 1, and the exporter's own up 1
      await until(
        async () => ((await query(`up{job="pjctl"} == 1`)).length === 1 ? true : undefined),
        30_000,
        () => `Prometheus does not scrape the exporter: ${prometheusLog}`,
      )
      await until(
        async () =>
          (await query(`pjctl_server_up{server="${SERVER}"} == 1`)).length === 1 ? true : undefined,
        30_000,
        () => `the exporter is not up: ${exporter!.stderr()}`,
      )
    }, 120_000)

    afterAll(async () => {
      prometheus?.kill('SIGTERM')
      if (prometheus?.exitCode === null) await new Promise((r) => prometheus!.once('exit', r))
      exporter?.child.kill('SIGTERM')
      const r = await exporter?.done
      for (const port of PORTS) await register(AOR, PASS, port, 0)
      await deleteKeys((await contactsOf(AOR)).keys())
      await putRows(saved)
      expect(await contactsOf(AOR)).toEqual(saved)
      rmSync(dir, { recursive: true, force: true })
      expect(r?.code).toBe(0)
    }, 120_000)

    it('curl: no password 401 with WWW-Authenticate, a wrong one 401, the right one 200; plain HTTP gets no metrics', async () => {
      const url = `https://127.0.0.1:${exporterPort}/metrics`
      const ca = ['--cacert', join(dir, 'server.crt')]
      const none = await curl([...ca, '-D', '-', url])
      expect(none.status).toBe(401)
      expect(none.body).toMatch(/^www-authenticate: Basic/im)
      expect((await curl([...ca, '-u', `${USER}:wrong`, url])).status).toBe(401)
      const right = await curl([...ca, '-u', `${USER}:${PASSWORD}`, url])
      expect(right.status).toBe(200)
      expect(right.body).toContain(`pjctl_server_up{server="${SERVER}"} 1`)
      const plain = await curl([
        '-u',
        `${USER}:${PASSWORD}`,
        `http://127.0.0.1:${exporterPort}/metrics`,
      ])
      expect(plain.status).toBe(400)
      expect(plain.body).not.toContain('pjctl_')
      expect((await curl([...ca, `https://127.0.0.1:${exporterPort}/healthz`])).status).toBe(401)
    })

    it("FAP003's lockout (two REGISTERs, the third refused 403) is PjsipAorLockedOut pending or firing in Prometheus", async () => {
      expect((await register(AOR, PASS, PORTS[0]!, 1800)).code).toBe(0)
      expect((await register(AOR, PASS, PORTS[1]!, 3600)).code).toBe(0)
      const third = await register(AOR, PASS, PORTS[2]!, 3600)
      expect(third.stdout).toContain('403')
      expect(third.code).toBe(3)
      const alert = await until(
        async () => {
          const r = await fetch(`${api}/api/v1/alerts`)
          const doc = (await r.json()) as {
            data: { alerts: { labels: Record<string, string>; state: string }[] }
          }
          return doc.data.alerts.find(
            (a) => a.labels.alertname === 'PjsipAorLockedOut' && a.labels.aor === AOR,
          )
        },
        30_000,
        () => `no PjsipAorLockedOut for ${AOR}; exporter: ${exporter!.stderr()}`,
      )
      expect(['pending', 'firing']).toContain(alert.state)
      expect(alert.labels).toMatchObject({ server: SERVER, severity: 'critical', state: 'full' })
    })

    it('every PromQL expression of the dashboard evaluates (variables substituted), and FAP003 shows on a panel', async () => {
      const dashboard = JSON.parse(
        readFileSync(join(ROOT, 'contrib/grafana/pjctl-dashboard.json'), 'utf8'),
      ) as {
        templating: { list: { name: string; query: unknown }[] }
        panels: { title: string; type: string; targets?: { expr: string }[] }[]
      }
      // the variables' own queries: label_values(metric, label) is a series query for the label
      for (const v of dashboard.templating.list) {
        const m = /label_values\((.+), *(\w+)\)/.exec(
          JSON.stringify(v.query ?? '').replace(/\\"/g, '"'),
        )
        if (!m) continue
        const r = await fetch(
          `${api}/api/v1/series?match[]=${encodeURIComponent(substitute(m[1]!))}`,
        )
        const doc = (await r.json()) as { status: string; data: Record<string, string>[] }
        expect(doc.status, v.name).toBe('success')
        expect(
          doc.data.some((s) => s[m[2]!] !== undefined),
          v.name,
        ).toBe(true)
      }
      const showing: string[] = []
      let evaluated = 0
      for (const panel of dashboard.panels)
        for (const target of panel.targets ?? []) {
          for (const server of ['.*', SERVER.replace(/\./g, '\\\\.')]) {
            const result = await query(substitute(target.expr, server))
            evaluated++
            if (result.some((s) => s.metric.aor === AOR)) showing.push(panel.title)
          }
        }
      expect(evaluated).toBeGreaterThan(30)
      expect(showing).toContain('Locked-out AORs')
      expect(showing).toContain('Top AORs by fill (contacts / max_contacts)')
    })
  },
)
