// Backups of deleted contacts (JSON lines, fsynced before the delete is sent) and the
// per-server prune lock that lives beside them.

import { lstat, mkdir, open, readdir, readFile, unlink, type FileHandle } from 'node:fs/promises'
import { hostname } from 'node:os'
import { dirname, join } from 'node:path'
import { FailedError, InputError } from '../errors.js'
import type { Deps } from './types.js'
import { contactFromRow } from '../core/contact.js'
import { validateName } from '../core/select.js'
import { printable } from '../text.js'
import { CONTACT_FAMILY } from '../core/types.js'

export interface BackupEntry {
  server: string
  family: string
  key: string
  value: string
  deletedAt: string
  reason: string
}

export function stateDir(env: Record<string, string | undefined>): string {
  const base = env.XDG_STATE_HOME || join(env.HOME || '.', '.local', 'state')
  return join(base, 'pjctl', 'backups')
}

function fileSafe(server: string): string {
  return server.replace(/[^A-Za-z0-9._-]/g, '_')
}

export function backupPathFor(server: string, deps: Deps): string {
  const date = new Date(deps.now() * 1000).toISOString().slice(0, 10)
  return join(stateDir(deps.env), `${fileSafe(server)}-${date}.jsonl`)
}

/**
 * --backup-retention: removes this server's own backup files from the default directory
 * (named `<server>-<YYYY-MM-DD>.jsonl` by backupPathFor) whose date and last change are both
 * more than `days` days ago. Any other file there is left alone; 0 days keeps everything.
 */
export async function expireBackups(server: string, days: number, deps: Deps): Promise<string[]> {
  if (!(days > 0)) return []
  const dir = stateDir(deps.env)
  const cutoffMs = (deps.now() - days * 86400) * 1000
  const cutoffDay = new Date(cutoffMs).toISOString().slice(0, 10)
  const ours = new RegExp(
    `^${fileSafe(server).replace(/[.]/g, '\\.')}-(\\d{4}-\\d{2}-\\d{2})\\.jsonl$`,
  )
  let names: string[]
  try {
    names = await readdir(dir)
  } catch {
    return []
  }
  const removed: string[] = []
  for (const name of names) {
    const day = ours.exec(name)?.[1]
    if (!day || day >= cutoffDay) continue
    const path = join(dir, name)
    try {
      const info = await lstat(path)
      if (!info.isFile() || info.mtimeMs >= cutoffMs) continue
      await unlink(path)
      removed.push(path)
    } catch (error) {
      deps.log.warn(
        `cannot remove old backup ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      )
    }
  }
  if (removed.length)
    deps.log.info(
      `removed ${removed.length} backup file(s) of ${server} older than ${days} days (--backup-retention) from ${dir}`,
    )
  return removed
}

export class BackupFile {
  private constructor(private readonly handle: FileHandle) {}

  static async open(path: string): Promise<BackupFile> {
    try {
      await mkdir(dirname(path), { recursive: true, mode: 0o700 })
      return new BackupFile(await open(path, 'a', 0o600))
    } catch (error) {
      throw new FailedError(
        `cannot open backup file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        'nothing was deleted; pass --backup FILE to put it elsewhere',
      )
    }
  }

  /** Appends the entries and waits until they are on disk. */
  async append(entries: BackupEntry[]): Promise<void> {
    await this.handle.write(entries.map((e) => JSON.stringify(e) + '\n').join(''))
    await this.handle.datasync()
  }

  async close(): Promise<void> {
    await this.handle.close()
  }
}

/**
 * Reads and checks a whole backup file before anything connects: every line must be a
 * registrar/contact entry whose key is `<aor>;@<32 hex>` and whose value is a contact
 * (a JSON object) with no CR, LF or NUL. The first line that is not is an InputError
 * naming it (exit 2); nothing from the file is echoed raw.
 */
