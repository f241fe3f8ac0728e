// Writing a whole file so that a reader sees the old one or the new one, never half of
// either: a temporary file in the same directory, fsync, rename over the target, fsync
// of the directory. A leaf module (node:fs only), for `check --textfile`, `gen --out` and
// anything else that replaces a file others read.

import { randomBytes } from 'node:crypto'
import { link, open, rename, unlink } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

/** How {@link writeFileAtomic} creates the file. */
export interface AtomicOptions {
  /** the new file's mode (644 by default) */
  mode?: number
  /** true (default): the mode is set as given; false: the umask narrows it, as for any new file */
  exact?: boolean
  /** true (default): renamed over the target; false: linked to it, failing with EEXIST if it exists */
  replace?: boolean
}

/** Writes `pieces` to `path` atomically; throws the fs error (the temporary file is removed). */
export async function writeFileAtomic(
  path: string,
  pieces: string | Iterable<string>,
  { mode = 0o644, exact = true, replace = true }: AtomicOptions = {},
): Promise<void> {
  const dir = dirname(path)
  // node_exporter reads only *.prom: the temporary name never matches, and starts with a dot
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
  const file = await open(temp, 'wx', mode)
  try {
    try {
      if (exact) await file.chmod(mode) // the umask must not narrow what the collector may read
      let batch = ''
      for (const piece of typeof pieces === 'string' ? [pieces] : pieces) {
        batch += piece
        if (batch.length >= 1 << 16) {
          await file.writeFile(batch)
          batch = ''
        }
      }
      if (batch) await file.writeFile(batch)
      await file.sync()
    } finally {
      await file.close()
    }
    if (replace) await rename(temp, path)
    else {
      await link(temp, path)
      await unlink(temp).catch(() => {})
    }
  } catch (error) {
    await unlink(temp).catch(() => {})
    throw error
  }
  // the rename itself is durable only once the directory is synced (best effort: not every fs allows it)
  const directory = await open(dir, 'r').catch(() => null)
  if (directory)
    await directory
      .sync()
      .catch(() => {})
      .finally(() => directory.close())
}

/** `ENOSPC: no space left on device, write` → `No space left on device` (strerror's words, as GNU tools print them). */
export function systemMessage(error: unknown): string {
  const e: Partial<NodeJS.ErrnoException> = typeof error === 'object' && error !== null ? error : {}
  const m = /^[A-Z0-9_]+: ([^,]+)/.exec(e.message ?? '')
  const text = m?.[1] ?? e.code ?? String(error)
  return text.charAt(0).toUpperCase() + text.slice(1)
}
