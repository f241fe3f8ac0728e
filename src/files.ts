// The files pjctl writes (prune backups, the prune lock, --textfile, gen --out): checked
// before anything is changed, opened without following a planted symbolic link, owned by
// the user who runs pjctl, written whole or not at all. A leaf module (node:fs, ./errors, ./text).

import { constants } from 'node:fs'
import { access, lstat, open, stat, statfs, type FileHandle } from 'node:fs/promises'
import { dirname } from 'node:path'
import { InputError } from './errors.js'
import { printable } from './text.js'

/** What an fs error code means, in words (strerror's, as GNU tools print them, where they fit). */
const WORDS: Readonly<Record<string, string>> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EIO: 'input/output error (the device failed)',
  EFBIG: 'file too large',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory',
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a part of the path is not a directory',
  ELOOP: 'is a symbolic link (not followed)',
  EINVAL: 'cannot be synced to disk (not a regular file on a real file system)',
  EXDEV: 'not on the same file system',
  ENAMETOOLONG: 'file name too long',
}

/** `ENOSPC` → `no space left on device`; an error without a known code keeps its message. */
export function inWords(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  const words = code === undefined ? undefined : WORDS[code]
  if (words !== undefined) return words
  if (code) return code
  return error instanceof Error ? error.message : String(error)
}

/** The file type lstat saw, in words. */
function kindOf(info: import('node:fs').Stats): string {
  if (info.isSymbolicLink()) return 'a symbolic link'
  if (info.isDirectory()) return 'a directory'
  if (info.isCharacterDevice()) return 'a character device'
  if (info.isBlockDevice()) return 'a block device'
  if (info.isFIFO()) return 'a named pipe'
  if (info.isSocket()) return 'a socket'
  return 'not a regular file'
}

const uid = (): number | null => (typeof process.getuid === 'function' ? process.getuid() : null)

/**
 * Why `path` cannot be a file pjctl writes, or null: an existing path must be a regular file
 * (not a symbolic link, directory or device) owned by the running user; a new one needs an
 * existing directory pjctl may create files in. `what` names it in the message (`--backup FILE`).
 * `owner: false` for a file that is replaced (renamed over), never written in place (--out,
 * --textfile): its owner does not matter, but its directory must take a new file. Nothing is
 * created or changed.
 */
export async function writeTargetProblem(
  path: string,
  what: string,
  { owner = true }: { owner?: boolean } = {},
): Promise<string | null> {
  const shown = `${what} ${printable(path, 200)}`
  let info: import('node:fs').Stats | null = null
  try {
    info = await lstat(path)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    // ENOTDIR: a part of the path is a file; the directory check below names it
    if (code !== 'ENOENT' && code !== 'ENOTDIR') return `${shown}: ${inWords(error)}`
  }
  if (info) {
    if (info.isSymbolicLink())
      return `${shown} is a symbolic link: refusing to write through it (name the file itself)`
    if (!info.isFile()) return `${shown} is ${kindOf(info)}, not a regular file`
    const me = uid()
    if (owner && me !== null && info.uid !== me)
      return `${shown} belongs to uid ${info.uid}, not to the user running pjctl (uid ${me}): refusing to write to it`
    if (owner)
      try {
        await access(path, constants.W_OK)
      } catch (error) {
        return `${shown}: cannot write to it: ${inWords(error)}`
      }
    else
      try {
        await access(dirname(path), constants.W_OK | constants.X_OK)
      } catch (error) {
        return `${shown}: cannot replace files in ${printable(dirname(path), 200)}: ${inWords(error)}`
      }
    return null
  }
  const dir = dirname(path)
  try {
    const d = await stat(dir)
    if (!d.isDirectory()) return `${shown}: ${printable(dir, 200)} is not a directory`
    await access(dir, constants.W_OK | constants.X_OK)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR')
      return `${shown}: the directory ${printable(dir, 200)} does not exist`
    return `${shown}: cannot create files in ${printable(dir, 200)}: ${inWords(error)}`
  }
  return null
}

/** writeTargetProblem as an InputError (exit 2), for the checks made before anything is changed. */
export async function checkWriteTarget(
  path: string,
  what: string,
  opts: { owner?: boolean } = {},
): Promise<void> {
  const problem = await writeTargetProblem(path, what, opts)
  if (problem) throw new InputError(problem, 'nothing was changed')
}

/**
 * Opens (creating with mode 600) a file that only its owner may read: O_NOFOLLOW, so a planted
 * symbolic link is refused, not followed; then the open file itself must be a regular file owned
 * by the running user. An existing file that group or others can read is made 600, and `warn`
 * (when given: not for the lock, which holds no contact) says so.
 * `append` opens with O_APPEND (backup files), else for reading and writing (the lock).
 */
export async function openPrivate(
  path: string,
  what: string,
  warn: ((message: string) => void) | null,
  append: boolean,
): Promise<FileHandle> {
  const flags =
    constants.O_CREAT |
    constants.O_NOFOLLOW |
    (append ? constants.O_WRONLY | constants.O_APPEND : constants.O_RDWR)
  const shown = `${what} ${printable(path, 200)}`
  let handle: FileHandle
  try {
    handle = await open(path, flags, 0o600)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ELOOP')
      throw new InputError(`${shown} is a symbolic link: refusing to write through it`)
    throw new InputError(`cannot open ${shown}: ${inWords(error)}`)
  }
  try {
    const info = await handle.stat()
    if (!info.isFile()) throw new InputError(`${shown} is ${kindOf(info)}, not a regular file`)
    const me = uid()
    if (me !== null && info.uid !== me)
      throw new InputError(
        `${shown} belongs to uid ${info.uid}, not to the user running pjctl (uid ${me}): refusing to write to it`,
      )
    if (info.mode & 0o077) {
      await handle.chmod(0o600)
      warn?.(
        `${shown} was readable by ${info.mode & 0o007 ? 'others' : 'group'} (mode ${(info.mode & 0o777).toString(8)}); it holds contact URIs and addresses: made it 600`,
      )
    }
    return handle
  } catch (error) {
    await handle.close()
    throw error
  }
}

/** The system calls a backup write makes; tests replace them to inject a full disk or a failing device. */
export const fileIo = {
  write: (handle: FileHandle, data: Buffer, offset: number, length: number): Promise<number> =>
    handle.write(data, offset, length).then((r) => r.bytesWritten),
  datasync: (handle: FileHandle): Promise<void> => handle.datasync(),
  /** statfs(2): the blocks an unprivileged writer may still use, in bytes. */
  free: async (dir: string): Promise<number> => {
    const s = await statfs(dir)
    return s.bavail * s.bsize
  },
}

/** Writes every byte of `data` (a write(2) may write fewer than asked: it is called again for the rest). */
export async function writeAll(handle: FileHandle, data: Buffer): Promise<void> {
  let done = 0
  while (done < data.length) {
    const n = await fileIo.write(handle, data, done, data.length - done)
    if (!(n > 0)) {
      // write(2) returning 0 for a regular file means no room: say so as the kernel would next time
      const error = new Error('ENOSPC: no space left on device, write') as NodeJS.ErrnoException
      error.code = 'ENOSPC'
      throw error
    }
    done += n
  }
}

/** Bytes free for an unprivileged writer on the file system that holds `dir`, or null when it cannot be told. */
export async function freeBytes(dir: string): Promise<number | null> {
  try {
    return await fileIo.free(dir)
  } catch {
    return null
  }
}
