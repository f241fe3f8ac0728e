// Where this server keeps its contacts (sorcery.conf's `contact` mapping, read over AMI GetConfig), and
// the one refusal every command gives when pjctl cannot read that place: exit 3 naming sorcery.conf and
// the mapping, never 0 contacts read from the wrong place.

import type { AmiSession } from '../ami/types.js'
import {
  contactMapping,
  describePlace,
  readableOrAmi,
  realtimeFamily,
  SQL_DRIVERS,
  type ContactMapping,
  type ContactPlace,
} from '../core/sorcery.js'
import { CONTACT_FAMILY } from '../core/types.js'
import { ContactStoreError, PermissionError, UnknownActionError, UsageError } from '../errors.js'
import type { ContactTable, SqlTarget } from '../sql/table.js'
import { printable } from '../text.js'
import type { Deps } from './types.js'

export interface ContactLocation {
  mapping: ContactMapping
  place: ContactPlace
  /** sorcery.conf could not be read (GetConfig refused): res_pjsip's default is assumed, and why. */
  assumed: string | null
}

/** res_pjsip's default place, as if sorcery.conf said nothing. */
export const DEFAULT_LOCATION: ContactLocation = {
  mapping: contactMapping(null),
  place: { kind: 'astdb', family: CONTACT_FAMILY },
  assumed: null,
}

/**
 * GetConfig sorcery.conf (and extconfig.conf for a realtime mapping) on `session`, and where contacts
 * live: a store pjctl has a client for, else Asterisk's own list over AMI (kind `ami`). Throws
 * ContactStoreError (exit 3) when not even Asterisk can have contacts there (a mapping without a store).
 */
export async function locateContacts(
  session: AmiSession,
  _deps: Deps,
  drivers: readonly string[] = SQL_DRIVERS,
): Promise<ContactLocation> {
  let sorcery
  try {
    sorcery = await session.getConfig('sorcery.conf')
  } catch (error) {
    if (!(error instanceof PermissionError || error instanceof UnknownActionError)) throw error
    const mapping = contactMapping(null)
    return {
      mapping,
      // eslint-disable-next-line @typescript-eslint/no-non-null-assertion -- the default mapping always has its place
      place: mapping.place!,
      assumed: `cannot read sorcery.conf to learn where contacts live (${error.message})`,
    }
  }
  const family = realtimeFamily(sorcery?.categories ?? null)
  const extconfig = family === null ? null : await session.getConfig('extconfig.conf')
  const mapping = contactMapping(sorcery?.categories ?? null, extconfig?.categories ?? null)
  if (!mapping.place) throw cannotReadPlace(mapping)
  return { mapping, place: readableOrAmi(mapping.place, drivers), assumed: null }
}

/** The one line: `sorcery.conf [res_pjsip] contact=memory: contacts live only in Asterisk's memory; pjctl cannot read them`. */
export function cannotReadPlace(mapping: ContactMapping): ContactStoreError {
  return new ContactStoreError(
    `sorcery.conf [res_pjsip] ${mapping.described}: ${mapping.why}; pjctl cannot read these contacts`,
    'pjctl reads contacts from astdb (any family), PostgreSQL and MySQL realtime (ps_contacts), and any other store through AMI PJSIPShowContacts; nothing was read or changed',
  )
}

/**
 * Contacts read through AMI (memory, odbc, ...) can be changed only by Asterisk, and Asterisk has no AMI or
 * CLI action that removes one registered contact (res_pjsip deletes one only on an unREGISTER, its expiry,
 * remove_existing/remove_unavailable, or its AOR's deletion; ARI's dynamic config DELETE is the one
 * outside door, and pjctl does not speak ARI). `what`: prune, restore.
 */
export function cannotChangePlace(
  mapping: string,
  place: ContactPlace,
  what: string,
): ContactStoreError {
  return new ContactStoreError(
    `sorcery.conf [res_pjsip] ${mapping}: contacts in ${describePlace(place)} can be removed or added only by Asterisk, which has no AMI or CLI action for one contact; pjctl ${what} cannot change them (nothing changed)`,
    'set remove_existing=yes on the AOR (pjctl gen pjsip NAME) so Asterisk replaces the oldest contact itself, or keep contacts in astdb or a PostgreSQL/MySQL table with no full_backend_cache in front; ARI DELETE /ari/asterisk/config/dynamic/res_pjsip/contact/ID removes one through sorcery',
  )
}

/**
 * sorcery.conf could not be read and the default place holds no contact: that may be an empty PBX, or
 * contacts kept elsewhere; pjctl does not guess.
 */
export function assumedPlaceEmpty(location: ContactLocation, user: string): ContactStoreError {
  return new ContactStoreError(
    `${location.assumed}, and astdb ${CONTACT_FAMILY} (res_pjsip's default) holds no contact: they may live elsewhere`,
    `give [${user}] write=config (or system) in manager.conf so pjctl can read sorcery.conf`,
  )
}

/** The `family` a backup entry of this place carries: the astdb family, or `realtime:<table>`. */
export function backupFamilyOf(place: ContactPlace): string {
  if (place.kind === 'ami') return `ami:${place.store}`
  return place.kind === 'astdb' ? place.family : `realtime:${place.table}`
}

