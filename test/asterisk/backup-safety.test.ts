// No deletion without its backup line, on the real Asterisk: the backup's file system fills up
// mid-prune (a 2 MiB tmpfs that another writer fills), and the 64 KiB tmpfs of the original report;
// then many prunes at once against a stale lock. Contacts are orphaned ones this file adds (AORs
// `bkfull…`), so `prune --orphaned` touches nothing else of the lab; whatever is left is removed.
import { execFileSync, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  statfsSync,
  writeFileSync,
  writeSync,
} from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LAB, astdbContacts, deleteKeys, putRows, type RunResult } from './lab.js'
import { isolatedHome } from '../helpers/run.js'

const PREFIX = 'bkfull'
const BIN = resolve(__dirname, '../../bin/pjctl.js')

function contact(aor: string, port: number): [string, string] {
  const uri = `sip:${aor}@192.0.2.77:${port}`
  const value = {
    via_addr: '192.0.2.77',
    qualify_timeout: '3.000000',
    qualify_2xx_only: 'false',
    call_id: `${aor}-${port}-c0ffee@192.0.2.77`,
    reg_server: '',
    prune_on_boot: 'no',
    path: '',
    endpoint: aor,
    via_port: String(port),
    authenticate_qualify: 'no',
    uri,
    qualify_frequency: '0',
    user_agent: 'Grandstream GXP2170 1.0.11.3',
    expiration_time: String(Math.floor(Date.now() / 1000) + 3000),
    outbound_proxy: '',
  }
  return [`${aor};@${createHash('md5').update(uri).digest('hex')}`, JSON.stringify(value)]
}

/** The AOR names of a seed (prune is given them, so it never touches another orphaned contact of the lab). */
const aorsOf = (rows: Map<string, string>): string[] =>
  [...rows.keys()].map((k) => k.split(';@')[0]!)

/** `n` orphaned contacts (AORs bkfull<tag>NNNN, one contact each), put into the lab's astdb. */
async function seed(n: number, tag: string): Promise<Map<string, string>> {
  const rows = new Map(
    Array.from({ length: n }, (_, i) =>
      contact(`${PREFIX}${tag}${String(i).padStart(4, '0')}`, 5060 + (i % 1000)),
    ),
  )
  expect(await putRows(rows)).toBe(n)
  return rows
}

async function ours(): Promise<Map<string, string>> {
  return new Map([...(await astdbContacts())].filter(([k]) => k.startsWith(PREFIX)))
}

/** The built CLI against the lab, as a child (its own HOME unless given). */
function pjctl(args: string[], env: Record<string, string>): Spawned {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, NO_COLOR: '1', ...LAB.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  const done = new Promise<RunResult>((done) =>
    child.on('close', (code, signal) => done({ code, signal, stdout, stderr })),
  )
  return { pid: child.pid!, done }
}
interface Spawned {
  pid: number
  done: Promise<RunResult>
}

const summary = (stdout: string): string => stdout.trimEnd().split('\n').pop() ?? ''

/** Complete lines of a backup file, parsed. */
function completeLines(path: string): { key: string; value: string }[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .slice(0, -1)
    .map((l) => JSON.parse(l) as { key: string; value: string })
}

let mountDir: string | null = null
/** Every tmpfs mounted here, unmounted after the tests even when one fails half-way. */
const mounted: string[] = []
let skipReason = ''

function mountTmpfs(size: string): string | null {
  const dir = mkdtempSync(join(tmpdir(), 'pjctl-small-'))
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir], {
      stdio: 'pipe',
    })
    mounted.push(dir)
    return dir
  } catch (error) {
    skipReason = `cannot mount a tmpfs here (${(error as Error).message.split('\n')[0]}): needs root with CAP_SYS_ADMIN`
    rmSync(dir, { recursive: true, force: true })
    return null
  }
}

