import { describe, expect, it } from 'vitest'
import {
  contactMapping,
  contactFromContactList,
  contactFromRealtimeRow,
  escapeRealtimeId,
  readableOrAmi,
  realtimeFamily,
  unescapeRealtimeId,
} from '../../src/core/sorcery.js'
import type { ConfigCategory } from '../../src/core/types.js'

const res = (...lines: [string, string][]): ConfigCategory[] => [
  {
    name: 'res_pjsip',
    template: false,
    templates: [],
    lines: lines.map(([name, value]) => ({ name, value })),
  },
]
const ext = (...lines: [string, string][]): ConfigCategory[] => [
  {
    name: 'settings',
    template: false,
    templates: [],
    lines: lines.map(([name, value]) => ({ name, value })),
  },
]

describe('contactMapping (sorcery.conf [res_pjsip] contact)', () => {
  it("no sorcery.conf, or no contact line: res_pjsip's default astdb registrar/contact", () => {
    expect(contactMapping(null).place).toEqual({ kind: 'astdb', family: 'registrar/contact' })
    expect(contactMapping(res(['aor', 'realtime,ps_aors'])).place).toEqual({
      kind: 'astdb',
      family: 'registrar/contact',
    })
  })

  it('astdb with any family: <prefix>/contact', () => {
    const m = contactMapping(res(['contact', 'astdb,registrar2']))
    expect(m.place).toEqual({ kind: 'astdb', family: 'registrar2/contact' })
    expect(m.described).toBe('contact=astdb,registrar2')
  })

  it('realtime through extconfig.conf: driver, database and table (the family when not given)', () => {
    const sorcery = res(['contact', 'realtime,ps_contacts'])
    expect(realtimeFamily(sorcery)).toBe('ps_contacts')
    expect(contactMapping(sorcery, ext(['ps_contacts', 'pgsql,general'])).place).toEqual({
      kind: 'realtime',
      driver: 'pgsql',
      database: 'general',
      table: 'ps_contacts',
      family: 'ps_contacts',
    })
    expect(
      contactMapping(sorcery, ext(['ps_contacts', 'mysql, asterisk, contacts_tbl'])).place,
    ).toMatchObject({ driver: 'mysql', database: 'asterisk', table: 'contacts_tbl' })
    const unmapped = contactMapping(sorcery, ext(['ps_aors', 'pgsql,general']))
    expect(unmapped.place).toBeNull()
    expect(unmapped.why).toBe(
      "extconfig.conf maps no 'ps_contacts' (Asterisk cannot store contacts there either)",
    )
  })

  it("memory, and memory_cache as the store: Asterisk's memory, read through AMI", () => {
    for (const wizard of ['memory', 'memory_cache']) {
      const m = contactMapping(res(['contact', wizard]))
      expect(m.place).toEqual({ kind: 'ami', store: 'memory' })
      expect(m.why).toBeNull()
    }
  })

  it('a memory_cache in front of another wizard: the store behind it', () => {
    const m = contactMapping(
      res(['contact/cache', 'memory_cache,object_lifetime_maximum=60'], ['contact', 'astdb,reg']),
    )
    expect(m.place).toEqual({ kind: 'astdb', family: 'reg/contact' })
  })

  it('a memory_cache with full_backend_cache answers every list from the cache: read through AMI', () => {
    for (const setting of ['yes', 'true', 'on', '1']) {
      const m = contactMapping(
        res(
          ['contact/cache', `memory_cache,name=c,full_backend_cache=${setting}`],
          ['contact', 'astdb,registrar'],
        ),
      )
      expect(m.place).toEqual({
        kind: 'ami',
        store: 'memory_cache (full_backend_cache) in front of its store',
      })
    }
    const off = contactMapping(
      res(['contact/cache', 'memory_cache,full_backend_cache=no'], ['contact', 'astdb,registrar']),
    )
    expect(off.place).toEqual({ kind: 'astdb', family: 'registrar/contact' })
  })

  it('several stores (sorcery lists the contacts of all of them): read through AMI, not guessed', () => {
    const m = contactMapping(res(['contact', 'astdb,registrar'], ['contact', 'astdb,registrar2']))
    expect(m.place).toEqual({ kind: 'ami', store: '2 stores' })
    expect(m.described).toBe('contact=astdb,registrar, contact=astdb,registrar2')
  })

  it('an unknown wizard: read through AMI; astdb without a family, only a cache: refused', () => {
    expect(contactMapping(res(['contact', 'ldap,foo'])).place).toEqual({
      kind: 'ami',
      store: 'the sorcery wizard ldap',
    })
    expect(contactMapping(res(['contact', 'astdb'])).why).toBe('astdb without a family')
    expect(contactMapping(res(['contact/cache', 'memory_cache'])).why).toBe(
      'every contact line is a cache; no store behind it',
    )
  })

  it('realtime over a driver pjctl has no client for (odbc): read through AMI', () => {
    const m = contactMapping(
      res(['contact', 'realtime,ps_contacts']),
      ext(['ps_contacts', 'odbc,asterisk']),
    )
    expect(readableOrAmi(m.place!)).toEqual({ kind: 'ami', store: 'realtime odbc,asterisk' })
    const pg = contactMapping(
      res(['contact', 'realtime,ps_contacts']),
      ext(['ps_contacts', 'pgsql,general']),
    )
    expect(readableOrAmi(pg.place!)).toBe(pg.place)
  })
})

