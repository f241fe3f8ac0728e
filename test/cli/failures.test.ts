// What pjctl does when the server misbehaves or refuses: every case exits with the code the
// docs/errors.md promises, says one line (and a hint) on stderr, prints nothing on stdout, and never
// shows the secret.
import { createServer, type AddressInfo, type Server } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { runIn as run } from '../helpers/cli.js'
import { run as spawned, type RunResult } from '../helpers/run.js'
import { envFor, sim } from '../helpers/sim.js'
import { closedPort, expectNoSecret } from '../helpers/rows.js'

const SECRET = 'pjctl-secret'
/** The actions of the first connection (contacts, deletions); the AOR limits are read on a second one. */
const actions = (received: { connection: number; action: string }[]) =>
  received.filter((a) => a.connection === received[0]?.connection).map((a) => a.action)
const firstLine = (r: RunResult) => r.stderr.split('\n')[0]

/** A failed read: exit 3, nothing on stdout, the secret nowhere. */
function expectUnreadable(r: RunResult, secret = SECRET): void {
  expect(r.code).toBe(3)
  // nothing listed: with --json the failure is the document, {server, error, hint, exitCode}, as check --json says it
  if (r.stdout !== '') expect(JSON.parse(r.stdout)).toMatchObject({ exitCode: 3 })
  expect(r.stdout).not.toMatch(/"aors"/)
  expectNoSecret(r, secret)
}

const INCOMPLETE_HINT =
  "hint: Asterisk drops AMI output that is not read within the manager user's writetimeout; raise writetimeout= for [pjctl] in manager.conf (e.g. writetimeout = 5000) and try again"

