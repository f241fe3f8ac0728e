// The sim's Challenge and MD5 Login, as main/manager.c (22.10.1) answers them:
// action_challenge(), and authenticate() with AuthType MD5.
import { createHash } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { startFaultySim } from '../../src/sim/faults.js'
import { startSim, type SimAsterisk } from '../../src/sim/server.js'
import { amiMessage, rawClient } from './helpers.js'

const md5 = (text: string) => createHash('md5').update(text).digest('hex')

let sim: SimAsterisk | undefined
afterEach(async () => {
  await sim?.stop()
  sim = undefined
})

const BANNER = 'Asterisk Call Manager/11.0.0\r\n'

/** Sends a Challenge and returns the challenge from the answer (checking the answer's exact bytes). */
async function challenge(
  client: Awaited<ReturnType<typeof rawClient>>,
  id: string,
  authType = 'MD5',
): Promise<string> {
  const before = client.received.length
  client.send(amiMessage('Action: Challenge', `ActionID: ${id}`, `AuthType: ${authType}`))
  const text = (
    await client.waitFor(new RegExp(`ActionID: ${id}\\r\\nChallenge: \\d+\\r\\n\\r\\n`))
  ).slice(before)
  const answer = /Response: Success\r\nActionID: (.*)\r\nChallenge: (\d+)\r\n\r\n/.exec(text)
  expect(answer, `the whole answer: ${JSON.stringify(text)}`).not.toBeNull()
  // astman_start_ack: Response and ActionID, no Message; then the Challenge line and the blank line
  expect(text.replace(BANNER, '')).toBe(
    `Response: Success\r\nActionID: ${id}\r\nChallenge: ${answer![2]}\r\n\r\n`,
  )
  return answer![2]!
}

describe('sim: Challenge (action_challenge)', () => {
  it('AuthType MD5 (any case) gets a challenge of at most 9 digits (ast_random() into char[10]), the same one for the whole connection', async () => {
    sim = await startSim()
    const client = await rawClient(sim.port)
    const first = await challenge(client, 'c1')
    expect(first).toMatch(/^\d{1,9}$/)
    expect(await challenge(client, 'c2', 'md5')).toBe(first)
    const other = await rawClient(sim.port)
    // another connection has its own (equal only by a 1 in 10^9 chance)
    expect(await challenge(other, 'c3')).not.toBe(first)
    client.destroy()
    other.destroy()
  })

  it('without AuthType MD5: Must specify AuthType, and the connection stays open', async () => {
    sim = await startSim()
    const client = await rawClient(sim.port)
    client.send(amiMessage('Action: Challenge', 'ActionID: none'))
    await client.waitFor(
      'Response: Error\r\nActionID: none\r\nMessage: Must specify AuthType\r\n\r\n',
    )
    client.send(amiMessage('Action: Challenge', 'ActionID: plain', 'AuthType: plain'))
    await client.waitFor(
      'Response: Error\r\nActionID: plain\r\nMessage: Must specify AuthType\r\n\r\n',
    )
    expect(client.ended).toBe(false)
    client.destroy()
  })

  it('is allowed before Login and after it (no privilege needed)', async () => {
    sim = await startSim({ users: [{ username: 'nobody', secret: 'n-secret', write: [] }] })
    const client = await rawClient(sim.port)
    const key = md5((await challenge(client, 'c1')) + 'n-secret')
    client.send(
      amiMessage(
        'Action: Login',
        'ActionID: l',
        'Username: nobody',
        'AuthType: MD5',
        `Key: ${key}`,
        'Events: off',
      ),
    )
    await client.waitFor(
      'Response: Success\r\nActionID: l\r\nMessage: Authentication accepted\r\n\r\n',
    )
    await challenge(client, 'c2')
    client.destroy()
  })
})

describe('sim: Login with AuthType MD5 (authenticate)', () => {
  it('Key = md5(challenge + secret) in lower-case hex logs in; the Secret header is not needed', async () => {
    sim = await startSim()
    const client = await rawClient(sim.port)
    const key = md5((await challenge(client, 'c')) + 'pjctl-secret')
    client.send(
      amiMessage(
        'Action: Login',
        'ActionID: l',
        'Username: pjctl',
        'AuthType: md5',
        `Key: ${key}`,
        'Events: off',
      ),
    )
    await client.waitFor(
      'Response: Success\r\nActionID: l\r\nMessage: Authentication accepted\r\n\r\n',
    )
    client.send(amiMessage('Action: DBGet', 'ActionID: g', 'Family: nothing', 'Key: here'))
    await client.waitFor(
      'Response: Error\r\nActionID: g\r\nMessage: Database entry not found\r\n\r\n',
    )
    client.destroy()
  })

  it.each([
    ['a wrong secret', (challenge: string) => md5(challenge + 'wrong')],
    [
      'upper-case hex (manager.c compares with strcmp)',
      (challenge: string) => md5(challenge + 'pjctl-secret').toUpperCase(),
    ],
    ['an empty Key', () => ''],
  ])('%s: Authentication failed, and the connection is closed', async (_, keyOf) => {
    sim = await startSim()
    const client = await rawClient(sim.port)
    const key = keyOf(await challenge(client, 'c'))
    client.send(
      amiMessage('Action: Login', 'ActionID: l', 'Username: pjctl', 'AuthType: MD5', `Key: ${key}`),
    )
    const text = await client.closed()
    expect(
      text.endsWith('Response: Error\r\nActionID: l\r\nMessage: Authentication failed\r\n\r\n'),
    ).toBe(true)
  })

  it('AuthType MD5 without a Challenge first fails even with the right Secret', async () => {
    sim = await startSim()
    const client = await rawClient(sim.port)
    client.send(
      amiMessage(
        'Action: Login',
        'ActionID: l',
        'Username: pjctl',
        'AuthType: MD5',
        `Key: ${md5('pjctl-secret')}`,
        'Secret: pjctl-secret',
      ),
    )
    expect(await client.closed()).toContain('Message: Authentication failed\r\n')
  })

  it('any other AuthType is a plain Login: the Secret decides', async () => {
    sim = await startSim()
    const client = await rawClient(sim.port)
    client.send(
      amiMessage(
        'Action: Login',
        'ActionID: l',
        'Username: pjctl',
        'AuthType: plain',
        'Secret: pjctl-secret',
        'Events: off',
      ),
    )
    await client.waitFor('Message: Authentication accepted\r\n\r\n')
    client.destroy()
  })

  it('the noChallenge fault: a server without the action answers Invalid/unknown command', async () => {
    sim = await startFaultySim({ faults: { noChallenge: true } })
    const client = await rawClient(sim.port)
    client.send(amiMessage('Action: Challenge', 'ActionID: c', 'AuthType: MD5'))
    await client.waitFor(
      'Response: Error\r\nActionID: c\r\nMessage: Invalid/unknown command: Challenge. Use Action: ListCommands to show available commands.\r\n\r\n',
    )
    client.destroy()
  })
})
