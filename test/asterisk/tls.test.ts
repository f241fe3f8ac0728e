// AMI over TLS on the real Asterisk 22 lab. The test makes a fresh self-signed certificate with
// openssl, adds tlsenable/tlsbindaddr/tlscertfile/tlsprivatekey to the lab's live manager.conf
// ($LAB_PREFIX/etc), runs `manager reload`, and puts manager.conf back (and reloads) afterwards.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { connect, createServer, type AddressInfo, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LAB, cli, labEtc, pjctl } from './lab.js'

const TLS_PORT = 5039
const MANAGER_CONF = labEtc('manager.conf')
let saved: string | null = null
let dir = ''
let cert = ''

/** Resolves once something accepts TCP on the port (true), or not within the time (false). */
async function listening(port: number, want: boolean, timeoutMs = 15_000): Promise<boolean> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, LAB.host)
      socket.once('connect', () => {
        socket.destroy()
        resolve(true)
      })
      socket.once('error', () => resolve(false))
    })
    if (open === want) return true
    if (Date.now() > until) return false
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

/** A TCP relay that records the bytes pjctl sends (to show what is on the wire). */
function relay(port: number): Promise<{ server: Server; port: number; sent: Buffer[] }> {
  const sent: Buffer[] = []
  const server = createServer((client) => {
    const upstream = connect(port, LAB.host)
    client.on('data', (chunk) => (sent.push(chunk), upstream.write(chunk)))
    upstream.on('data', (chunk) => client.write(chunk))
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
    client.on('error', () => upstream.destroy())
    upstream.on('error', () => client.destroy())
  })
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, port: (server.address() as AddressInfo).port, sent }),
    ),
  )
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pjctl-lab-tls-'))
  cert = join(dir, 'ami.crt')
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-keyout',
      join(dir, 'ami.key'),
      '-out',
      cert,
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  )
  saved = readFileSync(MANAGER_CONF, 'utf8')
  const tlsLines = [
    `tlsenable = yes`,
    `tlsbindaddr = ${LAB.host}:${TLS_PORT}`,
    `tlscertfile = ${cert}`,
    `tlsprivatekey = ${join(dir, 'ami.key')}`,
  ].join('\n')
  expect(saved).toMatch(/^\[general\]$/m)
  writeFileSync(MANAGER_CONF, saved.replace(/^\[general\]$/m, `[general]\n${tlsLines}`))
  await cli('manager reload')
  expect(
    await listening(TLS_PORT, true),
    `Asterisk did not open AMI over TLS on ${TLS_PORT} after manager reload`,
  ).toBe(true)
})

afterAll(async () => {
  if (saved !== null) {
    writeFileSync(MANAGER_CONF, saved)
    await cli('manager reload')
    expect(
      await listening(TLS_PORT, false),
      `AMI over TLS still listens on ${TLS_PORT} after restoring manager.conf`,
    ).toBe(true)
  }
  if (dir) rmSync(dir, { recursive: true, force: true })
})

/** The lab's env without its plain port: --tls picks 5039 itself. */
const tlsEnv = { PJCTL_PORT: undefined }

describe('AMI over TLS on a real Asterisk 22', () => {
  it('--tls-ca with the server certificate: port 5039 by default, MD5 login, the same contacts as over plain TCP', async () => {
    const plain = await pjctl(['contacts', '--json'])
    const tls = await pjctl(['contacts', '--json', '--tls', '--tls-ca', cert, '--debug'], tlsEnv)
    expect(tls.code).toBe(0)
    expect(tls.stderr).toMatch(
      new RegExp(
        `pjctl: debug: TLS TLSv1\\.[23] with ${LAB.host.replace(/\./g, '\\.')}:${TLS_PORT}: certificate localhost \\(SHA-256 [0-9A-F:]+\\), verified`,
      ),
    )
    expect(tls.stderr).toContain('> Challenge')
    const count = (r: { stdout: string }) =>
      (JSON.parse(r.stdout).aors as { count: number }[]).reduce((n, a) => n + a.count, 0)
    expect(count(tls)).toBe(count(plain))
  })

  it('what crosses the network is ciphertext: no AMI header, no secret, even with --auth plain', async () => {
    const via = await relay(TLS_PORT)
    try {
      const r = await pjctl(['contacts', '--json', '--tls-ca', cert, '--auth', 'plain'], {
        PJCTL_HOST: '127.0.0.1',
        PJCTL_PORT: String(via.port),
      })
      expect([r.code, r.stderr]).toEqual([0, ''])
      const wire = Buffer.concat(via.sent).toString('latin1')
      expect(wire.length).toBeGreaterThan(100)
      expect(wire).not.toContain('Action:')
      expect(wire).not.toContain(LAB.secret)
    } finally {
      via.server.close()
    }
  })

  it("the system store does not trust the lab's self-signed certificate: exit 3, no plaintext fallback", async () => {
    const r = await pjctl(['contacts', '--tls'], tlsEnv)
    expect(r.code).toBe(3)
    expect(r.stderr.split('\n')[0]).toBe(
      `pjctl: TLS: the certificate of ${LAB.host}:${TLS_PORT} is not trusted by the system CA store (self-signed certificate)`,
    )
  })

  it('--tls-insecure connects and warns', async () => {
    const r = await pjctl(['check', '--tls-insecure'], tlsEnv)
    expect([0, 1, 2]).toContain(r.code)
    expect(r.stderr).toBe(
      `pjctl: warning: --tls-insecure: the TLS certificate of ${LAB.host}:${TLS_PORT} is not verified; anyone on the path can pose as this server and read everything pjctl reads (use --tls-ca FILE instead)\n`,
    )
  })

  it('--tls against the plain AMI port, and plain TCP against the TLS port: clear errors, exit 3', async () => {
    const toPlain = await pjctl(['contacts', '--tls-ca', cert, '--port', String(LAB.port)])
    expect(toPlain.code).toBe(3)
    expect(toPlain.stderr).toMatch(
      new RegExp(
        `^pjctl: TLS handshake with ${LAB.host.replace(/\./g, '\\.')}:${LAB.port} failed \\(`,
      ),
    )
    const toTls = await pjctl(['contacts', '--port', String(TLS_PORT), '--timeout', '2'])
    expect(toTls.code).toBe(3)
    expect(toTls.stderr).toContain(
      `${LAB.host}:${TLS_PORT}: connected, but no AMI banner within 2 s`,
    )
    expect(toTls.stderr).toContain('add --tls')
  })
})
