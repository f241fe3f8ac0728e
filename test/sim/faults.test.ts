// Every injectable fault, seen from a raw client.

import { afterEach, describe, expect, it } from 'vitest'
import { CONTACT_FAMILY } from '../../src/core/types.js'
import { generateRows } from '../../src/sim/seed.js'
import type { FaultySim, FaultySimOptions } from '../../src/sim/faults.js'
import { startSim, type SimAsterisk } from '../../src/sim/server.js'
import { afterLogin, amiMessage, loggedIn, rawClient, sleep, startLab } from './helpers.js'

const FAP003_5071 = 'FAP003;@e6b0e56f68ce8a45f643c8c7fd05c854'
const DB_GET_TREE = amiMessage('Action: DBGetTree', 'ActionID: tree', 'Family: registrar/contact')
const DATABASE_SHOW = amiMessage(
  'Action: Command',
  'ActionID: show',
  'Command: database show registrar/contact',
)
const PING = amiMessage('Action: Ping', 'ActionID: ping')

/** An action on one key of registrar/contact. */
const onKey = (action: string, actionId: string, key = FAP003_5071) =>
  amiMessage(
    `Action: ${action}`,
    `ActionID: ${actionId}`,
    'Family: registrar/contact',
    `Key: ${key}`,
  )

let sim: SimAsterisk | undefined
afterEach(async () => {
  await sim?.stop()
  sim = undefined
})

async function lab(options: FaultySimOptions = {}): Promise<FaultySim> {
  const started = await startLab(options)
  sim = started
  return started
}

/** What the sim answers to `message` on a fresh logged-in connection, once `until` arrived. */
async function ask(target: FaultySim, message: string, until: string): Promise<string> {
  const client = await loggedIn(target)
  client.send(message)
  return afterLogin(await client.waitFor(until))
}

const count = (text: string, pattern: RegExp) => text.match(pattern)?.length ?? 0