describe.concurrent('a broken answer', () => {
  it.each(['DBGetTree', 'Command'])(
    'the connection closing in the middle of the %s answer: exit 3, nothing listed',
    async (action) => {
      const server = await sim({ faults: { closeMidAnswer: { action, afterBytes: 3000 } } })
      const source = action === 'Command' ? 'command' : 'dbgettree'
      const r = await run(['contacts', '--json', '--source', source], { env: envFor(server) })
      expectUnreadable(r)
      expect(r.stderr).toBe(
        `pjctl: 127.0.0.1:${server.port} closed the connection in the middle of the answer to ${action}\nhint: the answer is incomplete; nothing was changed by this action\n`,
      )
      expect(actions(server.received)).toEqual(['Challenge', 'login', 'GetConfig', action])
    },
  )

  it('Command lines dropped (Asterisk 22 `Output:`): `13 results found.` disagrees, exit 3, writetimeout hint', async () => {
    const server = await sim({ faults: { dropOutputLines: { action: 'Command', count: 2 } } })
    const r = await run(['contacts', '--json', '--source', 'command'], { env: envFor(server) })
    expectUnreadable(r)
    const incomplete = `incomplete answer from the server: it announced 13 contacts, 11 arrived (Command 'database show registrar/contact' from 127.0.0.1:${server.port})`
    // read three times in all, each on a new session, before giving up
    expect(r.stderr).toBe(
      `pjctl: warning: ${incomplete}; reading again on a new session (try 2 of 3)\n` +
        `pjctl: warning: ${incomplete}; reading again on a new session (try 3 of 3)\n` +
        `pjctl: ${incomplete}\n${INCOMPLETE_HINT}\n`,
    )
    expect(actions(server.received)).toEqual([
      'Challenge',
      'login',
      'GetConfig',
      'Command',
      'Logoff',
    ])
    expect(server.received.filter((a) => a.action === 'Command')).toHaveLength(3)
  })

  it('Command lines dropped (Asterisk 13 `Response: Follows`): exit 3, incomplete answer', async () => {
    const server = await sim({
      version: '13',
      faults: { dropOutputLines: { action: 'Command', count: 1 } },
    })
    const r = await run(['contacts'], { env: envFor(server) })
    expectUnreadable(r)
    expect(r.stderr.split('\n')[2]).toBe(
      `pjctl: incomplete answer from the server: it announced 13 contacts, 12 arrived (Command 'database show registrar/contact' from 127.0.0.1:${server.port})`,
    )
    expect(r.stderr).toContain('writetimeout')
    expect(actions(server.received)).toEqual([
      'Challenge',
      'login',
      'GetConfig',
      'DBGetTree',
      'Command',
      'Logoff',
    ])
  })

  it('DBGetTree items dropped: `ListItems` disagrees, exit 3, writetimeout hint naming the user', async () => {
    const server = await sim({ faults: { dropOutputLines: { action: 'DBGetTree', count: 3 } } })
    const r = await run(['contacts', '--json'], { env: envFor(server) })
    expectUnreadable(r)
    const incomplete = `incomplete answer to DBGetTree from 127.0.0.1:${server.port}: it announced 13 items, 10 arrived`
    expect(r.stderr).toBe(
      `pjctl: warning: ${incomplete}; reading again on a new session (try 2 of 3)\n` +
        `pjctl: warning: ${incomplete}; reading again on a new session (try 3 of 3)\n` +
        `pjctl: ${incomplete}\n` +
        "hint: Asterisk drops AMI output that is not read within the manager user's writetimeout; raise writetimeout= for [pjctl] in manager.conf (e.g. writetimeout = 5000) and try again\n",
    )
    // auto does not paper over a damaged DBGetTree answer with Command
    expect(actions(server.received)).toEqual([
      'Challenge',
      'login',
      'GetConfig',
      'DBGetTree',
      'Logoff',
    ])
  })

  it('DBGetTree cut short once (Asterisk then ends the session): read again on a new session, the whole answer listed, exit 0', async () => {
    const server = await sim({
      faults: { dropOutputLines: { action: 'DBGetTree', count: 3, times: 1, endSession: true } },
    })
    const r = await run(['contacts', '--json'], { env: envFor(server) })
    expect(r.code).toBe(0)
    expect(r.stderr).toBe(
      `pjctl: warning: incomplete answer to DBGetTree from 127.0.0.1:${server.port}: it announced 13 items, 10 arrived; reading again on a new session (try 2 of 3)\n`,
    )
    const doc = JSON.parse(r.stdout)
    expect(
      doc.aors.reduce((n: number, a: { contacts: unknown[] }) => n + a.contacts.length, 0),
    ).toBe(13)
    expect(server.received.filter((a) => a.action === 'DBGetTree')).toHaveLength(2)
  })

  it('prune after a cut-short read deletes on a new session, not on the one Asterisk ended', async () => {
    const server = await sim({
      faults: { dropOutputLines: { action: 'DBGetTree', count: 2, times: 1, endSession: true } },
    })
    const r = await run(['prune', '--via', 'delete', '--keep', '1', '--yes', '--force'], {
      env: envFor(server),
    })
    // the captured FAP003 is still full of same-second duplicates --keep 1 will not choose between: exit 1, said
    expect(r.stdout).toContain('FAP003 is still full')
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('reading again on a new session (try 2 of 3)')
    const dbDels = server.received.filter((a) => a.action === 'DBDel')
    expect(dbDels.length).toBeGreaterThan(0)
    const firstSession = server.received[0]!.connection
    expect(dbDels.every((a) => a.connection !== firstSession)).toBe(true)
  })

  it('PJSIPShowAors events dropped: exit 3 (a limit silently missing would misjudge an AOR)', async () => {
    const server = await sim({ faults: { dropOutputLines: { action: 'PJSIPShowAors', count: 1 } } })
    const r = await run(['check', '--limits', 'ami'], { env: envFor(server) })
    expect(r.code).toBe(3)
    expect(firstLine(r)).toBe(
      `pjctl: incomplete answer to PJSIPShowAors from 127.0.0.1:${server.port}: it announced 9 items, 8 arrived`,
    )
    expect(r.stdout).toBe(
      `PJCTL UNKNOWN - incomplete answer to PJSIPShowAors from 127.0.0.1:${server.port}: it announced 9 items, 8 arrived\n`,
    )
  })

  it('--max-output 1K: an answer larger than that is refused, exit 3', async () => {
    const server = await sim()
    const r = await run(['contacts', '--json', '--max-output', '1K'], { env: envFor(server) })
    expectUnreadable(r)
    // the contacts (DBGetTree) and pjsip.conf (GetConfig, on the second session) are both over 1 KB: either is refused first
    expect(r.stderr).toMatch(
      new RegExp(
        `^pjctl: the answer to (DBGetTree|GetConfig) from 127\\.0\\.0\\.1:${server.port} exceeded --max-output \\(1 KiB\\); stopped reading\nhint: raise --max-output if this server really holds that much\n$`,
      ),
    )
    const enough = await run(['contacts', '--json', '--max-output', '64K'], { env: envFor(server) })
    expect([enough.code, enough.stderr]).toEqual([0, ''])
    const command = await run(['contacts', '--source', 'command', '--max-output', '2K'], {
      env: envFor(server),
    })
    expectUnreadable(command)
    expect(firstLine(command)).toMatch(
      new RegExp(
        `^pjctl: the answer to (Command|GetConfig) from 127\\.0\\.0\\.1:${server.port} exceeded --max-output \\(2 KiB\\); stopped reading$`,
      ),
    )
  })

  it.each([
    ['DBGetTree', '22'],
    ['Command', '13'],
  ] as const)(
    'an answer to %s (Asterisk %s) with another ActionID: exit 3 after --timeout, saying so',
    async (action, version) => {
      const server = await sim({ version, faults: { wrongActionId: action } })
      const started = Date.now()
      const r = await run(['contacts', '--timeout', '0.5'], {
        env: envFor(server),
        killAfterMs: 5000,
      })
      expect(Date.now() - started).toBeLessThan(2000)
      expectUnreadable(r)
      expect(r.stderr).toBe(
        `pjctl: no answer to ${action} from 127.0.0.1:${server.port} within 0.5 s (it sent 1 answer(s) with an ActionID pjctl never used)\nhint: the server stalled; --timeout raises the limit\n`,
      )
    },
  )

  it('the Login answered with another ActionID: exit 3 after --timeout', async () => {
    const server = await sim({ faults: { wrongActionId: 'login' } })
    const r = await run(['contacts', '--timeout', '0.5'], {
      env: envFor(server),
      killAfterMs: 5000,
    })
    expectUnreadable(r)
    expect(r.stderr).toBe(`pjctl: no answer to Login from 127.0.0.1:${server.port} within 0.5 s\n`)
  })

  it.each([
    ['login', '22'],
    ['DBGetTree', '22'],
    ['Command', '22'],
    ['Command', '13'],
    ['PJSIPShowAors', '22'],
    ['GetConfig', '22'],
  ] as const)(
    'a duplicated %s answer (Asterisk %s) is read once: same result, exit 0',
    async (action, version) => {
      const server = await sim({ version, faults: { duplicateResponse: action } })
      const source = action === 'Command' ? 'command' : 'auto'
      const limits = action === 'PJSIPShowAors' ? 'ami' : 'auto'
      const r = await run(['check', '--format', 'json', '--source', source, '--limits', limits], {
        env: envFor(server),
      })
      expect([r.code, r.stderr]).toEqual([2, ''])
      const doc = JSON.parse(r.stdout)
      const aors = doc.servers[0].aors as {
        aor: string
        count: number
        maxContacts: number
        contacts: unknown[]
      }[]
      expect(aors.map((a) => [a.aor, a.count, a.maxContacts, a.contacts.length])).toEqual([
        ['FAP003', 2, 2, 2],
        ['alice', 1, 1, 1],
        ['bob', 2, 2, 2],
        ['carol', 1, 3, 1],
        ['dave', 1, 1, 1],
        ['erin', 2, 2, 2],
        ['phone1', 3, 4, 3],
        ['phone2', 0, 1, 0],
        ['wizphone', 1, 2, 1],
      ])
    },
  )
})

