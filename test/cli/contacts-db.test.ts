// Where pjctl connects for realtime contacts, against the sim: the PBX's own res_pgsql.conf /
// res_config_mysql.conf (GetConfig) by default, --contacts-db (or PJCTL_CONTACTS_DB) over it. A bare TCP
// server stands in for the database: it records what pjctl sent (PostgreSQL's startup message names
// the user and the database) and closes, so pjctl exits 3 naming the place it tried, never a password.
import { createServer, type Server } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import type { SimConfigFiles } from '../../src/sim/config.js'
import { lockoutSeed } from '../../src/sim/seed.js'
import { runIn as run } from '../helpers/cli.js'
import { nowSeconds } from '../helpers/rows.js'
import { envFor, sim } from '../helpers/sim.js'

interface FakeDb {
  port: number
  /** What each connection sent before it was closed, as text. */
  got: string[]
  server: Server
}

const open: Server[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => new Promise((r) => s.close(r))))
})

/** A listener that keeps what the client sends for a moment, then closes the connection. */
async function fakeDb(): Promise<FakeDb> {
  const got: string[] = []
  const server = createServer((socket) => {
    const i = got.push('') - 1
    socket.on('data', (chunk) => (got[i] = `${got[i] ?? ''}${chunk.toString('latin1')}`))
    socket.on('error', () => undefined)
    setTimeout(() => socket.destroy(), 100)
  })
  open.push(server)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  return { port: address.port, got, server }
}

function realtimeFiles(driver: 'pgsql' | 'mysql', port: number): SimConfigFiles {
  const file = driver === 'pgsql' ? 'res_pgsql.conf' : 'res_config_mysql.conf'
  return {
    'sorcery.conf': [{ name: 'res_pjsip', lines: [['contact', 'realtime,ps_contacts']] }],
    'extconfig.conf': [{ name: 'settings', lines: [['ps_contacts', `${driver},general`]] }],
    [file]: [
      {
        name: 'general',
        lines: [
          ['dbhost', '127.0.0.1'],
          ['dbport', String(port)],
          ['dbname', 'asterisk'],
          ['dbuser', 'asterisk'],
          ['dbpass', 'conf-pw-41'],
        ],
      },
    ],
  }
}

const NO_SECRET = /conf-pw-41|url-pw-42/

describe('PostgreSQL: res_pgsql.conf by default, --contacts-db over it', () => {
  it("res_pgsql.conf's database, user and port (GetConfig): the error names them, never the password", async () => {
    const db = await fakeDb()
    const server = await sim({
      seed: lockoutSeed({ now: nowSeconds() }),
      configFiles: realtimeFiles('pgsql', db.port),
    })
    const r = await run(['check'], { env: envFor(server) })
    expect(r.code).toBe(3)
    expect(r.stdout).toMatch(
      new RegExp(
        `^PJCTL UNKNOWN - cannot connect to PostgreSQL asterisk@127\\.0\\.0\\.1:${db.port}/asterisk for the contacts \\(table ps_contacts\\)`,
      ),
    )
    expect(r.stdout + r.stderr).not.toMatch(NO_SECRET)
    // PostgreSQL's startup message: user and database as res_pgsql.conf says
    expect(db.got).toHaveLength(1)
    expect(db.got[0]).toContain('user\0asterisk\0database\0asterisk\0')
  })

  it('PJCTL_CONTACTS_DB overrides res_pgsql.conf: another host port, user and database, its password never printed', async () => {
    const conf = await fakeDb()
    const url = await fakeDb()
    const server = await sim({
      seed: lockoutSeed({ now: nowSeconds() }),
      configFiles: realtimeFiles('pgsql', conf.port),
    })
    const env = {
      ...envFor(server),
      PJCTL_CONTACTS_DB: `postgresql://pjro:url-pw-42@127.0.0.1:${url.port}/contactsdb`,
    }
    const r = await run(['contacts', 'FAP003'], { env })
    expect(r.code).toBe(3)
    expect(r.stderr.split('\n')[0]).toMatch(
      new RegExp(
        `^pjctl: cannot connect to PostgreSQL pjro@127\\.0\\.0\\.1:${url.port}/contactsdb for the contacts`,
      ),
    )
    expect(r.stdout + r.stderr).not.toMatch(NO_SECRET)
    expect(conf.got).toEqual([])
    expect(url.got[0]).toContain('user\0pjro\0database\0contactsdb\0')
  })

  it('--contacts-db without a password is used as given; with one it is refused before anything connects', async () => {
    const url = await fakeDb()
    const server = await sim({
      seed: lockoutSeed({ now: nowSeconds() }),
      configFiles: realtimeFiles('pgsql', 1),
    })
    const given = await run(
      ['check', '--contacts-db', `postgresql://pjro@127.0.0.1:${url.port}/contactsdb`],
      { env: envFor(server) },
    )
    expect(given.code).toBe(3)
    expect(url.got[0]).toContain('user\0pjro\0database\0contactsdb\0')

    const before = server.received.length
    const refused = await run(
      ['check', '--contacts-db', `postgresql://pjro:url-pw-42@127.0.0.1:${url.port}/contactsdb`],
      { env: envFor(server) },
    )
    expect(refused.code).toBe(3)
    expect(refused.stderr.split('\n')[0]).toBe(
      'pjctl: --contacts-db: a password is never a flag (others can read the command line)',
    )
    expect(refused.stdout + refused.stderr).not.toMatch(NO_SECRET)
    expect(server.received.length).toBe(before)
    expect(url.got).toHaveLength(1)
  })
})

