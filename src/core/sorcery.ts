// Where Asterisk keeps dynamic contacts: sorcery.conf's `[res_pjsip]` `contact` lines (main/sorcery.c
// __ast_sorcery_apply_config), and for realtime the extconfig.conf line of that family. Pure: the
// GetConfig categories in, the place (or why pjctl cannot read it) out.
//
// - No `contact` line: res_pjsip's default, astdb with prefix `registrar` (family `registrar/contact`).
// - `contact=<wizard>,<data>` lines, in order. A line whose name carries `/cache` (`contact/cache=...`)
//   is a cache: sorcery creates objects in the first wizard that is not one, so that wizard is where
//   contacts live. pjctl reads exactly one place: several non-cache lines are refused, not guessed.
// - astdb: `<data>/contact` (res_sorcery_astdb prefixes the object type).
// - realtime: `<data>` is an extconfig.conf family: `[settings]` `<family> => <driver>,<database>[,<table>]`;
//   the table defaults to the family.
// - memory (and memory_cache used as the store), realtime over a driver pjctl has no client for (odbc),
//   an unknown wizard, several stores: only Asterisk can read them all, so they are read through AMI
//   (place kind `ami`), and changed only by Asterisk.

import { printable } from '../text.js'
import { KEY_SEPARATOR, KEY_TAIL, findKeyEnd, intField } from './contact.js'
import type { ConfigCategory, Contact, ContactPlace } from './types.js'

/** res_pjsip's default (res/res_pjsip/location.c: ast_sorcery_apply_default(..., "contact", "astdb", "registrar")). */
const DEFAULT_CONTACT_LINE = 'astdb,registrar'

export type { ContactPlace }

export interface ContactMapping {
  /** Where pjctl reads and writes contacts; null when it cannot (then `why` says it). */
  place: ContactPlace | null
  /** The mapping as sorcery.conf writes it, for messages: `contact=realtime,ps_contacts` (or the default). */
  described: string
  /** Why pjctl cannot read the place (null when place is set). */
  why: string | null
  /** sorcery.conf has its own `contact` lines (false: res_pjsip's default applies). */
  configured: boolean
}

/** The `[res_pjsip]` lines of sorcery.conf whose type is `contact`, with the options after `/`. */
function contactLines(
  sorcery: readonly ConfigCategory[] | null,
): { options: string; value: string; written: string }[] {
  return (sorcery ?? [])
    .filter((c) => !c.template && c.name === 'res_pjsip')
    .flatMap((c) =>
      c.lines.flatMap((l) => {
        const name = l.name.trim()
        const slash = name.indexOf('/')
        const type = slash < 0 ? name : name.slice(0, slash)
        if (type !== 'contact') return []
        return [
          {
            options: slash < 0 ? '' : name.slice(slash + 1),
            value: l.value.trim(),
            written: `${name}=${l.value.trim()}`,
          },
        ]
      }),
    )
}

function split(value: string): { wizard: string; data: string } {
  const comma = value.indexOf(',')
  return {
    wizard: (comma < 0 ? value : value.slice(0, comma)).trim(),
    data: comma < 0 ? '' : value.slice(comma + 1).trim(),
  }
}

/** extconfig.conf's `[settings]` line for `family`: driver, database, table (the first line wins). */
function extconfigFor(
  extconfig: readonly ConfigCategory[] | null,
  family: string,
): { driver: string; database: string; table: string } | null {
  for (const category of extconfig ?? []) {
    if (category.template || category.name !== 'settings') continue
    for (const line of category.lines) {
      if (line.name.trim() !== family) continue
      const [driver = '', database = '', table = ''] = line.value.split(',').map((s) => s.trim())
      if (!driver) continue
      return { driver: driver.toLowerCase(), database, table: table || family }
    }
  }
  return null
}

