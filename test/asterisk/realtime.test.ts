// Against the realtime lab (lab/realtime.sh: sorcery.conf contact=realtime,ps_contacts on PostgreSQL, or on
// MariaDB with REALTIME_DB=mysql; the lab's extconfig.conf says which): pjctl finds the table through
// sorcery.conf, extconfig.conf and res_pgsql.conf / res_config_mysql.conf (GetConfig), reads the FAP003
// lockout from it, prunes through Asterisk (UPDATE expiration_time, then PJSIPShowEndpoint), and a backup
// round-trips through restore (an INSERT that never overwrites).
// The database: LAB_PG_URL (default postgresql://asterisk:asterisk@127.0.0.1:5432/asterisk, realtime.sh's),
// LAB_MYSQL_URL (default mysql://asterisk:asterisk@127.0.0.1:3306/asterisk).
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startExporter } from '../helpers/exporter.js'
import { home } from '../helpers/prune.js'
import { LAB, pjctl, register } from './lab.js'

/** The lab's realtime driver, as its extconfig.conf maps ps_contacts. */
const DRIVER = /^\s*ps_contacts\s*=>\s*mysql\b/m.test(
  (() => {
    try {
      return readFileSync(join(LAB.prefix, 'etc', 'extconfig.conf'), 'utf8')
    } catch {
      return ''
    }
  })(),
)
  ? 'mysql'
  : 'pgsql'
const NAME = DRIVER === 'mysql' ? 'MySQL/MariaDB' : 'PostgreSQL'
const PG_URL = process.env.LAB_PG_URL ?? 'postgresql://asterisk:asterisk@127.0.0.1:5432/asterisk'
const MYSQL_URL = process.env.LAB_MYSQL_URL ?? 'mysql://asterisk:asterisk@127.0.0.1:3306/asterisk'
// below 32768: a port in the ephemeral range (32768-60999) may be held by any process, an Asterisk included
const PORTS = [25101, 25102, 25103]

/** One statement with `?` placeholders, on the lab's database; the rows as objects. */
async function query(text: string, values: unknown[] = []): Promise<Record<string, unknown>[]> {
  if (DRIVER === 'mysql') {
    const connection = await mysql.createConnection(MYSQL_URL)
    try {
      const [rows] = await connection.query(text, values)
      return Array.isArray(rows) ? (rows as Record<string, unknown>[]) : []
    } finally {
      await connection.end()
    }
  }
  const client = new pg.Client({ connectionString: PG_URL })
  await client.connect()
  try {
    let n = 0
    return (
      await client.query(
        text.replace(/\?/g, () => `$${++n}`),
        values,
      )
    ).rows
  } finally {
    await client.end()
  }
}

const fapRows = async () =>
  await query("SELECT * FROM ps_contacts WHERE id LIKE 'FAP003^3B@%' ORDER BY id")

