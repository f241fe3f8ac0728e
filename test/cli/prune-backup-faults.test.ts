// No deletion without its backup line: a full disk, a quota, a failing device or a write that
// stops short, injected at any byte of the backup file (fileIo, the seam of src/files.ts).
// Whatever happens, every key the simulator saw deleted has a complete line in the backup,
// the summary is printed, and a failure is said in words (never "internal error").
import {
  chmodSync,
  chownSync,
  mkdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import type { FileHandle } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { fileIo } from '../../src/files.js'
import type { BackupEntry } from '../../src/commands/backup.js'
import {
  defaultBackup,
  home,
  keysOf,
  serverName,
  snapshot,
  staleSeed,
  summaryFields,
  summaryOf,
} from '../helpers/prune.js'
import { runIn } from '../helpers/cli.js'
import { envFor, sim } from '../helpers/sim.js'

const now = (): number => Math.floor(Date.now() / 1000)
const AORS = 12
const STALE = 2 // 24 stale contacts of 36
const IN_FLIGHT = 5 // 5 batches

type Fault = 'ENOSPC' | 'EDQUOT' | 'EIO' | 'short' | 'fsync'

function failure(code: string): NodeJS.ErrnoException {
  const e = new Error(`${code}: injected, write`) as NodeJS.ErrnoException
  e.code = code
  return e
}

/**
 * Replaces the backup's write and datasync for one run. The byte at offset `at` of the file is
 * where the fault strikes: the write that reaches it writes only the bytes before it (a short
 * write, as write(2) does at a full disk); then ENOSPC/EDQUOT/EIO fail the next write, 'short'
 * lets the rest through, and 'fsync' fails the datasync of the batch holding that byte.
 */
async function withFault<T>(fault: Fault, at: number, run: () => Promise<T>): Promise<T> {
  const { write, datasync } = fileIo
  let written = 0
  let struck = false
  let syncFails = false
  fileIo.write = async (handle: FileHandle, data: Buffer, offset: number, length: number) => {
    if (struck && fault !== 'short' && fault !== 'fsync') throw failure(fault)
    if (!struck && written + length > at) {
      struck = true
      if (fault === 'fsync') syncFails = true
      else {
        const part = at - written
        if (part === 0 && fault !== 'short') throw failure(fault)
        if (part > 0) {
          const n = await write(handle, data, offset, part)
          written += n
          return n
        }
      }
    }
    const n = await write(handle, data, offset, length)
    written += n
    return n
  }
  fileIo.datasync = async (handle: FileHandle) => {
    if (syncFails) {
      syncFails = false
      throw failure('EIO')
    }
    return datasync(handle)
  }
  try {
    return await run()
  } finally {
    fileIo.write = write
    fileIo.datasync = datasync
  }
}

/** The complete lines of a backup file (a cut last line, if any, is not one). */
function completeLines(path: string): BackupEntry[] {
  let text = ''
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    return []
  }
  return text
    .split('\n')
    .slice(0, -1)
    .map((line) => JSON.parse(line) as BackupEntry)
}

async function pruneWithFault(fault: Fault, at: number) {
  const seed = staleSeed(now(), AORS, STALE)
  const server = await sim({ seed: { rows: seed.rows, aors: seed.aors } })
  const env = { ...envFor(server), ...home() }
  const file = join(env.HOME!, 'bk.jsonl')
  const before = snapshot(server)
  const r = await withFault(fault, at, () =>
    runIn(['prune', '--yes', '--force', '--in-flight', String(IN_FLIGHT), '--backup', file], {
      env,
    }),
  )
  const after = snapshot(server)
  const deleted = Object.keys(before).filter((k) => !(k in after))
  const name = serverName(server)
  await server.stop()
  return { r, file, before, deleted, sentDbDel: keysOf(server, 'DBDel'), name }
}

