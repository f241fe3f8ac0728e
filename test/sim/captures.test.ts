// The sim answers the captured actions with the captured bytes (modulo Uptime/LastReload/Timestamp).

import { afterEach, describe, expect, it } from 'vitest'
import { CONTACT_FAMILY } from '../../src/core/types.js'
import { contactKey } from '../../src/sim/registrar.js'
import { CAPTURED_AT, captureSeed } from '../../src/sim/seed.js'
import type { SimAsterisk, SimOptions } from '../../src/sim/server.js'
import { rawClient, replay, sentMessages, startLab, transcript, withoutClock } from './helpers.js'

const BOB_5093 = 'bob;@6eb848a7f68f517e9b726b1c8fe974c0'
const FAP003_5071 = 'FAP003;@e6b0e56f68ce8a45f643c8c7fd05c854'

const LAB = captureSeed({ now: CAPTURED_AT })
const EMPTY_LAB: SimOptions = { seed: { rows: [], aors: LAB.aors } }

/** The `Val` header of a capture's action. */
function sentValue(name: string): string {
  return /^Val: (.*)\r$/m.exec(transcript(`${name}.sent.txt`))![1]!
}

interface Case {
  name: string
  options?: SimOptions
  prepare?: (sim: SimAsterisk) => void
  check?: (sim: SimAsterisk) => void
}

const CASES: Case[] = [
  { name: 'banner_login_success' },
  { name: 'banner_login_events_off' },
  { name: 'login_failure' },
  { name: 'cmd_database_show_registrar_contact' },
  {
    name: 'cmd_database_show_registrar_single',
    // alice alone, registered 32 s later than in the lab capture
    options: {
      seed: {
        rows: captureSeed({ now: CAPTURED_AT + 32 }).rows.filter((row) =>
          row.key.startsWith('alice;@'),
        ),
        aors: LAB.aors,
      },
    },
  },
  { name: 'cmd_database_show_registrar_contact_empty', options: EMPTY_LAB },
  { name: 'cmd_database_show_registrar_contact_FAP003' },
  {
    name: 'cmd_database_del',
    check: (sim) => expect(sim.astdb.get(CONTACT_FAMILY, FAP003_5071)).toBeUndefined(),
  },
  { name: 'cmd_database_del_missing' },
  { name: 'cmd_pjsip_show_aors' },
  { name: 'cmd_pjsip_show_contacts' },
  { name: 'cmd_pjsip_show_contacts_empty', options: EMPTY_LAB },
  { name: 'cmd_core_show_version' },
  { name: 'dbget' },
  { name: 'dbget_missing' },
  { name: 'dbgettree_registrar_contact' },
  { name: 'dbgettree_missing' },
  {
    name: 'dbdel_success',
    check: (sim) => expect(sim.astdb.get(CONTACT_FAMILY, BOB_5093)).toBeUndefined(),
  },
  { name: 'dbdel_missing', prepare: (sim) => sim.astdb.del(CONTACT_FAMILY, BOB_5093) },
  {
    name: 'dbput_success',
    prepare: (sim) => sim.astdb.del(CONTACT_FAMILY, BOB_5093),
    check: (sim) =>
      expect(sim.astdb.get(CONTACT_FAMILY, BOB_5093)).toBe(sentValue('dbput_success')),
  },
  {
    name: 'dbput_expired_contact',
    check: (sim) =>
      expect(sim.astdb.get(CONTACT_FAMILY, 'phone2;@d2ddd81387e9a1598094d9f7aad02d84')).toBe(
        sentValue('dbput_expired_contact'),
      ),
  },
  { name: 'pjsipshowaors' },
  { name: 'pjsipshowaors_no_contacts', options: EMPTY_LAB },
  { name: 'pjsipshowcontacts' },
  { name: 'pjsipshowcontacts_empty', options: EMPTY_LAB },
  {
    name: 'pjsipshowcontacts_with_expired',
    // FAP003's phone came back from port 5073; an expired contact was DBPut for phone2
    prepare: (sim) => {
      const fap003 = sim.astdb.get(CONTACT_FAMILY, FAP003_5071)!
      sim.astdb.del(CONTACT_FAMILY, FAP003_5071)
      const from5073 = fap003
        .replace('6b14823b7eca671364c78fd5', 'ed95af829ec765852d6dce09')
        .replaceAll('5071', '5073')
        .replace('1795462224', '1795462237')
      sim.astdb.put(CONTACT_FAMILY, contactKey('FAP003', 'sip:FAP003@127.0.0.1:5073'), from5073)
      sim.astdb.put(
        CONTACT_FAMILY,
        'phone2;@d2ddd81387e9a1598094d9f7aad02d84',
        sentValue('dbput_expired_contact'),
      )
    },
  },
  { name: 'pjsipshowendpoint_FAP003' },
  { name: 'pjsipshowendpoint_missing' },
  { name: 'pjsipshowendpoints' },
  { name: 'pjro_cmd_denied', check: (sim) => expect(sim.astdb.size).toBe(13) },
  { name: 'pjro_dbdel_denied', check: (sim) => expect(sim.astdb.size).toBe(13) },
  { name: 'pjro_dbget' },
  { name: 'pjro_pjsipshowaors' },
  { name: 'unknown_action' },
]

