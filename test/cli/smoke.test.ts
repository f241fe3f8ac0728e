import { describe, expect, it } from 'vitest'
import { run } from '../helpers/run.js'
import { envFor, sim } from '../helpers/sim.js'
import { sessionsOf, SORCERY } from '../helpers/rows.js'

describe('pjctl contacts (smoke)', () => {
  it('lists the captured lab over DBGetTree and exits 0', async () => {
    const server = await sim()
    const r = await run(['contacts', 'FAP003', '--json'], { env: envFor(server) })
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const doc = JSON.parse(r.stdout)
    expect(doc.aors.map((a: { aor: string }) => a.aor)).toEqual(['FAP003'])
    expect(doc.aors[0]).toMatchObject({
      count: 2,
      maxContacts: 2,
      maxContactsSource: 'ami',
      state: 'full',
    })
    // one NAME: its endpoint's AORs (PJSIPShowEndpoint), on a second session while the contacts are read
    expect(sessionsOf(server.received)).toEqual([
      [SORCERY, ['DBGetTree', { Family: 'registrar/contact' }]],
      [['PJSIPShowEndpoint', { Endpoint: 'FAP003' }]],
    ])
  })
})