/** A bare AMI server: banner, Login accepted, no config files and no AORs (the limits' session), every other
 *  action gets the start of a list answer and then a TCP reset. */
function resettingServer(received: string[]): Promise<Server> {
  const server = createServer((socket) => {
    socket.setEncoding('utf8')
    socket.on('error', () => undefined)
    socket.write('Asterisk Call Manager/11.0.0\r\n')
    let buffer = ''
    socket.on('data', (chunk: string) => {
      buffer += chunk
      for (let end = buffer.indexOf('\r\n\r\n'); end >= 0; end = buffer.indexOf('\r\n\r\n')) {
        const message = buffer.slice(0, end)
        buffer = buffer.slice(end + 4)
        const id = /^ActionID: (.*)$/im.exec(message)?.[1] ?? ''
        const action = /^Action: (.*)$/im.exec(message)?.[1] ?? ''
        received.push(action)
        if (/^challenge$/i.test(action)) {
          socket.write(`Response: Success\r\nActionID: ${id}\r\nChallenge: 284619077\r\n\r\n`)
        } else if (/^login$/i.test(action)) {
          socket.write(
            `Response: Success\r\nActionID: ${id}\r\nMessage: Authentication accepted\r\n\r\n`,
          )
        } else if (/^(getconfig|pjsipshowaors|logoff)$/i.test(action)) {
          const message = {
            getconfig: 'Config file not found',
            pjsipshowaors: 'No AORs found',
            logoff: 'Thanks for all the fish.',
          }[action.toLowerCase()]
          socket.write(
            `Response: ${/logoff/i.test(action) ? 'Goodbye' : 'Error'}\r\nActionID: ${id}\r\nMessage: ${message}\r\n\r\n`,
          )
        } else {
          socket.write(
            `Response: Success\r\nActionID: ${id}\r\nEventList: start\r\nMessage: Result will follow\r\n\r\n`,
          )
          setTimeout(() => socket.resetAndDestroy(), 30)
        }
      }
    })
  })
  return new Promise((done) => server.listen(0, '127.0.0.1', () => done(server)))
}