describe('the sim reproduces the Asterisk 22.10.1 captures byte for byte', () => {
  let sim: SimAsterisk | undefined
  afterEach(async () => {
    await sim?.stop()
    sim = undefined
  })

  it.each(CASES)('$name', async ({ name, options, prepare, check }) => {
    sim = await startLab(options)
    prepare?.(sim)
    const answer = await replay(sim, name)
    expect(withoutClock(answer)).toBe(withoutClock(transcript(`${name}.txt`)))
    check?.(sim)
  })

  it('events_during_registrations: ContactStatus and PeerStatus arrive between the answers', async () => {
    sim = await startLab()
    const [login, ping, logoff] = sentMessages('events_during_registrations')
    const client = await rawClient(sim.port)
    client.send(login! + ping!)
    await client.waitFor(/Ping: Pong\r\nTimestamp: [\d.]+\r\n\r\n/)
    const register = (aor: string, viaPort: number) =>
      sim?.registrar.register({
        aor,
        uri: `sip:${aor}@127.0.0.1:${viaPort}`,
        viaAddr: '127.0.0.1',
        viaPort,
        userAgent: 'Zoiper rv2.10.20.4',
      })
    expect(register('phone1', 5084)?.code).toBe(200)
    expect(register('phone2', 5401)?.code).toBe(200)
    await client.waitFor('EndpointName: phone2\r\nRoundtripUsec: 0\r\n\r\n')
    client.send(logoff!)
    expect(withoutClock(await client.closed())).toBe(
      withoutClock(transcript('events_during_registrations.txt')),
    )
  })

  it('events_reregister_after_db_delete: a phone re-registering after its key was deleted causes no event', async () => {
    sim = await startLab()
    const [login, ping, logoff] = sentMessages('events_reregister_after_db_delete')
    const client = await rawClient(sim.port)
    client.send(login! + ping!)
    await client.waitFor(/Ping: Pong\r\nTimestamp: [\d.]+\r\n\r\n/)
    sim.astdb.del(CONTACT_FAMILY, FAP003_5071)
    const again = sim.registrar.register({
      aor: 'FAP003',
      uri: 'sip:FAP003@127.0.0.1:5071',
      viaAddr: '127.0.0.1',
      viaPort: 5071,
      userAgent: 'Grandstream GXP2130 1.0.11.3',
    })
    expect(again.code).toBe(200)
    client.send(logoff!)
    expect(withoutClock(await client.closed())).toBe(
      withoutClock(transcript('events_reregister_after_db_delete.txt')),
    )
  })
})
