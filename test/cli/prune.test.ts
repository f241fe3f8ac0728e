// pjctl prune against a simulated Asterisk: what it prints, how it exits, what it sends,
// what it leaves in astdb and in the backup file.
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { contactKey, defineAor } from '../../src/sim/registrar.js'
import { lockoutSeed } from '../../src/sim/seed.js'
import type { FaultySim } from '../../src/sim/faults.js'
import {
  CONTACT_FAMILY,
  actionLines,
  backupLines,
  defaultBackup,
  header,
  home,
  keysOf,
  lockPath,
  row,
  serverName,
  snapshot,
  spawnCli,
  summaryFields,
  summaryOf,
} from '../helpers/prune.js'
import { runIn as run } from '../helpers/cli.js'
import { envFor, sim } from '../helpers/sim.js'

const GRANDSTREAM = 'Grandstream GXP2130 1.0.11.3'
const now = (): number => Math.floor(Date.now() / 1000)

/** The lockout seed's keys. */
const K = {
  fapOld: contactKey('FAP003', 'sip:FAP003@192.0.2.16:5060'),
  fapNew: contactKey('FAP003', 'sip:FAP003@192.0.2.16:5062'),
  alice: contactKey('alice', 'sip:alice@192.0.2.21:5060'),
  zoiper: contactKey(
    'phone1',
    'sip:phone1@192.0.2.31:52044;transport=UDP;rinstance=9c1e5f0a7b3d2e41',
  ),
  linphone: contactKey('phone1', 'sip:phone1@192.0.2.32:5060;transport=udp'),
  erin: contactKey('erin', 'sip:erin@192.0.2.41:5060'),
}

const SUPERSEDED_REASON = `superseded by a newer registration from the same device (192.0.2.16, ${GRANDSTREAM}), key ${K.fapNew}`
const NO_TTY = 'not a terminal and no --yes: nothing deleted (cron must pass --yes)'
// on the first connection (the AOR limits are read on a second one at the same time); no qualified
// candidate, so no qualify state is read, and never the whole-server PJSIPShowContacts
const READ = ['GetConfig', 'DBGetTree']
const READ_ALL = READ

async function lockoutSim(): Promise<FaultySim> {
  return sim({ seed: lockoutSeed({ now: now() }) })
}

/** The AOR gets qualify_frequency=60 (in pjsip.conf, and so in what GetConfig answers). */
function qualifyAor(server: FaultySim, name: string): void {
  server.registrar.setAor({ ...server.registrar.aors.get(name)!, qualifyFrequency: 60 })
}

/** The FAP003 phone coming back from yet another port. */
function registerFromNewPort(server: FaultySim) {
  return server.registrar.register({
    aor: 'FAP003',
    uri: 'sip:FAP003@192.0.2.16:5064',
    viaAddr: '192.0.2.16',
    viaPort: 5064,
    userAgent: GRANDSTREAM,
  })
}

/** Every DBDel/DBPut comes after a DBGet of the same key on the same connection, and at most once per key. */
function expectComparedBeforeWrite(server: FaultySim): void {
  const seen = new Set<string>()
  const written = new Set<string>()
  for (const r of server.received) {
    const key = header(r.headers, 'Key')
    if (/^dbget$/i.test(r.action)) seen.add(`${r.connection} ${key}`)
    if (/^(dbdel|dbput)$/i.test(r.action)) {
      expect(header(r.headers, 'Family')).toBe(CONTACT_FAMILY)
      expect(
        seen.has(`${r.connection} ${key}`),
        `${r.action} ${key} without a DBGet before it`,
      ).toBe(true)
      expect(written.has(key), `${key} written twice`).toBe(false)
      written.add(key)
    }
  }
}

function without(snap: Record<string, string>, ...keys: string[]): Record<string, string> {
  const copy = { ...snap }
  for (const key of keys) delete copy[key]
  return copy
}

