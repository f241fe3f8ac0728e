// Where the server and credentials come from: the config file (default path or --config),
// --server, --secret-file, PJCTL_* and flags, in the order flag > env > config; never a secret flag.
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { SimAsterisk, SimUser } from '../../src/sim/server.js'
import { runIn as run } from '../helpers/cli.js'
import { isolatedHome, type RunResult } from '../helpers/run.js'
import { sim } from '../helpers/sim.js'
import { closedPort, expectNoSecret, md5, writeFile } from '../helpers/rows.js'

const ALL = ['system', 'command', 'reporting']
const USERS: SimUser[] = [
  { username: 'pjctl', secret: 'cfg-Secret-41', write: ALL },
  { username: 'cfguser', secret: 'shared-Pw-52', write: ALL },
  { username: 'envuser', secret: 'shared-Pw-52', write: ALL },
  { username: 'flaguser', secret: 'shared-Pw-52', write: ALL },
]
const SECRETS = ['cfg-Secret-41', 'shared-Pw-52', 'file-Secret-63', 'wrong-Secret-74']

interface Home {
  env: Record<string, string>
  /** The default config file path ($XDG_CONFIG_HOME/pjctl/config.json). */
  configPath: string
  dir: string
}

/** A fresh HOME whose default config file holds `config` at `mode`. */
function homeWith(config: unknown, mode = 0o600): Home {
  const env = isolatedHome()
  const dir = join(env.XDG_CONFIG_HOME!, 'pjctl')
  mkdirSync(dir, { recursive: true })
  const configPath = writeFile(
    dir,
    'config.json',
    typeof config === 'string' ? config : JSON.stringify(config, null, 2),
    mode,
  )
  return { env, configPath, dir: env.HOME! }
}

function lab(server: SimAsterisk, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { host: '127.0.0.1', port: server.port, user: 'pjctl', secret: 'cfg-Secret-41', ...extra }
}

/** [Username, secret] of each Login of a session that read contacts (each run also logs in a second session for the AOR limits):
 *  its Secret, or for an MD5 login the one of SECRETS its Key proves. */
const logins = (server: SimAsterisk) => {
  const reading = new Set(
    server.received
      .filter((a) => a.action === 'DBGetTree' || a.action === 'Command')
      .map((a) => a.connection),
  )
  const failed = new Set(
    server.received
      .filter((a) => a.action === 'login')
      .map((a) => a.connection)
      .filter(
        (c) =>
          !server.received.some(
            (a) => a.connection === c && !/^(login|challenge)$/i.test(a.action),
          ),
      ),
  )
  return server.received
    .filter((a) => a.action === 'login' && (reading.has(a.connection) || failed.has(a.connection)))
    .map((a) => {
      const header = (name: string) =>
        a.headers.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1]
      const key = header('Key')
      return [
        header('Username'),
        key === undefined
          ? header('Secret')
          : SECRETS.find((s) => md5(`${a.challenge}${s}`) === key),
      ]
    })
}

function expectNoSecrets(r: RunResult): void {
  for (const secret of SECRETS) expectNoSecret(r, secret)
}