describe('pjctl prune: a failing backup write', () => {
  it('property: for any fault at any byte, every deleted key has a complete backup line, and the summary is printed', async () => {
    // the whole plan's backup is about 24 lines of ~330 bytes
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<Fault>('ENOSPC', 'EDQUOT', 'EIO', 'short', 'fsync'),
        fc.nat({ max: 24 * 330 }),
        async (fault, at) => {
          const { r, file, before, deleted, sentDbDel, name } = await pruneWithFault(fault, at)
          const lines = completeLines(file)
          const backedUp = new Map(lines.map((l) => [l.key, l.value]))
          for (const key of deleted) expect(backedUp.get(key), key).toBe(before[key])
          // a DBDel was only ever sent for a key with a complete line
          for (const key of sentDbDel) expect(backedUp.has(key), key).toBe(true)
          expect(r.stderr).not.toContain('internal error')
          const summary = summaryFields(summaryOf(r.stdout))
          expect(summary).toMatchObject({
            server: name,
            planned: AORS * STALE,
            deleted: deleted.length,
            backup: file,
          })
          // nothing of a failed append stays in the file: it holds exactly the deleted set, whole lines
          const text = readFileSync(file, 'utf8')
          expect(text === '' || text.endsWith('\n')).toBe(true)
          expect([...backedUp.keys()].sort()).toEqual([...deleted].sort())
          if (fault === 'short' || deleted.length === AORS * STALE) {
            expect(r.code).toBe(0)
            expect(deleted).toHaveLength(AORS * STALE)
            if (fault !== 'short') expect(Buffer.byteLength(text)).toBeLessThanOrEqual(at)
          } else {
            expect(Buffer.byteLength(text)).toBeLessThanOrEqual(at)
            expect(r.code).toBe(1)
            expect(summary.failed).toBe(AORS * STALE - deleted.length)
            const shown = file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
            expect(String(summary.reason)).toMatch(
              new RegExp(
                `^"cannot write backup file ${shown}: ` +
                  `(no space left on device \\(ENOSPC\\)|disk quota exceeded \\(EDQUOT\\)|input/output error \\(the device failed\\) \\(EIO\\)): ` +
                  `stopped, ${deleted.length} deleted \\(each with a complete backup line\\), ${AORS * STALE - deleted.length} not sent"$`,
              ),
            )
          }
        },
      ),
      { numRuns: 30 },
    )
  })

  it('a full disk in the third batch: two batches deleted, the rest not sent, the file whole, restore brings back exactly the deleted set', async () => {
    const seed = staleSeed(now(), AORS, STALE)
    const server = await sim({ seed: { rows: seed.rows, aors: seed.aors } })
    const env = { ...envFor(server), ...home() }
    const file = join(env.HOME!, 'bk.jsonl')
    const before = snapshot(server)
    const { write } = fileIo
    let appends = 0
    let firstTwo = 0
    // two appends go through; the third writes 7 bytes, then the disk is full
    fileIo.write = async (handle, data, offset, length) => {
      if (offset === 0) appends++
      if (appends <= 2) {
        const n = await write(handle, data, offset, length)
        firstTwo += n
        return n
      }
      if (appends === 3 && offset === 0) return write(handle, data, 0, 7)
      throw failure('ENOSPC')
    }
    let r
    try {
      r = await runIn(
        ['prune', '--yes', '--force', '--in-flight', String(IN_FLIGHT), '--backup', file],
        { env },
      )
    } finally {
      fileIo.write = write
    }
    const after = snapshot(server)
    const deleted = Object.keys(before).filter((k) => !(k in after))
    expect(deleted).toHaveLength(2 * IN_FLIGHT)
    expect(readFileSync(file, 'utf8')).toHaveLength(firstTwo)
    expect(
      completeLines(file)
        .map((l) => l.key)
        .sort(),
    ).toEqual(deleted.sort())
    expect(r.code).toBe(1)
    expect(r.stderr).not.toContain('internal error')
    expect(summaryOf(r.stdout)).toBe(
      `pjctl prune: mode=executed server=${serverName(server)} planned=24 deleted=10 skipped=0 failed=14 backup=${file} ` +
        `reason="cannot write backup file ${file}: no space left on device (ENOSPC): stopped, 10 deleted (each with a complete backup line), 14 not sent"`,
    )
    const restored = await runIn(['restore', file], { env })
    expect(restored.code).toBe(0)
    expect(snapshot(server)).toEqual(before)
  })
})