describe('pjctl prune: the lockout, end to end', () => {
  it('FAP003 full of one Grandstream: 403, prune --yes deletes the superseded contact (DBGet, backup, DBDel), then 200', async () => {
    const server = await lockoutSim()
    const env = home()
    const before = snapshot(server)

    const refused = registerFromNewPort(server)
    expect(refused.code).toBe(403)
    expect(refused.reason).toBe(
      "Registration attempt from endpoint 'FAP003' (192.0.2.16:5064) to AOR 'FAP003' will exceed max contacts of 2",
    )
    expect(snapshot(server)).toEqual(before)

    // the backup line must be in the file before its DBDel arrives
    const backup = defaultBackup(env, server)
    const backedUpWhenDeleted: boolean[] = []
    server.setFaults({
      beforeAction: (action, headers) => {
        if (/^dbdel$/i.test(action)) {
          const key = header(headers, 'Key')
          backedUpWhenDeleted.push(
            backupLines(backup).some((l) => l.key === key && l.value === before[key]),
          )
        }
      },
    })
    const started = Date.now()
    const r = await run(['prune', '--via', 'delete', 'FAP003', '--yes'], {
      env: { ...envFor(server), ...env },
    })
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const name = serverName(server)
    expect(r.stdout).toContain(`Prune plan for ${name} (executed): 1 to delete, 0 kept`)
    expect(r.stdout).toMatch(
      /^deleted\tFAP003\tfc939de3[0-9a-f]{24}\t192\.0\.2\.16:5060\tGrandstream GXP2130 1\.0\.11\.3\t/m,
    )
    expect(r.stdout).toContain(`backup: ${backup} (pjctl restore ${backup})`)
    expect(r.stdout).toContain('Lasting fix for FAP003:')
    // each advice item wrapped to 80 columns, its continuation indented under its text
    const unwrapped = r.stdout.replace(/\n {4}(?=\S)/g, ' ')
    expect(unwrapped).toContain(
      '  - set remove_existing=yes on AOR FAP003: Asterisk then drops the soonest-to-expire contact when a new registration would exceed max_contacts',
    )
    expect(unwrapped).toContain(
      `  - ${GRANDSTREAM}: on the phone set Unregister On Reboot: All (in the account's SIP settings)`,
    )
    expect(summaryOf(r.stdout)).toBe(
      `pjctl prune: mode=executed server=${name} planned=1 deleted=1 skipped=0 failed=0 backup=${backup}`,
    )

    expect(actionLines(server)).toEqual([
      ...READ,
      `DBGet ${K.fapOld}`,
      `DBDel ${K.fapOld}`,
      'UserEvent',
      'Logoff',
    ])
    expectComparedBeforeWrite(server)
    expect(backedUpWhenDeleted).toEqual([true])
    expect(snapshot(server)).toEqual(without(before, K.fapOld))

    const lines = backupLines(backup)
    expect(lines).toHaveLength(1)
    expect(Object.keys(lines[0]!).sort()).toEqual([
      'deletedAt',
      'family',
      'key',
      'reason',
      'server',
      'value',
    ])
    expect(lines[0]).toMatchObject({
      server: name,
      family: CONTACT_FAMILY,
      key: K.fapOld,
      value: before[K.fapOld],
      reason: SUPERSEDED_REASON,
    })
    const deletedAt = Date.parse(lines[0]!.deletedAt)
    expect(new Date(deletedAt).toISOString()).toBe(lines[0]!.deletedAt)
    expect(deletedAt).toBeGreaterThanOrEqual(Math.floor(started / 1000) * 1000)
    expect(deletedAt).toBeLessThanOrEqual(Date.now())
    expect(statSync(backup).mode & 0o777).toBe(0o600)
    expect(existsSync(lockPath(env, server))).toBe(false)

    const accepted = registerFromNewPort(server)
    expect(accepted.code).toBe(200)
    expect(Object.keys(snapshot(server)).filter((k) => k.startsWith('FAP003;@'))).toHaveLength(2)
  })
})

describe('pjctl prune: nothing is touched without consent', () => {
  it('without a terminal and without --yes: prints the plan, sends no DBGet/DBDel/DBPut, exits 2', async () => {
    const server = await lockoutSim()
    const env = home()
    const before = snapshot(server)
    const r = await run(['prune', '--via', 'delete', 'FAP003'], {
      env: { ...envFor(server), ...env },
    })
    expect(r.stderr).toBe('')
    expect(r.code).toBe(2)
    const name = serverName(server)
    expect(r.stdout).toContain(`Prune plan for ${name} (nothing changed): 1 to delete, 0 kept`)
    expect(r.stdout).toMatch(/^delete\tFAP003\tfc939de3/m)
    expect(r.stdout).toContain(`\n${NO_TTY}\n`)
    expect(summaryOf(r.stdout)).toBe(
      `pjctl prune: mode=refused server=${name} planned=1 deleted=0 skipped=0 failed=0 reason="${NO_TTY}"`,
    )
    expect(actionLines(server)).toEqual([...READ, 'Logoff'])
    expect(snapshot(server)).toEqual(before)
    expect(existsSync(defaultBackup(env, server))).toBe(false)
    expect(existsSync(lockPath(env, server))).toBe(false)
  })

  it('--dry-run --json: the plan with its fields, no write, no backup, no lock, exit 0', async () => {
    const server = await lockoutSim()
    const env = home()
    const before = snapshot(server)
    const r = await run(['prune', '--via', 'delete', '--dry-run', '--json'], {
      env: { ...envFor(server), ...env },
    })
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const doc = JSON.parse(r.stdout)
    expect(doc.summary).toEqual({ planned: 1, deleted: 0, expired: 0, skipped: 0, failed: 0 })
    expect(doc.servers).toHaveLength(1)
    const s = doc.servers[0]
    expect(s).toMatchObject({
      server: serverName(server),
      mode: 'dry-run',
      via: 'delete',
      reason: null,
      backupFile: null,
      outcomes: [],
    })
    // FAP003 is not qualified: nothing can protect a superseded contact as reachable, and the plan says so
    expect(s.notes).toEqual([
      'superseded is a judgement from via address and user agent (qualify is off or unreadable): a contact that still answers cannot be told apart, so no contact is protected as reachable',
    ])
    const fapOld = JSON.parse(before[K.fapOld]!)
    expect(s.plan).toEqual([
      {
        key: K.fapOld,
        aor: 'FAP003',
        action: 'delete',
        reasons: [SUPERSEDED_REASON],
        uri: 'sip:FAP003@192.0.2.16:5060',
        viaAddr: '192.0.2.16',
        viaPort: 5060,
        userAgent: GRANDSTREAM,
        expirationTime: Number(fapOld.expiration_time),
        status: 'superseded',
        qualify: null, // not qualified (qualify_frequency 0), so not asked
      },
    ])
    expect(s.advice).toEqual([
      {
        aor: 'FAP003',
        removeExisting:
          'set remove_existing=yes on AOR FAP003: Asterisk then drops the soonest-to-expire contact when a new registration would exceed max_contacts',
        maxContacts: null,
        phone: "on the phone set Unregister On Reboot: All (in the account's SIP settings)",
        userAgent: GRANDSTREAM,
      },
    ])
    expect(actionLines(server)).toEqual([...READ_ALL, 'Logoff'])
    expect(snapshot(server)).toEqual(before)
    expect(existsSync(join(env.XDG_STATE_HOME!, 'pjctl'))).toBe(false)
  })

  it('--dry-run as a table says so and changes nothing', async () => {
    const server = await lockoutSim()
    const before = snapshot(server)
    const r = await run(['prune', '--via', 'delete', 'FAP003', '--dry-run'], {
      env: envFor(server),
    })
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(
      `Prune plan for ${serverName(server)} (dry run, nothing changed): 1 to delete, 0 kept`,
    )
    expect(summaryOf(r.stdout)).toBe(
      `pjctl prune: mode=dry-run server=${serverName(server)} planned=1 deleted=0 skipped=0 failed=0`,
    )
    expect(
      keysOf(server, 'DBGet').length +
        keysOf(server, 'DBDel').length +
        keysOf(server, 'DBPut').length,
    ).toBe(0)
    expect(snapshot(server)).toEqual(before)
  })

  it('--quiet prints exactly the summary line, nothing on stderr', async () => {
    const server = await lockoutSim()
    const env = home()
    const r = await run(['prune', '--via', 'delete', 'FAP003', '--yes', '--quiet'], {
      env: { ...envFor(server), ...env },
    })
    expect(r.code).toBe(0)
    expect(r.stderr).toBe('')
    expect(r.stdout).toBe(
      `pjctl prune: mode=executed server=${serverName(server)} planned=1 deleted=1 skipped=0 failed=0 backup=${defaultBackup(env, server)}\n`,
    )
  })

  it('--quiet without --yes: one line too, and still exit 2', async () => {
    const server = await lockoutSim()
    const r = await run(['prune', '--via', 'delete', '--quiet'], { env: envFor(server) })
    expect(r.code).toBe(2)
    expect(r.stdout.split('\n')).toEqual([
      `pjctl prune: mode=refused server=${serverName(server)} planned=1 deleted=0 skipped=0 failed=0 reason="${NO_TTY}"`,
      '',
    ])
  })

  it('--json after a run: outcomes, backup file and summary', async () => {
    const server = await lockoutSim()
    const env = home()
    const r = await run(['prune', '--via', 'delete', '--yes', '--json'], {
      env: { ...envFor(server), ...env },
    })
    expect(r.code).toBe(0)
    const doc = JSON.parse(r.stdout)
    expect(doc.summary).toEqual({ planned: 1, deleted: 1, expired: 0, skipped: 0, failed: 0 })
    expect(doc.servers[0]).toMatchObject({
      mode: 'executed',
      backupFile: defaultBackup(env, server),
      outcomes: [{ key: K.fapOld, aor: 'FAP003', outcome: 'deleted' }],
    })
  })
})

