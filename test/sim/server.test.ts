// How the sim reads messages, checks privileges, sends events, speaks Asterisk 13, and serves big answers.

import { afterEach, describe, expect, it } from 'vitest'
import { CONTACT_FAMILY } from '../../src/core/types.js'
import { defineAor } from '../../src/sim/registrar.js'
import { CAPTURED_AT, generateRows } from '../../src/sim/seed.js'
import { startSim, type SimAsterisk } from '../../src/sim/server.js'
import { afterLogin, amiMessage, loggedIn, rawClient, startLab } from './helpers.js'

const FAP003_5071 = 'FAP003;@e6b0e56f68ce8a45f643c8c7fd05c854'

let sim: SimAsterisk | undefined
afterEach(async () => {
  await sim?.stop()
  sim = undefined
})

async function lab(options: Parameters<typeof startLab>[0] = {}): Promise<SimAsterisk> {
  sim = await startLab(options)
  return sim
}

const registerPhone2 = (target: SimAsterisk) =>
  target.registrar.register({
    aor: 'phone2',
    uri: 'sip:phone2@127.0.0.1:5401',
    viaAddr: '127.0.0.1',
    viaPort: 5401,
    userAgent: 'Zoiper rv2.10.20.4',
  })

describe('reading messages', () => {
  it('answers an action before Login with Permission denied and keeps the connection', async () => {
    const target = await lab()
    const client = await rawClient(target.port)
    client.send(
      amiMessage(
        'Action: DBGet',
        'ActionID: early',
        'Family: registrar/contact',
        `Key: ${FAP003_5071}`,
      ),
    )
    await client.waitFor('Response: Error\r\nActionID: early\r\nMessage: Permission denied\r\n\r\n')
    client.send(
      amiMessage(
        'Action: Login',
        'ActionID: login',
        'Username: pjctl',
        'Secret: pjctl-secret',
        'Events: off',
      ),
    )
    await client.waitFor('Message: Authentication accepted\r\n\r\n')
  })

  it('reads whole messages whatever the header order and case (asterisk-manager sorts them), and records them as sent', async () => {
    const target = await lab()
    const client = await loggedIn(target)
    client.send(
      `ActionID: 1\r\nAction: dbget\r\nFAMILY: registrar/contact\r\nkey:${FAP003_5071}\r\n\r\n`,
    )
    const answer = afterLogin(await client.waitFor('ListItems: 1\r\n\r\n'))
    expect(answer).toMatch(/^Response: Success\r\nActionID: 1\r\nEventList: start\r\n/)
    expect(answer).toContain(`Family: registrar/contact\r\nKey: ${FAP003_5071}\r\nVal: {"via_addr"`)
    expect(target.received.at(-1)).toEqual({
      connection: 1,
      action: 'dbget',
      headers: [
        ['ActionID', '1'],
        ['Action', 'dbget'],
        ['FAMILY', 'registrar/contact'],
        ['key', FAP003_5071],
      ],
    })
  })

  it('accepts lines ending in a bare LF, and answers a message without Action', async () => {
    const target = await lab()
    const client = await loggedIn(target)
    client.send('Action: Ping\nActionID: lf\n\nActionID: none\r\n\r\n')
    const answer = afterLogin(await client.waitFor('Message: Missing action in request\r\n\r\n'))
    expect(answer).toMatch(
      /^Response: Success\r\nActionID: lf\r\nPing: Pong\r\nTimestamp: \d+\.\d{6}\r\n\r\nResponse: Error\r\nActionID: none\r\n/,
    )
  })

  it('runs a CLI command it does not know as Asterisk does', async () => {
    const target = await lab()
    const client = await loggedIn(target)
    client.send(amiMessage('Action: Command', 'ActionID: c', 'Command: database frobnicate x'))
    const answer = afterLogin(await client.waitFor('commands)\r\n\r\n'))
    expect(answer).toBe(
      'Response: Error\r\nActionID: c\r\nMessage: Command output follows\r\n' +
        "Output: No such command 'database frobnicate x' (type 'core show help database frobnicate' for other possible commands)\r\n\r\n",
    )
  })

  it("runs database put and get over Command, with the CLI's quoting", async () => {
    const target = await lab()
    const client = await loggedIn(target)
    client.send(
      amiMessage(
        'Action: Command',
        'ActionID: put',
        'Command: database put test "some key" "a \\"quoted\\" value"',
      ) +
        amiMessage('Action: Command', 'ActionID: get', 'Command: database get test "some key"') +
        amiMessage('Action: Command', 'ActionID: miss', 'Command: database get test nokey'),
    )
    const answer = afterLogin(await client.waitFor('Output: Database entry not found.\r\n\r\n'))
    expect(answer).toContain('Output: Updated database successfully\r\n')
    expect(answer).toContain('Output: Value: a "quoted" value\r\n')
    expect(target.astdb.get('test', 'some key')).toBe('a "quoted" value')
  })
})