/** A memory_cache line's `full_backend_cache` option is on (sorcery's boolean: yes, true, on, 1). */
function fullBackendCache(value: string): boolean {
  return value
    .split(',')
    .slice(1)
    .some((option) => {
      const [name = '', setting = ''] = option.split('=').map((p) => p.trim().toLowerCase())
      return name === 'full_backend_cache' && ['yes', 'true', 'on', '1', 'y', 't'].includes(setting)
    })
}

/** A cache (`contact/cache=memory_cache,...`) sits in front of the contact store: it keeps a copy of each
 *  contact it served, which only a change through sorcery updates (a DBDel of the astdb key does not). */
export function contactCached(sorcery: readonly ConfigCategory[] | null): boolean {
  return contactLines(sorcery).some((l) => l.options.includes('cache'))
}

/** The realtime family a mapping needs from extconfig.conf (so the caller fetches it only then); null otherwise. */
export function realtimeFamily(sorcery: readonly ConfigCategory[] | null): string | null {
  const stores = contactLines(sorcery).filter((l) => !l.options.includes('cache'))
  if (stores.length !== 1) return null
  const { wizard, data } = split(stores[0]?.value ?? '')
  return wizard.toLowerCase() === 'realtime' ? (data.split(',')[0] ?? '').trim() : null
}

/**
 * Where contacts live, from sorcery.conf (null: no such file, res_pjsip's default) and extconfig.conf
 * (null: no such file; only read for a realtime mapping).
 */
export function contactMapping(
  sorcery: readonly ConfigCategory[] | null,
  extconfig: readonly ConfigCategory[] | null = null,
): ContactMapping {
  const lines = contactLines(sorcery)
  if (!lines.length)
    return {
      place: { kind: 'astdb', family: 'registrar/contact' },
      described: `contact=${DEFAULT_CONTACT_LINE} (res_pjsip's default: sorcery.conf has no contact line)`,
      why: null,
      configured: false,
    }
  const described = lines.map((l) => printable(l.written, 120)).join(', ')
  const cannot = (why: string): ContactMapping => ({
    place: null,
    described,
    why,
    configured: true,
  })
  const stores = lines.filter((l) => !l.options.includes('cache'))
  if (!stores.length) return cannot('every contact line is a cache; no store behind it')
  const throughAmi = (store: string): ContactMapping => ({
    place: { kind: 'ami', store },
    described,
    why: null,
    configured: true,
  })
  // sorcery lists a type's objects from every store (main/sorcery.c ast_sorcery_retrieve_by_fields): only
  // Asterisk's own list has them all
  if (stores.length > 1) return throughAmi(`${stores.length} stores`)
  // A memory_cache with full_backend_cache answers every list of contacts from the cache
  // (res/res_sorcery_memory_cache.c): the registrar counts what the cache holds, and a write to the store
  // behind it is not seen (measured on 22.10.1: the expired value written to astdb was not collected, and
  // the key deleted from astdb stayed counted). Only Asterisk's own list is the truth there.
  if (lines.some((l) => l.options.includes('cache') && fullBackendCache(l.value)))
    return throughAmi('memory_cache (full_backend_cache) in front of its store')
  const { wizard, data } = split(stores[0]?.value ?? '')
  switch (wizard.toLowerCase()) {
    case 'astdb': {
      const prefix = (data.split(',')[0] ?? '').trim()
      if (!prefix) return cannot('astdb without a family')
      return {
        place: { kind: 'astdb', family: `${prefix}/contact` },
        described,
        why: null,
        configured: true,
      }
    }
    case 'realtime': {
      const family = (data.split(',')[0] ?? '').trim()
      if (!family) return cannot('realtime without an extconfig family')
      const ext = extconfigFor(extconfig, family)
      if (!ext)
        return cannot(
          `extconfig.conf maps no '${printable(family, 60)}' (Asterisk cannot store contacts there either)`,
        )
      return {
        place: { kind: 'realtime', ...ext, family },
        described: `${described} (extconfig.conf: ${printable(family, 60)} => ${printable(ext.driver, 20)},${printable(ext.database, 60)}${ext.table !== family ? `,${printable(ext.table, 60)}` : ''})`,
        why: null,
        configured: true,
      }
    }
    case 'memory':
    case 'memory_cache':
      return throughAmi('memory')
    default:
      return throughAmi(`the sorcery wizard ${printable(wizard, 40)}`)
  }
}