describe('pjctl prune: compare before delete', () => {
  it('a key whose value changed when its DBGet arrives (the phone re-registered) is not deleted: changed, skipped=1, exit 0', async () => {
    const server = await lockoutSim()
    const env = home()
    const before = snapshot(server)
    const refreshed = before[K.fapOld]!.replace(
      /"expiration_time":"\d+"/,
      `"expiration_time":"${now() + 3600}"`,
    )
    expect(refreshed).not.toBe(before[K.fapOld])
    server.setFaults({
      beforeAction: (action, headers, s) => {
        if (/^dbget$/i.test(action) && header(headers, 'Key') === K.fapOld)
          s.astdb.put(CONTACT_FAMILY, K.fapOld, refreshed)
      },
    })
    const r = await run(['prune', '--via', 'delete', 'FAP003', '--yes'], {
      env: { ...envFor(server), ...env },
    })
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^changed\tFAP003\tfc939de3/m)
    expect(r.stdout.replace(/[│\s]+/g, ' ')).toContain(
      'the value changed since the plan (the phone re-registered): not deleted',
    )
    expect(summaryFields(summaryOf(r.stdout))).toMatchObject({
      mode: 'executed',
      planned: 1,
      deleted: 0,
      skipped: 1,
      failed: 0,
    })
    expect(actionLines(server)).toEqual([...READ, `DBGet ${K.fapOld}`, 'Logoff'])
    expect(snapshot(server)).toEqual({ ...before, [K.fapOld]: refreshed })
    expect(backupLines(defaultBackup(env, server))).toEqual([])
  })

  it('a key that vanished before its DBGet is reported vanished, not deleted, exit 0', async () => {
    const server = await lockoutSim()
    const env = home()
    const before = snapshot(server)
    server.setFaults({
      beforeAction: (action, headers, s) => {
        if (/^dbget$/i.test(action) && header(headers, 'Key') === K.fapOld)
          s.astdb.del(CONTACT_FAMILY, K.fapOld)
      },
    })
    const r = await run(['prune', '--via', 'delete', 'FAP003', '--yes', '--json'], {
      env: { ...envFor(server), ...env },
    })
    expect(r.code).toBe(0)
    const doc = JSON.parse(r.stdout)
    expect(doc.summary).toEqual({ planned: 1, deleted: 0, expired: 0, skipped: 1, failed: 0 })
    expect(doc.servers[0].outcomes).toEqual([
      { key: K.fapOld, aor: 'FAP003', outcome: 'vanished', detail: 'the key no longer exists' },
    ])
    expect(keysOf(server, 'DBDel')).toEqual([])
    expect(snapshot(server)).toEqual(without(before, K.fapOld))
    expect(backupLines(defaultBackup(env, server))).toEqual([])
  })

  it('an expired contact that Asterisk itself removes while pjctl reads is planned (expired … ago) and reported vanished', async () => {
    const t = now()
    const rows = [
      row('dan', '192.0.2.50', 5060, 'Yealink SIP-T46S', t + 3000),
      row('dan', '192.0.2.51', 5060, 'Yealink SIP-T46S', t - 125),
      row('eve', '192.0.2.60', 5060, 'Snom D785', t + 2000),
    ]
    const server = await sim({
      seed: {
        rows,
        aors: [defineAor('dan', { maxContacts: 2 }), defineAor('eve', { maxContacts: 1 })],
      },
    })
    // Asterisk's expiry sweep (contact_expiration_check_interval) runs between the read and the compare
    server.setFaults({
      beforeAction: (action, _headers, s) => {
        if (/^dbget$/i.test(action)) s.registrar.sweepExpired()
      },
    })
    const r = await run(['prune', '--via', 'delete', '--yes', '--json'], { env: envFor(server) })
    expect(r.code).toBe(0)
    const doc = JSON.parse(r.stdout)
    expect(doc.servers[0].plan).toHaveLength(1)
    expect(doc.servers[0].plan[0]).toMatchObject({
      key: rows[1]!.key,
      action: 'delete',
      status: 'expired',
    })
    expect(doc.servers[0].plan[0].reasons[0]).toMatch(/^expired 2m ago$/)
    expect(doc.servers[0].outcomes).toEqual([
      { key: rows[1]!.key, aor: 'dan', outcome: 'vanished', detail: 'the key no longer exists' },
    ])
    expect(doc.summary).toEqual({ planned: 1, deleted: 0, expired: 0, skipped: 1, failed: 0 })
    expect(Object.keys(snapshot(server)).sort()).toEqual([rows[0]!.key, rows[2]!.key].sort())
  })

  it('a DBDel that fails mid-run is reported failed, exit 1; the other deletes are still done', async () => {
    const t = now()
    const aors = ['a1', 'a2', 'a3', 'a4', 'a5']
    const fresh = aors.map((a, i) =>
      row(a, `192.0.2.${i + 1}`, 5060, 'Cisco/SPA504G-7.6.2f', t + 3000),
    )
    const stale = aors.map((a, i) =>
      row(a, `192.0.2.${i + 1}`, 5062, 'Cisco/SPA504G-7.6.2f', t + 1000),
    )
    const server = await sim({
      seed: { rows: [...fresh, ...stale], aors: aors.map((a) => defineAor(a, { maxContacts: 2 })) },
    })
    const env = home()
    const before = snapshot(server)
    const failing = stale[2]!.key
    server.setFaults({ dbDelFail: [failing] })
    const r = await run(['prune', '--via', 'delete', '--yes', '--in-flight', '2'], {
      env: { ...envFor(server), ...env },
    })
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/^failed\ta3\t/m)
    expect(r.stdout.replace(/[│\s]+/g, ' ')).toContain('Database entry could not be deleted')
    expect(summaryFields(summaryOf(r.stdout))).toMatchObject({
      mode: 'executed',
      planned: 5,
      deleted: 4,
      skipped: 0,
      failed: 1,
    })
    expect(keysOf(server, 'DBDel').sort()).toEqual(stale.map((s) => s.key).sort())
    expectComparedBeforeWrite(server)
    const deleted = stale.map((s) => s.key).filter((k) => k !== failing)
    expect(snapshot(server)).toEqual(without(before, ...deleted))
    // every deleted key is in the backup, value byte-identical
    const lines = backupLines(defaultBackup(env, server))
    for (const key of deleted) expect(lines.find((l) => l.key === key)?.value).toBe(before[key])
    for (const l of lines) expect(l.value).toBe(before[l.key])
  })
})