describe('PJSIPShowContacts ContactList events', () => {
  const hash = '2512e2a83aa83c6e73da53588ebb2d0e'
  it('the fields back in snake_case; ObjectName is the key; Status and RoundtripUsec are not fields', () => {
    const c = contactFromContactList({
      Event: 'ContactList',
      ObjectType: 'contact',
      ObjectName: `FAP003;@${hash}`,
      ViaAddr: '192.0.2.16',
      ViaPort: '5060',
      Uri: 'sip:FAP003@192.0.2.16:5060',
      ExpirationTime: '1796460296',
      UserAgent: 'Grandstream',
      Endpoint: 'FAP003',
      RegServer: 'pbxA',
      Qualify2xxOnly: 'false',
      CallId: 'abc@192.0.2.16',
      Status: 'Unknown',
      RoundtripUsec: 'N/A',
    })
    if (c === null || typeof c === 'string') throw new Error(String(c))
    expect(c).toMatchObject({
      key: `FAP003;@${hash}`,
      aor: 'FAP003',
      hash,
      uri: 'sip:FAP003@192.0.2.16:5060',
      viaAddr: '192.0.2.16',
      viaPort: 5060,
      userAgent: 'Grandstream',
      endpoint: 'FAP003',
      regServer: 'pbxA',
      expirationTime: 1796460296,
    })
    expect(Object.keys(c.fields)).toEqual([
      'via_addr',
      'via_port',
      'uri',
      'expiration_time',
      'user_agent',
      'endpoint',
      'reg_server',
      'qualify_2xx_only',
      'call_id',
    ])
  })
  it('a static contact (<aor>@@<hash>) is skipped; an ObjectName that is no key is a problem', () => {
    expect(contactFromContactList({ ObjectName: `FAP003@@${hash}` })).toBeNull()
    expect(contactFromContactList({ ObjectName: 'garbage' })).toBe(
      'key has no `;@` (not a dynamic contact key <aor>;@<hash>)',
    )
    expect(contactFromContactList({ Uri: 'sip:x' })).toBe('ContactList without an ObjectName')
  })
})

describe('realtime ids', () => {
  it('`;` and `^` are escaped as ^3B and ^5E (main/config.c ast_realtime_encode_chunk), and back', () => {
    expect(escapeRealtimeId('FAP003;@abc')).toBe('FAP003^3B@abc')
    expect(unescapeRealtimeId('FAP003^3B@abc')).toBe('FAP003;@abc')
    expect(unescapeRealtimeId(escapeRealtimeId('a^b;@c'))).toBe('a^b;@c')
    expect(unescapeRealtimeId('x^3b')).toBe('x;')
  })
})

describe('contactFromRealtimeRow (a ps_contacts row as res_config_pgsql hands it to sorcery)', () => {
  const columns = ['id', 'uri', 'expiration_time', 'user_agent', 'endpoint', 'via_addr', 'path']
  it('decodes the id and the values, skips NULL and empty ones; the value keeps the stored text', () => {
    const hash = 'fc939de34161e0628827ecfe0a9344e3'
    const c = contactFromRealtimeRow(columns, [
      `FAP003^3B@${hash}`,
      'sip:FAP003@192.0.2.16:5060^3Bob',
      '1796460296',
      'Grandstream',
      'FAP003',
      null,
      '',
    ])
    if (typeof c === 'string') throw new Error(c)
    expect([c.key, c.aor, c.hash, c.uri, c.expirationTime, c.viaAddr]).toEqual([
      `FAP003;@${hash}`,
      'FAP003',
      hash,
      'sip:FAP003@192.0.2.16:5060;ob',
      1796460296,
      '',
    ])
    expect(Object.keys(c.fields)).toEqual([
      'id',
      'uri',
      'expiration_time',
      'user_agent',
      'endpoint',
    ])
    expect(JSON.parse(c.value)).toEqual({
      id: `FAP003^3B@${hash}`,
      uri: 'sip:FAP003@192.0.2.16:5060^3Bob',
      expiration_time: '1796460296',
      user_agent: 'Grandstream',
      endpoint: 'FAP003',
      path: '',
    })
  })
  it('an id that is no contact key is a problem, not a contact', () => {
    expect(contactFromRealtimeRow(columns, ['garbage', null, null, null, null, null, null])).toBe(
      'key has no `;@` (not a dynamic contact key <aor>;@<hash>)',
    )
    expect(contactFromRealtimeRow(['uri'], ['sip:x'])).toBe('row without an id')
  })
})