/** The realtime drivers pjctl has a database client for; contacts behind any other are read through AMI. */
export const SQL_DRIVERS: readonly string[] = ['pgsql', 'mysql']

/** A realtime place pjctl has no client for becomes a read through AMI. */
export function readableOrAmi(
  place: ContactPlace,
  drivers: readonly string[] = SQL_DRIVERS,
): ContactPlace {
  if (place.kind !== 'realtime' || drivers.includes(place.driver)) return place
  return {
    kind: 'ami',
    store: `realtime ${printable(place.driver, 20)},${printable(place.database, 60)}`,
  }
}

/** `astdb registrar2/contact`, `PostgreSQL table ps_contacts (extconfig.conf ps_contacts => pgsql,general)`. */
export function describePlace(place: ContactPlace): string {
  if (place.kind === 'astdb') return `astdb ${printable(place.family, 80)}`
  if (place.kind === 'ami') return `Asterisk's ${place.store} (read through AMI PJSIPShowContacts)`
  return `${place.driver} table ${printable(place.table, 80)} (realtime)`
}

/** Realtime escapes `;` in ids as `^3B` (main/config.c / res_sorcery_realtime: ast_realtime_escape? no: sorcery realtime's id encoding). */
export function unescapeRealtimeId(id: string): string {
  // a loop, not a replace() with a callback: every id holds a `^3B`, and 100,000 rows are read at once
  let at = id.indexOf('^')
  if (at < 0) return id
  let out = ''
  let from = 0
  while (at >= 0) {
    const high = hexDigit(id.charCodeAt(at + 1))
    const low = hexDigit(id.charCodeAt(at + 2))
    if (high >= 0 && low >= 0) {
      out += id.slice(from, at) + String.fromCharCode(high * 16 + low)
      from = at + 3
    }
    at = id.indexOf('^', high >= 0 && low >= 0 ? at + 3 : at + 1)
  }
  return out + id.slice(from)
}

/** The value of one hexadecimal digit's character code, -1 for any other (NaN included). */
function hexDigit(code: number): number {
  if (code >= 48 && code <= 57) return code - 48
  if (code >= 65 && code <= 70) return code - 55
  if (code >= 97 && code <= 102) return code - 87
  return -1
}

/** The inverse of unescapeRealtimeId for a contact key: `;` → `^3B` (and `^` itself, so the mapping is one to one). */
export function escapeRealtimeId(key: string): string {
  return key.replace(/[;^]/g, (c) => `^${c.charCodeAt(0).toString(16).toUpperCase()}`)
}

/** The columns a read that judges contacts needs (contacts, check, sources, the exporter); prune and --raw read every column. */
export const USED_COLUMNS = [
  'id',
  'uri',
  'expiration_time',
  'user_agent',
  'endpoint',
  'via_addr',
  'via_port',
  'reg_server',
] as const

/**
 * One ps_contacts row → the contact sorcery loads from it, or why it is not one. res_config_pgsql hands
 * sorcery every non-NULL column, `^XX`-decoded (ast_realtime_decode_chunk) and skipped when empty; the
 * key is the decoded id (`FAP003;@<md5>`). `value` is the row as stored (JSON of the non-NULL columns'
 * text, undecoded): what compare-and-set compares and what a backup keeps. A read of only the columns
 * pjctl judges by (`whole` false: contacts, check, the exporter) is never compared or backed up, and
 * its contacts have no stored value ('').
 */
