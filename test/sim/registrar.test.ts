// The registrar's rules (res_pjsip_registrar.c) and the astdb's (main/db.c), without a socket.

import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { CONTACT_FAMILY } from '../../src/core/types.js'
import { AstDb } from '../../src/sim/astdb.js'
import {
  CONTACT_FIELDS,
  Registrar,
  contactKey,
  defineAor,
  type RegisterRequest,
  type SimAor,
} from '../../src/sim/registrar.js'
import { CAPTURED_AT, captureSeed, lockoutSeed, type SimSeed } from '../../src/sim/seed.js'

function registrarWith(
  seed: SimSeed,
  now: number,
): { astdb: AstDb; registrar: Registrar; clock: { now: number } } {
  const astdb = new AstDb()
  const clock = { now }
  const registrar = new Registrar(astdb, () => clock.now, seed.aors)
  for (const row of seed.rows) astdb.put(CONTACT_FAMILY, row.key, row.value)
  for (const [key, status] of Object.entries(seed.qualify ?? {})) registrar.setQualify(key, status)
  return { astdb, registrar, clock }
}

const keysOf = (astdb: AstDb, aor: string) =>
  astdb
    .tree(CONTACT_FAMILY)
    .map((entry) => entry.key.slice(`/${CONTACT_FAMILY}/`.length))
    .filter((key) => key.startsWith(`${aor};@`))

const NOW = 1_800_000_000

/** A REGISTER from a phone at viaAddr:viaPort with the plain URI `sip:<aor>@<viaAddr>:<viaPort>`. */
function phone(
  aor: string,
  viaAddr: string,
  viaPort: number,
  more: Partial<RegisterRequest> = {},
): RegisterRequest {
  return {
    aor,
    uri: `sip:${aor}@${viaAddr}:${viaPort}`,
    viaAddr,
    viaPort,
    userAgent: 'Grandstream GXP2130 1.0.11.3',
    ...more,
  }
}