describe('the config file', () => {
  it('default $XDG_CONFIG_HOME/pjctl/config.json, --server lab, mode 0600: no warning', async () => {
    const server = await sim({ users: USERS })
    const home = homeWith({ servers: { lab: lab(server) } })
    const r = await run(['check', '--server', 'lab', '--format', 'json'], { env: home.env })
    expect([r.code, r.stderr]).toEqual([2, ''])
    expect(JSON.parse(r.stdout).servers[0].server).toBe('lab')
    expect(logins(server)).toEqual([['pjctl', 'cfg-Secret-41']])
  })

  it('"default" names the server used without --server', async () => {
    const server = await sim({ users: USERS })
    const home = homeWith({
      default: 'lab',
      servers: { other: { host: '127.0.0.1', port: 1 }, lab: lab(server) },
    })
    const r = await run(['contacts', 'FAP003', '--json'], { env: home.env })
    expect([r.code, r.stderr]).toEqual([0, ''])
    expect(JSON.parse(r.stdout).server).toBe('lab')
  })

  it('--config FILE and PJCTL_CONFIG name another file', async () => {
    const server = await sim({ users: USERS })
    const home = homeWith({ servers: {} })
    const file = writeFile(
      home.dir,
      'elsewhere.json',
      JSON.stringify({ servers: { lab: lab(server) } }),
    )
    const flag = await run(['contacts', 'FAP003', '--json', '--config', file, '--server', 'lab'], {
      env: home.env,
    })
    expect([flag.code, flag.stderr]).toEqual([0, ''])
    const env = await run(['contacts', 'FAP003', '--json', '--server', 'lab'], {
      env: { ...home.env, PJCTL_CONFIG: file },
    })
    expect([env.code, env.stderr]).toEqual([0, ''])
    expect(logins(server)).toEqual([
      ['pjctl', 'cfg-Secret-41'],
      ['pjctl', 'cfg-Secret-41'],
    ])
  })

  it('warns, naming the file, when others or the group can read it (0644, 0640); still runs', async () => {
    const server = await sim({ users: USERS })
    for (const [mode, who] of [
      [0o644, 'others'],
      [0o640, 'group'],
    ] as const) {
      const home = homeWith({ servers: { lab: lab(server) } }, mode)
      const r = await run(['contacts', 'FAP003', '--json', '--server', 'lab'], { env: home.env })
      expect(r.code).toBe(0)
      expect(r.stderr).toBe(
        `pjctl: warning: config file ${home.configPath} is readable by ${who} (mode ${mode.toString(8)}); it holds AMI secrets: chmod 600 ${home.configPath}\n`,
      )
      expectNoSecrets(r)
    }
  })

  it('warns about unknown keys, in a server and at the top level, and ignores them', async () => {
    const server = await sim({ users: USERS })
    const home = homeWith({
      servers: { lab: lab(server, { passwd: 'x', colour: true }) },
      timeout: 3,
    })
    const r = await run(['contacts', 'FAP003', '--json', '--server', 'lab'], { env: home.env })
    expect(r.code).toBe(0)
    expect(r.stderr).toBe(
      [
        `pjctl: warning: config file ${home.configPath}: server "lab" has unknown key "passwd" (ignored)`,
        `pjctl: warning: config file ${home.configPath}: server "lab" has unknown key "colour" (ignored)`,
        `pjctl: warning: config file ${home.configPath}: unknown top-level key "timeout" (ignored)`,
        '',
      ].join('\n'),
    )
  })

  it('errors: unknown server, no file for --server, a missing --config, bad JSON, a bad value (exit 2)', async () => {
    const server = await sim({ users: USERS })
    const home = homeWith({ servers: { lab: lab(server), pbx2: lab(server) } })
    const unknown = await run(['contacts', '--server', 'nope'], { env: home.env })
    expect([unknown.code, unknown.stdout, unknown.stderr]).toEqual([
      2,
      '',
      `pjctl: no server named 'nope' in ${home.configPath}\nhint: known servers: lab, pbx2\n`,
    ])

    const bare = isolatedHome()
    const noFile = await run(['contacts', '--server', 'lab'], { env: bare })
    expect([noFile.code, noFile.stderr]).toEqual([
      2,
      `pjctl: --server lab: no config file at ${join(bare.XDG_CONFIG_HOME!, 'pjctl', 'config.json')} or ${bare.PJCTL_SYSTEM_CONFIG}\nhint: create one, or pass --config FILE\n`,
    ])

    const missing = await run(['contacts', '--config', join(home.dir, 'missing.json')], {
      env: home.env,
    })
    expect([missing.code, missing.stderr]).toEqual([
      2,
      `pjctl: cannot read ${join(home.dir, 'missing.json')}: no such file\n`,
    ])

    const trailing = homeWith(
      '{\n  "servers": {\n    "lab": {"secret": "cfg-Secret-41",}\n  }\n}\n',
    )
    const bad = await run(['contacts', '--server', 'lab'], { env: trailing.env })
    expect([bad.code, bad.stderr]).toEqual([
      2,
      `pjctl: config file ${trailing.configPath} is not valid JSON: Expected double-quoted property name at line 3, column 39\n`,
    ])
    // V8 quotes the text around an unexpected token: that text may be the secret
    const unquoted = homeWith('{"servers": {"lab": {"user": "pjctl", "secret": cfg-Secret-41}}}')
    const leak = await run(['contacts', '--server', 'lab'], { env: unquoted.env })
    expect([leak.code, leak.stderr]).toEqual([
      2,
      `pjctl: config file ${unquoted.configPath} is not valid JSON: unexpected token\n`,
    ])
    expect(leak.stderr).not.toContain('cfg-Secret')
    expectNoSecrets(bad)

    const badPort = homeWith({ servers: { lab: lab(server, { port: 'five' }) } })
    const port = await run(['contacts', '--server', 'lab'], { env: badPort.env })
    expect([port.code, port.stderr]).toEqual([
      2,
      `pjctl: config file ${badPort.configPath}: server "lab": port: expected a whole number, got 'five'\n`,
    ])
    // a value of the wrong JSON type gets the same kind of line, naming the key (not "no AMI secret")
    const arraySecret = homeWith({ servers: { lab: lab(server, { secret: ['cfg-Secret-41'] }) } })
    const secret = await run(['contacts', '--server', 'lab'], { env: arraySecret.env })
    expect([secret.code, secret.stderr]).toEqual([
      2,
      `pjctl: config file ${arraySecret.configPath}: server "lab": secret: expected a string, got an array\n`,
    ])
    const boolPort = homeWith({ servers: { lab: lab(server, { port: true }) } })
    const portType = await run(['contacts', '--server', 'lab'], { env: boolPort.env })
    expect([portType.code, portType.stderr]).toEqual([
      2,
      `pjctl: config file ${boolPort.configPath}: server "lab": port: expected a number, got true\n`,
    ])
    const objectUser = homeWith({ servers: { lab: lab(server, { user: { name: 'pjctl' } }) } })
    const user = await run(['contacts', '--server', 'lab'], { env: objectUser.env })
    expect([user.code, user.stderr]).toEqual([
      2,
      `pjctl: config file ${objectUser.configPath}: server "lab": user: expected a string, got an object\n`,
    ])
    for (const r of [unknown, noFile, missing, bad, leak, port, secret, portType, user])
      expectNoSecrets(r)
    expect(server.received).toEqual([])
  })
})