describe.concurrent('a reset connection', () => {
  const servers: Server[] = []
  afterEach(() => {
    for (const server of servers.splice(0)) server.close()
  })

  it('a TCP reset in the middle of the DBGetTree answer: exit 3, naming the answer that was cut', async () => {
    const received: string[] = []
    const server = await resettingServer(received)
    servers.push(server)
    const port = (server.address() as AddressInfo).port
    // spawned: the reset must reach a pjctl whose event loop the test server does not share
    const r = await spawned(['contacts', '--timeout', '2'], {
      env: {
        PJCTL_HOST: '127.0.0.1',
        PJCTL_PORT: String(port),
        PJCTL_USER: 'pjctl',
        PJCTL_SECRET: SECRET,
      },
    })
    expectUnreadable(r)
    // the limits' second session runs in parallel: whether its warning (this fake server has no pjsip.conf)
    // comes before the reset is a race, so it is left out; nothing else may be said
    const said = r.stderr
      .split('\n')
      .filter((line) => !line.startsWith('pjctl: warning: limits: '))
      .join('\n')
    expect(said).toBe(
      `pjctl: 127.0.0.1:${port} closed the connection with a reset in the middle of the answer to DBGetTree\nhint: the answer is incomplete; nothing was changed by this action\n`,
    )
    // the limits' second session (login, GetConfig...) may have started; nothing else was asked
    expect(received.slice(0, 4)).toEqual(['Challenge', 'login', 'GetConfig', 'DBGetTree'])
    expect(
      received.filter((a) => !/^(challenge|login|GetConfig|PJSIPShowAors|Logoff)$/i.test(a)),
    ).toEqual(['DBGetTree'])
  })
})

describe.concurrent('a silent server', () => {
  it('banner, then nothing: exit 3 within ~1 s of --timeout 0.5', async () => {
    const server = await sim({ faults: { stallAfterBanner: true } })
    const started = Date.now()
    const r = await run(['contacts', '--timeout', '0.5'], {
      env: envFor(server),
      killAfterMs: 5000,
    })
    expect(Date.now() - started).toBeLessThan(2000)
    expectUnreadable(r)
    expect(r.stderr).toBe(
      `pjctl: no answer to Challenge from 127.0.0.1:${server.port} within 0.5 s\nhint: the server stalled; --timeout raises the limit\n`,
    )
  })

  it.each([
    ['DBGetTree', 'dbgettree', 0],
    ['DBGetTree', 'dbgettree', 700],
    ['Command', 'command', 900],
    ['GetConfig', 'dbgettree', 0],
  ] as const)(
    'stalling in the %s answer (%s, after %i bytes): exit 3 within ~1 s',
    async (action, source, afterBytes) => {
      const server = await sim({ faults: { stall: { action, afterBytes } } })
      const started = Date.now()
      const r = await run(['contacts', '--timeout', '0.5', '--source', source], {
        env: envFor(server),
        killAfterMs: 5000,
      })
      expect(Date.now() - started).toBeLessThan(2000)
      expectUnreadable(r)
      expect(r.stderr).toBe(
        `pjctl: no answer to ${action} from 127.0.0.1:${server.port} within 0.5 s\nhint: the server stalled; --timeout raises the limit\n`,
      )
    },
  )

  it('check on a stalled server: UNKNOWN on stdout, exit 3', async () => {
    const server = await sim({ faults: { stall: { action: 'DBGetTree', afterBytes: 200 } } })
    const r = await run(['check', '--timeout', '0.5'], { env: envFor(server), killAfterMs: 5000 })
    expect(r.code).toBe(3)
    expect(r.stdout).toBe(
      `PJCTL UNKNOWN - no answer to DBGetTree from 127.0.0.1:${server.port} within 0.5 s\n`,
    )
  })
})