describe('pjctl prune: the backup file is checked before anything is deleted', () => {
  async function lockout() {
    const seed = staleSeed(now(), AORS, STALE)
    const server = await sim({ seed: { rows: seed.rows, aors: seed.aors } })
    const env = { ...envFor(server), ...home() }
    return { server, env, before: snapshot(server) }
  }

  it('too little free space for the whole plan: refused with what is needed and what is free, nothing sent (exit 2)', async () => {
    const { server, env, before } = await lockout()
    const file = join(env.HOME!, 'bk.jsonl')
    const { free } = fileIo
    fileIo.free = async () => 4096
    let r
    try {
      r = await runIn(['prune', '--yes', '--force', '--backup', file], { env })
    } finally {
      fileIo.free = free
    }
    expect(r.code).toBe(2)
    expect(summaryOf(r.stdout)).toMatch(
      new RegExp(
        `^pjctl prune: mode=refused server=${serverName(server).replace(/\./g, '\\.')} planned=24 deleted=0 skipped=0 failed=0 ` +
          `reason="the backup of this plan needs [\\d.]+ KiB \\(\\d+ bytes\\) in ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, and its file system has 4 KiB \\(4096 bytes\\) free: nothing deleted"$`,
      ),
    )
    expect(keysOf(server, 'DBGet')).toEqual([])
    expect(keysOf(server, 'DBDel')).toEqual([])
    expect(snapshot(server)).toEqual(before)
  })

  it('--backup /dev/null (it cannot be synced): refused in one line before it connects (exit 2)', async () => {
    const { server, env, before } = await lockout()
    const r = await runIn(['prune', '--yes', '--force', '--backup', '/dev/null'], { env })
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr).toBe(
      'pjctl: --backup /dev/null is a character device, not a regular file\nhint: nothing was changed\n',
    )
    expect(server.received).toEqual([])
    expect(snapshot(server)).toEqual(before)
  })

  it('--backup DIR: "is a directory", in words, before it connects', async () => {
    const { server, env } = await lockout()
    const r = await runIn(['prune', '--yes', '--force', '--backup', env.HOME!], { env })
    expect(r.code).toBe(2)
    expect(r.stderr).toBe(
      `pjctl: --backup ${env.HOME} is a directory, not a regular file\nhint: nothing was changed\n`,
    )
    expect(server.received).toEqual([])
  })

  it('a planted symbolic link is refused, not followed: its target is untouched (exit 2)', async () => {
    const { server, env, before } = await lockout()
    const target = join(env.HOME!, 'precious')
    writeFileSync(target, 'root-owned data\n')
    const link = join(env.HOME!, 'bk.jsonl')
    symlinkSync(target, link)
    const r = await runIn(['prune', '--yes', '--force', '--backup', link], { env })
    expect(r.code).toBe(2)
    expect(r.stderr).toBe(
      `pjctl: --backup ${link} is a symbolic link: refusing to write through it (name the file itself)\nhint: nothing was changed\n`,
    )
    expect(readFileSync(target, 'utf8')).toBe('root-owned data\n')
    expect(server.received).toEqual([])
    expect(snapshot(server)).toEqual(before)
  })

  it('a symbolic link planted in the default backup place after the check is not followed either (O_NOFOLLOW)', async () => {
    const { server, env, before } = await lockout()
    const target = join(env.HOME!, 'precious')
    writeFileSync(target, 'root-owned data\n')
    const file = defaultBackup(env, server)
    // planted between the check before the prompt and the open: the open itself refuses it
    const r = await runIn(['prune', '--force'], {
      env,
      tty: true,
      confirm: () => {
        mkdirSync(dirname(file), { recursive: true })
        symlinkSync(target, file)
        return true
      },
    })
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(
      `pjctl: backup file ${file} is a symbolic link: refusing to write through it\nhint: nothing was deleted; pass --backup FILE to put it elsewhere\n`,
    )
    expect(readFileSync(target, 'utf8')).toBe('root-owned data\n')
    expect(keysOf(server, 'DBDel')).toEqual([])
    expect(snapshot(server)).toEqual(before)
  })

  it('an existing backup file others can read is made 600, with a warning; the lines are appended', async () => {
    const { env } = await lockout()
    const file = join(env.HOME!, 'bk.jsonl')
    writeFileSync(file, '', { mode: 0o644 })
    chmodSync(file, 0o644)
    const r = await runIn(['prune', '--yes', '--force', '--backup', file], { env })
    expect(r.code).toBe(0)
    expect(r.stderr).toBe(
      `pjctl: warning: backup file ${file} was readable by others (mode 644); it holds contact URIs and addresses: made it 600\n`,
    )
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(completeLines(file)).toHaveLength(AORS * STALE)
  })

  it.runIf(process.getuid?.() === 0)(
    'as root, a backup file owned by another user is refused (exit 2), untouched',
    async () => {
      const { server, env } = await lockout()
      const file = join(env.HOME!, 'bk.jsonl')
      writeFileSync(file, 'theirs\n', { mode: 0o600 })
      chownSync(file, 65534, 65534)
      const r = await runIn(['prune', '--yes', '--force', '--backup', file], { env })
      expect(r.code).toBe(2)
      expect(r.stderr).toBe(
        `pjctl: --backup ${file} belongs to uid 65534, not to the user running pjctl (uid 0): refusing to write to it\nhint: nothing was changed\n`,
      )
      expect(readFileSync(file, 'utf8')).toBe('theirs\n')
      expect(server.received).toEqual([])
    },
  )
})