function unmount(dir: string | null): void {
  if (!dir || !mounted.includes(dir)) return
  mounted.splice(mounted.indexOf(dir), 1)
  try {
    execFileSync('umount', [dir], { stdio: 'pipe' })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

describe('prune on real Asterisk: the backup file system fills up', () => {
  beforeAll(async () => {
    await deleteKeys((await ours()).keys())
  })
  afterAll(async () => {
    for (const dir of [...mounted]) unmount(dir)
    await deleteKeys((await ours()).keys())
  })

  it('the 64 KiB tmpfs of the report: 3,000 contacts are refused before the first deletion, in one line', async (ctx) => {
    mountDir = mountTmpfs('64k')
    if (!mountDir) {
      console.log(`skipped: ${skipReason}`)
      return ctx.skip()
    }
    const rows = await seed(3000, 'a')
    const file = join(mountDir, 'bk.jsonl')
    const r = await pjctl(
      [
        'prune',
        '--orphaned',
        '--yes',
        '--force',
        '--max-delete',
        '100000',
        '--backup',
        file,
        ...aorsOf(rows),
      ],
      isolatedHome(),
    ).done
    expect(r.code).toBe(2)
    expect(summary(r.stdout)).toMatch(
      /^pjctl prune: mode=refused server=\S+ planned=3000 deleted=0 skipped=0 failed=0 reason="the backup of this plan needs [\d.]+ MiB \(\d+ bytes\) in \S+bk\.jsonl, and its file system has 64 KiB \(65536 bytes\) free: nothing deleted"$/,
    )
    expect(r.stderr).not.toContain('internal error')
    expect(await ours()).toEqual(rows)
    console.log(summary(r.stdout))
    await deleteKeys(rows.keys())
    unmount(mountDir)
    mountDir = null
  })

  it('filled by another writer mid-prune: every deleted contact has a complete line, the summary says so, restore brings back exactly the deleted set', async (ctx) => {
    mountDir = mountTmpfs('2m')
    if (!mountDir) {
      console.log(`skipped: ${skipReason}`)
      return ctx.skip()
    }
    const rows = await seed(3000, 'b')
    const file = join(mountDir, 'bk.jsonl')
    const env = isolatedHome()
    const run = pjctl(
      [
        'prune',
        '--orphaned',
        '--yes',
        '--force',
        '--max-delete',
        '100000',
        '--in-flight',
        '64',
        '--backup',
        file,
        ...aorsOf(rows),
      ],
      env,
    )
    let finished = false
    void run.done.then(() => (finished = true))
    // once the backup holds ~64 KiB, another writer takes every free byte of the file system
    let filled = false
    let size = 0
    while (!filled) {
      try {
        size = statSync(file).size
      } catch {
        size = 0
      }
      if (size >= 64 * 1024) {
        const free = statfsSync(mountDir).bavail * statfsSync(mountDir).bsize
        const fd = openSync(join(mountDir, 'filler'), 'w')
        const chunk = Buffer.alloc(4096, 120)
        try {
          for (let left = free; left > 0; left -= chunk.length) writeSync(fd, chunk)
        } catch {
          // ENOSPC: full
        } finally {
          closeSync(fd)
        }
        filled = true
      }
      if (!filled) await new Promise((r) => setTimeout(r, 1))
      // set by the run's completion while this waited
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
      if (!filled && finished) break
    }
    const r = await run.done
    expect(filled, 'the prune finished before the file system could be filled').toBe(true)
    const after = await ours()
    const deleted = [...rows.keys()].filter((k) => !after.has(k))
    const lines = completeLines(file)
    const backedUp = new Map(lines.map((l) => [l.key, l.value]))
    // every deleted contact has a complete line with its exact value, and the file holds nothing else
    for (const key of deleted) expect(backedUp.get(key), key).toBe(rows.get(key))
    expect([...backedUp.keys()].sort()).toEqual([...deleted].sort())
    expect(readFileSync(file, 'utf8').endsWith('\n')).toBe(true)
    expect(deleted.length).toBeGreaterThan(0)
    expect(deleted.length).toBeLessThan(3000)
    expect(r.code).toBe(1)
    expect(r.stderr).not.toContain('internal error')
    expect(summary(r.stdout)).toBe(
      `pjctl prune: mode=executed server=${LAB.host}:${LAB.port} planned=3000 deleted=${deleted.length} skipped=0 failed=${3000 - deleted.length} backup=${file} ` +
        `reason="cannot write backup file ${file}: no space left on device (ENOSPC): stopped, ${deleted.length} deleted (each with a complete backup line), ${3000 - deleted.length} not sent"`,
    )
    console.log(
      `tmpfs 2 MiB filled at ${size} bytes of backup: deleted ${deleted.length}, not sent ${3000 - deleted.length}, backup ${statSync(file).size} bytes, ${lines.length} complete lines`,
    )
    // restore (from a copy: the tmpfs is full) brings back exactly the deleted set
    const copy = join(env.HOME!, 'bk.jsonl')
    writeFileSync(copy, readFileSync(file))
    const restored = await pjctl(['restore', copy], env).done
    expect(restored.code).toBe(0)
    expect(summary(restored.stdout)).toBe(
      `pjctl restore: server=${LAB.host}:${LAB.port} restored=${deleted.length} skipped=0 failed=0 file=${copy}`,
    )
    expect(await ours()).toEqual(rows)
    await deleteKeys(rows.keys())
  })
})

describe('prune on real Asterisk: many prunes at once against a stale lock', () => {
  afterAll(async () => {
    await deleteKeys((await ours()).keys())
  })

  it('16 rounds of 6 concurrent prunes, the lock naming a dead pid: never two holders', async () => {
    const dead = spawn(process.execPath, ['-e', ''])
    await new Promise((r) => dead.on('exit', r))
    const rounds: string[] = []
    for (let round = 0; round < 16; round++) {
      const rows = await seed(40, `l${round}`)
      const env = isolatedHome()
      const dir = join(env.XDG_STATE_HOME!, 'pjctl', 'backups')
      mkdirSync(dir, { recursive: true, mode: 0o700 })
      writeFileSync(
        join(dir, `${LAB.host}_${LAB.port}.lock`),
        JSON.stringify({ pid: dead.pid, host: hostname(), startedAt: '2026-01-02T03:04:05.000Z' }) +
          '\n',
      )
      const runs = await Promise.all(
        Array.from(
          { length: 6 },
          () =>
            pjctl(['prune', '--orphaned', '--yes', '--force', '--quiet', ...aorsOf(rows)], env)
              .done,
        ),
      )
      // one holder plans the round's 40 contacts; a run refused by the lock says so; a run that took
      // the lock after the holder released it finds the contacts gone (nothing planned, nothing deleted)
      const planners = runs.filter((r) => ` ${summary(r.stdout)}`.includes(' planned=40 '))
      const refused = runs.filter((r) =>
        r.stderr.startsWith('pjctl: another pjctl prune is running against '),
      )
      rounds.push(`${planners.length}/${refused.length}`)
      expect(
        planners,
        `round ${round}: ${runs.map((r) => r.stdout + r.stderr).join(' | ')}`,
      ).toHaveLength(1)
      expect(summary(planners[0]!.stdout)).toMatch(/ planned=40 deleted=40 skipped=0 failed=0 /)
      for (const r of runs) if (r !== planners[0]) expect(r.stdout).not.toMatch(/deleted=[1-9]/)
      expect(await ours()).toEqual(new Map())
    }
    console.log(
      `lock rounds (runs that planned the 40 / runs refused by the lock): ${rounds.join(' ')}`,
    )
  })
})
