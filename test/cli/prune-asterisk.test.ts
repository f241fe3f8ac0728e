// prune's default, --via asterisk, against the sim: compare (DBGet), back up, expire (DBPut with
// expiration_time "1"), then PJSIPShowEndpoint of each owning endpoint so that Asterisk deletes the
// contact through sorcery, then a DBGet to see it gone. A contact nothing in Asterisk can collect (its
// AOR is not configured, or no endpoint names it and it is neither qualified nor cached) is compared,
// backed up and deleted directly (DBDel), never expired; one no endpoint names but Asterisk holds state
// of (a cache in front of the store) is expired and retrieved with `pjsip show aor`.
import { describe, expect, it } from 'vitest'
import { expiredValue } from '../../src/core/plan.js'
import { lockoutSeed } from '../../src/sim/seed.js'
import { runIn as run } from '../helpers/cli.js'
import { actionLines, backupLines, defaultBackup, home, snapshot } from '../helpers/prune.js'
import { aor, nowSeconds, row, seedOf } from '../helpers/rows.js'
import type { ContactRow } from '../../src/core/types.js'
import { envFor, sim } from '../helpers/sim.js'

const FAP_OLD = 'FAP003;@fc939de34161e0628827ecfe0a9344e3'

/** `n` contacts of AOR 2000 from one Yealink at 10.0.`net`.i, the i-th expiring 300·i s from now. */
function yealinks(net: number, n: number, endpoint?: string): ContactRow[] {
  const now = nowSeconds()
  return Array.from({ length: n }, (_, k) =>
    row({
      aor: '2000',
      ...(endpoint === undefined ? {} : { endpoint }),
      viaAddr: `10.0.${net}.${k + 1}`,
      viaPort: 5061 + k,
      userAgent: 'Yealink',
      expirationTime: now + 300 * (k + 1),
    }),
  )
}

/** `prune --keep 1 --yes --json --force` where AOR 2000, qualified, is named by no endpoint (alice's is). */
async function pruneQualifiedEndpointless(contacts: ContactRow[]) {
  const server = await sim({
    seed: seedOf(contacts, [
      aor('2000', 3, { endpoint: false, qualifyFrequency: 10 }),
      aor('alice', 2),
    ]),
  })
  const env = { ...envFor(server), ...home() }
  const r = await run(['prune', '--keep', '1', '--yes', '--json', '--force'], { env })
  return { server, r }
}

/** sorcery.conf with a memory_cache (`cache`: its options) in front of astdb registrar/contact. */
function cachedContacts(cache: string) {
  return {
    'sorcery.conf': [
      {
        name: 'res_pjsip',
        lines: [
          ['contact/cache', cache],
          ['contact', 'astdb,registrar'],
        ] as [string, string][],
      },
    ],
  }
}

