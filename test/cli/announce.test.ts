// prune and restore announce what they changed with `UserEvent: pjctl` (write=user), which every AMI
// session with read=user receives: that is how a running `pjctl exporter` learns of a DBDel/DBPut,
// which Asterisk itself never announces. Without write=user the command still succeeds, with one warning.
import { describe, expect, it } from 'vitest'
import { contactKey } from '../../src/sim/registrar.js'
import { lockoutSeed } from '../../src/sim/seed.js'
import { CONTACT_FAMILY, actionLines, header, home, staleSeed } from '../helpers/prune.js'
import { runIn as run } from '../helpers/cli.js'
import { envFor, sim } from '../helpers/sim.js'
import { amiMessage, rawClient } from '../sim/helpers.js'
import { join } from 'node:path'

const now = (): number => Math.floor(Date.now() / 1000)
const FAP_OLD = contactKey('FAP003', 'sip:FAP003@192.0.2.16:5060')
const ANNOUNCE_WARNING =
  'pjctl: warning: could not announce the deleted contact(s) to running pjctl exporters (the AMI user pjctl lacks write=user); they see the change at their next resync\n'

/** A raw AMI listener logged in as pjctl: what an exporter would receive. */
async function listener(port: number) {
  const client = await rawClient(port)
  client.send(amiMessage('Action: Login', 'Username: pjctl', 'Secret: pjctl-secret'))
  await client.waitFor('Authentication accepted')
  return client
}

describe('prune and restore announce their changes (UserEvent: pjctl)', { timeout: 30_000 }, () => {
  it('prune --yes: one UserEvent with Change, Family and the deleted key, received by another session with read=user', async () => {
    const server = await sim({ seed: lockoutSeed({ now: now() }) })
    const watcher = await listener(server.port)
    const r = await run(['prune', 'FAP003', '--yes', '--via', 'delete'], {
      env: { ...envFor(server), ...home() },
    })
    expect(r.code).toBe(0)
    expect(r.stderr).toBe('')
    expect(actionLines(server).slice(-3)).toEqual([`DBDel ${FAP_OLD}`, 'UserEvent', 'Logoff'])
    const sent = server.received.find((a) => a.action === 'UserEvent')!
    expect(header(sent.headers, 'UserEvent')).toBe('pjctl')
    expect(header(sent.headers, 'Change')).toBe('deleted')
    expect(header(sent.headers, 'Family')).toBe(CONTACT_FAMILY)
    expect(header(sent.headers, 'Keys')).toBe('1')
    expect(header(sent.headers, 'Key1')).toBe(FAP_OLD)
    const seen = await watcher.waitFor(/Event: UserEvent\r\n[\s\S]*?\r\n\r\n/)
    const event = /Event: UserEvent\r\n[\s\S]*?\r\n\r\n/.exec(seen)![0]
    expect(event).toMatch(/^Event: UserEvent\r\nPrivilege: user,all\r\nUserEvent: pjctl\r\n/)
    expect(event).toContain(`Key1: ${FAP_OLD}\r\n`)
    expect(event).toContain('Change: deleted\r\n')
    watcher.destroy()
  })

  it('prune --via expire announces Change: expired; restore announces Change: restored', async () => {
    const server = await sim({ seed: lockoutSeed({ now: now() }) })
    const env = { ...envFor(server), ...home() }
    const backup = join(env.HOME!, 'b.jsonl')
    expect(
      (await run(['prune', 'FAP003', '--yes', '--via', 'expire', '--backup', backup], { env }))
        .code,
    ).toBe(0)
    server.astdb.del(CONTACT_FAMILY, FAP_OLD) // as Asterisk's sweep would
    expect((await run(['restore', backup], { env })).code).toBe(0)
    const events = server.received.filter((a) => a.action === 'UserEvent')
    expect(events.map((a) => [header(a.headers, 'Change'), header(a.headers, 'Key1')])).toEqual([
      ['expired', FAP_OLD],
      ['restored', FAP_OLD],
    ])
  })

  it(
    'without write=user: the prune still deletes and exits 0, warns once, and tries no second batch',
    { timeout: 30_000 },
    async () => {
      const n = now()
      const seed = staleSeed(n, 120, 1) // 120 superseded contacts: two announcement batches
      const server = await sim({
        seed: { rows: seed.rows, aors: seed.aors },
        users: [{ username: 'pjctl', secret: 'pjctl-secret', write: ['system', 'reporting'] }],
      })
      const r = await run(['prune', '--yes', '--force'], { env: { ...envFor(server), ...home() } })
      expect(r.code).toBe(0)
      expect(server.astdb.tree(CONTACT_FAMILY).length).toBe(120)
      expect(r.stderr).toBe(ANNOUNCE_WARNING)
      expect(actionLines(server).filter((a) => a === 'UserEvent')).toEqual(['UserEvent'])
    },
  )

  it(
    'more than 100 keys go in batches of 100 (Asterisk reads at most 128 headers of an action)',
    { timeout: 30_000 },
    async () => {
      const seed = staleSeed(now(), 150, 1)
      const server = await sim({ seed: { rows: seed.rows, aors: seed.aors } })
      const r = await run(['prune', '--yes', '--force'], { env: { ...envFor(server), ...home() } })
      expect(r.code).toBe(0)
      const events = server.received.filter((a) => a.action === 'UserEvent')
      expect(events.map((a) => header(a.headers, 'Keys'))).toEqual(['100', '50'])
      const announced = events.flatMap((a) =>
        a.headers.filter(([name]) => /^Key\d+$/.test(name)).map(([, v]) => v),
      )
      expect(announced.sort()).toEqual([...seed.staleKeys].sort())
    },
  )
})
