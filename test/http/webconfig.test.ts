// --web-config: every fixture in test/fixtures/web-config loaded and asserted (as exporter-toolkit's
// web/testdata), then the exporter behind it: TLS only, basic auth with 401 + WWW-Authenticate, client
// certificates, /healthz under the same rules (and redacted to anyone else), reload on change and SIGHUP.
import {
  copyFileSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  utimesSync,
  writeFileSync,
} from 'node:fs'
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { defineAor } from '../../src/sim/registrar.js'
import type { SimAsterisk } from '../../src/sim/server.js'
import { loadWebConfig } from '../../src/http/webconfig.js'
import { startIn, runIn, type StartedIn } from '../helpers/cli.js'
import { home } from '../helpers/prune.js'
import { envFor, sim } from '../helpers/sim.js'

const DIR = join(__dirname, '..', 'fixtures', 'web-config')
const fixture = (name: string): string => join(DIR, name)
const CA = readFileSync(fixture('server.crt'), 'utf8')
const HASH_SCRAPE_SECRET = '$2b$10$AhMa6fiPTYKXiDyU25R3R.KURjzAQzjEC7c/HBvhNI1O3ua9plBM2'
const RIGHT = 'prometheus:scrape-secret'
const SLOW = { timeout: 60_000 }

describe('web config fixtures (exporter-toolkit format)', () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.yml'))
  it('there are good and bad ones', () => {
    expect(files.filter((f) => f.endsWith('.good.yml')).length).toBeGreaterThanOrEqual(6)
    expect(files.filter((f) => f.endsWith('.bad.yml')).length).toBeGreaterThanOrEqual(15)
  })
  for (const file of files.filter((f) => f.endsWith('.good.yml')))
    it(`${file} loads`, async () => {
      const config = await loadWebConfig(fixture(file))
      expect(config.files[0]).toBe(fixture(file))
    })
  for (const file of files.filter((f) => f.endsWith('.bad.yml')))
    it(`${file} is refused with one line naming the file and what is wrong`, async () => {
      const expected = /^# expect: (.*)$/m.exec(readFileSync(fixture(file), 'utf8'))?.[1]
      expect(expected).toBeTruthy()
      const error = await loadWebConfig(fixture(file)).then(
        () => null,
        (e: unknown) => e as Error,
      )
      expect(error?.message).toContain(`web config ${fixture(file)}: `)
      expect(error?.message).toContain(expected)
      expect(error?.message).not.toContain('\n')
    })

  it('what the good ones say', async () => {
    const tls = await loadWebConfig(fixture('tls-basic-auth.good.yml'))
    expect(tls.tls?.clientAuth).toBe('NoClientCert')
    expect(tls.tls?.minVersion).toBe('TLSv1.2')
    expect(tls.tls?.maxVersion).toBe('TLSv1.3')
    expect([...tls.users]).toEqual([['prometheus', HASH_SCRAPE_SECRET]])
    expect(tls.files).toEqual([
      fixture('tls-basic-auth.good.yml'),
      fixture('server.crt'),
      fixture('server.key'),
    ])
    const plain = await loadWebConfig(fixture('basic-auth.good.yml'))
    expect(plain.tls).toBeNull()
    expect(plain.users.size).toBe(1)
    const empty = await loadWebConfig(fixture('empty.good.yml'))
    expect(empty.tls).toBeNull()
    expect(empty.users.size).toBe(0)
    const verify = await loadWebConfig(fixture('client-cert-required.good.yml'))
    expect(verify.tls?.clientAuth).toBe('RequireAndVerifyClientCert')
    expect(verify.tls?.clientCa).toContain('BEGIN CERTIFICATE')
    const pinned = await loadWebConfig(fixture('tls12-only-headers.good.yml'))
    expect(pinned.tls?.maxVersion).toBe('TLSv1.2')
    expect(pinned.headers).toEqual({
      'X-Frame-Options': 'deny',
      'X-Content-Type-Options': 'nosniff',
      'Strict-Transport-Security': 'max-age=31536000; includeSubDomains',
    })
  })
})

interface Answer {
  status: number
  body: string
  headers: Record<string, string | string[] | undefined>
}

interface Get {
  auth?: string
  cert?: string
  key?: string
  tls?: boolean
}

function get(port: number, path: string, opts: Get = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers = opts.auth
      ? { Authorization: `Basic ${Buffer.from(opts.auth).toString('base64')}` }
      : undefined
    const done = (response: import('node:http').IncomingMessage): void => {
      let body = ''
      response.setEncoding('utf8')
      response.on('data', (d: string) => (body += d))
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, body, headers: response.headers }),
      )
    }
    const request =
      opts.tls === false
        ? httpRequest({ host: '127.0.0.1', port, path, agent: false, headers }, done)
        : httpsRequest(
            {
              host: '127.0.0.1',
              port,
              path,
              agent: false,
              headers,
              ca: CA,
              ...(opts.cert ? { cert: opts.cert, key: opts.key } : {}),
            },
            done,
          )
    request.on('error', reject)
    request.end()
  })
}

