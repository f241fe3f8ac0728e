// AMI over TLS against the simulated Asterisk with the test-only certificates in test/fixtures/tls
// (committed, see its README): verified against --tls-ca or the system store, never a plaintext
// fallback, --tls-insecure only when asked and then with a warning on every run.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { SimAsterisk, SimOptions } from '../../src/sim/server.js'
import { withDefaults, type Settings } from '../../src/options.js'
import { resolveTargets } from '../../src/settings.js'
import { runIn } from '../helpers/cli.js'
import { expectNoSecret, tempDir, writeFile } from '../helpers/rows.js'
import { envFor, sim } from '../helpers/sim.js'

const TLS_DIR = join(__dirname, '..', 'fixtures', 'tls')
const LOCALHOST_CA = join(TLS_DIR, 'localhost.crt')
const OTHER_CA = join(TLS_DIR, 'other-ca.crt')
const PBX_EXAMPLE_CA = join(TLS_DIR, 'pbx-example.crt')
const pem = (name: string) => readFileSync(join(TLS_DIR, name), 'utf8')

/** A sim that speaks AMI over TLS only, with the certificate for localhost/127.0.0.1 (or another). */
function tlsSim(cert = 'localhost', opts: SimOptions = {}): Promise<SimAsterisk> {
  return sim({ ...opts, tls: { cert: pem(`${cert}.crt`), key: pem(`${cert}.key`) } })
}

const actions = (server: SimAsterisk) => server.received.map((r) => r.action)

