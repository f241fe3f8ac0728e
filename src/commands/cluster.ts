// A cluster: Asterisk nodes that share one contact store (a realtime table). What pjctl asks each
// configured server to tell them apart: its systemname (AMI CoreSettings, the name Asterisk writes into
// each contact's reg_server) and the identity of its contact store (the database and table sorcery.conf,
// extconfig.conf and the connection settings lead to). Servers with the same store are read once.

import type { AmiSession, AmiTarget } from '../ami/types.js'
import { contactMapping, type ContactPlace } from '../core/sorcery.js'
import { PjctlError } from '../errors.js'
import { locateContacts, sqlTargetFor } from './store.js'
import type { Deps } from './types.js'

/** Who a configured server is in a cluster. */
export interface NodeIdentity {
  target: AmiTarget
  /** asterisk.conf systemname ('' when none is set); null when CoreSettings could not be asked. */
  systemName: string | null
  /** The contact store's identity (servers with the same one read the same contacts); null: astdb, the node's own. */
  store: string | null
}

/** asterisk.conf `systemname` from AMI CoreSettings ('' when none is set); null when it could not be asked. */
export async function systemNameOf(session: AmiSession, deps: Deps): Promise<string | null> {
  try {
    return (await session.action('CoreSettings')).get('SystemName') ?? ''
  } catch (error) {
    if (!(error instanceof PjctlError)) throw error
    deps.log.debug(`CoreSettings: ${error.message}`)
    return null
  }
}

/**
 * The contact store's identity: a realtime table can be shared by several nodes; astdb is a node's own
 * (null). For PostgreSQL and MySQL, the database the node's res_pgsql.conf / res_config_mysql.conf (or --contacts-db) connects to: the same
 * table name in another database is another store.
 */
export async function storeOf(session: AmiSession, place: ContactPlace): Promise<string | null> {
  if (place.kind !== 'realtime') return null
  if (place.driver === 'pgsql' || place.driver === 'mysql') {
    try {
      const target = await sqlTargetFor(session, {
        mapping: contactMapping(null),
        place,
        assumed: null,
      })
      // a database the node's own settings put on its machine (loopback, a socket) is that machine's: two
      // PBXes that each say dbhost=127.0.0.1 do not share it (a --contacts-db host is pjctl's, the same for all)
      const mine = session.target.contactsDb === undefined && isLocalHost(target.host)
      const machine = mine ? `${session.target.host}:` : ''
      return `${place.driver}:${machine}${target.host}:${target.port}/${target.database}/${place.table}`
    } catch (error) {
      if (!(error instanceof PjctlError)) throw error
    }
  }
  // where the database is cannot be told (no connection settings, another driver): never taken as
  // shared, so no server's contacts are left unread
  return null
}

/** A loopback address, localhost or a Unix socket path. */
function isLocalHost(host: string): boolean {
  return host.startsWith('/') || host === 'localhost' || host === '::1' || host.startsWith('127.')
}

/** One server's systemname and contact store, over a session of its own (a few small actions). */
export async function identify(target: AmiTarget, deps: Deps): Promise<NodeIdentity> {
  const session = await deps.connect(target)
  try {
    const [location, systemName] = await Promise.all([
      // a place pjctl cannot read is refused by the read itself, with its one line
      locateContacts(session, deps).catch((error: unknown) => {
        if (error instanceof PjctlError) return null
        throw error
      }),
      systemNameOf(session, deps),
    ])
    return {
      target,
      systemName,
      store: location ? await storeOf(session, location.place) : null,
    }
  } finally {
    await session.close()
  }
}
