// The sim's security events (read=security) for registrations, and AMI event filtering (the `Filter`
// action as main/manager.c implements it).
import { afterEach, describe, expect, it } from 'vitest'
import { defineAor } from '../../src/sim/registrar.js'
import { parseFilter, shouldSend, type EventFilter } from '../../src/sim/filter.js'
import { startSim, type SimAsterisk, type SimUser } from '../../src/sim/server.js'
import { amiMessage, rawClient, sleep, type RawClient } from './helpers.js'

let sim: SimAsterisk | undefined
afterEach(async () => {
  await sim?.stop()
  sim = undefined
})

const USERS: SimUser[] = [
  {
    username: 'pjctl',
    secret: 'pjctl-secret',
    write: ['system', 'command', 'reporting', 'user'],
    read: ['system', 'command', 'reporting', 'user', 'security'],
  },
  { username: 'nosec', secret: 'nosec-secret', write: ['system', 'command', 'reporting', 'user'] },
]

const phone = (port: number) => ({
  aor: 'FAP003',
  uri: `sip:FAP003@127.0.0.1:${port}`,
  viaAddr: '127.0.0.1',
  viaPort: port,
  userAgent: 'Grandstream GXP2130 1.0.11.3',
})

async function fullSim(): Promise<SimAsterisk> {
  return startSim({
    users: USERS,
    seed: { rows: [], aors: [defineAor('FAP003', { maxContacts: 2 })] },
  })
}

async function listen(port: number, user = 'pjctl'): Promise<RawClient> {
  const client = await rawClient(port)
  client.send(amiMessage('Action: Login', `Username: ${user}`, `Secret: ${user}-secret`))
  await client.waitFor('Authentication accepted')
  return client
}

const count = (text: string, what: string): number => text.split(what).length - 1

describe('sim security events', () => {
  it('a REGISTER over max_contacts: 403 and FailedACL with the endpoint, the refused address and the Call-ID, to read=security only', async () => {
    sim = await fullSim()
    const sec = await listen(sim.port)
    const nosec = await listen(sim.port, 'nosec')
    expect(sim.register(phone(5071)).code).toBe(200)
    expect(sim.register(phone(5072)).code).toBe(200)
    expect(sim.register({ ...phone(5073), callId: 'abc@127.0.0.1' }).code).toBe(403)
    const text = await sec.waitFor('Event: FailedACL')
    await sec.waitFor('ACLName: registrar_attempt_exceeds_maximum_configured_contacts\r\n\r\n')
    const failed = text.slice(text.indexOf('Event: FailedACL'))
    expect(failed).toContain('Privilege: security,all\r\n')
    expect(failed).toContain('Service: PJSIP\r\n')
    expect(failed).toContain('AccountID: FAP003\r\n')
    expect(failed).toContain('SessionID: abc@127.0.0.1\r\n')
    expect(failed).toContain('RemoteAddress: IPV4/UDP/127.0.0.1/5073\r\n')
    // every digest REGISTER is challenged and authenticated
    expect(count(sec.received, 'Event: ChallengeSent')).toBe(3)
    expect(count(sec.received, 'Event: SuccessfulAuth')).toBe(3)
    await sleep(50)
    expect(nosec.received).not.toContain('Privilege: security')
    sec.destroy()
    nosec.destroy()
  })

  it('a wrong password: 401, ChallengeResponseFailed, nothing stored', async () => {
    sim = await fullSim()
    const sec = await listen(sim.port)
    expect(sim.register(phone(5074), 'wrong-password').code).toBe(401)
    await sec.waitFor('Event: ChallengeResponseFailed')
    expect(sim.astdb.size).toBe(0)
    expect(sec.received).not.toContain('SuccessfulAuth')
    sec.destroy()
  })

  it('an AOR without max_contacts: RequestNotSupported registrar_attempt_without_registration_permitted', async () => {
    sim = await startSim({ users: USERS, seed: { rows: [], aors: [defineAor('FAP003')] } })
    const sec = await listen(sim.port)
    expect(sim.register(phone(5071)).code).toBe(403)
    await sec.waitFor('RequestType: registrar_attempt_without_registration_permitted')
    sec.destroy()
  })
})