describe('secrets', () => {
  it('no flag takes a secret: --secret, --secret=VALUE, --password say where the secret goes, and never echo it', async () => {
    const server = await sim({ users: USERS })
    const home = homeWith({ servers: { lab: lab(server) } })
    const sentence =
      'pjctl: the secret is never a flag: use PJCTL_SECRET, --secret-file or the config file\n'
    const spaced = await run(['contacts', '--server', 'lab', '--secret', 'cfg-Secret-41'], {
      env: home.env,
    })
    expect([spaced.code, spaced.stdout, spaced.stderr]).toEqual([2, '', sentence])
    expectNoSecrets(spaced)
    const joined = await run(['contacts', '--server', 'lab', '--secret=cfg-Secret-41'], {
      env: home.env,
    })
    expect([joined.code, joined.stdout, joined.stderr]).toEqual([2, '', sentence])
    const quoted = await run(['contacts', "--password=it's-cfg-Secret-41"], { env: home.env })
    expect([quoted.code, quoted.stderr]).toEqual([2, sentence])
    const checked = await run(['check', '--secret=cfg-Secret-41'], { env: home.env })
    expect([checked.code, checked.stderr]).toEqual([3, sentence])
    // not "did you mean --crit?", and --secret-file is still a flag
    expect(checked.stderr).not.toContain('--crit')
    const file = await run(
      ['contacts', '--server', 'lab', '--secret-file', join(home.dir, 'none')],
      { env: home.env },
    )
    expect(file.stderr).toBe(`pjctl: cannot read ${join(home.dir, 'none')}: no such file\n`)
    // nothing above reached the server
    expect(server.received).toEqual([])
    // after `--` it is an operand, not a flag
    const operand = await run(['contacts', '--server', 'lab', '--', '--secret'], { env: home.env })
    expect(operand.stderr).not.toContain('the secret is never a flag')
    expect(server.received.filter((a) => a.action === 'login').length).toBeGreaterThan(0)
  })

  it('--secret-file: the first line is the secret; a file others can read is warned about', async () => {
    const server = await sim({ users: USERS })
    const home = homeWith({
      servers: { lab: { host: '127.0.0.1', port: server.port, user: 'pjctl' } },
    })
    const file = writeFile(home.dir, 'ami.secret', 'cfg-Secret-41\nsecond line is ignored\n')
    const r = await run(
      ['contacts', 'FAP003', '--json', '--server', 'lab', '--secret-file', file],
      { env: home.env },
    )
    expect([r.code, r.stderr]).toEqual([0, ''])
    const open = writeFile(home.dir, 'open.secret', 'cfg-Secret-41\r\n', 0o644)
    const warned = await run(['contacts', 'FAP003', '--json', '--server', 'lab'], {
      env: { ...home.env, PJCTL_SECRET_FILE: open },
    })
    expect(warned.code).toBe(0)
    expect(warned.stderr).toBe(
      `pjctl: warning: secret file ${open} is readable by others (mode 644); it holds AMI secrets: chmod 600 ${open}\n`,
    )
    expectNoSecrets(warned)
    const inProfile = homeWith({
      servers: { lab: { host: '127.0.0.1', port: server.port, user: 'pjctl', secretFile: file } },
    })
    const profile = await run(['contacts', 'FAP003', '--json', '--server', 'lab'], {
      env: inProfile.env,
    })
    expect([profile.code, profile.stderr]).toEqual([0, ''])
    expect(logins(server)).toEqual([
      ['pjctl', 'cfg-Secret-41'],
      ['pjctl', 'cfg-Secret-41'],
      ['pjctl', 'cfg-Secret-41'],
    ])
    const empty = await run(
      ['contacts', '--server', 'lab', '--secret-file', writeFile(home.dir, 'empty.secret', '\n')],
      { env: home.env },
    )
    expect([empty.code, empty.stderr]).toEqual([
      2,
      `pjctl: secret file ${join(home.dir, 'empty.secret')} is empty\n`,
    ])
  })

  it('an explicit --secret-file beats PJCTL_SECRET, which beats the config secret', async () => {
    const server = await sim({ users: USERS })
    const home = homeWith({ servers: { lab: lab(server, { secret: 'wrong-Secret-74' }) } })
    const rightFile = writeFile(home.dir, 'right.secret', 'cfg-Secret-41\n')
    const wrongFile = writeFile(home.dir, 'wrong.secret', 'wrong-Secret-74\n')
    const fromConfig = await run(['contacts', '--server', 'lab'], { env: home.env })
    expect(fromConfig.code).toBe(3)
    expect(fromConfig.stderr.split('\n')[0]).toBe(
      `pjctl: login to 127.0.0.1:${server.port} as 'pjctl' failed: Authentication failed`,
    )
    expectNoSecrets(fromConfig)
    const fileOverConfig = await run(
      ['contacts', 'FAP003', '--server', 'lab', '--secret-file', rightFile],
      { env: home.env },
    )
    expect(fileOverConfig.code).toBe(0)
    // the flag names the file on this command line: a PJCTL_SECRET left in the environment must not win
    const fileOverEnv = await run(
      ['contacts', 'FAP003', '--server', 'lab', '--secret-file', rightFile],
      { env: { ...home.env, PJCTL_SECRET: 'wrong-Secret-74' } },
    )
    expect(fileOverEnv.code).toBe(0)
    const envOverConfig = await run(['contacts', 'FAP003', '--server', 'lab'], {
      env: { ...home.env, PJCTL_SECRET: 'cfg-Secret-41' },
    })
    expect(envOverConfig.code).toBe(0)
    // PJCTL_SECRET_FILE is the environment's layer too: below the flag
    const flagOverEnvFile = await run(
      ['contacts', 'FAP003', '--server', 'lab', '--secret-file', rightFile],
      { env: { ...home.env, PJCTL_SECRET_FILE: wrongFile } },
    )
    expect(flagOverEnvFile.code).toBe(0)
    expect(logins(server).map(([, secret]) => secret)).toEqual([
      'wrong-Secret-74',
      'cfg-Secret-41',
      'cfg-Secret-41',
      'cfg-Secret-41',
      'cfg-Secret-41',
    ])
  })
})