describe('pjctl prune: an AMI user that may read but not delete', () => {
  it('stops at the first refused DBDel (exit 1), sends no more, names the privilege it needs', async () => {
    const server = await lockoutSim()
    const before = snapshot(server)
    const r = await run(
      ['prune', '--via', 'delete', '--keep', '1', '--yes', '--in-flight', '1', '--json'],
      {
        env: envFor(server, 'pjro'),
      },
    )
    expect(r.code).toBe(1)
    const doc = JSON.parse(r.stdout)
    const denied = 'AMI action DBDel was refused: permission denied (needs write=system)'
    expect(doc.servers[0].outcomes).toEqual([
      { key: K.fapOld, aor: 'FAP003', outcome: 'failed', detail: denied },
      { key: K.linphone, aor: 'phone1', outcome: 'not-sent', detail: `not sent: ${denied}` },
    ])
    expect(doc.servers[0].reason).toBe(
      `stopped at the first refusal: ${denied}; 1 contact(s) not sent`,
    )
    expect(doc.summary).toEqual({ planned: 2, deleted: 0, expired: 0, skipped: 0, failed: 2 })
    expect(keysOf(server, 'DBDel')).toEqual([K.fapOld])
    expect(keysOf(server, 'DBGet')).toEqual([K.fapOld])
    expect(snapshot(server)).toEqual(before)
  })
})