describe('AMI over TLS', () => {
  it('--tls --tls-ca: the certificate is verified, then the usual MD5 login and the read, all over TLS', async () => {
    const server = await tlsSim()
    const r = await runIn(['contacts', '--json', '--tls', '--tls-ca', LOCALHOST_CA], {
      env: envFor(server),
    })
    expect([r.code, r.stderr]).toEqual([0, ''])
    expect(JSON.parse(r.stdout).aors.length).toBeGreaterThan(0)
    // each session (contacts, and the AOR limits on a second one) over TLS, with the MD5 login
    const sessions = [...new Set(server.received.map((a) => a.connection))].map((c) =>
      server.received.filter((a) => a.connection === c).map((a) => a.action),
    )
    for (const session of sessions) expect(session.slice(0, 2)).toEqual(['Challenge', 'login'])
    expect(sessions.find((session) => session.includes('DBGetTree'))).toEqual([
      'Challenge',
      'login',
      'GetConfig',
      'DBGetTree',
      'Logoff',
    ])
  })

  it('--debug names the TLS version and the certificate it verified', async () => {
    const server = await tlsSim()
    const r = await runIn(['check', '--tls-ca', LOCALHOST_CA, '--debug'], { env: envFor(server) })
    expect(r.stderr).toMatch(
      /^pjctl: debug: TLS TLSv1\.[23] with 127\.0\.0\.1:\d+: certificate localhost \(SHA-256 [0-9A-F:]{95}\), verified$/m,
    )
  })

  it('PJCTL_TLS_CA and a server entry with "tls": true and "tlsCa" work the same; --tls-ca alone implies --tls', async () => {
    const server = await tlsSim()
    const env = await runIn(['check'], { env: { ...envFor(server), PJCTL_TLS_CA: LOCALHOST_CA } })
    expect(env.stdout).toMatch(/^PJCTL (OK|WARNING|CRITICAL) - /)
    const dir = tempDir()
    const config = writeFile(
      dir,
      'config.json',
      JSON.stringify({
        servers: {
          tlspbx: {
            host: '127.0.0.1',
            port: server.port,
            user: 'pjctl',
            secret: 'pjctl-secret',
            tls: true,
            tlsCa: LOCALHOST_CA,
          },
        },
      }),
    )
    const fromConfig = await runIn(['contacts', '--json', '--config', config, '--server', 'tlspbx'])
    expect([fromConfig.code, fromConfig.stderr]).toEqual([0, ''])
    // two runs; each logs in on every session it opens
    expect(actions(server).filter((a) => a === 'DBGetTree')).toHaveLength(2)
  })

  it('a self-signed certificate the system store does not know: exit 3, nothing sent, no plaintext retry', async () => {
    const server = await tlsSim()
    const r = await runIn(['contacts', '--tls'], { env: envFor(server) })
    expect(r.code).toBe(3)
    expect(r.stdout).toBe('')
    expect(r.stderr).toBe(
      `pjctl: TLS: the certificate of 127.0.0.1:${server.port} is not trusted by the system CA store (self-signed certificate)\n` +
        'hint: pass --tls-ca FILE with the CA certificate that signed it (for a self-signed certificate, the certificate itself); --tls-insecure skips the check and is not recommended\n',
    )
    expect(server.received).toEqual([])
    expectNoSecret(r, 'pjctl-secret')
  })

  it('a --tls-ca that did not sign it: exit 3, naming the file', async () => {
    const server = await tlsSim()
    const r = await runIn(['contacts', '--tls-ca', OTHER_CA], { env: envFor(server) })
    expect(r.code).toBe(3)
    expect(r.stderr.split('\n')[0]).toBe(
      `pjctl: TLS: the certificate of 127.0.0.1:${server.port} is not trusted by the CA in --tls-ca ${OTHER_CA} (self-signed certificate)`,
    )
    expect(server.received).toEqual([])
  })

  it('a trusted certificate for another name: exit 3, the name check is not skipped', async () => {
    const server = await tlsSim('pbx-example')
    const r = await runIn(['contacts', '--tls-ca', PBX_EXAMPLE_CA], { env: envFor(server) })
    expect(r.code).toBe(3)
    expect(r.stderr).toMatch(
      new RegExp(
        `^pjctl: TLS: the certificate of 127\\.0\\.0\\.1:${server.port} is not for '127\\.0\\.0\\.1' \\(.*\\)\\nhint: connect with a name the certificate holds`,
      ),
    )
    expect(server.received).toEqual([])
  })

  it('--tls-insecure: connects without verifying, and warns on every run, --quiet or not', async () => {
    const server = await tlsSim('pbx-example')
    const warning = `pjctl: warning: --tls-insecure: the TLS certificate of 127.0.0.1:${server.port} is not verified; anyone on the path can pose as this server and read everything pjctl reads (use --tls-ca FILE instead)\n`
    for (const extra of [[], ['--quiet']]) {
      const r = await runIn(['contacts', '--json', '--tls-insecure', ...extra], {
        env: envFor(server),
      })
      expect([r.code, r.stderr]).toEqual([0, warning])
    }
    expect(actions(server).filter((a) => a === 'DBGetTree')).toHaveLength(2)
  })

  it('--tls against a plain AMI port: a TLS handshake error, exit 3, and nothing sent in clear', async () => {
    const server = await sim()
    const r = await runIn(['contacts', '--tls-insecure', '--timeout', '0.5'], {
      env: envFor(server),
    })
    expect(r.code).toBe(3)
    expect(r.stderr).toMatch(
      new RegExp(
        `pjctl: TLS handshake with 127\\.0\\.0\\.1:${server.port} failed \\(ERR_SSL_[A-Z_]+\\)\\nhint: is this AMI's TLS port \\(manager\\.conf tlsenable=yes, tlsbindaddr, 5039 by convention\\)\\?`,
      ),
    )
    expect(server.received).toEqual([])
  })

  it('plain TCP to a TLS port: no banner, and the hint says --tls', async () => {
    const server = await tlsSim()
    const r = await runIn(['contacts', '--timeout', '0.5'], { env: envFor(server) })
    expect(r.code).toBe(3)
    expect(r.stderr).toBe(
      `pjctl: 127.0.0.1:${server.port}: connected, but no AMI banner within 0.5 s\n` +
        'hint: is this the AMI port (manager.conf [general] port, usually 5038), and not another service? If it is AMI over TLS (tlsbindaddr, 5039 by convention), add --tls. (--timeout raises the limit)\n',
    )
    expect(server.received).toEqual([])
  })

  it('bad TLS settings are usage or input errors (exit 2) before anything connects', async () => {
    const server = await tlsSim()
    const dir = tempDir()
    const notPem = writeFile(dir, 'ca.txt', 'not a certificate\n')
    const cases: [string[], string][] = [
      [
        ['--tls-ca', join(dir, 'missing.pem')],
        `pjctl: cannot read --tls-ca file ${join(dir, 'missing.pem')}: ENOENT`,
      ],
      [
        ['--tls-ca', notPem],
        `pjctl: --tls-ca file ${notPem} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
      ],
      [
        ['--tls-ca', LOCALHOST_CA, '--tls-insecure'],
        'pjctl: --tls-insecure and --tls-ca contradict each other: --tls-ca verifies the certificate, --tls-insecure does not',
      ],
    ]
    for (const [args, first] of cases) {
      const r = await runIn(['contacts', ...args], { env: envFor(server) })
      expect([r.code, r.stderr.split('\n')[0]]).toEqual([2, first])
    }
    const config = writeFile(
      dir,
      'config.json',
      JSON.stringify({
        servers: {
          x: { host: '127.0.0.1', port: server.port, user: 'pjctl', secret: 's', tls: 'yes' },
        },
      }),
    )
    const r = await runIn(['contacts', '--config', config, '--server', 'x'])
    expect([r.code, r.stderr.split('\n')[0]]).toEqual([
      2,
      `pjctl: config file ${config}: server "x": tls: expected true or false, got a string`,
    ])
    expect(server.received).toEqual([])
  })
})

describe('which port', () => {
  const input = (settings: Partial<Settings>) => ({
    settings: withDefaults({ user: 'pjctl', ...settings }),
    layers: { flags: settings, env: {} },
    env: { PJCTL_SECRET: 's', XDG_CONFIG_HOME: tempDir() },
    warn: () => {},
  })

  it('--tls alone connects to 5039 (tlsbindaddr by convention); an explicit --port wins; plain stays on 5038', async () => {
    expect((await resolveTargets(input({ tls: true })))[0]).toMatchObject({
      port: 5039,
      tls: { insecure: false },
    })
    expect((await resolveTargets(input({ tls: true, port: 15039 })))[0]!.port).toBe(15039)
    const plain = (await resolveTargets(input({})))[0]
    expect([plain!.port, plain!.tls]).toEqual([5038, undefined])
  })
})