describe('prune --via asterisk (the default)', () => {
  it('expires the contact, has Asterisk retrieve it (PJSIPShowEndpoint), sees it gone in the answer; no DBDel', async () => {
    const server = await sim({ seed: lockoutSeed({ now: nowSeconds() }) })
    const before = server.astdb.get('registrar/contact', FAP_OLD)!
    const env = { ...envFor(server), ...home() }
    const r = await run(['prune', 'FAP003', '--yes', '--json'], { env })
    expect([r.code, r.stderr]).toEqual([0, ''])
    const doc = JSON.parse(r.stdout)
    expect(doc.servers[0].via).toBe('asterisk')
    expect(doc.servers[0].outcomes).toEqual([
      {
        key: FAP_OLD,
        aor: 'FAP003',
        outcome: 'deleted',
        detail: 'removed by Asterisk (expired, then retrieved)',
      },
    ])
    expect(actionLines(server)).toEqual([
      'GetConfig',
      'DBGetTree',
      `DBGet ${FAP_OLD}`,
      `DBPut ${FAP_OLD}`,
      // its answer lists FAP003's contacts left: the pruned one is not among them, so no DBGet is needed
      'PJSIPShowEndpoint',
      'UserEvent',
      'Logoff',
    ])
    const put = server.received.find((a) => a.action === 'DBPut')!
    expect(put.headers.find(([n]) => n === 'Val')?.[1]).toBe(expiredValue(before))
    expect(server.astdb.get('registrar/contact', FAP_OLD)).toBeUndefined()
    // the backup holds the value as it was, not the expired one
    expect(backupLines(defaultBackup(env, server)).map((l) => [l.key, l.value])).toEqual([
      [FAP_OLD, before],
    ])
  })

  it('an orphaned contact (its AOR is gone, no endpoint collects it) is deleted directly after the same compare', async () => {
    const now = nowSeconds()
    const ghost = row({
      aor: 'ghost',
      viaAddr: '10.0.0.9',
      viaPort: 5060,
      userAgent: 'Yealink',
      expirationTime: now + 600,
    })
    const alive = row({
      aor: 'alice',
      viaAddr: '10.0.0.1',
      viaPort: 5060,
      userAgent: 'Yealink',
      expirationTime: now + 600,
    })
    const server = await sim({ seed: seedOf([ghost, alive], [aor('alice', 2)]) })
    const env = { ...envFor(server), ...home() }
    const r = await run(['prune', '--orphaned', '--yes', '--json', '--force'], { env })
    expect([r.code, r.stderr]).toEqual([0, ''])
    expect(JSON.parse(r.stdout).servers[0].outcomes).toEqual([
      {
        key: ghost.key,
        aor: 'ghost',
        outcome: 'deleted',
        detail: 'deleted directly: no endpoint collected it (orphaned)',
      },
    ])
    expect(actionLines(server)).toEqual([
      'GetConfig',
      'DBGetTree',
      // sorcery.conf: no cache in front of the contacts
      'GetConfig',
      // not expired, not asked for through an endpoint: compared, backed up, deleted
      `DBGet ${ghost.key}`,
      `DBDel ${ghost.key}`,
      'UserEvent',
      'Logoff',
    ])
    expect(backupLines(defaultBackup(env, server)).map((l) => [l.key, l.value])).toEqual([
      [ghost.key, ghost.value],
    ])
    expect(server.astdb.get('registrar/contact', ghost.key)).toBeUndefined()
    expect(server.astdb.get('registrar/contact', alive.key)).toBe(alive.value)
  })
  it('orphaned contacts are compared and deleted pipelined (--in-flight at a time), not one round trip after another', async () => {
    const now = nowSeconds()
    const ghosts = [1, 2, 3].map((i) =>
      row({
        aor: `ghost${i}`,
        viaAddr: `10.0.0.${i}`,
        viaPort: 5060,
        userAgent: 'Yealink',
        expirationTime: now + 600,
      }),
    )
    const server = await sim({ seed: seedOf(ghosts, []) })
    const env = { ...envFor(server), ...home() }
    const r = await run(['prune', '--orphaned', '--yes', '--json', '--force'], { env })
    expect([r.code, r.stderr]).toEqual([0, ''])
    expect(
      JSON.parse(r.stdout).servers[0].outcomes.map(
        (o: { outcome: string; detail: string }) => `${o.outcome}: ${o.detail}`,
      ),
    ).toEqual(Array(3).fill('deleted: deleted directly: no endpoint collected it (orphaned)'))
    const lines = actionLines(server)
    // compared: every DBGet leaves before the first DBDel
    const firstDel = lines.findIndex((l) => l.startsWith('DBDel'))
    expect(lines.slice(0, firstDel).filter((l) => l.startsWith('DBGet '))).toHaveLength(3)
    expect(lines.filter((l) => l.startsWith('DBDel'))).toHaveLength(3)
    expect(lines.filter((l) => /^(DBPut|PJSIPShowEndpoint)/.test(l))).toEqual([])
    for (const ghost of ghosts)
      expect(server.astdb.get('registrar/contact', ghost.key)).toBeUndefined()
  })

  it("a configured AOR no endpoint names (no qualify, no cache): its contacts are deleted directly; an endpoint's go the long way", async () => {
    const now = nowSeconds()
    const contact = (name: string, i: number, expires: number): ContactRow =>
      row({
        aor: name,
        viaAddr: `10.0.1.${i}`,
        viaPort: 5060 + i,
        userAgent: 'Yealink',
        expirationTime: now + expires,
      })
    const bulk = [contact('2000', 1, 900), contact('2000', 2, 600), contact('2000', 3, 300)]
    const fap = [contact('FAP003', 4, 900), contact('FAP003', 5, 600)]
    const server = await sim({
      seed: seedOf(
        [...bulk, ...fap],
        [aor('2000', 3, { endpoint: false }), aor('FAP003', 2), aor('spare', 2)],
      ),
    })
    const env = { ...envFor(server), ...home() }
    const r = await run(
      ['prune', '--keep', '1', '--yes', '--json', '--force', '--in-flight', '2'],
      { env },
    )
    expect([r.code, r.stderr]).toEqual([0, ''])
    const outcomes = JSON.parse(r.stdout).servers[0].outcomes as { key: string; detail: string }[]
    expect(outcomes.map((o) => [o.key, o.detail])).toEqual([
      [bulk[1]!.key, 'deleted directly: no endpoint collected it (orphaned)'],
      [bulk[2]!.key, 'deleted directly: no endpoint collected it (orphaned)'],
      [fap[1]!.key, 'removed by Asterisk (expired, then retrieved)'],
    ])
    const lines = actionLines(server)
    // the endpoints were read (sorcery.conf, pjsip.conf type=endpoint, pjsip_wizard.conf)
    expect(lines.slice(0, 5)).toEqual([
      'GetConfig',
      'DBGetTree',
      'GetConfig',
      'GetConfig',
      'GetConfig',
    ])
    const of = (key: string): string[] =>
      lines.filter((l) => l.endsWith(` ${key}`)).map((l) => l.split(' ')[0]!)
    expect(of(bulk[1]!.key)).toEqual(['DBGet', 'DBDel'])
    expect(of(bulk[2]!.key)).toEqual(['DBGet', 'DBDel'])
    expect(of(fap[1]!.key)).toEqual(['DBGet', 'DBPut'])
    // one PJSIPShowEndpoint, for FAP003; none for the AOR no endpoint names
    const shown = server.received.filter((a) => a.action === 'PJSIPShowEndpoint')
    expect(shown.map((a) => a.headers.find(([n]) => n === 'Endpoint')?.[1])).toEqual(['FAP003'])
    expect(Object.keys(snapshot(server)).sort()).toEqual([bulk[0]!.key, fap[0]!.key].sort())
    expect(
      backupLines(defaultBackup(env, server))
        .map((l) => l.key)
        .sort(),
    ).toEqual([bulk[1]!.key, bulk[2]!.key, fap[1]!.key].sort())
  })

  it('an AOR no endpoint names, with a cache in front of the contacts: expired, then `pjsip show aor` has Asterisk remove it', async () => {
    const contacts = yealinks(2, 3)
    const server = await sim({
      seed: seedOf(contacts, [aor('2000', 3, { endpoint: false })]),
      configFiles: cachedContacts('memory_cache,expire_on_reload=yes'),
    })
    const env = { ...envFor(server), ...home() }
    const r = await run(
      ['prune', '--keep', '1', '--yes', '--json', '--force', '--in-flight', '2'],
      { env },
    )
    expect([r.code, r.stderr]).toEqual([0, ''])
    const outcomes = JSON.parse(r.stdout).servers[0].outcomes as {
      outcome: string
      detail: string
    }[]
    expect(outcomes.map((o) => `${o.outcome}: ${o.detail}`)).toEqual(
      Array(2).fill('deleted: removed by Asterisk (expired, then retrieved)'),
    )
    const commands = server.received
      .filter((a) => a.action === 'Command')
      .map((a) => a.headers.find(([n]) => n === 'Command')?.[1])
    expect(commands).toEqual(['pjsip show aor 2000'])
    expect(server.received.filter((a) => /^(PJSIPShowEndpoint|DBDel)$/.test(a.action))).toEqual([])
    expect(Object.keys(snapshot(server))).toEqual([contacts[2]!.key])
  })

  it('a qualified AOR no endpoint names: no endpoint qualifies its contacts, so they have no state to read and are deleted directly', async () => {
    const contacts = yealinks(3, 3)
    const { server, r } = await pruneQualifiedEndpointless(contacts)
    expect([r.code, r.stderr]).toEqual([0, ''])
    const outcomes = JSON.parse(r.stdout).servers[0].outcomes as {
      outcome: string
      detail: string
    }[]
    expect(outcomes.map((o) => `${o.outcome}: ${o.detail}`)).toEqual(
      Array(2).fill('deleted: deleted directly: no endpoint collected it (orphaned)'),
    )
    const lines = actionLines(server)
    // the qualify read finds no endpoint 2000; the configured endpoints say none is tied to its contacts
    expect(lines.filter((l) => /^(PJSIPShowEndpoint|GetConfig|DBPut)/.test(l))).toEqual([
      'GetConfig',
      'PJSIPShowEndpoint',
      'GetConfig',
      'GetConfig',
      'GetConfig',
    ])
    expect(lines.filter((l) => l.startsWith('DBDel'))).toHaveLength(2)
    expect(Object.keys(snapshot(server))).toEqual([contacts[2]!.key])
  })

  it('a qualified contact whose endpoint cannot be read is still kept when an endpoint is tied to it', async () => {
    // stored endpoint alice: an endpoint that exists in the files, so the contact may be qualified through it
    const contacts = yealinks(4, 2, 'alice')
    const { server, r } = await pruneQualifiedEndpointless(contacts)
    expect(r.code).toBe(0)
    const doc = JSON.parse(r.stdout)
    expect(doc.servers[0].outcomes).toEqual([])
    expect(doc.servers[0].plan.map((i: { action: string }) => i.action)).toEqual(['keep'])
    expect(doc.servers[0].plan[0].reasons[0]).toMatch(/qualif/)
    expect(Object.keys(snapshot(server)).sort()).toEqual(contacts.map((c) => c.key).sort())
  })

  it('without write=command (no `pjsip show aor`), a cached contact no endpoint names is deleted directly after its expiry, with one warning', async () => {
    const contacts = yealinks(5, 3)
    const server = await sim({
      seed: seedOf(contacts, [aor('2000', 3, { endpoint: false })]),
      users: [
        { username: 'pjctl', secret: 'pjctl-secret', write: ['system', 'reporting', 'user'] },
      ],
      configFiles: cachedContacts('memory_cache'),
    })
    const env = { ...envFor(server), ...home() }
    const r = await run(
      ['prune', '--keep', '1', '--yes', '--json', '--force', '--in-flight', '2'],
      { env },
    )
    expect(r.code).toBe(0)
    expect(r.stderr).toMatch(
      /^pjctl: warning: cannot have Asterisk retrieve the contacts of AORs no endpoint names \(Command 'pjsip show aor': .*\): they are deleted directly, and the cache in front of the contact store keeps its copy of each; give \[pjctl\] write=command\n$/,
    )
    const outcomes = JSON.parse(r.stdout).servers[0].outcomes as {
      outcome: string
      detail: string
    }[]
    expect(outcomes.map((o) => `${o.outcome}: ${o.detail}`)).toEqual(
      Array(2).fill('deleted: deleted directly: no endpoint collected it (orphaned)'),
    )
    expect(Object.keys(snapshot(server))).toEqual([contacts[2]!.key])
  })
})