export function contactFromRealtimeRow(
  columns: readonly string[],
  raw: readonly (string | null)[],
  whole = true,
): Contact | string {
  const stored: Record<string, string> | null = whole ? {} : null
  const fields: Record<string, string> = {}
  let id: string | null = null
  for (let i = 0; i < columns.length; i++) {
    const column = columns[i]
    const value = raw[i]
    if (column === undefined || value === null || value === undefined) continue
    if (stored) stored[column] = value
    if (column === 'id') id = value
    const decoded = unescapeRealtimeId(value).trim()
    if (decoded !== '') fields[column] = decoded
  }
  if (id === null) return 'row without an id'
  const key = unescapeRealtimeId(id)
  const end = findKeyEnd(key)
  if (typeof end === 'string') return end
  if (end !== key.length) return 'id has text after the 32-digit hash'
  return contactOfFields(key, fields, stored ? JSON.stringify(stored) : '')
}

/** A contact from its key (`<aor>;@<hash>`, checked whole) and its stored fields, by column name. */
function contactOfFields(key: string, fields: Record<string, string>, value: string): Contact {
  const aorLength = key.length - KEY_TAIL
  const text = (name: string): string => fields[name] ?? ''
  return {
    key,
    aor: key.slice(0, aorLength),
    hash: key.slice(aorLength + KEY_SEPARATOR.length),
    uri: text('uri'),
    viaAddr: text('via_addr'),
    viaPort: intField(text('via_port')),
    userAgent: text('user_agent'),
    endpoint: text('endpoint'),
    regServer: text('reg_server'),
    expirationTime: intField(text('expiration_time')),
    fields,
    value,
  }
}

/** The stored columns of a realtime contact's `value` (null: not a realtime row as pjctl writes it). */
export function realtimeColumns(value: string): Record<string, string> | null {
  try {
    const parsed: unknown = JSON.parse(value)
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return null
    for (const v of Object.values(parsed)) if (typeof v !== 'string') return null
    return parsed as Record<string, string>
  } catch {
    return null
  }
}

/** ContactList headers that are not contact fields (the list's own, and the qualify state pjsip_options adds). */
const CONTACT_LIST_META = new Set([
  'event',
  'actionid',
  'objecttype',
  'objectname',
  'status',
  'roundtripusec',
])

/** ast_to_camel_case undone: `ViaAddr` → `via_addr`, `Qualify2xxOnly` → `qualify_2xx_only`. */
function snakeCase(header: string): string {
  return header.replace(/([a-z])([A-Z0-9])/g, '$1_$2').toLowerCase()
}

/**
 * One `ContactList` event of PJSIPShowContacts (res/res_pjsip/pjsip_options.c: the sorcery object's fields,
 * ast_sip_sorcery_object_to_ami, then Status and RoundtripUsec) → the contact, or why it is not one.
 * null: a static contact (`<aor>@@<hash>`, configured, not registered), which pjctl does not count.
 * `value` is the fields as JSON: nothing pjctl compares or writes back (Asterisk alone changes these).
 */
export function contactFromContactList(headers: Record<string, string>): Contact | string | null {
  const fields: Record<string, string> = {}
  let key: string | null = null
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase()
    if (lower === 'objectname') key = value
    if (CONTACT_LIST_META.has(lower)) continue
    fields[snakeCase(name)] = value
  }
  if (key === null) return 'ContactList without an ObjectName'
  const end = findKeyEnd(key)
  if (typeof end === 'string') return key.includes('@@') ? null : end
  if (end !== key.length) return 'ObjectName has text after the 32-digit hash'
  return contactOfFields(key, fields, JSON.stringify(fields))
}

/** What reading through AMI costs Asterisk, measured on the lab (docs/contact-stores.md), said once on stderr. */
export const PJSIPSHOWCONTACTS_COST =
  'read with one AMI PJSIPShowContacts, whose cost to Asterisk grows with the square of the contacts (Asterisk 22.10.1, contact=memory: 0.4 s at 6,000 contacts, 3 s at 15,000)'