describe('pjctl prune: the guard', () => {
  it('--max-delete 1 refuses a plan of 2 (exit 2, nothing sent); --force overrides', async () => {
    const server = await lockoutSim()
    const env = home()
    const before = snapshot(server)
    const reason =
      'refusing to delete 2 contacts (more than --max-delete 1); pass --force to allow it'
    const r = await run(['prune', '--via', 'delete', '--keep', '1', '--yes', '--max-delete', '1'], {
      env: { ...envFor(server), ...env },
    })
    expect(r.code).toBe(2)
    expect(r.stdout).toContain(`\n${reason}\n`)
    expect(summaryOf(r.stdout)).toBe(
      `pjctl prune: mode=refused server=${serverName(server)} planned=2 deleted=0 skipped=0 failed=0 reason="${reason}"`,
    )
    expect(actionLines(server)).toEqual([...READ_ALL, 'Logoff'])
    expect(snapshot(server)).toEqual(before)
    expect(existsSync(defaultBackup(env, server))).toBe(false)

    const forced = await run(
      ['prune', '--via', 'delete', '--keep', '1', '--yes', '--max-delete', '1', '--force'],
      {
        env: { ...envFor(server), ...env },
      },
    )
    expect(forced.code).toBe(0)
    expect(summaryFields(summaryOf(forced.stdout))).toMatchObject({
      mode: 'executed',
      planned: 2,
      deleted: 2,
      failed: 0,
    })
    expect(snapshot(server)).toEqual(without(before, K.fapOld, K.linphone))
  })

  it('refuses to delete more than half of the server (4 of 6); --force overrides', async () => {
    const server = await lockoutSim()
    const before = snapshot(server)
    const keys = [K.fapOld, K.fapNew, K.alice, K.erin]
    const reason =
      "refusing to delete 4 of the server's 6 contacts (more than half); pass --force to allow it"
    const r = await run(['prune', '--via', 'delete', '--key', keys.join(','), '--yes'], {
      env: envFor(server),
    })
    expect(r.code).toBe(2)
    expect(summaryOf(r.stdout)).toBe(
      `pjctl prune: mode=refused server=${serverName(server)} planned=4 deleted=0 skipped=0 failed=0 reason="${reason}"`,
    )
    expect(keysOf(server, 'DBGet')).toEqual([])
    expect(keysOf(server, 'DBDel')).toEqual([])
    expect(snapshot(server)).toEqual(before)

    const forced = await run(
      ['prune', '--via', 'delete', '--key', keys.join(','), '--yes', '--force'],
      {
        env: envFor(server),
      },
    )
    expect(forced.code).toBe(0)
    expect(summaryFields(summaryOf(forced.stdout))).toMatchObject({ planned: 4, deleted: 4 })
    expect(snapshot(server)).toEqual(without(before, ...keys))
  })

  it('a small server is not emptied either: 2 of its 3 contacts is more than half', async () => {
    const t = now()
    const rows = [5060, 5062, 5064].map((port, i) =>
      row('solo', '192.0.2.70', port, 'Polycom VVX 411', t + 3000 - 100 * i),
    )
    const server = await sim({ seed: { rows, aors: [defineAor('solo', { maxContacts: 3 })] } })
    const before = snapshot(server)
    const r = await run(['prune', '--via', 'delete', '--yes'], { env: envFor(server) })
    expect(r.code).toBe(2)
    expect(summaryOf(r.stdout)).toContain(
      'reason="refusing to delete 2 of the server\'s 3 contacts (more than half); pass --force to allow it"',
    )
    expect(snapshot(server)).toEqual(before)
  })
})

describe('pjctl prune: one prune per server', () => {
  function writeLock(
    env: Record<string, string>,
    server: FaultySim,
    holder: { pid: number; host: string; startedAt: string },
  ): string {
    const path = lockPath(env, server)
    mkdirSync(join(path, '..'), { recursive: true })
    writeFileSync(path, JSON.stringify(holder) + '\n')
    return path
  }

  it('a lock file naming a live process (as an older pjctl left it): exit 1 naming the holder, nothing sent, the lock left alone', async () => {
    const server = await lockoutSim()
    const env = home()
    const before = snapshot(server)
    const live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'])
    const holder = { pid: live.pid!, host: hostname(), startedAt: '2026-01-02T03:04:05.000Z' }
    const path = writeLock(env, server, holder)
    const content = readFileSync(path, 'utf8')
    const r = await run(['prune', '--via', 'delete', 'FAP003', '--yes'], {
      env: { ...envFor(server), ...env },
    })
    live.kill()
    expect(r.code).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr).toBe(
      `pjctl: another pjctl prune is running against ${serverName(server)} (pid ${live.pid} on ${hostname()}, since 2026-01-02T03:04:05.000Z)\n` +
        `hint: wait for it, or remove ${path} if that process is gone\n`,
    )
    expect(server.received).toEqual([])
    expect(readFileSync(path, 'utf8')).toBe(content)
    expect(snapshot(server)).toEqual(before)
  })

  it('a second prune while the first is running: exit 1 naming the first (its pid), the first finishes untouched', async () => {
    const server = await lockoutSim()
    const env = home()
    const before = snapshot(server)
    let release!: () => void
    const held = new Promise<void>((resolve) => (release = resolve))
    let arrived!: () => void
    const first_dbget = new Promise<void>((resolve) => (arrived = resolve))
    server.setFaults({
      beforeAction: async (action) => {
        if (/^dbget$/i.test(action)) {
          arrived()
          await held
        }
      },
    })
    const first = spawnCli(['prune', '--via', 'delete', 'FAP003', '--yes'], {
      ...envFor(server),
      ...env,
    })
    await first_dbget
    const second = await run(['prune', '--via', 'delete', 'FAP003', '--yes'], {
      env: { ...envFor(server), ...env },
    })
    expect(second.code).toBe(1)
    expect(second.stdout).toBe('')
    expect(second.stderr).toMatch(
      new RegExp(
        `^pjctl: another pjctl prune is running against ${serverName(server).replace(/\./g, '\\.')} \\(pid ${first.child.pid} on ${hostname().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, since \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\)\nhint: wait for it, or remove \\S+\\.lock if that process is gone\n$`,
      ),
    )
    // the second run never connected (the first has its contacts and its limits sessions)
    expect(new Set(server.received.map((r) => r.connection)).size).toBe(2)
    release()
    const r = await first.done
    expect(r.code).toBe(0)
    expect(snapshot(server)).toEqual(without(before, K.fapOld))
    expect(existsSync(lockPath(env, server))).toBe(false)
  })

  it('a lock of another host is not taken over (cannot tell whether it runs)', async () => {
    const server = await lockoutSim()
    const env = home()
    writeLock(env, server, {
      pid: 1,
      host: 'other-host.invalid',
      startedAt: '2026-01-02T03:04:05.000Z',
    })
    const r = await run(['prune', '--via', 'delete', 'FAP003', '--yes'], {
      env: { ...envFor(server), ...env },
    })
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('(pid 1 on other-host.invalid, since 2026-01-02T03:04:05.000Z)')
    expect(server.received).toEqual([])
  })

  it('a stale lock of a dead pid is taken over with a warning; the run goes on and releases it', async () => {
    const server = await lockoutSim()
    const env = home()
    const before = snapshot(server)
    const dead = spawn(process.execPath, ['-e', ''])
    const pid = dead.pid!
    await new Promise((resolve) => dead.on('exit', resolve))
    const path = writeLock(env, server, {
      pid,
      host: hostname(),
      startedAt: '2026-01-02T03:04:05.000Z',
    })
    const r = await run(['prune', '--via', 'delete', 'FAP003', '--yes'], {
      env: { ...envFor(server), ...env },
    })
    expect(r.stderr).toBe(
      `pjctl: warning: taking over a stale prune lock of pid ${pid} (no longer running): ${path}\n`,
    )
    expect(r.code).toBe(0)
    expect(summaryFields(summaryOf(r.stdout))).toMatchObject({ deleted: 1 })
    expect(snapshot(server)).toEqual(without(before, K.fapOld))
    expect(existsSync(path)).toBe(false)
  })
})