describe('users and events', () => {
  it('lets users override the defaults; any one write class allows an action', async () => {
    const target = await lab({
      users: [{ username: 'ops', secret: 's3', write: ['reporting', 'command'] }],
    })
    const client = await loggedIn(target, 'ops', 's3')
    client.send(
      amiMessage(
        'Action: DBDel',
        'ActionID: del',
        'Family: registrar/contact',
        `Key: ${FAP003_5071}`,
      ) + amiMessage('Action: Command', 'ActionID: cmd', 'Command: core show version'),
    )
    const answer = afterLogin(await client.waitFor('Output: Asterisk 22.10.1'))
    expect(answer).toMatch(
      /^Response: Error\r\nActionID: del\r\nMessage: Permission denied\r\n\r\n/,
    )
  })

  it('ListCommands lists the actions the user may run, as Asterisk 22 writes them (`Synopsis.  (Priv: classes,all)`)', async () => {
    const target = await lab({ users: [{ username: 'ro', secret: 'ro-s', write: ['reporting'] }] })
    const client = await loggedIn(target, 'ro', 'ro-s')
    client.send(amiMessage('Action: ListCommands', 'ActionID: lc'))
    const answer = afterLogin(await client.waitFor(/ActionID: lc\r\n[\s\S]*\r\n\r\n/))
    const lines = answer.split('\r\n')
    expect(lines.slice(0, 2)).toEqual(['Response: Success', 'ActionID: lc'])
    // as captured from the lab for user pjctl: `DBGetTree: Get DB entries, optionally at a particular family/key  (Priv: system,reporting,all)`
    expect(lines).toContain(
      'DBGetTree: Get DB entries, optionally at a particular family/key  (Priv: system,reporting,all)',
    )
    expect(lines).toContain('ListCommands: List available manager commands.  (Priv: <none>)')
    expect(lines.some((l) => l.startsWith('Command:') || l.startsWith('DBDel:'))).toBe(false)
  })

  it('sends ContactStatus and PeerStatus to a system listener, not to pjro nor to Events: off', async () => {
    const target = await lab()
    const listener = await rawClient(target.port)
    listener.send(amiMessage('Action: Login', 'Username: pjctl', 'Secret: pjctl-secret'))
    await listener.waitFor('Status: Fully Booted\r\n\r\n')
    const readOnly = await loggedIn(target, 'pjro')
    const quiet = await loggedIn(target)
    expect(registerPhone2(target).code).toBe(200)
    await listener.waitFor(
      'Event: PeerStatus\r\nPrivilege: system,all\r\nChannelType: PJSIP\r\nPeer: PJSIP/phone2\r\nPeerStatus: Reachable\r\n\r\n' +
        'Event: ContactStatus\r\nPrivilege: system,all\r\nURI: sip:phone2@127.0.0.1:5401\r\n',
    )
    for (const client of [readOnly, quiet]) {
      client.send(amiMessage('Action: Ping', 'ActionID: p'))
      expect(afterLogin(await client.waitFor('Ping: Pong'))).not.toContain('Event:')
    }
  })
})

describe('Asterisk 13', () => {
  it('greets as AMI 2.10.6, answers Command with Response: Follows and raw output, and does not know DBGetTree', async () => {
    sim = await startSim({
      version: '13',
      seed: { rows: [], aors: [defineAor('alice', { maxContacts: 1 })] },
    })
    sim.astdb.put(CONTACT_FAMILY, 'alice;@1', '{"a":"b"}')
    const client = await rawClient(sim.port)
    client.send(
      amiMessage(
        'Action: Login',
        'ActionID: l',
        'Username: pjctl',
        'Secret: pjctl-secret',
        'Events: off',
      ) +
        amiMessage(
          'Action: Command',
          'ActionID: show',
          'Command: database show registrar/contact',
        ) +
        amiMessage('Action: DBGetTree', 'ActionID: tree', 'Family: registrar/contact'),
    )
    const received = await client.waitFor(
      'Use Action: ListCommands to show available commands.\r\n\r\n',
    )
    expect(received.startsWith('Asterisk Call Manager/2.10.6\r\n')).toBe(true)
    expect(afterLogin(received)).toBe(
      'Response: Follows\r\nPrivilege: Command\r\nActionID: show\r\n' +
        `${'/registrar/contact/alice;@1'.padEnd(50)}: ${'{"a":"b"}'.padEnd(25)}\n` +
        '1 results found.\n' +
        '--END COMMAND--\r\n\r\n' +
        'Response: Error\r\nActionID: tree\r\n' +
        'Message: Invalid/unknown command: DBGetTree. Use Action: ListCommands to show available commands.\r\n\r\n',
    )
  })
})

describe('state and scale', () => {
  it('PJSIPShowAors deletes the expired contacts it meets, as Asterisk does', async () => {
    const target = await lab()
    target.now = () => 1795460426 + 1 // bob's contact from port 5093 has just expired
    const client = await loggedIn(target)
    client.send(amiMessage('Action: PJSIPShowAors', 'ActionID: aors'))
    const answer = await client.waitFor('AorListComplete')
    expect(answer).toContain('Contacts: bob/sip:bob@127.0.0.1:5092\r\n')
    expect(
      target.astdb.get(CONTACT_FAMILY, 'bob;@6eb848a7f68f517e9b726b1c8fe974c0'),
    ).toBeUndefined()
    expect(target.astdb.size).toBe(12)
  })

  it('serves 20,000 contacts over DBGetTree in 64 KiB chunks, every one of them', async () => {
    const now = CAPTURED_AT
    sim = await startSim({
      seed: generateRows({ count: 20000, now }),
      now: () => now,
      chunkSize: 64 * 1024,
    })
    const client = await loggedIn(sim)
    client.send(amiMessage('Action: DBGetTree', 'ActionID: tree', 'Family: registrar/contact'))
    const answer = await client.waitFor('ListItems: 20000\r\n\r\n', 10000)
    expect(answer.match(/^Event: DBGetTreeResponse\r$/gm)).toHaveLength(20000)
  })

  it('stop() closes every connection; connections counts the open ones', async () => {
    const target = await lab()
    const client = await loggedIn(target)
    expect(target.connections).toBe(1)
    await target.stop()
    await client.closed()
    expect(target.connections).toBe(0)
    sim = undefined
  })
})