describe('Registrar', () => {
  it("refuses a third phone on a full FAP003 with 403 and Asterisk's warning, and accepts it once a key is deleted", () => {
    const { astdb, registrar } = registrarWith(lockoutSeed({ now: NOW }), NOW)
    const before = keysOf(astdb, 'FAP003')
    const third = phone('FAP003', '192.0.2.16', 5064)

    const refused = registrar.register(third)
    expect(refused).toEqual({
      code: 403,
      reason:
        "Registration attempt from endpoint 'FAP003' (192.0.2.16:5064) to AOR 'FAP003' will exceed max contacts of 2",
      key: contactKey('FAP003', third.uri),
      removed: [],
    })
    expect(keysOf(astdb, 'FAP003')).toEqual(before)

    astdb.del(CONTACT_FAMILY, before[0]!)
    const accepted = registrar.register(third)
    expect(accepted.code).toBe(200)
    expect(keysOf(astdb, 'FAP003')).toContain(accepted.key)
    expect(keysOf(astdb, 'FAP003')).toHaveLength(2)
  })

  it("refuses the captured lab's third FAP003 contact as Asterisk did", () => {
    const { registrar } = registrarWith(captureSeed({ now: CAPTURED_AT }), CAPTURED_AT)
    const result = registrar.register(phone('FAP003', '127.0.0.1', 5073))
    expect(result.code).toBe(403)
    expect(result.reason).toBe(
      "Registration attempt from endpoint 'FAP003' (127.0.0.1:5073) to AOR 'FAP003' will exceed max contacts of 2",
    )
  })

  it("stores a new contact as compact JSON in Asterisk's field order, under <aor>;@<md5 of the uri>", () => {
    const { astdb, registrar } = registrarWith(
      { rows: [], aors: [defineAor('dave', { maxContacts: 1, supportPath: true })] },
      NOW,
    )
    const uri = 'sip:dave@192.0.2.50:5060;transport=udp'
    const path = '<sip:edge.invalid;lr>'
    const result = registrar.register(
      phone('dave', '192.0.2.50', 5060, { uri, expires: 600, callId: 'abc@192.0.2.50', path }),
    )
    expect(result).toEqual({
      code: 200,
      key: `dave;@${createHash('md5').update(uri).digest('hex')}`,
      removed: [],
    })
    const value = astdb.get(CONTACT_FAMILY, result.key)!
    expect(Object.keys(JSON.parse(value))).toEqual([...CONTACT_FIELDS])
    expect(JSON.parse(value)).toMatchObject({
      uri,
      via_port: '5060',
      path,
      call_id: 'abc@192.0.2.50',
      expiration_time: String(NOW + 600),
      endpoint: 'dave',
    })
    expect(value).toBe(JSON.stringify(JSON.parse(value)))
  })

  it('refreshes a contact whose URI it knows: same key, new expiration_time, no new slot', () => {
    const { astdb, registrar, clock } = registrarWith(lockoutSeed({ now: NOW }), NOW)
    const [older] = keysOf(astdb, 'FAP003').map((key) =>
      JSON.parse(astdb.get(CONTACT_FAMILY, key)!),
    )
    clock.now = NOW + 100
    const result = registrar.register(
      phone('FAP003', older.via_addr, Number(older.via_port), { uri: older.uri, expires: 3600 }),
    )
    expect(result.code).toBe(200)
    expect(keysOf(astdb, 'FAP003')).toHaveLength(2)
    expect(JSON.parse(astdb.get(CONTACT_FAMILY, result.key)!)).toMatchObject({
      expiration_time: String(NOW + 3700),
      call_id: older.call_id,
    })
  })

  it('with remove_existing accepts the new contact and removes the soonest to expire', () => {
    const { astdb, registrar } = registrarWith(captureSeed({ now: CAPTURED_AT }), CAPTURED_AT)
    const [soonest, later] = ['sip:erin@127.0.0.1:5096', 'sip:erin@127.0.0.1:5097'].map((uri) =>
      contactKey('erin', uri),
    )
    const result = registrar.register(phone('erin', '127.0.0.1', 5098))
    expect(result).toMatchObject({ code: 200, removed: [soonest] })
    expect(keysOf(astdb, 'erin').sort()).toEqual([later, result.key].sort())
  })

  it('with remove_unavailable makes room by removing an Unreachable contact first', () => {
    const aor: SimAor = defineAor('carol', {
      maxContacts: 2,
      removeUnavailable: true,
      qualifyFrequency: 10,
    })
    const { astdb, registrar } = registrarWith({ rows: [], aors: [aor] }, NOW)
    const register = (port: number, expires: number) =>
      registrar.register(phone('carol', '192.0.2.9', port, { expires }))
    const soonest = register(5060, 600).key
    const unreachable = register(5062, 3600).key
    registrar.setQualify(unreachable, 'Unreachable')
    const result = register(5064, 3600)
    expect(result).toMatchObject({ code: 200, removed: [unreachable] })
    expect(keysOf(astdb, 'carol').sort()).toEqual([soonest, result.key].sort())
  })

  it("deletes the AOR's expired contacts before counting", () => {
    // bob (max 2) holds two contacts; the one from port 5093 expires at 1795460426, 1800 s before the other
    const { astdb, registrar } = registrarWith(captureSeed({ now: CAPTURED_AT }), 1795460426 + 1)
    const stale = contactKey('bob', 'sip:bob@127.0.0.1:5093')
    const result = registrar.register(phone('bob', '127.0.0.1', 5095))
    expect(result).toMatchObject({ code: 200, removed: [stale] })
    expect(astdb.get(CONTACT_FAMILY, stale)).toBeUndefined()
  })

  it('clamps the requested expiry into [minimum_expiration, maximum_expiration]; 0 unregisters', () => {
    const { astdb, registrar } = registrarWith(
      { rows: [], aors: [defineAor('alice', { maxContacts: 1, maximumExpiration: 3600 })] },
      NOW,
    )
    const request = {
      aor: 'alice',
      uri: 'sip:alice@192.0.2.21:5060',
      viaAddr: '192.0.2.21',
      viaPort: 5060,
      userAgent: 'Yealink',
    }
    const expiration = () =>
      JSON.parse(astdb.get(CONTACT_FAMILY, contactKey('alice', request.uri))!).expiration_time
    registrar.register({ ...request, expires: 10 })
    expect(expiration()).toBe(String(NOW + 60))
    registrar.register({ ...request, expires: 99999 })
    expect(expiration()).toBe(String(NOW + 3600))
    registrar.register(request)
    expect(expiration()).toBe(String(NOW + 3600))
    expect(registrar.register({ ...request, expires: 0 })).toMatchObject({
      code: 200,
      removed: [contactKey('alice', request.uri)],
    })
    expect(astdb.size).toBe(0)
  })

  it('refuses every REGISTER to an AOR with max_contacts 0, and answers 404 for an unknown AOR', () => {
    const { registrar } = registrarWith({ rows: [], aors: [defineAor('nolimit')] }, NOW)
    const request = {
      uri: 'sip:x@192.0.2.1:5060',
      viaAddr: '192.0.2.1',
      viaPort: 5060,
      userAgent: 'x',
    }
    expect(registrar.register({ ...request, aor: 'nolimit' })).toMatchObject({
      code: 403,
      reason:
        "AOR 'nolimit' has no configured max_contacts. Endpoint 'nolimit' (192.0.2.1:5060) unable to register",
    })
    expect(registrar.register({ ...request, aor: 'ghost' }).code).toBe(404)
  })

  it('unregister deletes one contact by URI', () => {
    const { astdb, registrar } = registrarWith(captureSeed({ now: CAPTURED_AT }), CAPTURED_AT)
    expect(registrar.unregister('alice', 'sip:alice@127.0.0.1:5091')).toBe(true)
    expect(registrar.unregister('alice', 'sip:alice@127.0.0.1:5091')).toBe(false)
    expect(keysOf(astdb, 'alice')).toEqual([])
  })
})

