// Which servers share a contact store (and so are read once): the identity storeOf gives a realtime
// table, from the connection settings a node's own res_pgsql.conf names (over GetConfig) or --contacts-db.
import { describe, expect, it } from 'vitest'
import type { AmiSession } from '../../src/ami/types.js'
import { storeOf } from '../../src/commands/cluster.js'
import type { ContactPlace } from '../../src/core/types.js'

const PLACE: ContactPlace = {
  kind: 'realtime',
  driver: 'pgsql',
  database: 'general',
  table: 'ps_contacts',
  family: 'ps_contacts',
}

/** A session whose GetConfig res_pgsql.conf answers [general] dbhost=`dbhost` (null: no such file). */
function node(amiHost: string, dbhost: string | null, contactsDb?: string): AmiSession {
  const general =
    dbhost === null
      ? []
      : [
          {
            name: 'general',
            template: false,
            templates: [],
            lines: [
              { name: 'dbhost', value: dbhost },
              { name: 'dbname', value: 'asterisk' },
            ],
          },
        ]
  return {
    target: { host: amiHost, ...(contactsDb ? { contactsDb } : {}) },
    getConfig: (file: string) =>
      Promise.resolve(
        file === 'res_pgsql.conf' && dbhost !== null ? { categories: general } : null,
      ),
  } as unknown as AmiSession
}

describe('storeOf: the identity of a realtime contact table', () => {
  it('one database server named by two nodes: the same store', async () => {
    expect(await storeOf(node('10.0.0.5', 'db.example'), PLACE)).toBe(
      await storeOf(node('10.0.0.6', 'db.example'), PLACE),
    )
  })

  it('each PBX with its own local database (dbhost=127.0.0.1 or a socket): different stores', async () => {
    for (const local of ['127.0.0.1', 'localhost', '/var/run/postgresql'])
      expect(await storeOf(node('10.0.0.5', local), PLACE)).not.toBe(
        await storeOf(node('10.0.0.6', local), PLACE),
      )
    // two nodes on one machine (pjctl beside them): the same
    expect(await storeOf(node('127.0.0.1', '127.0.0.1'), PLACE)).toBe(
      await storeOf(node('127.0.0.1', '127.0.0.1'), PLACE),
    )
  })

  it('--contacts-db names the database from where pjctl runs: the same URL is the same store', async () => {
    const url = 'postgresql://pjctl@127.0.0.1:5432/asterisk'
    expect(await storeOf(node('10.0.0.5', null, url), PLACE)).toBe(
      await storeOf(node('10.0.0.6', null, url), PLACE),
    )
  })

  it('where the database is cannot be told (no res_pgsql.conf): never taken as shared', async () => {
    expect(await storeOf(node('10.0.0.5', null), PLACE)).toBeNull()
    expect(
      await storeOf(node('10.0.0.5', 'db'), { kind: 'astdb', family: 'registrar/contact' }),
    ).toBeNull()
  })
})