/** `astdb registrar/contact (sorcery.conf: contact=astdb,registrar, res_pjsip's default)` for doctor and --debug. */
export function whereContactsLive(location: ContactLocation): string {
  const where = describePlace(location.place)
  if (location.assumed) return `${where} (assumed: ${location.assumed})`
  return `${where} (sorcery.conf: ${location.mapping.described})`
}

/** What pjctl needs to know of each realtime driver it has a client for. */
const DRIVERS = {
  pgsql: {
    name: 'PostgreSQL',
    file: 'res_pgsql.conf',
    schemes: ['postgresql:', 'postgres:'],
    url: 'postgresql://USER@HOST:PORT/DB',
    port: 5432,
    socket: '/var/run/postgresql',
  },
  mysql: {
    name: 'MySQL',
    file: 'res_config_mysql.conf',
    schemes: ['mysql:', 'mariadb:'],
    url: 'mysql://USER@HOST:PORT/DB',
    port: 3306,
    socket: '/run/mysqld/mysqld.sock',
  },
} as const

type SqlDriver = keyof typeof DRIVERS

/** A section's settings of a config file over GetConfig (null: no such file or section, or GetConfig refused). */
async function confSection(
  session: AmiSession,
  file: string,
  section: string,
): Promise<Record<string, string> | null> {
  let answer
  try {
    answer = await session.getConfig(file)
  } catch (error) {
    if (error instanceof PermissionError || error instanceof UnknownActionError) return null
    throw error
  }
  const found = answer?.categories.find((c) => c.name === section && !c.template)
  if (!found) return null
  const settings: Record<string, string> = {}
  for (const line of found.lines) settings[line.name.trim().toLowerCase()] = line.value.trim()
  return settings
}

/**
 * Where a realtime contacts table is: --contacts-db (env, config file) first, else the PBX's own
 * connection file read over GetConfig: res_pgsql.conf [general], or res_config_mysql.conf's section that
 * extconfig.conf names (dbhost or dbsock, dbport, dbname, dbuser, dbpass). A URL without a password
 * takes the file's for the same user (PostgreSQL: else libpq's PGPASSWORD / ~/.pgpass).
 */
export async function sqlTargetFor(
  session: AmiSession,
  location: ContactLocation,
): Promise<SqlTarget> {
  const place = location.place
  if (place.kind !== 'realtime' || !(place.driver in DRIVERS))
    throw cannotReadPlace(location.mapping)
  const driver = DRIVERS[place.driver as SqlDriver]
  const section = place.driver === 'mysql' ? place.database || 'general' : 'general'
  const conf = await confSection(session, driver.file, section)
  const url = session.target.contactsDb
  if (url !== undefined) {
    let parsed: URL
    try {
      parsed = new URL(url)
    } catch {
      throw new UsageError(
        `--contacts-db: not a URL (expected ${driver.url}): ${printable(url.replace(/:[^:@/]*@/, ':***@'), 80)}`,
      )
    }
    if (!(driver.schemes as readonly string[]).includes(parsed.protocol))
      throw new UsageError(
        `--contacts-db: sorcery.conf puts these contacts in ${driver.name} (${driver.url}), not ${printable(parsed.protocol, 20)}`,
      )
    const user = decodeURIComponent(parsed.username) || conf?.dbuser || 'asterisk'
    const host = decodeURIComponent(parsed.hostname) || '127.0.0.1'
    const port = Number(parsed.port || driver.port)
    const database = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || user
    const password = parsed.password
      ? decodeURIComponent(parsed.password)
      : conf?.dbuser === user
        ? conf.dbpass
        : undefined
    return sqlTarget(host, port, database, user, password)
  }
  if (!conf)
    throw new ContactStoreError(
      `sorcery.conf [res_pjsip] ${location.mapping.described}: no ${driver.file} [${printable(section, 40)}] to say where the database is (GetConfig found none, or may not read it)`,
      `pass --contacts-db ${driver.url} (or set contactsDb in the config file); give the AMI user write=config to read ${driver.file}`,
    )
  const host = conf.dbhost || conf.dbsock || driver.socket
  const user = conf.dbuser || 'asterisk'
  return sqlTarget(host, Number(conf.dbport || driver.port), conf.dbname || user, user, conf.dbpass)
}

function sqlTarget(
  host: string,
  port: number,
  database: string,
  user: string,
  password: string | undefined,
): SqlTarget {
  return {
    host,
    port,
    database,
    user,
    ...(password ? { password } : {}),
    described: `${user}@${host}:${port}/${database}`,
  }
}

/** The realtime contacts table of this server, connected (the caller closes it). */
export async function openContactTable(
  session: AmiSession,
  location: ContactLocation,
): Promise<ContactTable> {
  const place = location.place
  if (place.kind !== 'realtime') throw cannotReadPlace(location.mapping)
  const target = await sqlTargetFor(session, location)
  if (place.driver === 'mysql') {
    const { MysqlContacts } = await import('../sql/mysql.js')
    return MysqlContacts.open(target, place.table, session.target.timeout)
  }
  const { PgContacts } = await import('../sql/pg.js')
  return PgContacts.open(target, place.table, session.target.timeout)
}