describe('precedence: flag > env > config', () => {
  it('user', async () => {
    const server = await sim({ users: USERS })
    const home = homeWith({
      servers: { lab: lab(server, { user: 'cfguser', secret: 'shared-Pw-52' }) },
    })
    const args = ['contacts', 'FAP003', '--json', '--server', 'lab']
    expect((await run(args, { env: home.env })).code).toBe(0)
    expect((await run(args, { env: { ...home.env, PJCTL_USER: 'envuser' } })).code).toBe(0)
    expect(
      (await run([...args, '--user', 'flaguser'], { env: { ...home.env, PJCTL_USER: 'envuser' } }))
        .code,
    ).toBe(0)
    expect(logins(server).map(([user]) => user)).toEqual(['cfguser', 'envuser', 'flaguser'])
  })

  it('port (and host): the config points at nothing, env or flag at the sim', async () => {
    const server = await sim({ users: USERS })
    const dead = await closedPort()
    const home = homeWith({ servers: { lab: lab(server, { port: dead }) } })
    const args = ['contacts', 'FAP003', '--json', '--server', 'lab']
    const fromConfig = await run(args, { env: home.env })
    expect([fromConfig.code, fromConfig.stderr.split('\n')[0]]).toEqual([
      3,
      `pjctl: connection refused by 127.0.0.1:${dead}`,
    ])
    expectNoSecrets(fromConfig)
    const fromEnv = await run(args, { env: { ...home.env, PJCTL_PORT: String(server.port) } })
    expect([fromEnv.code, fromEnv.stderr]).toEqual([0, ''])
    const fromFlag = await run([...args, '--port', String(server.port)], {
      env: { ...home.env, PJCTL_PORT: String(dead) },
    })
    expect([fromFlag.code, fromFlag.stderr]).toEqual([0, ''])
    const badHost = homeWith({ servers: { lab: lab(server, { host: '127.0.0.2', port: dead }) } })
    const hostFlag = await run([...args, '--host', '127.0.0.1', '--port', String(server.port)], {
      env: badHost.env,
    })
    expect([hostFlag.code, hostFlag.stderr]).toEqual([0, ''])
    expect(logins(server)).toHaveLength(3)
  })

  it('--timeout: the config value applies unless a flag overrides it', async () => {
    const server = await sim({ users: USERS, faults: { stallAfterBanner: true } })
    const home = homeWith({ servers: { lab: lab(server, { timeout: '0.8' }) } })
    let started = Date.now()
    const fromConfig = await run(['contacts', '--server', 'lab'], {
      env: home.env,
      killAfterMs: 6000,
    })
    expect(Date.now() - started).toBeLessThan(2500)
    expect([fromConfig.code, fromConfig.stderr]).toEqual([
      3,
      `pjctl: no answer to Challenge from 127.0.0.1:${server.port} within 0.8 s\nhint: the server stalled; --timeout raises the limit\n`,
    ])
    const slow = homeWith({ servers: { lab: lab(server, { timeout: 30 }) } })
    started = Date.now()
    const fromFlag = await run(['contacts', '--server', 'lab', '--timeout', '0.5'], {
      env: slow.env,
      killAfterMs: 6000,
    })
    expect(Date.now() - started).toBeLessThan(2000)
    expect([fromFlag.code, fromFlag.stderr]).toEqual([
      3,
      `pjctl: no answer to Challenge from 127.0.0.1:${server.port} within 0.5 s\nhint: the server stalled; --timeout raises the limit\n`,
    ])
  })
})
