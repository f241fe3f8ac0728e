// The sim's unsolicited events beyond the capture: `ContactStatus: Removed` (and `PeerStatus: Unreachable`
// for an AOR's last contact) when the registrar deletes a contact, on an unREGISTER and on the expiry sweep;
// nothing for a plain astdb delete; UserEvent to read=user sessions only.
import { afterEach, describe, expect, it } from 'vitest'
import { CONTACT_FAMILY } from '../../src/core/types.js'
import { contactKey, defineAor } from '../../src/sim/registrar.js'
import { startSim, type SimAsterisk } from '../../src/sim/server.js'
import { amiMessage, rawClient, sleep, type RawClient } from './helpers.js'

let sim: SimAsterisk | undefined
afterEach(async () => {
  await sim?.stop()
  sim = undefined
})

const PHONE = {
  aor: 'phone1',
  uri: 'sip:phone1@127.0.0.1:5084',
  viaAddr: '127.0.0.1',
  viaPort: 5084,
  userAgent: 'Zoiper rv2.10.20.4',
}

async function emptySim(
  now: () => number = () => Math.floor(Date.now() / 1000),
  interval = 0,
): Promise<SimAsterisk> {
  return startSim({
    seed: { rows: [], aors: [defineAor('phone1', { maxContacts: 4 })] },
    now,
    contactExpirationCheckInterval: interval,
  })
}

async function listen(port: number, user = 'pjctl'): Promise<RawClient> {
  const client = await rawClient(port)
  client.send(amiMessage('Action: Login', `Username: ${user}`, `Secret: ${user}-secret`))
  await client.waitFor('Authentication accepted')
  return client
}

const removed = (uri: string): string =>
  `Event: ContactStatus\r\nPrivilege: system,all\r\nURI: ${uri}\r\nContactStatus: Removed\r\nAOR: phone1\r\nEndpointName: phone1\r\nRoundtripUsec: 0\r\n\r\n`
const UNREACHABLE =
  'Event: PeerStatus\r\nPrivilege: system,all\r\nChannelType: PJSIP\r\nPeer: PJSIP/phone1\r\nPeerStatus: Unreachable\r\n\r\n'

describe('sim events', () => {
  it('an unREGISTER: ContactStatus Removed, then PeerStatus Unreachable for the last contact only', async () => {
    sim = await emptySim()
    const client = await listen(sim.port)
    sim.registrar.register(PHONE)
    sim.registrar.register({ ...PHONE, uri: 'sip:phone1@127.0.0.1:5085', viaPort: 5085 })
    sim.registrar.register({ ...PHONE, expires: 0 })
    await client.waitFor(removed(PHONE.uri))
    sim.registrar.register({
      ...PHONE,
      uri: 'sip:phone1@127.0.0.1:5085',
      viaPort: 5085,
      expires: 0,
    })
    const text = await client.waitFor(UNREACHABLE)
    expect(text.split('ContactStatus: Removed').length - 1).toBe(2)
    expect(text.indexOf(removed('sip:phone1@127.0.0.1:5085'))).toBeLessThan(
      text.indexOf(UNREACHABLE),
    )
    expect(text.split('PeerStatus: Unreachable').length - 1).toBe(1)
    client.destroy()
  })

  it('the expiry sweep: Removed for each expired contact it deletes', async () => {
    let clock = 1_800_000_000
    sim = await emptySim(() => clock, 1)
    const client = await listen(sim.port)
    sim.registrar.register({ ...PHONE, expires: 60 })
    clock += 61
    await client.waitFor(removed(PHONE.uri), 3000)
    expect(sim.astdb.get(CONTACT_FAMILY, contactKey('phone1', PHONE.uri))).toBeUndefined()
    client.destroy()
  })

  it('a DBDel sends nothing; the same URI registering again sends nothing; its later unREGISTER sends Removed (as measured)', async () => {
    sim = await emptySim()
    const client = await listen(sim.port)
    sim.registrar.register(PHONE)
    await client.waitFor('ContactStatus: NonQualified')
    const before = client.received.length
    sim.deleteDbEntry(CONTACT_FAMILY, contactKey('phone1', PHONE.uri))
    sim.registrar.register(PHONE)
    await sleep(100)
    expect(client.received.slice(before)).toBe('')
    sim.registrar.register({ ...PHONE, expires: 0 })
    await client.waitFor(removed(PHONE.uri))
    client.destroy()
  })

  it('UserEvent: acknowledged, then sent to every session with read=user (the sender too), not to pjro', async () => {
    sim = await emptySim()
    const other = await listen(sim.port)
    const ro = await listen(sim.port, 'pjro')
    const sender = await listen(sim.port)
    sender.send(
      amiMessage(
        'Action: UserEvent',
        'ActionID: a1',
        'UserEvent: pjctl',
        'Change: deleted',
        'Keys: 1',
        'Key1: phone1;@abc',
      ),
    )
    const event =
      'Event: UserEvent\r\nPrivilege: user,all\r\nUserEvent: pjctl\r\nActionID: a1\r\nChange: deleted\r\nKeys: 1\r\nKey1: phone1;@abc\r\n\r\n'
    const sent = await sender.waitFor(event)
    expect(
      sent.indexOf('Response: Success\r\nActionID: a1\r\nMessage: Event Sent\r\n\r\n'),
    ).toBeLessThan(sent.indexOf(event))
    await other.waitFor(event)
    await sleep(50)
    expect(ro.received).not.toContain('UserEvent')
    for (const c of [other, ro, sender]) c.destroy()
  })

  it('UserEvent needs write=user: pjro is refused', async () => {
    sim = await emptySim()
    const ro = await listen(sim.port, 'pjro')
    ro.send(amiMessage('Action: UserEvent', 'ActionID: a2', 'UserEvent: pjctl'))
    await ro.waitFor('Response: Error\r\nActionID: a2\r\nMessage: Permission denied\r\n\r\n')
    ro.destroy()
  })
})