describe('pjctl prune: --via expire', () => {
  it('rewrites expiration_time to "1" with DBPut, every other byte identical; the next REGISTER then gets 200', async () => {
    const server = await lockoutSim()
    const env = home()
    const before = snapshot(server)
    const r = await run(['prune', 'FAP003', '--yes', '--via', 'expire'], {
      env: { ...envFor(server), ...env },
    })
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(
      `Prune plan for ${serverName(server)} (executed): 1 to expire, 0 kept`,
    )
    expect(r.stdout).toMatch(/^expired\tFAP003\tfc939de3/m)
    expect(summaryFields(summaryOf(r.stdout))).toMatchObject({
      mode: 'executed',
      planned: 1,
      deleted: 0,
      expired: 1,
      skipped: 0,
      failed: 0,
    })
    const expected = before[K.fapOld]!.replace(/"expiration_time":"\d+"/, '"expiration_time":"1"')
    expect(expected).not.toBe(before[K.fapOld])
    expect(actionLines(server)).toEqual([
      ...READ,
      `DBGet ${K.fapOld}`,
      `DBPut ${K.fapOld}`,
      'UserEvent',
      'Logoff',
    ])
    const put = server.received.find((a) => /^dbput$/i.test(a.action))!
    expect(header(put.headers, 'Val')).toBe(expected)
    expectComparedBeforeWrite(server)
    expect(snapshot(server)).toEqual({ ...before, [K.fapOld]: expected })
    expect(backupLines(defaultBackup(env, server)).map((l) => [l.key, l.value])).toEqual([
      [K.fapOld, before[K.fapOld]],
    ])

    // until Asterisk's sweep removes it, contacts shows it as set expired, not "expired 20792d ago"
    const shown = await run(['contacts', 'FAP003'], { env: envFor(server) })
    expect(shown.stdout).toMatch(/^FAP003\t.*\tfc939de3[0-9a-f]*\texpired\tset expired\t/m)
    expect(shown.stdout).not.toMatch(/\d+d \d+h ago/)

    expect(registerFromNewPort(server).code).toBe(200)
    expect(snapshot(server)[K.fapOld]).toBeUndefined()
  })

  it('keeps unknown fields and escapes byte for byte (only the expiration_time value changes)', async () => {
    const t = now()
    const ordinary = row('gus', '192.0.2.80', 5060, 'Snom D785', t + 3000)
    const key = contactKey('gus', 'sip:gus@192.0.2.80:5062')
    const value =
      `{"via_addr":"192.0.2.80","qualify_timeout":"3.000000","qualify_2xx_only":"false","call_id":"a\\/b@192.0.2.80",` +
      `"reg_server":"","prune_on_boot":"no","path":"","endpoint":"gus","via_port":"5062","authenticate_qualify":"no",` +
      `"uri":"sip:gus@192.0.2.80:5062","qualify_frequency":"0","user_agent":"Snom \\u001B D785 \\u00e9",` +
      `"expiration_time":"${t + 1000}","outbound_proxy":"","x_vendor_field":"kept \\"as is\\""}`
    const server = await sim({
      seed: { rows: [ordinary, { key, value }], aors: [defineAor('gus', { maxContacts: 2 })] },
    })
    const r = await run(['prune', '--key', key, '--yes', '--via', 'expire'], {
      env: envFor(server),
    })
    expect(r.code).toBe(0)
    expect(snapshot(server)[key]).toBe(
      value.replace(`"expiration_time":"${t + 1000}"`, '"expiration_time":"1"'),
    )
    expect(snapshot(server)[ordinary.key]).toBe(ordinary.value)
  })
})