const running: StartedIn[] = []
let inFlight = 0
beforeEach(() => {
  inFlight++
})
afterEach(async () => {
  if (--inFlight > 0) return
  for (const run of running.splice(0)) {
    run.signals.emit('SIGTERM', 'SIGTERM')
    await run.done
  }
})

async function exporter(
  server: SimAsterisk,
  webConfig: string | null,
  env: Record<string, string> = {},
): Promise<{ run: StartedIn; port: number; scheme: string }> {
  const run = startIn(
    [
      'exporter',
      '--listen',
      '127.0.0.1:0',
      '--resync',
      '1h',
      ...(webConfig ? ['--web-config', webConfig] : []),
    ],
    { env: { ...envFor(server), ...home(), ...env }, killAfterMs: 50_000 },
  )
  running.push(run)
  const deadline = Date.now() + 20_000
  for (;;) {
    const m = /listening on (https?):\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(run.stderr())
    if (m) return { run, port: Number(m[2]), scheme: m[1]! }
    if (Date.now() > deadline) throw new Error(`the exporter did not start: ${run.stderr()}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

async function until(what: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await what())) {
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 50))
  }
}

const fap = () => ({
  seed: { rows: [], aors: [defineAor('FAP003', { maxContacts: 2 })] },
})

describe.concurrent('pjctl exporter --web-config', () => {
  it(
    'TLS and basic auth: no password 401 with WWW-Authenticate, wrong 401, right 200; plain HTTP gets a 400 and no metrics; /healthz the same',
    SLOW,
    async () => {
      const server = await sim(fap())
      const e = await exporter(server, fixture('tls-basic-auth.good.yml'))
      expect(e.scheme).toBe('https')
      expect(e.run.stderr()).toContain('TLS, basic auth (1 user(s))')
      await until(async () => (await get(e.port, '/healthz', { auth: RIGHT })).status === 200)
      for (const path of ['/metrics', '/healthz', '/']) {
        const none = await get(e.port, path)
        expect(none.status).toBe(401)
        expect(none.headers['www-authenticate']).toMatch(/^Basic realm=/)
        expect(none.body).not.toContain('pjctl_')
        const wrong = await get(e.port, path, { auth: 'prometheus:wrong' })
        expect(wrong.status).toBe(401)
        expect(wrong.headers['www-authenticate']).toMatch(/^Basic /)
        const stranger = await get(e.port, path, { auth: 'nobody:scrape-secret' })
        expect(stranger.status).toBe(401)
      }
      const right = await get(e.port, '/metrics', { auth: RIGHT })
      expect(right.status).toBe(200)
      expect(right.body).toContain(`pjctl_server_up{server="127.0.0.1:${server.port}"} 1`)
      // the same again: the outcome is cached, the answer the same
      expect((await get(e.port, '/metrics', { auth: RIGHT })).status).toBe(200)
      const health = await get(e.port, '/healthz', { auth: RIGHT })
      expect(health.body).toMatch(/^ok: /)
      const plain = await get(e.port, '/metrics', { tls: false })
      expect(plain.status).toBe(400)
      expect(plain.body).toBe('Client sent an HTTP request to an HTTPS server.\n')
      expect(plain.body).not.toContain('pjctl_')
    },
  )

  it('a bad web config: one line, exit 2, before any AMI connection', SLOW, async () => {
    const server = await sim(fap())
    const result = await runIn(
      ['exporter', '--listen', '127.0.0.1:0', '--web-config', fixture('plain-password.bad.yml')],
      { env: { ...envFor(server), ...home() } },
    )
    expect(result.code).toBe(2)
    expect(result.stderr.trim().split('\n')[0]).toBe(
      `pjctl: web config ${fixture('plain-password.bad.yml')}: basic_auth_users: john: not a bcrypt hash (make one with: htpasswd -nBC 10 "" | tr -d ':\\n')`,
    )
    expect(result.stderr).not.toMatch(/\n\s+at /)
    expect(server.received).toEqual([])
    const missing = await runIn(
      ['exporter', '--listen', '127.0.0.1:0', '--web-config', join(DIR, 'nope.yml')],
      { env: { ...envFor(server), ...home() } },
    )
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain('nope.yml: cannot read it: ENOENT')
  })

  it(
    'PJCTL_WEB_CONFIG and the config file\'s "webConfig" (relative to the config file) work as --web-config',
    SLOW,
    async () => {
      const server = await sim(fap())
      const byEnv = await exporter(server, null, { PJCTL_WEB_CONFIG: fixture('tls.good.yml') })
      expect(byEnv.scheme).toBe('https')
      const dir = mkdtempSync(join(tmpdir(), 'pjctl-webconfig-'))
      for (const f of ['tls.good.yml', 'server.crt', 'server.key'])
        copyFileSync(fixture(f), join(dir, f))
      const config = join(dir, 'config.json')
      writeFileSync(config, JSON.stringify({ webConfig: 'tls.good.yml', servers: {} }), {
        mode: 0o600,
      })
      const byFile = await exporter(server, null, { PJCTL_CONFIG: config })
      expect(byFile.scheme).toBe('https')
      expect(byFile.run.stderr()).not.toContain('unknown top-level key')
    },
  )

  it(
    '/healthz to anyone says "down: AMI login failed" without the user name; an authenticated client gets the detail',
    SLOW,
    async () => {
      const server = await sim(fap())
      const open = await exporter(server, null, { PJCTL_SECRET: 'wrong-secret' })
      await until(async () =>
        (await get(open.port, '/healthz', { tls: false })).body.includes('down'),
      )
      const anyone = await get(open.port, '/healthz', { tls: false })
      expect(anyone.body).toBe(`127.0.0.1:${server.port}: down: AMI login failed\n`)
      expect(anyone.body).not.toContain("'pjctl'")
      const dir = mkdtempSync(join(tmpdir(), 'pjctl-webconfig-'))
      copyFileSync(fixture('basic-auth.good.yml'), join(dir, 'web.yml'))
      const guarded = await exporter(server, join(dir, 'web.yml'), { PJCTL_SECRET: 'wrong-secret' })
      expect(guarded.scheme).toBe('http')
      expect((await get(guarded.port, '/healthz', { tls: false })).status).toBe(401)
      await until(async () =>
        (await get(guarded.port, '/healthz', { tls: false, auth: RIGHT })).body.includes('down'),
      )
      const detail = await get(guarded.port, '/healthz', { tls: false, auth: RIGHT })
      expect(detail.body).toContain(`login to 127.0.0.1:${server.port} as 'pjctl' failed`)
    },
  )

  it(
    'client certificates: RequireAndVerifyClientCert lets the CA-signed certificate in and nobody else',
    SLOW,
    async () => {
      const server = await sim(fap())
      const e = await exporter(server, fixture('client-cert-required.good.yml'))
      const client = {
        cert: readFileSync(fixture('client.crt'), 'utf8'),
        key: readFileSync(fixture('client.key'), 'utf8'),
      }
      const stranger = {
        cert: readFileSync(fixture('stranger.crt'), 'utf8'),
        key: readFileSync(fixture('stranger.key'), 'utf8'),
      }
      await until(async () => (await get(e.port, '/healthz', client)).status === 200)
      expect((await get(e.port, '/metrics', client)).body).toContain('pjctl_server_up')
      await expect(get(e.port, '/metrics')).rejects.toThrow()
      await expect(get(e.port, '/metrics', stranger)).rejects.toThrow()
      // a verified client is authenticated: /healthz in detail
      const ifGiven = await exporter(server, fixture('client-cert-if-given.good.yml'))
      expect((await get(ifGiven.port, '/metrics')).status).toBe(200)
      expect((await get(ifGiven.port, '/metrics', client)).status).toBe(200)
      await expect(get(ifGiven.port, '/metrics', stranger)).rejects.toThrow()
    },
  )

  it(
    'the file is read again when it changes and on SIGHUP; one that no longer loads gets 500 until it loads again',
    SLOW,
    async () => {
      const server = await sim(fap())
      const dir = mkdtempSync(join(tmpdir(), 'pjctl-webconfig-'))
      const web = join(dir, 'web.yml')
      for (const f of ['server.crt', 'server.key']) copyFileSync(fixture(f), join(dir, f))
      const config = (user: string): string =>
        `tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\nbasic_auth_users:\n  ${user}: '${HASH_SCRAPE_SECRET}'\n`
      const then = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000)
      writeFileSync(web, config('prometheus'))
      utimesSync(web, then, then)
      const e = await exporter(server, web)
      expect((await get(e.port, '/metrics', { auth: RIGHT })).status).toBe(200)
      // SIGHUP: the user renamed, the file's size and time kept (no change to notice), so only the signal reads it
      writeFileSync(web, config('scraper123'))
      utimesSync(web, then, then)
      await new Promise((r) => setTimeout(r, 1500))
      expect((await get(e.port, '/metrics', { auth: RIGHT })).status).toBe(200)
      e.run.signals.emit('SIGHUP', 'SIGHUP')
      await until(async () => (await get(e.port, '/metrics', { auth: RIGHT })).status === 401)
      expect((await get(e.port, '/metrics', { auth: 'scraper123:scrape-secret' })).status).toBe(200)
      expect(e.run.stderr()).toContain(`web config ${web} reloaded (SIGHUP): TLS, basic auth`)
      // changed: picked up without a signal
      writeFileSync(web, config('prometheus'))
      await until(async () => (await get(e.port, '/metrics', { auth: RIGHT })).status === 200)
      expect(e.run.stderr()).toContain(`web config ${web} reloaded (changed)`)
      // broken: fail closed, then open again once it loads
      writeFileSync(web, 'basic_auth_users:\n  prometheus: plaintext\n')
      await until(async () => (await get(e.port, '/metrics', { auth: RIGHT })).status === 500)
      expect(e.run.stderr()).toContain('not a bcrypt hash')
      expect(e.run.stderr()).toContain('answering 500 until it loads again')
      writeFileSync(web, config('prometheus'))
      await until(async () => (await get(e.port, '/metrics', { auth: RIGHT })).status === 200)
    },
  )
})