describe('the Filter action', () => {
  it('an include filter: only the named events reach the session (the answer to an action still does)', async () => {
    sim = await fullSim()
    const client = await listen(sim.port)
    client.send(
      amiMessage(
        'Action: Filter',
        'ActionID: f1',
        'Operation: Add',
        'Filter: ^Event: (FailedACL|ContactStatus)[^A-Za-z0-9]',
      ),
    )
    await client.waitFor('ActionID: f1\r\nMessage: Success')
    const sentBefore = sim.eventsSent
    sim.register(phone(5071))
    sim.register(phone(5072))
    sim.register(phone(5073))
    await client.waitFor('Event: FailedACL')
    client.send(amiMessage('Action: Ping', 'ActionID: p1'))
    await client.waitFor('ActionID: p1')
    expect(count(client.received, 'Event: ContactStatus')).toBe(2)
    expect(client.received).not.toContain('SuccessfulAuth')
    expect(client.received).not.toContain('ChallengeSent')
    expect(client.received).not.toContain('PeerStatus')
    // 2 ContactStatus + 1 FailedACL: 3 events sent instead of 10
    expect(sim.eventsSent - sentBefore).toBe(3)
    client.destroy()
  })

  it('an exclude filter (!) drops only what it matches; a bad regex and a bad operation are refused as Asterisk words it', async () => {
    sim = await fullSim()
    const client = await listen(sim.port)
    client.send(
      amiMessage(
        'Action: Filter',
        'ActionID: f1',
        'Operation: Add',
        'Filter: !Event: ChallengeSent',
      ),
    )
    await client.waitFor('ActionID: f1\r\nMessage: Success')
    client.send(amiMessage('Action: Filter', 'ActionID: f2', 'Operation: Add', 'Filter: (unclosed'))
    await client.waitFor(
      'ActionID: f2\r\nMessage: Filter did not compile.  Check the syntax of the filter given.',
    )
    client.send(amiMessage('Action: Filter', 'ActionID: f3', 'Operation: Remove', 'Filter: x'))
    await client.waitFor('ActionID: f3\r\nMessage: Unknown operation')
    sim.register(phone(5071))
    await client.waitFor('Event: SuccessfulAuth')
    await sleep(20)
    expect(client.received).not.toContain('ChallengeSent')
    client.destroy()
  })

  it('needs write=system', async () => {
    sim = await startSim()
    const client = await rawClient(sim.port)
    client.send(amiMessage('Action: Login', 'Username: pjro', 'Secret: pjro-secret'))
    await client.waitFor('Authentication accepted')
    client.send(amiMessage('Action: Filter', 'ActionID: f1', 'Operation: Add', 'Filter: x'))
    await client.waitFor('ActionID: f1\r\nMessage: Permission denied')
    client.destroy()
  })
})

describe('filters as should_send_event decides', () => {
  const event = (name: string, extra = '') =>
    `Event: ${name}\r\nPrivilege: security,all\r\n${extra}\r\n`
  const f = (criteria: string, pattern: string): EventFilter => {
    const parsed = parseFilter(criteria, pattern)
    if (typeof parsed === 'string') throw new Error(parsed)
    return parsed
  }

  it('advanced: name(), header() with a method, action(exclude); POSIX classes', () => {
    const byName = [f('eventfilter(name(FailedACL))', '')]
    expect(shouldSend(byName, event('FailedACL'))).toBe(true)
    expect(shouldSend(byName, event('FailedACLx'))).toBe(false)
    const byHeader = [f('eventfilter(header(AccountID),method(exact))', 'FAP003')]
    expect(shouldSend(byHeader, event('FailedACL', 'AccountID: FAP003\r\n'))).toBe(true)
    expect(shouldSend(byHeader, event('FailedACL', 'AccountID: FAP0031\r\n'))).toBe(false)
    const both = [
      f('eventfilter', 'Privilege: security'),
      f('eventfilter(action(exclude),name(ChallengeSent))', ''),
    ]
    expect(shouldSend(both, event('FailedACL'))).toBe(true)
    expect(shouldSend(both, event('ChallengeSent'))).toBe(false)
    expect(
      shouldSend([f('eventfilter', '^Event: Failed[[:alpha:]]+[[:space:]]')], event('FailedACL')),
    ).toBe(true)
  })

  it('format errors: a legacy filter without a pattern, none with a pattern, an unknown option', () => {
    expect(parseFilter('eventfilter', '')).toBe('format')
    expect(parseFilter('eventfilter(name(X),method(none))', 'x')).toBe('format')
    expect(parseFilter('eventfilter(bogus(x))', 'x')).toBe('format')
  })
})
