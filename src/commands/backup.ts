// Backups of deleted contacts (JSON lines, fsynced before the delete is sent) and the
// per-server prune lock that lives beside them.

import { constants } from 'node:fs'
import { createHash, randomBytes } from 'node:crypto'
import {
  link,
  lstat,
  mkdir,
  open,
  readdir,
  rename,
  unlink,
  type FileHandle,
} from 'node:fs/promises'
import { hostname } from 'node:os'
import { dirname, join } from 'node:path'
import { FailedError, InputError } from '../errors.js'
import type { Deps } from './types.js'
import { contactFromRow } from '../core/contact.js'
import { validateName } from '../core/select.js'
import { printable, sizeText } from '../text.js'
import { CONTACT_FAMILY } from '../core/types.js'
import { fileIo, freeBytes, inWords, openPrivate, writeAll } from '../files.js'

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

/** A backup write that failed (full disk, failing device, short write): nothing more may be deleted. */
export class BackupWriteError extends FailedError {
  constructor(
    readonly path: string,
    readonly failure: unknown,
    /** Whether the file was cut back to its last complete line. */
    readonly truncated: boolean,
  ) {
    const code = (failure as NodeJS.ErrnoException | undefined)?.code
    super(
      `cannot write backup file ${printable(path, 200)}: ${inWords(failure)}${code ? ` (${code})` : ''}`,
    )
  }
}

/**
 * A prune's backup file: JSON lines, appended whole and synced before the deletions they
 * cover are sent. Opened without following a symbolic link, only if it is a regular file of
 * the running user, and private (600; an existing group/other-readable file is made 600).
 */
export class BackupFile {
  private constructor(
    private readonly handle: FileHandle,
    readonly path: string,
    /** The file's size after the last complete append: a failed append is cut back to it. */
    private size: number,
  ) {}

  static async open(path: string, warn: (message: string) => void): Promise<BackupFile> {
    try {
      await mkdir(dirname(path), { recursive: true, mode: 0o700 })
    } catch (error) {
      throw new FailedError(
        `cannot create the backup directory ${printable(dirname(path), 200)}: ${inWords(error)}`,
        'nothing was deleted; pass --backup FILE to put it elsewhere',
      )
    }
    let handle: FileHandle
    try {
      handle = await openPrivate(path, 'backup file', warn, true)
    } catch (error) {
      throw new FailedError(
        (error as Error).message,
        'nothing was deleted; pass --backup FILE to put it elsewhere',
      )
    }
    return new BackupFile(handle, path, (await handle.stat()).size)
  }

  /**
   * Appends the entries, every byte of them, and waits until they are on disk. On any failure
   * (no space, quota, I/O error, a write that stops short) the file is cut back to its last
   * complete line where it can be, and a BackupWriteError says what happened: the caller must
   * then send nothing more.
   */
  async append(entries: BackupEntry[]): Promise<void> {
    const data = Buffer.from(entries.map((e) => JSON.stringify(e) + '\n').join(''), 'utf8')
    try {
      await writeAll(this.handle, data)
      await fileIo.datasync(this.handle)
      this.size += data.length
    } catch (error) {
      let truncated = false
      try {
        await this.handle.truncate(this.size)
        await this.handle.datasync()
        truncated = true
      } catch {
        // the cut line stays; restore names it
      }
      throw new BackupWriteError(this.path, error, truncated)
    }
  }

  async close(): Promise<void> {
    await this.handle.close()
  }
}

/** The bytes the backup lines of these entries take. */
export function backupBytes(entries: BackupEntry[]): number {
  return entries.reduce((n, e) => n + Buffer.byteLength(JSON.stringify(e), 'utf8') + 1, 0)
}

/**
 * Refuses (one line) when the file system of `path` has less room than `needed` bytes. Only
 * when the free space can be read; a file system that cannot tell is not refused.
 */
export async function roomProblem(path: string, needed: number): Promise<string | null> {
  const dir = dirname(path)
  await mkdir(dir, { recursive: true, mode: 0o700 }).catch(() => undefined)
  const free = await freeBytes(dir)
  if (free === null || free >= needed) return null
  return `the backup of this plan needs ${sizeText(needed)} (${needed} bytes) in ${printable(path, 200)}, and its file system has ${sizeText(free)} (${free} bytes) free: nothing deleted`
}

