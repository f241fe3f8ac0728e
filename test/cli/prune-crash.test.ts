// pjctl prune killed, interrupted, or cut off by a server restart in the middle of 1,000
// deletes: the store, the backup file and `pjctl restore` must still add up exactly.
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { FaultySim } from '../../src/sim/faults.js'
import {
  CONTACT_FAMILY,
  backupLines,
  header,
  home,
  keysOf,
  lockPath,
  serverName,
  snapshot,
  spawnCli,
  staleSeed,
  summaryFields,
  summaryOf,
  until,
  type Spawned,
} from '../helpers/prune.js'
import { runIn as run } from '../helpers/cli.js'
import { envFor, sim } from '../helpers/sim.js'

const IN_FLIGHT = 8
const now = (): number => Math.floor(Date.now() / 1000)
const report = (line: string): void => {
  if (process.env.PJCTL_TEST_COUNTS) console.log(line)
}

/** 500 AORs, each with its current contact and 2 superseded ones: 1,500 contacts, 1,000 stale. */
async function thousandStale(): Promise<{
  server: FaultySim
  staleKeys: string[]
  before: Record<string, string>
}> {
  const seed = staleSeed(now(), 500, 2)
  const server = await sim({ seed: { rows: seed.rows, aors: seed.aors } })
  const before = snapshot(server)
  expect(Object.keys(before)).toHaveLength(1500)
  return { server, staleKeys: seed.staleKeys, before }
}

function missingKeys(before: Record<string, string>, after: Record<string, string>): string[] {
  return Object.keys(before).filter((key) => !(key in after))
}

/** Each key absent from the store is in the backup with its value byte for byte; every backup value is what was stored. */
function expectStoreCoveredByBackup(
  before: Record<string, string>,
  server: FaultySim,
  file: string,
  name: string,
): Map<string, string> {
  const lines = backupLines(file)
  const backedUp = new Map<string, string>()
  for (const line of lines) {
    expect(line).toMatchObject({ server: name, family: CONTACT_FAMILY })
    expect(line.value, line.key).toBe(before[line.key])
    backedUp.set(line.key, line.value)
  }
  const missing = missingKeys(before, snapshot(server))
  for (const key of missing)
    expect(backedUp.get(key), `${key} deleted but not backed up`).toBe(before[key])
  return backedUp
}

function actionsAfter(server: FaultySim, index: number, action: string): string[] {
  return server.received
    .slice(index)
    .filter((r) => r.action.toLowerCase() === action.toLowerCase())
    .map((r) => header(r.headers, 'Key'))
}

/** Plan table rows with this outcome (the table shows every row up to 200 contacts). */
function rows(stdout: string, outcome: string): number {
  return stdout.split('\n').filter((line) => line.startsWith(`${outcome}\t`)).length
}

/** How many were not sent, from the summary line's reason (the plan table of 1,000 rows is capped at 200). */
function notSentOf(stdout: string): number {
  const m = /reason="interrupted: (\d+) contact\(s\) not sent/.exec(stdout)
  return m ? Number(m[1]) : 0
}

