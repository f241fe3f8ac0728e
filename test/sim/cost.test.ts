// The sim's model of what Asterisk 22 spends on an action (src/sim/cost.ts), calibrated on the lab.
import { describe, expect, it } from 'vitest'
import { actionCost } from '../../src/sim/cost.js'
import { generateRows } from '../../src/sim/seed.js'
import { startSim } from '../../src/sim/server.js'
import { amiMessage, rawClient, sleep } from './helpers.js'

const total = (action: string, aors: number, contacts: number): number => {
  const c = actionCost(action, { aors, contacts })!
  return c.firstByteMs + c.writeMs
}

describe('actionCost: the lab table of issue 10', () => {
  it.each([
    // action, AORs, contacts, measured total ms, measured first byte ms (NaN: not measured)
    ['PJSIPShowAors', 2_000, 6_000, 160, NaN],
    ['PJSIPShowAors', 5_000, 15_000, 490, NaN],
    ['PJSIPShowAors', 10_000, 30_000, 1_270, NaN],
    ['PJSIPShowAors', 33_333, 100_000, 6_150, 3_000],
    ['PJSIPShowContacts', 2_000, 6_000, 430, 310],
    ['PJSIPShowContacts', 5_000, 15_000, 2_290, 1_970],
    ['PJSIPShowContacts', 10_000, 30_000, 9_120, 8_430],
    ['GetConfig', 2_000, 6_000, 40, NaN],
    ['GetConfig', 5_000, 15_000, 90, NaN],
    ['GetConfig', 33_333, 100_000, 620, NaN],
  ])('%s at %i AORs / %i contacts: %i ms (within 25 %)', (action, aors, contacts, ms, firstMs) => {
    expect(Math.abs(total(action, aors, contacts) / ms - 1)).toBeLessThan(0.25)
    if (!Number.isNaN(firstMs))
      expect(
        Math.abs(actionCost(action, { aors, contacts })!.firstByteMs / firstMs - 1),
      ).toBeLessThan(0.25)
  })

  it('quadratic first byte for the list actions, linear for GetConfig; everything else free', () => {
    const at = (action: string, n: number) =>
      actionCost(action, { aors: n, contacts: n })!.firstByteMs
    expect(at('PJSIPShowAors', 20_000) / at('PJSIPShowAors', 10_000)).toBeCloseTo(4)
    expect(at('PJSIPShowContacts', 20_000) / at('PJSIPShowContacts', 10_000)).toBeCloseTo(4)
    expect(at('GetConfig', 20_000) / at('GetConfig', 10_000)).toBeCloseTo(2)
    for (const action of ['DBGetTree', 'DBGet', 'DBDel', 'Command', 'PJSIPShowEndpoint', 'Login'])
      expect(actionCost(action, { aors: 1e5, contacts: 1e5 })).toBeNull()
  })
})

describe('SimAsterisk with the cost model on', () => {
  const login = amiMessage(
    'Action: Login',
    'Username: pjctl',
    'Secret: pjctl-secret',
    'Events: off',
  )
  const seed = generateRows({ count: 4_000, now: 1_800_000_000, aors: 2_000 })

  it('off by default: no action books the modelled core', async () => {
    const sim = await startSim({ seed, now: () => 1_800_000_000 })
    try {
      expect(sim.occupyCore('PJSIPShowContacts')).toBeNull()
      expect(sim.computingMs()).toBe(0)
    } finally {
      await sim.stop()
    }
  })

  it('on (×100): PJSIPShowAors of 2,000 AORs waits its n² first byte, keeps computing after the client has gone; a cheap action does not wait', async () => {
    const sim = await startSim({ seed, now: () => 1_800_000_000, cost: 100 })
    try {
      const quitter = await rawClient(sim.port)
      quitter.send(login)
      await quitter.waitFor('Authentication accepted')
      const t = performance.now()
      quitter.send(amiMessage('Action: PJSIPShowAors', 'ActionID: gone'))
      await quitter.waitFor('ActionID: gone', 10_000)
      // first byte 100 × 2.7 ns × 2,000² = 1,080 ms, then 100 × 90 µs × 2,000 = 18 s of writing
      expect(performance.now() - t).toBeGreaterThan(1_000)
      quitter.destroy()
      await sleep(50)
      expect(sim.computingMs()).toBeGreaterThan(10_000)
      const client = await rawClient(sim.port)
      client.send(login)
      await client.waitFor('Authentication accepted')
      const cheap = performance.now()
      client.send(
        amiMessage('Action: DBGet', 'Family: registrar/contact', 'Key: nosuch', 'ActionID: cheap'),
      )
      await client.waitFor('Database entry not found', 10_000)
      expect(performance.now() - cheap).toBeLessThan(5_000)
      client.destroy()
    } finally {
      await sim.stop()
    }
  }, 20_000)
})