describe(`contact=realtime,ps_contacts on ${NAME}`, () => {
  let saved: Record<string, unknown>[] = []
  const dir = mkdtempSync(join(tmpdir(), 'pjctl-rt-'))
  const env = { XDG_STATE_HOME: dir }

  beforeAll(async () => {
    saved = await fapRows()
    await query("DELETE FROM ps_contacts WHERE id LIKE 'FAP003^3B@%'")
  })

  afterAll(async () => {
    await query("DELETE FROM ps_contacts WHERE id LIKE 'FAP003^3B@%'")
    for (const row of saved) {
      const cols = Object.keys(row)
      await query(
        `INSERT INTO ps_contacts (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`,
        cols.map((c) => row[c]),
      )
    }
  })

  it('the lockout: check exits 2 naming FAP003, contacts FAP003 shows 2 (ids unescaped), prune lets the third REGISTER through, restore puts the row back', async () => {
    // a shorter expiry for the first: two contacts of one device expiring in the same second cannot
    // be told apart, and back-to-back REGISTERs usually land in the same second
    expect((await register('FAP003', 'FAP003-pass', PORTS[0]!, 1800)).code).toBe(0)
    expect((await register('FAP003', 'FAP003-pass', PORTS[1]!)).code).toBe(0)
    expect((await register('FAP003', 'FAP003-pass', PORTS[2]!)).code).toBe(3)
    const rows = await fapRows()
    expect(rows).toHaveLength(2)

    const check = await pjctl(['check', 'FAP003'], env)
    expect(check.code).toBe(2)
    expect(check.stdout).toMatch(/^PJCTL CRITICAL - .*FAP003 \(2\/2/)

    const contacts = await pjctl(['contacts', 'FAP003', '--json'], env)
    expect([contacts.code, contacts.stderr]).toEqual([0, ''])
    const doc = JSON.parse(contacts.stdout)
    expect(doc.source).toBe(DRIVER)
    expect(doc.aors[0].contacts.map((c: { key: string }) => c.key).sort()).toEqual(
      rows.map((r) => String(r.id).replace('^3B', ';')).sort(),
    )

    const doctor = await pjctl(['doctor', 'FAP003', '--json'], env)
    expect(JSON.parse(doctor.stdout).contactsAt).toMatch(
      new RegExp(`^${DRIVER} table ps_contacts \\(realtime\\)`),
    )

    const backup = join(dir, 'backup.jsonl')
    const prune = await pjctl(['prune', 'FAP003', '--yes', '--json', '--backup', backup], env)
    expect(prune.code).toBe(0)
    const outcomes = JSON.parse(prune.stdout).servers[0].outcomes
    expect(outcomes).toHaveLength(1)
    expect(outcomes[0]).toMatchObject({
      outcome: 'deleted',
      detail: 'removed by Asterisk (expired, then retrieved)',
    })
    const pruned = rows.find((r) => String(r.id) === outcomes[0].key.replace(';', '^3B'))!
    expect(await fapRows()).toHaveLength(1)
    expect((await register('FAP003', 'FAP003-pass', PORTS[2]!)).code).toBe(0)

    // restore: the row back, every column as it was; a second restore never overwrites
    // --force: FAP003 holds 2 contacts again, and restore refuses to put an AOR over max_contacts without it
    const restored = await pjctl(['restore', '--force', backup], env)
    expect(restored.code).toBe(0)
    expect(restored.stdout).toContain(`restored ${outcomes[0].key}`)
    const back = (await fapRows()).find((r) => r.id === pruned.id)
    expect(back).toEqual(pruned)
    const again = await pjctl(['restore', '--force', backup], env)
    expect(again.code).toBe(0)
    expect(again.stdout).toMatch(/^skipped /)
  })

  it('the exporter: a new contact an event names is read from its one row, with no full read and no drift', async () => {
    await query("DELETE FROM ps_contacts WHERE id LIKE 'FAP003^3B@%'")
    // a URI this Asterisk has not seen since boot: one it has (its row deleted by hand) gets no event at all
    const port = 25200 + (Math.floor(Date.now() / 1000) % 700)
    const server = `${LAB.host}:${LAB.port}`
    const fap = `pjctl_aor_contacts{server="${server}",aor="FAP003"}`
    const e = await startExporter(
      ['--resync', '1h', '--debug'],
      { ...LAB.env, ...home() },
      120_000,
      'spawned',
    )
    try {
      await e.waitFor(`pjctl_server_up{server="${server}"}`, 1, 30_000)
      await e.waitFor(fap, 0, 5_000)
      expect((await register('FAP003', 'FAP003-pass', port)).code).toBe(0)
      await e.waitFor(fap, 1, 5_000)
      expect(e.stderr()).toMatch(/: row of FAP003;@[0-9a-f]{32}: read$/m)
      expect(e.stderr()).not.toContain('drift')
      expect(e.stderr()).not.toContain('resync of the contacts')
      expect(
        await e.value(`pjctl_resync_drift_contacts_total{server="${server}",kind="added"}`),
      ).toBe(0)
      expect((await register('FAP003', 'FAP003-pass', port, 0)).code).toBe(0)
      await e.waitFor(fap, 0, 5_000)
    } finally {
      expect((await e.stop()).code).toBe(0)
    }
  })
})