describe.concurrent('the wrong server, or none', () => {
  it('connection refused: exit 3', async () => {
    const port = await closedPort()
    const r = await run(['contacts'], {
      env: {
        PJCTL_HOST: '127.0.0.1',
        PJCTL_PORT: String(port),
        PJCTL_USER: 'pjctl',
        PJCTL_SECRET: SECRET,
      },
    })
    expectUnreadable(r)
    expect(r.stderr).toBe(
      `pjctl: connection refused by 127.0.0.1:${port}\nhint: is Asterisk running, with manager.conf [general] enabled = yes and this port?\n`,
    )
  })

  it('an HTTP server instead of AMI: exit 3, not an Asterisk manager interface', async () => {
    const server = await sim({
      faults: {
        garbageBanner:
          'HTTP/1.1 400 Bad Request\r\nContent-Type: text/html\r\nContent-Length: 0\r\n\r\n',
      },
    })
    const r = await run(['contacts'], { env: envFor(server) })
    expectUnreadable(r)
    expect(r.stderr).toBe(
      "pjctl: the peer is not an Asterisk manager interface (it said 'HTTP/1.1 400 Bad Request')\nhint: check --host/--port: AMI listens on port 5038 by default (manager.conf [general] port=)\n",
    )
    expect(server.received).toEqual([])
  })
})

describe.concurrent('credentials and privileges', () => {
  it('a wrong secret: exit 3, Authentication failed, the secret shown nowhere', async () => {
    const server = await sim()
    const wrong = 'Wr0ng-s3cret-xyz'
    const r = await run(['contacts', '--debug'], { env: envFor(server, 'pjctl', wrong) })
    expectUnreadable(r, wrong)
    expect(r.stderr.split('\n').find((line) => !line.startsWith('pjctl: debug:'))).toBe(
      `pjctl: login to 127.0.0.1:${server.port} as 'pjctl' failed: Authentication failed`,
    )
    expect(actions(server.received)).toEqual(['Challenge', 'login'])
    const checked = await run(['check'], { env: envFor(server, 'pjctl', wrong) })
    expect(checked.code).toBe(3)
    expect(checked.stdout).toBe(
      `PJCTL UNKNOWN - login to 127.0.0.1:${server.port} as 'pjctl' failed: Authentication failed\n`,
    )
    expectNoSecret(checked, wrong)
  })

  it('write=reporting only: DBGetTree works, GetConfig and PJSIPShowAors are denied: a warning, max_contacts unknown, exit 0', async () => {
    const server = await sim({
      users: [{ username: 'ro', secret: 'ro-pw-77', write: ['reporting'] }],
    })
    const r = await run(['contacts', '--json'], { env: envFor(server, 'ro', 'ro-pw-77') })
    expect(r.code).toBe(0)
    expect(r.stderr).toBe(
      "pjctl: warning: cannot read sorcery.conf to learn where contacts live (AMI action GetConfig was refused: permission denied (needs write=system or config)); read astdb registrar/contact (res_pjsip's default), which holds contacts\n" +
        `pjctl: warning: 127.0.0.1:${server.port}: cannot read max_contacts over AMI (AMI actions GetConfig and PJSIPShowAors were refused: permission denied (needs write=config or system)); ` +
        "give [ro] write=config (GetConfig) or write=system in manager.conf, then 'manager reload'\n",
    )
    const doc = JSON.parse(r.stdout)
    expect(doc.source).toBe('dbgettree')
    expect(
      doc.aors.map((a: { aor: string; maxContacts: null; state: string; severity: number }) => [
        a.aor,
        a.maxContacts,
        a.state,
        a.severity,
      ]),
    ).toEqual(
      ['FAP003', 'alice', 'bob', 'carol', 'dave', 'erin', 'phone1', 'wizphone'].map((name) => [
        name,
        null,
        'unknown',
        0,
      ]),
    )
    expect(actions(server.received)).toEqual([
      'Challenge',
      'login',
      'GetConfig',
      'DBGetTree',
      'Logoff',
    ])
    expect(
      server.received
        .filter((a) => a.connection !== server.received[0]!.connection)
        .map((a) => a.action),
    ).toEqual([
      'Challenge',
      'login',
      'GetConfig',
      'GetConfig',
      'GetConfig',
      'PJSIPShowAors',
      'Logoff',
    ])
    expectNoSecret(r, 'ro-pw-77')
  })

  it('no class at all: exit 3, naming the classes that would do (command, system or reporting)', async () => {
    const server = await sim({ users: [{ username: 'nobody', secret: 'nb-pw-99', write: [] }] })
    const r = await run(['contacts'], { env: envFor(server, 'nobody', 'nb-pw-99') })
    expectUnreadable(r, 'nb-pw-99')
    expect(r.stderr).toBe(
      'pjctl: AMI actions DBGetTree and Command were refused: permission denied (needs write=system or reporting or command)\n' +
        'hint: give [nobody] write=reporting (DBGetTree, Asterisk 16.28/18.14/19.6+) or write=command in manager.conf\n',
    )
    expect(actions(server.received)).toEqual([
      'Challenge',
      'login',
      'GetConfig',
      'DBGetTree',
      'Command',
      'Logoff',
    ])
  })

  it('write=reporting on Asterisk 13 (no DBGetTree, Command denied): exit 3', async () => {
    const server = await sim({
      version: '13',
      users: [{ username: 'ro', secret: 'ro-pw-13', write: ['reporting'] }],
    })
    const r = await run(['contacts'], { env: envFor(server, 'ro', 'ro-pw-13') })
    expectUnreadable(r, 'ro-pw-13')
    expect(firstLine(r)).toBe(
      'pjctl: AMI actions DBGetTree and Command were refused: permission denied (needs write=system or reporting or command)',
    )
  })
})

