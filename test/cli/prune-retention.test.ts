// --backup-retention DAYS (default 30): a prune run removes its own older backup files, and only those.
import { mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { lockoutSeed } from '../../src/sim/seed.js'
import { backupDir, home } from '../helpers/prune.js'
import { runIn } from '../helpers/cli.js'
import { envFor, sim } from '../helpers/sim.js'

const DAY = 86400_000

function day(daysAgo: number): string {
  return new Date(Date.now() - daysAgo * DAY).toISOString().slice(0, 10)
}

/** A backup directory holding this server's files of 40 and 10 days ago, and files that are not its own. */
function seedBackups(env: Record<string, string>, port: number): { dir: string; own: string } {
  const dir = backupDir(env)
  mkdirSync(dir, { recursive: true })
  const me = `127.0.0.1_${port}`
  const files: [string, number][] = [
    [`${me}-${day(40)}.jsonl`, 40],
    [`${me}-${day(10)}.jsonl`, 10],
    [`pbx9-${day(40)}.jsonl`, 40], // another server's
    [`${me}-${day(40)}.jsonl.bak`, 40], // not the name pattern
    [`${me}-2x${day(40)}.jsonl`, 40],
    ['notes.txt', 40],
  ]
  for (const [name, age] of files) {
    writeFileSync(join(dir, name), '{}\n')
    const t = (Date.now() - age * DAY) / 1000
    utimesSync(join(dir, name), t, t)
  }
  return { dir, own: `${me}-${day(40)}.jsonl` }
}

describe('prune --backup-retention', () => {
  it('default 30 days: removes only its own default backup files older than that', async () => {
    const server = await sim({ seed: lockoutSeed({ now: Math.floor(Date.now() / 1000) }) })
    const env = { ...envFor(server), ...home() }
    const { dir, own } = seedBackups(env, server.port)
    const before = readdirSync(dir).sort()
    const r = await runIn(['prune', '--yes'], { env })
    expect(r.code).toBe(0)
    expect(r.stderr).toContain(
      `removed 1 backup file(s) of 127.0.0.1:${server.port} older than 30 days (--backup-retention) from ${dir}\n`,
    )
    const after = readdirSync(dir).sort()
    const today = `127.0.0.1_${server.port}-${day(0)}.jsonl`
    expect(after).toEqual([...before.filter((n) => n !== own), today].sort())
  })

  it('--backup-retention 5 also removes the 10-day-old file; 0 keeps everything; --dry-run and --backup FILE touch nothing', async () => {
    const server = await sim({ seed: lockoutSeed({ now: Math.floor(Date.now() / 1000) }) })
    const env = { ...envFor(server), ...home() }
    const { dir } = seedBackups(env, server.port)
    const before = readdirSync(dir).sort()
    expect((await runIn(['prune', '--dry-run', '--backup-retention', '5'], { env })).code).toBe(0)
    expect(
      (
        await runIn(
          ['prune', '--yes', '--backup-retention', '5', '--backup', join(env.HOME!, 'b.jsonl')],
          { env },
        )
      ).code,
    ).toBe(0)
    expect((await runIn(['prune', '--yes', '--backup-retention', '0'], { env })).code).toBe(0)
    expect(readdirSync(dir).sort()).toEqual(before)
    const r = await runIn(['prune', '--yes', '--backup-retention', '5'], { env })
    expect(r.code).toBe(0)
    expect(readdirSync(dir).sort()).toEqual(
      before.filter((n) => !/^127\.0\.0\.1_\d+-\d{4}-\d{2}-\d{2}\.jsonl$/.test(n)),
    )
  })
})