describe('AstDb', () => {
  it('lists a family in SQLite key order, with full paths, like the capture', () => {
    const astdb = new AstDb()
    for (const row of [...captureSeed({ now: CAPTURED_AT }).rows].reverse())
      astdb.put(CONTACT_FAMILY, row.key, row.value)
    const captured = captureSeed({ now: CAPTURED_AT }).rows.map(
      (row) => `/${CONTACT_FAMILY}/${row.key}`,
    )
    expect(astdb.tree(CONTACT_FAMILY).map((entry) => entry.key)).toEqual(captured)
  })

  it("matches `key || '/' LIKE prefix || '/%'`: whole path segments, ASCII case-insensitive", () => {
    const astdb = new AstDb()
    astdb.put('registrar/contact', 'FAP003;@aa', '1')
    astdb.put('registrar/contactx', 'k', '2')
    astdb.put('other', 'k', '3')
    expect(astdb.tree('registrar/contact').map((entry) => entry.value)).toEqual(['1'])
    expect(astdb.tree('REGISTRAR/Contact').map((entry) => entry.value)).toEqual(['1'])
    expect(astdb.tree('registrar/contact/FAP003')).toEqual([])
    expect(astdb.tree('registrar', 'contact').map((entry) => entry.value)).toEqual(['1'])
    expect(astdb.tree('registrar/con')).toEqual([])
    expect(astdb.tree().map((entry) => entry.value)).toEqual(['3', '1', '2'])
  })

  it("reads by key prefix as Asterisk's index range: exact case, in key order, kept in order across puts and deletes", () => {
    const astdb = new AstDb()
    astdb.put(CONTACT_FAMILY, '1001;@bb', 'b')
    astdb.put(CONTACT_FAMILY, '1001;@aa', 'a')
    astdb.put(CONTACT_FAMILY, '10010;@cc', 'other AOR')
    astdb.put(CONTACT_FAMILY, '1000;@dd', 'before')
    const prefix = (p: string) => astdb.treeByPrefix(CONTACT_FAMILY, p).map((e) => e.value)
    expect(prefix('1001;@')).toEqual(['a', 'b'])
    // the order is read once, then kept as keys come and go
    astdb.put(CONTACT_FAMILY, '1001;@ab', 'ab')
    expect(astdb.del(CONTACT_FAMILY, '1001;@aa')).toBe(true)
    astdb.put(CONTACT_FAMILY, '1001;@ab', 'ab again')
    expect(prefix('1001;@')).toEqual(['ab again', 'b'])
    // binary order, as SQLite's: '0' (0x30) sorts before ';' (0x3B)
    expect(prefix('1001')).toEqual(['other AOR', 'ab again', 'b'])
    expect(prefix('FAP')).toEqual([])
    astdb.put(CONTACT_FAMILY, 'FAP003;@ee', 'fap')
    expect(prefix('fap')).toEqual([])
    expect(prefix('FAP')).toEqual(['fap'])
    expect(astdb.tree(CONTACT_FAMILY).map((e) => e.value)).toEqual([
      'before',
      'other AOR',
      'ab again',
      'b',
      'fap',
    ])
  })

  it('gets, puts, deletes and deletes trees', () => {
    const astdb = new AstDb()
    astdb.put('f', 'k', 'v')
    astdb.put('f', 'k', 'w')
    expect(astdb.get('f', 'k')).toBe('w')
    expect(astdb.del('f', 'k')).toBe(true)
    expect(astdb.del('f', 'k')).toBe(false)
    astdb.put('f', 'a', '1')
    astdb.put('f', 'b', '2')
    astdb.put('g', 'a', '3')
    expect(astdb.delTree('f')).toBe(2)
    expect(astdb.delTree('f')).toBe(0)
    expect(astdb.size).toBe(1)
  })
})
