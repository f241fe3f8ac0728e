// How pjctl logs in: the MD5 challenge by default (the secret never crosses the network),
// --auth plain for servers that refuse it. Asserted on what the simulated Asterisk received.
import { chmodSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { ReceivedAction, SimAsterisk } from '../../src/sim/server.js'
import { runIn } from '../helpers/cli.js'
import { expectNoSecret, md5, tempDir, writeFile } from '../helpers/rows.js'
import { envFor, sim } from '../helpers/sim.js'

const SECRET = 'S3cret-for-md5-71'
const USERS = [{ username: 'pjctl', secret: SECRET, write: ['system', 'command', 'reporting'] }]

/** Every header of every message the sim received, as `Name: value`. */
const wire = (server: SimAsterisk) =>
  server.received.flatMap((r) => r.headers.map(([name, value]) => `${name}: ${value}`))

const header = (r: ReceivedAction, name: string) =>
  r.headers.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1]

describe('login', () => {
  it('by default: Challenge (AuthType MD5), then Login with Key = md5(challenge + secret); the secret is never sent', async () => {
    const server = await sim({ users: USERS })
    const r = await runIn(['contacts', '--json'], { env: envFor(server, 'pjctl', SECRET) })
    expect([r.code, r.stderr]).toEqual([0, ''])
    // every session (contacts, and the AOR limits on a second one) logs in the same way
    const sessions = [...new Set(server.received.map((a) => a.connection))].map((c) =>
      server.received.filter((a) => a.connection === c),
    )
    expect(sessions.length).toBeGreaterThanOrEqual(1)
    for (const [challenge, login, ...rest] of sessions) {
      expect([challenge!.action, header(challenge!, 'AuthType')]).toEqual(['Challenge', 'MD5'])
      expect(login!.action).toBe('login')
      expect(login!.challenge).toMatch(/^\d{1,9}$/)
      expect(header(login!, 'AuthType')).toBe('MD5')
      expect(header(login!, 'Key')).toBe(md5(`${login!.challenge}${SECRET}`))
      expect(header(login!, 'Username')).toBe('pjctl')
      expect(header(login!, 'Secret')).toBeUndefined()
      expect(rest.map((a) => a.action)).not.toContain('Challenge')
    }
    expect(wire(server).filter((line) => line.includes(SECRET))).toEqual([])
    expect(
      sessions
        .map((session) => session.map((a) => a.action))
        .find((actions) => actions.includes('DBGetTree')),
    ).toEqual(['Challenge', 'login', 'GetConfig', 'DBGetTree', 'Logoff'])
  })

  it('--auth plain: Login with the Secret, no Challenge', async () => {
    const server = await sim({ users: USERS })
    const r = await runIn(['contacts', '--json', '--auth', 'plain'], {
      env: envFor(server, 'pjctl', SECRET),
    })
    expect([r.code, r.stderr]).toEqual([0, ''])
    expect(server.received.map((a) => a.action)).not.toContain('Challenge')
    const logins = server.received.filter((a) => a.action === 'login')
    expect(logins.length).toBeGreaterThanOrEqual(1)
    for (const login of logins)
      expect([header(login, 'Secret'), header(login, 'AuthType'), header(login, 'Key')]).toEqual([
        SECRET,
        undefined,
        undefined,
      ])
  })

  it('PJCTL_AUTH=plain and "auth": "plain" in a server entry do the same; the flag beats the config', async () => {
    const server = await sim({ users: USERS })
    const env = await runIn(['check', '--format', 'json'], {
      env: { ...envFor(server, 'pjctl', SECRET), PJCTL_AUTH: 'plain' },
    })
    expect(env.code).toBe(2)
    expect(server.received.map((a) => a.action).slice(0, 1)).toEqual(['login'])

    const dir = tempDir()
    const config = writeFile(
      dir,
      'config.json',
      JSON.stringify({
        servers: {
          old: {
            host: '127.0.0.1',
            port: server.port,
            user: 'pjctl',
            secret: SECRET,
            auth: 'plain',
          },
        },
      }),
    )
    chmodSync(config, 0o600)
    server.received.length = 0
    const fromConfig = await runIn(['contacts', '--json', '--config', config, '--server', 'old'])
    expect([fromConfig.code, fromConfig.stderr]).toEqual([0, ''])
    expect(server.received[0]!.action).toBe('login')
    server.received.length = 0
    const flag = await runIn([
      'contacts',
      '--json',
      '--config',
      config,
      '--server',
      'old',
      '--auth',
      'md5',
    ])
    expect([flag.code, flag.stderr]).toEqual([0, ''])
    expect(server.received.slice(0, 2).map((a) => a.action)).toEqual(['Challenge', 'login'])
  })

  it('a server that refuses the challenge: exit 3, nothing else sent, and the error says to use --auth plain', async () => {
    const server = await sim({ users: USERS, faults: { noChallenge: true } })
    const r = await runIn(['contacts'], { env: envFor(server, 'pjctl', SECRET) })
    expect(r.code).toBe(3)
    expect(r.stdout).toBe('')
    expect(r.stderr).toBe(
      `pjctl: 127.0.0.1:${server.port} refused the MD5 challenge login (it answered: Invalid/unknown command)\n` +
        `hint: this server does not offer AMI's MD5 challenge login: use --auth plain (PJCTL_AUTH=plain, or "auth": "plain" in the server's config entry); plain sends the secret as it is, so use it with --tls or on loopback only\n`,
    )
    expect(server.received.map((a) => a.action)).toEqual(['Challenge'])
    expectNoSecret(r, SECRET)
    const check = await runIn(['check'], { env: envFor(server, 'pjctl', SECRET) })
    expect([check.code, check.stdout]).toEqual([
      3,
      `PJCTL UNKNOWN - 127.0.0.1:${server.port} refused the MD5 challenge login (it answered: Invalid/unknown command)\n`,
    ])
  })

  it('a wrong secret under MD5: exit 3, Authentication failed, the secret nowhere', async () => {
    const server = await sim({ users: USERS })
    const wrong = 'Wr0ng-md5-secret'
    const r = await runIn(['contacts'], { env: envFor(server, 'pjctl', wrong) })
    expect(r.code).toBe(3)
    expect(r.stderr.split('\n')[0]).toBe(
      `pjctl: login to 127.0.0.1:${server.port} as 'pjctl' failed: Authentication failed`,
    )
    expect(server.received.map((a) => a.action)).toEqual(['Challenge', 'login'])
    expectNoSecret(r, wrong)
    expect(wire(server).filter((line) => line.includes(wrong))).toEqual([])
  })

  it('--auth with another value: a usage error (exit 2) before connecting', async () => {
    const server = await sim({ users: USERS })
    const r = await runIn(['contacts', '--auth', 'sha1'], { env: envFor(server, 'pjctl', SECRET) })
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('--auth')
    expect(r.stderr).toContain("expected md5 or plain, got 'sha1'")
    expect(server.received).toEqual([])
    const dir = tempDir()
    const config = join(dir, 'config.json')
    writeFile(
      dir,
      'config.json',
      JSON.stringify({
        servers: {
          x: {
            host: '127.0.0.1',
            port: server.port,
            user: 'pjctl',
            secret: SECRET,
            auth: 'digest',
          },
        },
      }),
    )
    chmodSync(config, 0o600)
    const bad = await runIn(['contacts', '--config', config, '--server', 'x'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain("auth: expected md5 or plain, got 'digest'")
    expect(server.received).toEqual([])
  })
})