describe.concurrent('header injection is refused before any byte is sent', () => {
  it('an endpoint name with CR/LF: exit 2, the sim received nothing (not even a Login)', async () => {
    const server = await sim()
    const r = await run(['contacts', 'FAP003\r\nAction: DBDelTree'], { env: envFor(server) })
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr).toBe(
      'pjctl: AOR or endpoint name "FAP003\\r\\nAction: DBDelTree" contains a control character (\\r) at position 7: no AOR or endpoint name can hold one\n',
    )
    expectNoSecret(r, SECRET)
    expect(server.received).toEqual([])
    const lf = await run(['check', 'FAP003\nAction: DBDelTree'], { env: envFor(server) })
    expect(lf.code).toBe(3)
    expect(server.received).toEqual([])
  })

  it('a --user or PJCTL_USER with CR/LF: exit 2, nothing sent', async () => {
    const server = await sim()
    const flag = await run(['contacts', '--user', 'pjctl\r\nAction: DBDelTree'], {
      env: envFor(server),
    })
    expect(flag.code).toBe(2)
    expect(flag.stderr).toBe(
      "pjctl: refusing to send user 'pjctl\\r\\nAction: DBDelTree': it contains \\r (AMI header injection)\nhint: names, keys, users and secrets may not contain CR, LF or NUL\n",
    )
    const env = await run(['contacts'], {
      env: { ...envFor(server), PJCTL_USER: 'pjctl\nEvents: on' },
    })
    expect(env.code).toBe(2)
    expectNoSecret(flag, SECRET)
    expectNoSecret(env, SECRET)
    expect(firstLine(env)).toBe(
      "pjctl: refusing to send user 'pjctl\\nEvents: on': it contains \\n (AMI header injection)",
    )
    expect(server.received).toEqual([])
  })

  it('a PJCTL_SECRET with CR/LF: exit 2, nothing sent, and the secret is not echoed', async () => {
    const server = await sim()
    const secret = 'pjctl-secret\r\nAction: DBDelTree'
    const r = await run(['contacts'], { env: { ...envFor(server), PJCTL_SECRET: secret } })
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr).toBe(
      'pjctl: refusing to send secret: it contains \\r (AMI header injection)\nhint: names, keys, users and secrets may not contain CR, LF or NUL\n',
    )
    expect(r.stderr).not.toContain('pjctl-secret')
    expect(server.received).toEqual([])
  })
})
