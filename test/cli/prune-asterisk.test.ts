// prune's default, --via asterisk, against the sim: compare (DBGet), back up, expire (DBPut with
// expiration_time "1"), then PJSIPShowEndpoint of each owning endpoint so that Asterisk deletes the
// contact through sorcery, then a DBGet to see it gone; an orphaned contact (no endpoint collects it)
// is deleted directly with the same compare.
import { describe, expect, it } from 'vitest'
import { expiredValue } from '../../src/core/plan.js'
import { lockoutSeed } from '../../src/sim/seed.js'
import { runIn as run } from '../helpers/cli.js'
import { actionLines, backupLines, defaultBackup, home } from '../helpers/prune.js'
import { aor, nowSeconds, row, seedOf } from '../helpers/rows.js'
import { envFor, sim } from '../helpers/sim.js'

const FAP_OLD = 'FAP003;@fc939de34161e0628827ecfe0a9344e3'

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
      `DBGet ${ghost.key}`,
      `DBPut ${ghost.key}`,
      'PJSIPShowEndpoint',
      // the compare before the delete is the look that finds it still there
      `DBGet ${ghost.key}`,
      `DBDel ${ghost.key}`,
      'UserEvent',
      'Logoff',
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
    const afterShow = lines.slice(lines.lastIndexOf('PJSIPShowEndpoint') + 1)
    // compared: every DBGet leaves before the first DBDel
    const firstDel = afterShow.findIndex((l) => l.startsWith('DBDel'))
    expect(afterShow.slice(0, firstDel).filter((l) => l.startsWith('DBGet'))).toHaveLength(3)
    expect(afterShow.filter((l) => l.startsWith('DBDel'))).toHaveLength(3)
    for (const ghost of ghosts)
      expect(server.astdb.get('registrar/contact', ghost.key)).toBeUndefined()
  })
})