/** A last line cut short (a crash mid-write, a full disk): what can still be read of it. */
export interface CutLine {
  /** 1-based line number. */
  line: number
  /** The key, when the cut came after it and it is shaped like a contact key; else null. */
  key: string | null
  /** The value up to the cut (decoded), or null when the cut came before it. */
  valuePrefix: string | null
}

export interface BackupContents {
  entries: BackupEntry[]
  cut: CutLine | null
}

/**
 * Reads and checks a whole backup file before anything connects: every line must be a
 * registrar/contact entry whose key is `<aor>;@<32 hex>` and whose value is a contact
 * (a JSON object) with no CR, LF or NUL. The first line that is not is an InputError
 * naming it (exit 2); nothing from the file is echoed raw. A last line that is not whole
 * JSON is returned as `cut`, with what it still tells (its key, its value up to the cut).
 */
export async function readBackup(path: string, deps: Deps): Promise<BackupContents> {
  const text = await deps.readFile(path)
  const shown = printable(path, 80)
  const lines = text.split('\n')
  const last = lines.findLastIndex((line) => line.trim() !== '')
  const entries: BackupEntry[] = []
  let cut: CutLine | null = null
  lines.forEach((line, i) => {
    if (!line.trim()) return
    let entry: unknown
    try {
      entry = JSON.parse(line)
    } catch {
      if (i === last) {
        cut = cutLine(line, i + 1)
        return
      }
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
  return { entries, cut }
}

/** A JSON string's body up to an unescaped quote (or the end), decoded; a trailing half escape is dropped. */
function stringBody(text: string): { value: string; closed: boolean } {
  const m = /^((?:[^"\\]|\\.)*)(")?/.exec(text)
  const raw = (m?.[1] ?? '').replace(/\\(u[0-9a-fA-F]{0,3})?$/, '')
  let value: string
  try {
    value = JSON.parse(`"${raw}"`) as string
  } catch {
    value = raw
  }
  return { value, closed: m?.[2] === '"' }
}

function cutLine(line: string, number: number): CutLine {
  const keyAt = line.indexOf('"key":"')
  const key = keyAt < 0 ? null : stringBody(line.slice(keyAt + 7))
  const valueAt = line.indexOf('"value":"')
  const value = valueAt < 0 ? null : stringBody(line.slice(valueAt + 9)).value
  const usable =
    key?.closed === true && !/[\r\n\0]/.test(key.value) && /;@[0-9a-f]{32}$/.test(key.value)
  return { line: number, key: usable ? key.value : null, valuePrefix: value }
}

/** An astdb family of contacts (`<prefix>/contact`, sorcery astdb) or a realtime table (`realtime:<table>`). */
function isContactFamily(family: string): boolean {
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

interface Holder {
  pid: number
  host: string
  startedAt: string
  /** Makes each lock's content unique (the takeover claim is named after it). */
  nonce?: string
}

/**
 * One prune per server at a time, whatever races. The lock file is created with its content in
 * one step (written to a temporary file, then link(2)ed to the lock's name, which fails if it
 * exists). A lock naming a process of this host that no longer runs is taken over in two
 * steps: the taker first creates, exclusively, a claim named after that very lock's content
 * (`<lock>.takeover-<hash>`), so of many takers of one stale lock exactly one goes on; it then
 * checks that the lock still holds that content and renames its own file over it (atomic). A
 * taker that loses looks again and finds the winner, alive. The lock is read without following
 * a symbolic link and must be a regular file of the running user.
 */
export async function acquireLock(server: string, deps: Deps): Promise<Lock> {
  const dir = stateDir(deps.env)
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const path = join(dir, `${fileSafe(server)}.lock`)
  const me: Holder = {
    pid: process.pid,
    host: hostname(),
    startedAt: new Date(deps.now() * 1000).toISOString(),
    nonce: randomBytes(8).toString('hex'),
  }
  const mine = JSON.stringify(me) + '\n'
  for (let attempt = 0; attempt < 50; attempt++) {
    if (attempt) await pause()
    if (await publish(path, mine, 'create')) return ownedLock(path, mine)
    const text = await readLock(path)
    if (text === null) continue // released meanwhile
    const holder = parseHolder(text)
    if (holder?.host !== me.host || isRunning(holder.pid)) throw heldBy(server, path, holder)
    // stale: one taker per stale lock, the claim named after its content
    const claim = `${path}.takeover-${createHash('sha256').update(text).digest('hex').slice(0, 16)}`
    if (!(await publish(claim, mine, 'create'))) {
      // another taker has claimed it and is about to replace it; unless that taker died doing so
      const taker = parseHolder((await readLock(claim)) ?? '')
      if (taker?.host === me.host && !isRunning(taker.pid))
        throw new FailedError(
          `a takeover of the stale prune lock ${printable(path, 200)} was interrupted (pid ${taker.pid} is gone)`,
          `remove ${path} and ${claim}`,
        )
      continue
    }
    try {
      if ((await readLock(path)) !== text) continue
      deps.log.warn(
        `taking over a stale prune lock of pid ${holder.pid} (no longer running): ${path}`,
      )
      await publish(path, mine, 'replace')
      return ownedLock(path, mine)
    } finally {
      await unlink(claim).catch(() => undefined)
    }
  }
  throw new FailedError(`cannot take the prune lock ${path}: it keeps changing`)
}

/** A few milliseconds, different for each taker, before looking again. */
function pause(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 2 + Math.random() * 10))
}

/** The lock as its holder sees it: released by removing the file, if it is still this holder's. */
function ownedLock(path: string, mine: string): Lock {
  return {
    release: async () => {
      if ((await readLock(path).catch(() => null)) === mine)
        await unlink(path).catch(() => undefined)
    },
  }
}

/**
 * Puts `content` at `path` in one step: a temporary file (created exclusively, 600) linked to
 * the name ('create': false when the name exists) or renamed over it ('replace').
 */
async function publish(path: string, content: string, how: 'create' | 'replace'): Promise<boolean> {
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  try {
    const handle = await open(temp, 'wx', 0o600)
    try {
      await handle.writeFile(content)
    } finally {
      await handle.close()
    }
    if (how === 'replace') await rename(temp, path)
    else await link(temp, path)
    return true
  } catch (error) {
    if (how === 'create' && (error as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw new FailedError(`cannot create the prune lock ${printable(path, 200)}: ${inWords(error)}`)
  } finally {
    await unlink(temp).catch(() => undefined)
  }
}

/** The lock file's content, or null when there is none; never through a symbolic link, only a regular file of this user. */
async function readLock(path: string): Promise<string | null> {
  let handle: FileHandle
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return null
    if (code === 'ELOOP')
      throw new FailedError(
        `prune lock ${printable(path, 200)} is a symbolic link: refusing to use it`,
        `remove ${path}`,
      )
    throw new FailedError(`cannot read the prune lock ${printable(path, 200)}: ${inWords(error)}`)
  }
  try {
    const info = await handle.stat()
    const uid = typeof process.getuid === 'function' ? process.getuid() : null
    if (!info.isFile() || (uid !== null && info.uid !== uid))
      throw new FailedError(
        `prune lock ${printable(path, 200)} is not a regular file of the user running pjctl: refusing to use it`,
        `remove ${path}`,
      )
    return await handle.readFile('utf8')
  } finally {
    await handle.close()
  }
}

function heldBy(server: string, path: string, holder: Holder | null): FailedError {
  const who = holder
    ? `pid ${holder.pid} on ${printable(holder.host, 80)}, since ${printable(holder.startedAt, 40)}`
    : 'unknown holder'
  return new FailedError(
    `another pjctl prune is running against ${server} (${who})`,
    `wait for it, or remove ${path} if that process is gone`,
  )
}

function parseHolder(text: string): Holder | null {
  try {
    const h = JSON.parse(text) as Partial<Holder> | null
    return h && typeof h.pid === 'number' && typeof h.host === 'string'
      ? { pid: h.pid, host: h.host, startedAt: h.startedAt ?? '' }
      : null
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