describe('faults', () => {
  it('garbageBanner: sends that instead of the banner, then closes', async () => {
    const http = 'HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n'
    const target = await lab({ faults: { garbageBanner: http } })
    const client = await rawClient(target.port)
    expect(await client.closed()).toBe(http)
  })

  it('stallAfterBanner: the banner, then no answer at all, the connection open', async () => {
    const target = await lab({ faults: { stallAfterBanner: true } })
    const client = await rawClient(target.port)
    client.send(amiMessage('Action: Login', 'Username: pjctl', 'Secret: pjctl-secret'))
    await sleep(100)
    expect(client.received).toBe('Asterisk Call Manager/11.0.0\r\n')
    expect(client.ended).toBe(false)
    expect(target.received.map((action) => action.action)).toEqual(['Login'])
  })

  it("stall: the first afterBytes bytes of that action's answer, then silence, the connection open", async () => {
    const target = await lab({ faults: { stall: { action: 'dbgettree', afterBytes: 40 } } })
    const client = await loggedIn(target)
    client.send(DB_GET_TREE + PING)
    await sleep(100)
    expect(afterLogin(client.received)).toBe('Response: Success\r\nActionID: tree\r\nEvent')
    expect(client.ended).toBe(false)
    expect(target.connections).toBe(1)
  })

  it("closeMidAnswer: the first afterBytes bytes of that action's answer, then the connection closes", async () => {
    const target = await lab({
      faults: { closeMidAnswer: { action: 'PJSIPShowContacts', afterBytes: 100 } },
    })
    const client = await loggedIn(target)
    client.send(amiMessage('Action: PJSIPShowContacts', 'ActionID: contacts'))
    const answer = afterLogin(await client.closed())
    expect(Buffer.byteLength(answer, 'latin1')).toBe(100)
    expect(
      answer.startsWith('Response: Success\r\nActionID: contacts\r\nEventList: start\r\n'),
    ).toBe(true)
  })

  it('dropOutputLines: Command loses contact lines but still says 13 results found', async () => {
    const target = await lab({ faults: { dropOutputLines: { action: 'Command', count: 3 } } })
    const answer = await ask(target, DATABASE_SHOW, 'results found.\r\n\r\n')
    expect(count(answer, /^Output: \/registrar\/contact\//gm)).toBe(10)
    expect(answer).toContain('Output: 13 results found.\r\n\r\n')
  })

  it('dropOutputLines: DBGetTree loses events but still says ListItems: 13', async () => {
    const target = await lab({ faults: { dropOutputLines: { action: 'DBGetTree', count: 2 } } })
    const answer = await ask(target, DB_GET_TREE, 'ListItems: 13\r\n\r\n')
    expect(count(answer, /^Event: DBGetTreeResponse\r$/gm)).toBe(11)
  })

  it('wrongActionId: that action is answered with another ActionID only', async () => {
    const target = await lab({ faults: { wrongActionId: 'DBGet' } })
    const answer = await ask(target, onKey('DBGet', 'get-1'), 'ListItems: 1\r\n\r\n')
    expect(answer).not.toMatch(/^ActionID: get-1\r$/m)
    expect(count(answer, /^ActionID: get-1-wrong\r$/gm)).toBe(3)
  })

  it("duplicateResponse: that action's answer comes twice", async () => {
    const target = await lab({ faults: { duplicateResponse: 'DBDel' } })
    const client = await loggedIn(target)
    client.send(onKey('DBDel', 'del') + PING)
    const answer = afterLogin(await client.waitFor('Ping: Pong'))
    const deleted =
      'Response: Success\r\nActionID: del\r\nMessage: Key deleted successfully\r\n\r\n'
    expect(answer.startsWith(deleted + deleted)).toBe(true)
  })

  it('dbDelFail: DBDel and `database del` of those keys fail and delete nothing', async () => {
    const target = await lab({ faults: { dbDelFail: [FAP003_5071] } })
    const client = await loggedIn(target)
    client.send(
      onKey('DBDel', 'del') +
        amiMessage(
          'Action: Command',
          'ActionID: cli',
          `Command: database del registrar/contact ${FAP003_5071}`,
        ),
    )
    const answer = afterLogin(
      await client.waitFor('Output: Database entry could not be removed.\r\n\r\n'),
    )
    expect(answer).toContain(
      'Response: Error\r\nActionID: del\r\nMessage: Database entry could not be deleted\r\n\r\n',
    )
    expect(target.astdb.get(CONTACT_FAMILY, FAP003_5071)).toBeDefined()
  })

  it("beforeAction: runs (and is awaited) before each answer, e.g. to change a value between a prune's plan and its delete", async () => {
    const seen: string[] = []
    const target = await lab({
      faults: {
        beforeAction: async (action, headers, simulated) => {
          seen.push(`${action}:${headers.length}`)
          if (action === 'DBDel') {
            await sleep(20)
            simulated.astdb.put(CONTACT_FAMILY, FAP003_5071, '{"changed":"yes"}')
          }
        },
      },
    })
    const answer = await ask(
      target,
      onKey('DBDel', 'del', 'nosuchkey') + onKey('DBGet', 'get'),
      'DBGetComplete',
    )
    expect(answer).toContain('Val: {"changed":"yes"}\r\n')
    expect(seen).toEqual(['Login:5', 'DBDel:4', 'DBGet:4'])
  })

  it('maxConnections: connections beyond it are closed at once', async () => {
    const target = await lab({ faults: { maxConnections: 1 } })
    const first = await rawClient(target.port)
    await first.waitFor('Asterisk Call Manager/11.0.0\r\n')
    const second = await rawClient(target.port)
    expect(await second.closed()).toBe('')
    expect(first.ended).toBe(false)
  })

  it('restart(): every connection is dropped, the sim keeps listening and keeps its astdb', async () => {
    const target = await lab({ faults: { stall: { action: 'DBDel' } } })
    const client = await loggedIn(target)
    client.send(onKey('DBDel', 'del'))
    await sleep(20)
    target.restart()
    await client.closed()
    expect(target.astdb.get(CONTACT_FAMILY, FAP003_5071)).toBeUndefined()
    target.setFaults({})
    const answer = await ask(target, DB_GET_TREE, 'ListItems: 12\r\n\r\n')
    expect(answer).not.toContain(FAP003_5071)
  })

  it('setFaults: changes the faults of a running sim', async () => {
    const target = await lab()
    target.setFaults({ wrongActionId: 'Ping' })
    expect(await ask(target, amiMessage('Action: Ping', 'ActionID: p'), 'Ping: Pong')).toMatch(
      /^ActionID: p-wrong\r$/m,
    )
    target.setFaults({})
    expect(await ask(target, amiMessage('Action: Ping', 'ActionID: p'), 'Ping: Pong')).toMatch(
      /^ActionID: p\r$/m,
    )
  })

  it('writetimeoutMs: a client that stops reading loses parts of a big Command answer, silently', async () => {
    const now = 1_800_000_000
    sim = await startSim({
      seed: generateRows({ count: 20000, now }),
      now: () => now,
      writetimeoutMs: 20,
    })
    const client = await loggedIn(sim)
    client.send(DATABASE_SHOW)
    // stop reading once the answer flows: the socket buffers fill, the sim's writes time out
    // the sim builds a 20,000-line answer first: on a loaded machine that can take seconds
    await client.waitFor('Output: /registrar/contact/', 15000)
    client.pause()
    await sleep(150)
    client.resume()
    const answer = afterLogin(await client.waitFor('results found.\r\n\r\n', 10000))
    const contactLines = count(answer, /^Output: \/registrar\/contact\/.*\r$/gm)
    expect(answer).toContain('Output: 20000 results found.\r\n\r\n')
    expect(contactLines).toBeGreaterThan(15000)
    expect(contactLines).toBeLessThan(20000)
  })
})
