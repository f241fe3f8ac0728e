// pjctl restore FILE [--key KEY]: put backed-up contacts back with DBPut, only where the key does not exist now
// (or still holds exactly the expired value `prune --via expire` wrote).

import { UsageError } from '../errors.js'
import { expiredValue } from '../core/plan.js'
import { printable } from '../text.js'
import { parseKeyPattern, resolveKeys } from '../core/keys.js'
import { announceChange } from './announce.js'
import { readBackup, type BackupEntry, type CutLine } from './backup.js'
import { CONTACT_FAMILY } from '../core/types.js'
import type { CommandSpec } from './types.js'
import type { RestoreData } from './views.js'
import { CONNECTION_SECURITY } from '../options.js'
import { DEFAULT_THRESHOLDS } from '../core/classify.js'
import { overLimitAfterRestore } from '../core/restore.js'
import { readFromSession } from './read.js'
import {
  backupFamilyOf,
  cannotChangePlace,
  locateContacts,
  openContactTable,
  whereContactsLive,
} from './store.js'

export const restore: CommandSpec<'restore'> = {
  name: 'restore',
  handlesInterrupt: true,
  args: '<file>',
  summary:
    'Put contacts from a prune backup file back (DBPut), only where the key does not exist now.',
  examples: [
    'pjctl restore --dry-run ~/.local/state/pjctl/backups/pbx1-2026-11-27.jsonl',
    'pjctl restore --key 093effad ~/.local/state/pjctl/backups/pbx1-2026-11-27.jsonl',
  ],
  optionHelp: {
    force:
      'Restore a backup that was written for another server, or one that would put an AOR over its max_contacts.',
  },
  options: [
    'server',
    'config',
    'host',
    'port',
    'user',
    'secretFile',
    ...CONNECTION_SECURITY,
    'timeout',
    'key',
    'dryRun',
    'force',
  ],
  formats: ['table', 'json'],
  async run({ args, settings, deps }) {
    const file = args[0]
    if (file === undefined) throw new UsageError('restore: name the backup file to restore from')
    const patterns =
      settings.key === undefined ? null : settings.key.map((k) => parseKeyPattern(k, '--key'))
    // the whole file is checked before anything connects
    const contents = await readBackup(file, deps)
    let entries = latestPerKey(contents.entries)
    let cut = contents.cut
    if (patterns) {
      const { keys, unmatched } = resolveKeys(
        patterns,
        entries.map((e) => e.key),
        '--key',
      )
      if (unmatched.length)
        throw new UsageError(
          `no entry for ${unmatched.map((p) => printable(p.raw, 80)).join(', ')} in ${file}`,
        )
      entries = entries.filter((e) => keys.includes(e.key))
      // a cut line is looked at only when it is for one of the keys asked for
      if (cut && !(cut.key && resolveKeys(patterns, [cut.key], '--key').keys.length)) cut = null
    }
    if (cut) deps.log.warn(cutWarning(file, cut))
    const targets = await deps.targets()
    const target = targets[0]
    if (targets.length !== 1 || target === undefined)
      throw new UsageError('restore works on one server at a time: name one with --server')
    const others = [...new Set(entries.map((e) => e.server))].filter((s) => s !== target.name)
    if (others.length) {
      const written = `${file} holds contacts of ${others.map((s) => printable(s, 80)).join(', ')}, not of ${target.name}`
      if (!settings.force)
        throw new UsageError(
          `${written}: refusing to restore them here`,
          `name that server (--server), or pass --force to restore onto ${target.name} anyway`,
        )
      deps.log.warn(`${written}; restoring onto ${target.name} (--force)`)
    }
    const data: RestoreData = {
      file,
      server: target.name,
      dryRun: settings.dryRun === true,
      restored: [],
      wouldRestore: [],
      skipped: [],
      failed: [],
    }
    const session = await deps.connect(target)
    try {
      const location = await locateContacts(session, deps)
      if (location.place.kind === 'ami')
        throw cannotChangePlace(location.mapping.described, location.place, 'restore')
      if (location.assumed) deps.log.warn(`${location.assumed}; restoring into ${CONTACT_FAMILY}`)
      const family = backupFamilyOf(location.place)
      const elsewhere = [...new Set(entries.map((e) => e.family))].filter((f) => f !== family)
      if (elsewhere.length) {
        const written = `${file} holds contacts of ${elsewhere.map((f) => printable(f, 80)).join(', ')}, but ${target.name} keeps them in ${whereContactsLive(location)}`
        if (!settings.force)
          throw new UsageError(
            `${written}: refusing to restore them there`,
            `pass --force to restore them into ${family} anyway`,
          )
        deps.log.warn(`${written}; restoring into ${family} (--force)`)
      }
      // nothing is written when the restore would push an AOR over max_contacts (its next device would get 403)
      const aors = [...new Set(entries.map((e) => e.key.split(';@')[0] ?? ''))]
      const report = await readFromSession(session, settings, deps, DEFAULT_THRESHOLDS, {
        names: aors.length === 1 ? aors : [],
      })
      const over = overLimitAfterRestore(report.aors, entries, deps.now())
      if (over.length) {
        const list = over
          .slice(0, 5)
          .map((o) => `${printable(o.aor, 80)} at ${o.count}/${o.maxContacts}`)
          .join(', ')
        const more = over.length > 5 ? ` and ${over.length - 5} more` : ''
        const written = `restoring would put ${list}${more}, over max_contacts`
        if (!settings.force && !settings.dryRun)
          throw new UsageError(
            `${written}: refusing to restore (Asterisk would refuse every new device of ${over.length === 1 ? 'that AOR' : 'those AORs'}); nothing restored`,
            'restore fewer contacts (--key), or pass --force to restore them anyway',
          )
        deps.log.warn(`${written}${settings.force ? ' (--force)' : ''}`)
      }
      const table =
        location.place.kind === 'realtime' ? await openContactTable(session, location) : null
      const store = table
        ? {
            get: (key: string) => table.current(key),
            put: async (key: string, value: string, current: string | null) => {
              // a realtime restore is an insert that never overwrites; an expired row pjctl left is replaced by
              // its original only through the compare-and-delete of that exact expired row
              if (current !== null && (await table.remove(key, current)) !== 'done')
                throw new Error('the row changed while it was restored: left as it is')
              if (!(await table.insert(value)))
                throw new Error('a row with this id exists now: left as it is')
            },
          }
        : {
            get: (key: string) => session.dbGet(family, key),
            put: (key: string, value: string) => session.dbPut(family, key, value),
          }
      try {
        for (const entry of entries) {
          if (deps.signal.aborted) break
          try {
            const current = await store.get(entry.key)
            // a contact pruned with --via expire that Asterisk has not swept yet holds exactly what pjctl wrote: that is undone too
            const expiredByPjctl = current !== null && current === expiredValueOrNull(entry.value)
            if (current !== null && !expiredByPjctl) {
              data.skipped.push({
                key: entry.key,
                reason:
                  current === entry.value
                    ? 'still present, unchanged (never deleted): left as it is'
                    : 'present with another value (the phone registered again): left as it is',
              })
            } else if (settings.dryRun) {
              data.wouldRestore.push({ key: entry.key })
            } else {
              await store.put(entry.key, entry.value, current)
              data.restored.push({ key: entry.key })
            }
          } catch (error) {
            data.failed.push({ key: entry.key, reason: (error as Error).message })
          }
        }
        // the cut line's contact: present now (left alone), or gone, and its value cannot be put back
        if (cut?.key && !deps.signal.aborted) {
          try {
            const current = await store.get(cut.key)
            if (current === null)
              data.failed.push({
                key: cut.key,
                reason: `its backup line (line ${cut.line}) is cut short and the key is gone: it may have been deleted, and its value cannot be restored whole`,
              })
            else
              data.skipped.push({
                key: cut.key,
                reason: `its backup line (line ${cut.line}) is cut short; the key is present now: left as it is`,
              })
          } catch (error) {
            data.failed.push({ key: cut.key, reason: (error as Error).message })
          }
        }
      } finally {
        await table?.close()
      }
      if (data.restored.length)
        await announceChange(
          session,
          'restored',
          data.restored.map((r) => r.key),
          deps,
          family,
        )
    } finally {
      await session.close()
    }
    return {
      view: 'restore',
      data,
      exitCode: data.failed.length ? 1 : deps.signal.aborted ? 130 : 0,
    }
  },
}

/** What a cut last line still tells: never "never deleted" (a crash mid-write or a full disk cannot be told apart). */
function cutWarning(file: string, cut: CutLine): string {
  const where = `${printable(file, 80)}:${cut.line}`
  if (!cut.key)
    return `${where}: the last line is cut short before its key: its contact may have been deleted`
  const value =
    cut.valuePrefix === null
      ? 'its value was not written'
      : `its value up to the cut: ${printable(cut.valuePrefix, 300)}`
  return `${where}: the last line is cut short: its contact may have been deleted (key ${printable(cut.key, 80)}; ${value})`
}

function expiredValueOrNull(value: string): string | null {
  try {
    return expiredValue(value)
  } catch {
    return null
  }
}

/** A key backed up twice (deleted, registered again, deleted again): the newest value wins. */
function latestPerKey(entries: BackupEntry[]): BackupEntry[] {
  const byKey = new Map<string, BackupEntry>()
  for (const entry of entries) byKey.set(`${entry.family}\u0000${entry.key}`, entry)
  return [...byKey.values()]
}