describe('pjctl prune: criteria', () => {
  it('--keep 1 keeps the latest-expiring contact of each AOR', async () => {
    const server = await lockoutSim()
    const before = snapshot(server)
    const r = await run(['prune', '--via', 'delete', '--keep', '1', '--yes', '--json'], {
      env: envFor(server),
    })
    expect(r.code).toBe(0)
    const doc = JSON.parse(r.stdout)
    const plan = doc.servers[0].plan as { key: string; action: string; reasons: string[] }[]
    expect(plan.map((p) => [p.key, p.action, p.reasons])).toEqual([
      [K.fapOld, 'delete', ['beyond --keep 1 (keeps the latest-expiring)']],
      [K.linphone, 'delete', ['beyond --keep 1 (keeps the latest-expiring)']],
    ])
    expect(doc.summary).toEqual({ planned: 2, deleted: 2, expired: 0, skipped: 0, failed: 0 })
    expect(snapshot(server)).toEqual(without(before, K.fapOld, K.linphone))
  })

  it('--key deletes exactly that contact (reason --key), whatever the other criteria would say', async () => {
    const server = await lockoutSim()
    const before = snapshot(server)
    const r = await run(['prune', '--via', 'delete', '--key', K.alice, '--yes', '--json'], {
      env: envFor(server),
    })
    expect(r.code).toBe(0)
    const doc = JSON.parse(r.stdout)
    expect(
      doc.servers[0].plan.map((p: { key: string; reasons: string[] }) => [p.key, p.reasons]),
    ).toEqual([[K.alice, ['--key']]])
    expect(keysOf(server, 'DBDel')).toEqual([K.alice])
    expect(snapshot(server)).toEqual(without(before, K.alice))
  })

  it('--key of a contact that does not exist: exit 2, nothing deleted', async () => {
    const server = await lockoutSim()
    const before = snapshot(server)
    const missing = 'alice;@00000000000000000000000000000000'
    const r = await run(['prune', '--via', 'delete', '--key', missing, '--yes'], {
      env: envFor(server),
    })
    expect(r.code).toBe(2)
    expect(r.stderr).toBe(`pjctl: --key '${missing}': no such contact on ${serverName(server)}\n`)
    expect(r.stdout).toBe('')
    expect(keysOf(server, 'DBGet')).toEqual([])
    expect(snapshot(server)).toEqual(before)
  })

  it('--key that is not a contact key is a usage error (exit 2) before anything connects', async () => {
    const server = await lockoutSim()
    const r = await run(['prune', '--via', 'delete', '--key', 'alice', '--yes'], {
      env: envFor(server),
    })
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(
      "pjctl: --key 'alice' is not a contact key (expected <aor>;@<hash>, or at least 6 hex digits of the hash as the KEY column shows)",
    )
    const short = await run(['prune', '--via', 'delete', '--key', 'alice;@093ef', '--yes'], {
      env: envFor(server),
    })
    expect(short.code).toBe(2)
    expect(short.stderr).toContain(
      "pjctl: --key 'alice;@093ef': give at least 6 hex digits of the hash (the KEY column shows 8)",
    )
    expect(server.received).toEqual([])
  })

  it('--key takes the 8 hex digits the KEY column shows, alone or after AOR;@', async () => {
    const server = await lockoutSim()
    const before = snapshot(server)
    const hash = K.alice.split(';@')[1]
    const table = await run(['contacts', 'alice'], { env: envFor(server) })
    expect(table.stdout).toContain(hash!.slice(0, 8))
    const r = await run(
      ['prune', '--via', 'delete', '--key', hash!.slice(0, 8), '--yes', '--json'],
      {
        env: envFor(server),
      },
    )
    expect(r.code).toBe(0)
    expect(
      JSON.parse(r.stdout).servers[0].plan.map((p: { key: string; reasons: string[] }) => [
        p.key,
        p.reasons,
      ]),
    ).toEqual([[K.alice, ['--key']]])
    expect(keysOf(server, 'DBDel')).toEqual([K.alice])
    const fap = K.fapOld.split(';@')[1]
    const again = await run(
      ['prune', '--via', 'delete', '--key', `FAP003;@${fap!.slice(0, 6).toUpperCase()}`, '--yes'],
      { env: envFor(server) },
    )
    expect(again.code).toBe(0)
    expect(keysOf(server, 'DBDel')).toEqual([K.alice, K.fapOld])
    expect(snapshot(server)).toEqual(without(before, K.alice, K.fapOld))
  }, 20_000)

  it("--key AOR;@prefix of another AOR's contact matches nothing: exit 2", async () => {
    const server = await lockoutSim()
    const prefix = K.alice.split(';@')[1]!.slice(0, 8)
    const r = await run(['prune', '--via', 'delete', '--key', `erin;@${prefix}`, '--yes'], {
      env: envFor(server),
    })
    expect(r.code).toBe(2)
    expect(r.stderr).toBe(
      `pjctl: --key 'erin;@${prefix}': no such contact on ${serverName(server)}\n`,
    )
    expect(keysOf(server, 'DBDel')).toEqual([])
  })

  it('an ambiguous --key prefix is exit 2 and lists the candidates; nothing is deleted', async () => {
    const t = now()
    const one = row('erin', '192.0.2.41', 5060, GRANDSTREAM, t + 1000)
    const two = row('erin', '192.0.2.41', 5062, GRANDSTREAM, t + 3000)
    const a = { ...one, key: 'erin;@093effad0000000000000000000000aa' }
    const b = { ...two, key: 'erin;@093effbe0000000000000000000000bb' }
    const server = await sim({
      seed: { rows: [a, b], aors: [defineAor('erin', { maxContacts: 2 })] },
    })
    const before = snapshot(server)
    const r = await run(['prune', '--via', 'delete', '--key', '093eff', '--yes'], {
      env: envFor(server),
    })
    expect(r.code).toBe(2)
    expect(r.stderr).toBe(
      `pjctl: --key '093eff' is ambiguous: it matches 2 contacts: ${a.key}, ${b.key}\nhint: give more hex digits of the hash (or the whole key)\n`,
    )
    expect(keysOf(server, 'DBDel')).toEqual([])
    const unique = await run(
      ['prune', '--via', 'delete', '--key', '093effbe', '--yes', '--force'],
      {
        env: envFor(server),
      },
    )
    expect(unique.code).toBe(0)
    expect(keysOf(server, 'DBDel')).toEqual([b.key])
    expect(Object.keys(snapshot(server))).toEqual(Object.keys(before).filter((k) => k !== b.key))
  }, 20_000)

  it('--unreachable deletes what qualify reports Unreachable, nothing else', async () => {
    const server = await lockoutSim()
    qualifyAor(server, 'alice')
    server.setQualify(K.alice, 'Unreachable')
    const before = snapshot(server)
    const r = await run(['prune', '--via', 'delete', '--unreachable', '--yes', '--json'], {
      env: envFor(server),
    })
    expect(r.code).toBe(0)
    const doc = JSON.parse(r.stdout)
    expect(
      doc.servers[0].plan.map((p: { key: string; reasons: string[]; qualify: string }) => [
        p.key,
        p.reasons,
        p.qualify,
      ]),
    ).toEqual([[K.alice, ['qualify: Unreachable'], 'Unreachable']])
    expect(snapshot(server)).toEqual(without(before, K.alice))
  })

  it('a superseded contact that qualify reports Reachable is kept, with the reason shown; nothing is sent', async () => {
    const server = await lockoutSim()
    qualifyAor(server, 'FAP003')
    server.setQualify(K.fapOld, 'Reachable', 1234)
    const before = snapshot(server)
    const r = await run(['prune', '--via', 'delete', 'FAP003', '--yes'], { env: envFor(server) })
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(
      `Prune plan for ${serverName(server)} (executed): 0 to delete, 1 kept`,
    )
    expect(r.stdout).toMatch(/^keep\tFAP003\tfc939de3/m)
    expect(r.stdout.replace(/[│\s]+/g, ' ')).toContain(
      `qualify reports it reachable; ${SUPERSEDED_REASON}`.replace(/\s+/g, ' '),
    )
    expect(summaryFields(summaryOf(r.stdout))).toMatchObject({
      planned: 0,
      deleted: 0,
      skipped: 0,
      failed: 0,
    })
    // the qualify state of the candidate's endpoint only, never the whole-server PJSIPShowContacts
    expect(actionLines(server)).toEqual([...READ, 'PJSIPShowEndpoint', 'Logoff'])
    expect(snapshot(server)).toEqual(before)

    const json = await run(['prune', '--via', 'delete', '--key', K.fapOld, '--yes', '--json'], {
      env: envFor(server),
    })
    const plan = JSON.parse(json.stdout).servers[0].plan
    expect(plan).toMatchObject([
      {
        key: K.fapOld,
        action: 'keep',
        reasons: ['qualify reports it reachable', '--key'],
        qualify: 'Reachable',
      },
    ])
    expect(snapshot(server)).toEqual(before)
  })
})

