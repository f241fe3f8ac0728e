// The refusal scenario watch and the exporter are tested on: FAP003 (max_contacts 2) holding the
// phone's old registration (NAT binding 5071, its Call-ID kept) and another device (5075).
import { expect } from 'vitest'
import { defineAor } from '../../src/sim/registrar.js'
import type { SimAsterisk, SimUser } from '../../src/sim/server.js'
import { sim } from './sim.js'

const UA = 'Grandstream GXP2130 1.0.11.3'

/** A REGISTER of the Grandstream on FAP003 from 127.0.0.1:PORT. */
export const phone = (port: number, extra: Record<string, unknown> = {}) => ({
  aor: 'FAP003',
  uri: `sip:FAP003@127.0.0.1:${port}`,
  viaAddr: '127.0.0.1',
  viaPort: port,
  userAgent: UA,
  ...extra,
})

/** A simulator with FAP003 full: the next REGISTER from a new port is refused. */
export async function fap003(users?: SimUser[]): Promise<SimAsterisk> {
  const server = await sim({
    users,
    seed: { rows: [], aors: [defineAor('FAP003', { maxContacts: 2 })] },
  })
  expect(server.register(phone(5071, { callId: 'gs-call@127.0.0.1', expires: 1800 })).code).toBe(
    200,
  )
  expect(server.register(phone(5075, { userAgent: 'baresip 3.0' })).code).toBe(200)
  return server
}