export async function readBackup(path: string, deps: Deps): Promise<BackupEntry[]> {
  const text = await deps.readFile(path)
  const shown = printable(path, 80)
  const lines = text.split('\n')
  const last = lines.findLastIndex((line) => line.trim() !== '')
  const entries: BackupEntry[] = []
  lines.forEach((line, i) => {
    if (!line.trim()) return
    let entry: unknown
    try {
      entry = JSON.parse(line)
    } catch {
      // A last line cut short by a crash mid-write: its DBDel was never sent (the line is synced first).
      if (i === last)
        return deps.log.warn(
          `${shown}:${i + 1}: incomplete last line ignored (its contact was never deleted)`,
        )
      throw new InputError(`${shown}:${i + 1}: not a backup entry (invalid JSON)`)
    }
    const problem = entryProblem(entry)
    if (problem)
      throw new InputError(
        `${shown}:${i + 1}: ${problem}`,
        'pjctl restore only puts back what pjctl prune backed up; nothing was restored',
      )
    entries.push(entry as BackupEntry)
  })
  return entries
}

/** An astdb family of contacts (`<prefix>/contact`, sorcery astdb) or a realtime table (`realtime:<table>`). */
export function isContactFamily(family: string): boolean {
  return /^[A-Za-z0-9_.-]+\/contact$/.test(family) || /^realtime:[A-Za-z0-9_.]+$/.test(family)
}

/** Why a parsed line is not an entry pjctl may restore, or null. */
function entryProblem(entry: unknown): string | null {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
    return 'not a backup entry (not a JSON object)'
  const e = entry as Record<string, unknown>
  if (
    typeof e.server !== 'string' ||
    typeof e.family !== 'string' ||
    typeof e.key !== 'string' ||
    typeof e.value !== 'string'
  ) {
    return 'not a backup entry (needs server, family, key and value, each a string)'
  }
  if (!isContactFamily(e.family))
    return `family "${printable(e.family, 80)}" is not a contact store (${CONTACT_FAMILY}, <prefix>/contact or realtime:<table>): pjctl restores contacts only`
  const unsafe = /[\r\n\0]/
  if (unsafe.test(e.key))
    return `key "${printable(e.key, 80)}" contains CR, LF or NUL: not a contact key`
  if (unsafe.test(e.value))
    return `the value of ${printable(e.key, 80)} contains CR, LF or NUL: not a contact`
  if (unsafe.test(e.server)) return `server "${printable(e.server, 80)}" contains CR, LF or NUL`
  const contact = contactFromRow(e.key, e.value)
  if (typeof contact === 'string') {
    return contact.startsWith('key ')
      ? `key "${printable(e.key, 80)}" ${contact.slice(4)} (expected <aor>;@<32 hex digits>)`
      : `the value of "${printable(e.key, 80)}" is not a contact: ${contact}`
  }
  try {
    validateName(contact.aor, 'AOR name')
  } catch (error) {
    return (error as Error).message
  }
  return null
}

export interface Lock {
  release(): Promise<void>
}

/** One prune per server at a time. A lock left by a process that no longer runs is taken over. */
export async function acquireLock(server: string, deps: Deps): Promise<Lock> {
  const dir = stateDir(deps.env)
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const path = join(dir, `${fileSafe(server)}.lock`)
  const me = {
    pid: process.pid,
    host: hostname(),
    startedAt: new Date(deps.now() * 1000).toISOString(),
  }
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, 'wx', 0o600)
      await handle.write(JSON.stringify(me) + '\n')
      await handle.close()
      return { release: () => unlink(path).catch(() => undefined) }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST')
        throw new FailedError(
          `cannot create lock file ${path}: ${(error as NodeJS.ErrnoException).code}`,
        )
      const holder = await readHolder(path)
      if (holder && holder.host === me.host && !isRunning(holder.pid)) {
        deps.log.warn(
          `taking over a stale prune lock of pid ${holder.pid} (no longer running): ${path}`,
        )
        await unlink(path).catch(() => undefined)
        continue
      }
      const who = holder
        ? `pid ${holder.pid} on ${holder.host}, since ${holder.startedAt}`
        : 'unknown holder'
      throw new FailedError(
        `another pjctl prune is running against ${server} (${who})`,
        `wait for it, or remove ${path} if that process is gone`,
      )
    }
  }
  throw new FailedError(`cannot take the prune lock ${path}`)
}

async function readHolder(
  path: string,
): Promise<{ pid: number; host: string; startedAt: string } | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8'))
  } catch {
    return null
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