describe('pjctl prune: backup file', () => {
  it('--backup FILE appends (an existing file is kept as it was) and is named in the summary', async () => {
    const server = await lockoutSim()
    const env = home()
    const before = snapshot(server)
    const file = join(env.HOME!, 'my-backup.jsonl')
    const old =
      JSON.stringify({
        server: 'x',
        family: CONTACT_FAMILY,
        key: 'old;@1',
        value: '{}',
        deletedAt: '2026-01-01T00:00:00.000Z',
        reason: 'earlier',
      }) + '\n'
    writeFileSync(file, old)
    const r = await run(['prune', '--via', 'delete', 'FAP003', '--yes', '--backup', file], {
      env: { ...envFor(server), ...env },
    })
    expect(r.code).toBe(0)
    expect(summaryOf(r.stdout)).toMatch(
      new RegExp(` backup=${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`),
    )
    const text = readFileSync(file, 'utf8')
    expect(text.startsWith(old)).toBe(true)
    expect(backupLines(file).map((l) => [l.key, l.value])).toEqual([
      ['old;@1', '{}'],
      [K.fapOld, before[K.fapOld]],
    ])
    expect(existsSync(defaultBackup(env, server))).toBe(false)
  })

  it('a backup file that cannot be created stops the prune before it connects (exit 2, in words)', async () => {
    const server = await lockoutSim()
    const env = home()
    const before = snapshot(server)
    const notADir = join(env.HOME!, 'plain-file')
    writeFileSync(notADir, '')
    const r = await run(
      ['prune', '--via', 'delete', 'FAP003', '--yes', '--backup', join(notADir, 'b.jsonl')],
      {
        env: { ...envFor(server), ...env },
      },
    )
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr).toBe(
      `pjctl: --backup ${join(notADir, 'b.jsonl')}: ${notADir} is not a directory\nhint: nothing was changed\n`,
    )
    expect(server.received).toEqual([])
    expect(keysOf(server, 'DBGet')).toEqual([])
    expect(keysOf(server, 'DBDel')).toEqual([])
    expect(snapshot(server)).toEqual(before)
    expect(existsSync(lockPath(env, server))).toBe(false)
  })
})