describe('MySQL/MariaDB: res_config_mysql.conf by default, --contacts-db over it', () => {
  it("res_config_mysql.conf's section that extconfig.conf names: the error names its place, never the password", async () => {
    const db = await fakeDb()
    const server = await sim({
      seed: lockoutSeed({ now: nowSeconds() }),
      configFiles: realtimeFiles('mysql', db.port),
    })
    const r = await run(['check'], { env: envFor(server) })
    expect(r.code).toBe(3)
    expect(r.stdout).toMatch(
      new RegExp(
        `^PJCTL UNKNOWN - cannot connect to MySQL asterisk@127\\.0\\.0\\.1:${db.port}/asterisk for the contacts \\(table ps_contacts\\)`,
      ),
    )
    expect(r.stdout + r.stderr).not.toMatch(NO_SECRET)
    expect(db.got).toHaveLength(1)
  })

  it('PJCTL_CONTACTS_DB mysql://… overrides it; a postgresql:// URL for MySQL contacts is one line, exit 2', async () => {
    const conf = await fakeDb()
    const url = await fakeDb()
    const server = await sim({
      seed: lockoutSeed({ now: nowSeconds() }),
      configFiles: realtimeFiles('mysql', conf.port),
    })
    const r = await run(['check'], {
      env: {
        ...envFor(server),
        PJCTL_CONTACTS_DB: `mysql://pjro:url-pw-42@127.0.0.1:${url.port}/contactsdb`,
      },
    })
    expect(r.code).toBe(3)
    expect(r.stdout).toMatch(
      new RegExp(
        `^PJCTL UNKNOWN - cannot connect to MySQL pjro@127\\.0\\.0\\.1:${url.port}/contactsdb`,
      ),
    )
    expect(r.stdout + r.stderr).not.toMatch(NO_SECRET)
    expect(conf.got).toEqual([])
    expect(url.got).toHaveLength(1)

    const wrong = await run(['contacts'], {
      env: { ...envFor(server), PJCTL_CONTACTS_DB: `postgresql://pjro@127.0.0.1:${url.port}/x` },
    })
    expect(wrong.code).toBe(2)
    expect(wrong.stderr.split('\n')[0]).toBe(
      'pjctl: --contacts-db: sorcery.conf puts these contacts in MySQL (mysql://USER@HOST:PORT/DB), not postgresql:',
    )
  })
})