describe('pjctl prune: crash safety', () => {
  it('SIGKILL after about half of 1,000 DBDels: every missing key is backed up; restore brings the store back exactly', async () => {
    const { server, staleKeys, before } = await thousandStale()
    const env = home()
    const file = join(env.HOME!, 'crash.jsonl')
    const changedOnPurpose: Record<string, string> = {}
    // changed when its DBGet arrives (the phone re-registered): prune must leave it, restore too
    const raced = staleKeys[100]
    let dbDels = 0
    let killedAt = -1
    let spawned: Spawned | undefined
    // the backup file as the sim sees it when each DBDel arrives (read on from where it stopped)
    const onDisk = new Set<string>()
    let read = 0
    const notBackedUpFirst: string[] = []
    const readOn = (): void => {
      if (!existsSync(file)) return
      const fd = openSync(file, 'r')
      try {
        const size = fstatSync(fd).size
        const chunk = Buffer.alloc(size - read)
        readSync(fd, chunk, 0, chunk.length, read)
        const text = chunk.toString('utf8')
        const complete = text.slice(0, text.lastIndexOf('\n') + 1)
        for (const line of complete.split('\n').filter(Boolean))
          onDisk.add((JSON.parse(line) as { key: string }).key)
        read += Buffer.byteLength(complete)
      } finally {
        closeSync(fd)
      }
    }
    server.setFaults({
      beforeAction: async (action, headers, s) => {
        if (/^dbdel$/i.test(action)) {
          readOn()
          if (!onDisk.has(header(headers, 'Key'))) notBackedUpFirst.push(header(headers, 'Key'))
        }
        if (/^dbget$/i.test(action) && header(headers, 'Key') === raced) {
          changedOnPurpose[raced] = before[raced]!.replace(
            /"expiration_time":"(\d+)"/,
            (_, t: string) => `"expiration_time":"${Number(t) + 600}"`,
          )
          s.astdb.put(CONTACT_FAMILY, raced, changedOnPurpose[raced])
        }
        if (/^dbdel$/i.test(action) && ++dbDels === 500) {
          killedAt = s.received.length
          spawned!.child.kill('SIGKILL')
          await spawned!.done // the kill lands while DBDels are in flight
        }
      },
    })
    spawned = spawnCli(
      [
        'prune',
        '--via',
        'delete',
        '--yes',
        '--force',
        '--in-flight',
        String(IN_FLIGHT),
        '--backup',
        file,
      ],
      { ...envFor(server), ...env },
    )
    const r = await spawned.done
    expect(r.signal).toBe('SIGKILL')
    expect(killedAt).toBeGreaterThan(0)
    expect(dbDels).toBeGreaterThanOrEqual(500)
    expect(notBackedUpFirst).toEqual([])
    // the lock of the killed run stays behind, naming it (the next run takes it over as stale)
    expect(JSON.parse(readFileSync(lockPath(env, server), 'utf8')).pid).toBe(spawned.child.pid)

    const afterKill = snapshot(server)
    const deleted = missingKeys(before, afterKill)
    expect(deleted.length).toBeGreaterThanOrEqual(500 - IN_FLIGHT)
    expect(deleted.length).toBeLessThan(500 + IN_FLIGHT)
    expect(deleted.every((key) => staleKeys.includes(key))).toBe(true)
    expect(afterKill[raced!]).toBe(changedOnPurpose[raced!])
    const backedUp = expectStoreCoveredByBackup(before, server, file, serverName(server))
    expect(backedUp.has(raced!)).toBe(false)
    // every DBDel the sim saw came after a DBGet of its key
    const got = new Set(keysOf(server, 'DBGet'))
    expect(keysOf(server, 'DBDel').every((key) => got.has(key) && backedUp.has(key))).toBe(true)

    // meanwhile one deleted phone registers again: restore must leave its new contact alone
    const back = deleted[0]!
    const fields = JSON.parse(before[back]!) as Record<string, string>
    const reg = server.registrar.register({
      aor: back.split(';@')[0]!,
      uri: fields.uri!,
      viaAddr: fields.via_addr!,
      viaPort: Number(fields.via_port),
      userAgent: fields.user_agent!,
      callId: 'came-back@x',
    })
    expect(reg).toMatchObject({ code: 200, key: back })
    changedOnPurpose[back] = snapshot(server)[back]!
    expect(changedOnPurpose[back]).not.toBe(before[back])

    const restored = await run(['restore', file], { env: { ...envFor(server), ...env } })
    expect(restored.stderr).toBe('')
    expect(restored.code).toBe(0)
    const summary = summaryFields(summaryOf(restored.stdout))
    expect(summary).toMatchObject({
      restored: deleted.length - 1,
      skipped: backedUp.size - (deleted.length - 1),
      failed: 0,
    })
    const after = snapshot(server)
    expect(after).toEqual({ ...before, ...changedOnPurpose })
    expect(missingKeys(before, after)).toEqual([])
    report(
      `SIGKILL: deleted ${deleted.length}, backed up ${backedUp.size}, restored ${summary.restored}, skipped ${summary.skipped}, lost ${missingKeys(before, after).length}`,
    )
  }, 60_000)

  it('SIGINT at a DBDel: the batch in flight finishes, nothing new is sent, summary printed, exit 130; restore is exact', async () => {
    const { server, before } = await thousandStale()
    const env = home()
    const file = join(env.HOME!, 'int.jsonl')
    let dbDels = 0
    let signalled = -1
    let spawned: Spawned | undefined
    server.setFaults({
      beforeAction: async (action, _headers, s) => {
        if (/^dbdel$/i.test(action) && ++dbDels === 500) {
          spawned!.child.kill('SIGINT')
          await until(() => spawned!.stderr().includes('SIGINT'))
          signalled = s.received.length
        }
      },
    })
    spawned = spawnCli(
      [
        'prune',
        '--via',
        'delete',
        '--yes',
        '--force',
        '--in-flight',
        String(IN_FLIGHT),
        '--backup',
        file,
      ],
      { ...envFor(server), ...env },
    )
    const r = await spawned.done
    expect(r.code).toBe(130)
    expect(r.stderr).toBe(
      'pjctl: SIGINT: finishing the actions in flight, then stopping (again to quit at once)\n',
    )
    const line = summaryOf(r.stdout)
    expect(line).toMatch(
      new RegExp(
        `^pjctl prune: mode=interrupted server=${serverName(server).replace(/\./g, '\\.')} planned=1000 deleted=\\d+ skipped=0 failed=\\d+ backup=${file} reason="interrupted: \\d+ contact\\(s\\) not sent \\(counted as failed\\); run pjctl prune again to finish"$`,
      ),
    )
    const s = summaryFields(line) as Record<string, number>
    const notSent = notSentOf(r.stdout)
    expect(line).toContain(`reason="interrupted: ${notSent} contact(s) not sent`)
    expect(s.failed).toBe(notSent)
    // the plan table shows 200 of the 1,000 rows, those not deleted first, and says so
    expect(rows(r.stdout, 'not-sent') + rows(r.stdout, 'deleted')).toBe(200)
    expect(rows(r.stdout, 'not-sent')).toBe(Math.min(200, notSent))
    expect(r.stdout).toContain(
      '800 more rows not shown (the table shows at most 200, anything not deleted first); --json lists every contact.',
    )
    expect(s.deleted! + notSent).toBe(1000)
    expect(s.deleted! + s.skipped! + s.failed!).toBe(s.planned)

    // nothing sent after the signal but what was in flight
    expect(actionsAfter(server, signalled, 'DBGet')).toEqual([])
    expect(actionsAfter(server, signalled, 'DBDel').length).toBeLessThan(IN_FLIGHT)
    const deleted = missingKeys(before, snapshot(server))
    expect(deleted).toHaveLength(s.deleted!)
    expect(keysOf(server, 'DBDel')).toHaveLength(s.deleted!)
    expect(s.deleted).toBeGreaterThanOrEqual(500)
    expect(s.deleted).toBeLessThan(500 + IN_FLIGHT)
    const backedUp = expectStoreCoveredByBackup(before, server, file, serverName(server))
    expect(existsSync(lockPath(env, server))).toBe(false)

    const restored = await run(['restore', file], { env: { ...envFor(server), ...env } })
    expect(restored.code).toBe(0)
    expect(summaryFields(summaryOf(restored.stdout))).toMatchObject({
      restored: deleted.length,
      failed: 0,
    })
    expect(snapshot(server)).toEqual(before)
    report(
      `SIGINT at DBDel: deleted ${s.deleted}, not sent ${notSent}, backed up ${backedUp.size}, restored ${deleted.length}, lost 0`,
    )
  }, 60_000)

  it('SIGINT while DBGets are in flight: no DBDel is sent after the signal', async () => {
    const { server, before } = await thousandStale()
    const env = home()
    const file = join(env.HOME!, 'int2.jsonl')
    let dbGets = 0
    let signalled = -1
    let spawned: Spawned | undefined
    server.setFaults({
      beforeAction: async (action, _headers, s) => {
        if (/^dbget$/i.test(action) && ++dbGets === 40 * IN_FLIGHT + 3) {
          spawned!.child.kill('SIGINT')
          await until(() => spawned!.stderr().includes('SIGINT'))
          signalled = s.received.length
        }
      },
    })
    spawned = spawnCli(
      [
        'prune',
        '--via',
        'delete',
        '--yes',
        '--force',
        '--in-flight',
        String(IN_FLIGHT),
        '--backup',
        file,
      ],
      { ...envFor(server), ...env },
    )
    const r = await spawned.done
    expect(r.code).toBe(130)
    const s = summaryFields(summaryOf(r.stdout)) as Record<string, number>
    expect(s).toMatchObject({ mode: 'interrupted', planned: 1000 })
    expect(actionsAfter(server, signalled, 'DBDel')).toEqual([])
    expect(actionsAfter(server, signalled, 'DBGet').length).toBeLessThan(IN_FLIGHT)
    const deleted = missingKeys(before, snapshot(server))
    expect(deleted).toHaveLength(s.deleted!)
    expect(s.deleted! + notSentOf(r.stdout)).toBe(1000)
    expectStoreCoveredByBackup(before, server, file, serverName(server))

    const restored = await run(['restore', file], { env: { ...envFor(server), ...env } })
    expect(restored.code).toBe(0)
    expect(snapshot(server)).toEqual(before)
    report(`SIGINT at DBGet: deleted ${s.deleted}, restored ${deleted.length}, lost 0`)
  }, 60_000)

  it('the server restarting mid-prune: non-zero exit, a clear message, each key deleted-and-backed-up or still there', async () => {
    const seed = staleSeed(now(), 40, 1)
    const server = await sim({ seed: { rows: seed.rows, aors: seed.aors } })
    const before = snapshot(server)
    const env = home()
    const file = join(env.HOME!, 'restart.jsonl')
    let dbDels = 0
    server.setFaults({
      beforeAction: (action, _headers, s) => {
        if (/^dbdel$/i.test(action) && ++dbDels === 10) s.restart()
      },
    })
    const r = await run(
      ['prune', '--via', 'delete', '--yes', '--in-flight', '4', '--backup', file],
      {
        env: { ...envFor(server), ...env },
      },
    )
    expect([1, 3]).toContain(r.code)
    const s = summaryFields(summaryOf(r.stdout)) as Record<string, number>
    expect(s).toMatchObject({ planned: 40 })
    expect(s.deleted! + s.skipped! + s.failed!).toBe(40)
    expect(s.failed).toBeGreaterThan(0)
    // one clear message, in the summary line too: what is done, what is uncertain, what was not attempted
    const m =
      /reason="the connection to 127\.0\.0\.1:\d+ was lost mid-prune \((.+)\): (\d+) done, (\d+) unanswered \(each in the backup, may or may not be deleted\), (\d+) not attempted; run pjctl prune again"$/.exec(
        summaryOf(r.stdout),
      )
    expect(m, summaryOf(r.stdout)).not.toBeNull()
    expect(m![1]).toMatch(/closed the connection|was reset/)
    const [done, unanswered, notAttempted] = m!.slice(2).map(Number)
    expect(done).toBe(s.deleted)
    expect(done).toBeGreaterThanOrEqual(8) // the two batches answered before the restart
    expect(unanswered).toBeGreaterThan(0)
    expect(unanswered).toBeLessThanOrEqual(4)
    expect(unanswered! + notAttempted!).toBe(s.failed)
    expect(rows(r.stdout, 'not-sent')).toBe(notAttempted)
    // nothing is sent once the connection is gone: no reconnect (the two connections are the read's: contacts and limits), no DBDel beyond those in flight
    expect(new Set(server.received.map((a) => a.connection)).size).toBe(2)
    expect(server.received.filter((a) => a.action === 'login')).toHaveLength(2)
    expect(keysOf(server, 'DBDel').length).toBeGreaterThan(done!)
    expect(keysOf(server, 'DBDel').length).toBeLessThanOrEqual(done! + unanswered!)

    const after = snapshot(server)
    const backedUp = expectStoreCoveredByBackup(before, server, file, serverName(server))
    for (const key of Object.keys(before)) {
      if (key in after) expect(after[key], key).toBe(before[key])
      else expect(backedUp.get(key), key).toBe(before[key])
    }
    // what pjctl reports deleted is gone; what is gone was reported deleted or unanswered
    const deleted = missingKeys(before, after)
    expect(deleted.length).toBeGreaterThanOrEqual(done!)
    expect(deleted.length).toBeLessThanOrEqual(done! + unanswered!)
    expect(existsSync(lockPath(env, server))).toBe(false)

    const restored = await run(['restore', file], { env: { ...envFor(server), ...env } })
    expect(restored.code).toBe(0)
    expect(snapshot(server)).toEqual(before)
    report(
      `restart: deleted ${deleted.length}, failed ${s.failed}, restored ${deleted.length}, lost 0`,
    )
  })
})
