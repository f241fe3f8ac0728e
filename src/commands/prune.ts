// pjctl prune [NAME...]: plan, then delete stale contacts safely.
//
// Safety, in order: a lock per server; the plan from one consistent read of contacts and limits,
// then qualify state for the qualified candidates (so a reachable contact is never deleted, and one
// whose state cannot be read is kept); the guard (--max-delete, half the
// server); dry run / confirmation / --yes; per contact: read the key again (DBGet) and
// go on only if the value is byte-identical to the planned one; append the value to the
// backup file and fsync it; only then DBDel (or DBPut with expiration_time "1").
// Nothing new is sent after Ctrl-C (not even the DBDels of keys whose DBGet was in flight),
// after the connection is lost, or after the first DBDel/DBPut refused for want of privilege.

import { adviceFor } from '../core/advice.js'
import {
  expiredValue,
  keepContactsOfNodes,
  planPrune,
  type PlanItem,
  type PruneCriteria,
  type PrunePlan,
} from '../core/plan.js'
import { CONTACT_FAMILY, type AorReport, type ServerReport } from '../core/types.js'
import {
  collectionOf,
  endpointFiles,
  endpointKnowledge,
  unknownEndpoints,
  type Collection,
  type EndpointKnowledge,
} from '../core/endpoints.js'
import { KEEP_PLANNED, KEEP_PREVIEWED } from '../core/dump.js'
import { ownCopy } from '../core/contact.js'
import { contactCached } from '../core/sorcery.js'
import { WIZARD_FILE } from '../core/limits.js'
import type { AmiSession, AmiTarget } from '../ami/types.js'
import {
  ActionFailedError,
  AmiError,
  EXIT,
  IncompleteAnswerError,
  PermissionError,
  PjctlError,
  UnknownActionError,
  UsageError,
  type ExitCode,
} from '../errors.js'
import { announceChange } from './announce.js'
import {
  BackupFile,
  BackupWriteError,
  acquireLock,
  backupBytes,
  backupPathFor,
  expireBackups,
  roomProblem,
  type BackupEntry,
  type Lock,
} from './backup.js'
import { checkWriteTarget, writeTargetProblem } from '../files.js'
import {
  DEFAULT_LOCATION,
  backupFamilyOf,
  cannotChangePlace,
  openContactTable,
  type ContactLocation,
} from './store.js'
import { expiredValue as expiredRow } from '../core/plan.js'
import type { ContactTable, RowOutcome } from '../sql/table.js'
import {
  READ_OPTIONS,
  asGroup,
  checkNames,
  eachServer,
  isFleet,
  readFromSession,
  selectNamed,
  storeLeaders,
  thresholdsFrom,
} from './read.js'
import { identify, storeOf, systemNameOf, type NodeIdentity } from './cluster.js'
import { printable } from '../text.js'
import { pruneReasonsText } from '../reasons.js'
import { readQualifyFor } from './qualify.js'
import { parseKeyPattern, resolveKeys, type KeyPattern } from '../core/keys.js'
import type { CommandSpec, Deps, Settings } from './types.js'
import {
  isFailure,
  type DeleteOutcome,
  type PruneData,
  type PruneServerResult,
  type ServerFailure,
} from './views.js'

export const prune: CommandSpec<'prune'> = {
  name: 'prune',
  handlesInterrupt: true,
  args: '[names...]',
  summary:
    'Delete stale contacts (expired, superseded, beyond --keep) safely: dry run, confirmation, backup, compare-before-delete.',
  examples: [
    'pjctl prune --superseded --expired --dry-run',
    'pjctl prune FAP003 --keep 1',
    'pjctl prune --all --superseded --expired --yes --quiet',
  ],
  optionHelp: {
    quiet: 'Print only the summary line: no plan, no warnings, no progress.',
    force: "Delete more than --max-delete contacts, or more than half of a server's.",
  },
  options: [
    ...READ_OPTIONS.filter((o) => o !== 'input'),
    'expired',
    'superseded',
    'orphaned',
    'keep',
    'key',
    'unreachable',
    'via',
    'unknownNode',
    'dryRun',
    'yes',
    'backup',
    'backupRetention',
    'maxDelete',
    'force',
    'inFlight',
    'quiet',
  ],
  formats: ['table', 'json'],
  async run({ args, settings, deps }) {
    const names = checkNames(args)
    const { criteria, patterns } = criteriaFrom(settings)
    /** Per --key pattern: on how many servers it picked a contact. */
    const keyHits = new Map(patterns.map((p) => [p, 0]))
    const targets = await deps.targets()
    if (settings.backup !== undefined && targets.length > 1)
      throw new UsageError(
        '--backup names one file; with several servers leave it out (one backup file per server)',
      )
    // a backup that cannot be written (or synced) is refused before any server is touched
    if (settings.backup !== undefined && settings.dryRun !== true)
      await checkWriteTarget(settings.backup, '--backup')
    // Plan every server first, ask once for all of them, then execute: one answer never
    // confirms a plan that was not on the screen, and prompts never interleave.
    const held: Planned[] = []
    // Servers sharing one contact store (a cluster's nodes) are planned once, through the first of them.
    const { order, groups } =
      targets.length > 1
        ? await storeLeaders(targets, settings, deps)
        : { order: targets, groups: new Map<AmiTarget, NodeIdentity[]>() }
    const cluster: ClusterRun = { groups, known: new Map() }
    try {
      // With --yes nothing is asked: each server is executed as soon as it is planned.
      const planning = await eachServer(
        order.filter((t): t is AmiTarget => !isFailure(t)),
        settings,
        deps,
        async (target) => {
          const planned = await planServer(
            target,
            names,
            criteria,
            patterns,
            keyHits,
            settings,
            deps,
            held,
            cluster,
          )
          return isPlanned(planned) && settings.yes
            ? executeAndRelease(planned, settings, deps, held)
            : planned
        },
        (failure) => failedServer(failure, settings),
      )
      let next = 0
      const first = order.flatMap((t) => {
        if (isFailure(t)) return [failedServer(t, settings)]
        const planned = planning[next++]
        return planned ? [planned] : []
      })
      const ready = first.filter(isPlanned)
      const declined = await confirmAll(ready, settings, deps)
      const readyFor = new Map(ready.map((p) => [p.target, p]))
      const second = await eachServer(
        ready.map((p) => p.target),
        settings,
        deps,
        (target) => {
          const planned = readyFor.get(target)
          if (!planned) throw new Error(`prune: ${target.name} has no plan`)
          return declined
            ? Promise.resolve(declined(planned))
            : executeAndRelease(planned, settings, deps, held)
        },
        (failure) => failedServer(failure, settings),
      )
      const executed = new Map(ready.map((p, i) => [p, second[i]]))
      const servers = first.map((p) => {
        if (!isPlanned(p)) return p
        const done = executed.get(p)
        if (!done) throw new Error(`prune: no result for ${p.target.name}`)
        return done
      })
      const summary = summarise(servers)
      // In a fleet a key is on one server: it is an error only when no server has it.
      const nowhere = servers.some((s) => s.plan)
        ? [...keyHits].filter(([, hits]) => hits === 0).map(([p]) => p.raw)
        : []
      for (const raw of nowhere)
        deps.log.warn(`--key '${printable(raw, 80)}': no such contact on any server`)
      const exitCode = exitFor(servers)
      return {
        view: 'prune',
        data: {
          generatedAt: deps.now(),
          servers,
          summary,
          quiet: settings.quiet === true,
          fleet: isFleet(settings),
        },
        exitCode: nowhere.length && exitCode === EXIT.ok ? EXIT.usage : exitCode,
      }
    } finally {
      await Promise.all(held.map((p) => p.release()))
    }
  },
}

/** The criteria (keys still unresolved: each server resolves the --key patterns against its own contacts). */
function criteriaFrom(settings: Settings): { criteria: PruneCriteria; patterns: KeyPattern[] } {
  const raw = settings.key ?? []
  const patterns = raw.map((key) => parseKeyPattern(key, '--key'))
  const any =
    settings.expired ||
    settings.superseded ||
    settings.orphaned ||
    settings.keep !== undefined ||
    patterns.length ||
    settings.unreachable
  const criteria = {
    expired: any ? settings.expired === true : true,
    superseded: any ? settings.superseded === true : true,
    orphaned: any ? settings.orphaned === true : true,
    keep: settings.keep ?? null,
    keys: patterns.map((p) => p.raw),
    unreachable: settings.unreachable === true,
  }
  return { criteria, patterns }
}

/** A server planned and waiting to be executed: its lock held, its session open. */
interface Planned {
  target: AmiTarget
  session: AmiSession
  plan: PrunePlan
  base: PruneServerResult
  /** The astdb family the contacts were read from (sorcery.conf's contact mapping). */
  family: string
  /** Where the contacts live (a realtime table is written through SQL). */
  location: ContactLocation
  /** A shared table: the configured server of each other cluster node (systemname) whose contacts are planned. */
  routes: Map<string, AmiTarget>
  /** Cluster nodes no configured server is, whose contacts are pruned here anyway (--unknown-node delete). */
  unknown: Set<string>
  /** The AORs the plan was made from, by name (state, qualify_frequency: how each contact is collected). */
  aors: Map<string, AorReport>
  /** The configured endpoints, when planning already read them. */
  endpointsRead: Promise<EndpointsRead> | null
  release(): Promise<void>
}

/** What a prune run learns about the cluster: the servers sharing each store, and every configured server asked so far. */
interface ClusterRun {
  groups: Map<AmiTarget, NodeIdentity[]>
  /** Configured server name → who it is (null: it did not answer). */
  known: Map<string, Promise<NodeIdentity | null>>
}

/**
 * Lock, connect, read, plan, guard. A server with nothing to do (nothing planned, refused,
 * dry run, no terminal and no --yes) is finished here; one to execute comes back as Planned,
 * registered in `held` so the run releases it whatever happens.
 */
async function planServer(
  target: AmiTarget,
  names: string[],
  criteria: PruneCriteria,
  patterns: KeyPattern[],
  keyHits: Map<KeyPattern, number>,
  settings: Settings,
  deps: Deps,
  held: Planned[],
  cluster: ClusterRun,
): Promise<Planned | PruneServerResult> {
  const dryRun = settings.dryRun === true
  const lock: Lock | null = dryRun ? null : await acquireLock(target.name, deps)
  // Under the lock, so no other prune of this server is writing its backup; only the default location is ours to clean.
  if (lock && settings.backup === undefined)
    await expireBackups(target.name, settings.backupRetention, deps)
  let session: AmiSession | null = null
  let handedOver = false
  try {
    session = await deps.connect(target)
    // Asterisk ends a session whose answer it had to cut short (writetimeout); the read then retries on
    // a new one (read.ts). The deletions must not go to the ended session: open another for them.
    let ended = false
    const unsubscribe = session.onClose(() => (ended = true))
    // every column (a realtime row's qualify_frequency decides whether its qualify state is read);
    // a dry run compares and backs up nothing, so it keeps no stored value
    const report = await readFromSession(session, settings, deps, thresholdsFrom(settings), {
      names,
      full: true,
      keep: dryRun ? KEEP_PREVIEWED : KEEP_PLANNED,
    })
    unsubscribe()
    // set by onClose while the read ran
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
    if (ended) {
      session.destroy()
      session = null
      session = await deps.connect(target)
    }
    const selected = selectNamed(report, names, deps)
    // without --key, no list of every key
    const { keys, unmatched } = patterns.length
      ? resolveKeys(
          patterns,
          selected.aors.flatMap((aor) => aor.contacts.map((c) => c.key)),
          '--key',
        )
      : { keys: [], unmatched: [] }
    if (unmatched.length && !isFleet(settings)) {
      throw new UsageError(
        `--key ${unmatched.map((p) => `'${printable(p.raw, 80)}'`).join(', ')}: no such contact on ${target.name}${names.length ? ' in the AORs named' : ''}`,
      )
    }
    for (const pattern of patterns)
      if (!unmatched.includes(pattern)) keyHits.set(pattern, (keyHits.get(pattern) ?? 0) + 1)
    // an unmatched pattern stays in the criteria: it matches no key, and the plan notes it
    const chosen = { ...criteria, keys: [...keys, ...unmatched.map((p) => p.raw)] }
    // Plan from contacts and limits; then read qualify state only for the endpoints of qualified candidates, and plan again with it.
    const first = planPrune(selected.aors, chosen, false)
    // the configured endpoints, read at most once (here, when an endpoint could not be read; or to execute)
    const reading = session
    let endpointsRead: Promise<EndpointsRead> | null = null
    const qualify = await readQualifyFor(
      reading,
      selected.aors,
      first,
      chosen,
      settings,
      deps,
      () =>
        (endpointsRead ??= readEndpoints(reading, true)).then(
          (read) => read.known,
          (error: unknown) => {
            if (!(error instanceof PjctlError)) throw error
            return unknownEndpoints(error.message)
          },
        ),
    )
    const judged = qualify
      ? planPrune(qualify.reports, chosen, qualify.known, qualify.unread)
      : first
    // A shared table: each contact goes through the node that registered it; a node no configured
    // server is keeps its contacts unless --unknown-node delete.
    const group = cluster.groups.get(target)
    const routing = await routesFor(session, target, report, judged, group, cluster, settings, deps)
    const plan =
      routing.unknown.size && settings.unknownNode !== 'delete'
        ? keepContactsOfNodes(judged, routing.unknown)
        : judged
    const base = asGroup(resultBase(target.name, plan, selected, settings), group)
    // contacts only Asterisk can change: refused even when nothing is planned, so that a run never
    // ends with a `--key` hint that would only be refused in turn
    if (!dryRun && report.contactsAt?.place.kind === 'ami')
      throw cannotChangePlace(report.contactsAt.mapping ?? '', report.contactsAt.place, 'prune')
    if (plan.toDelete === 0) return { ...base, mode: dryRun ? 'dry-run' : 'executed' }
    const refusal = guard(plan, report, settings)
    if (refusal) return { ...base, mode: 'refused', reason: refusal }
    if (dryRun) return { ...base, mode: 'dry-run' }
    const backupProblem = await backupRefusal(target.name, familyOf(report), plan, settings, deps)
    if (backupProblem) return { ...base, mode: 'refused', reason: backupProblem }
    if (!settings.yes && !deps.interactive) {
      return {
        ...base,
        mode: 'refused',
        reason: 'not a terminal and no --yes: nothing deleted (cron must pass --yes)',
      }
    }
    const open = session
    const planned: Planned = {
      target,
      session: open,
      plan,
      base,
      family: familyOf(report),
      location: locationOf(report),
      routes: routing.routes,
      unknown: settings.unknownNode === 'delete' ? routing.unknown : new Set(),
      aors: new Map(selected.aors.map((a) => [a.aor, a])),
      endpointsRead,
      release: async () => {
        try {
          await open.close()
        } finally {
          await lock?.release()
        }
      },
    }
    held.push(planned)
    handedOver = true
    return planned
  } finally {
    if (!handedOver) {
      try {
        await session?.close()
      } finally {
        await lock?.release()
      }
    }
  }
}

/**
 * Without --yes, one question for every planned server, after one preview of all their plans.
 * Returns null to go ahead, or what a declined server becomes.
 */
async function confirmAll(
  ready: Planned[],
  settings: Settings,
  deps: Deps,
): Promise<((p: Planned) => PruneServerResult) | null> {
  if (!ready.length || settings.yes) return null
  const verb = settings.via === 'expire' ? 'Expire' : 'Delete'
  const total = ready.reduce((n, p) => n + p.plan.toDelete, 0)
  const where =
    ready.length === 1 && ready[0]
      ? ready[0].target.name
      : `${ready.length} servers (${ready.map((p) => p.target.name).join(', ')})`
  const preview = { servers: ready.map((p) => ({ ...p.base, mode: 'dry-run' as const })) }
  if (
    await deps.confirm(`${verb} ${total} contact(s) on ${where}? [y/N] `, {
      view: 'prune-plan',
      data: preview,
    })
  )
    return null
  return (p) => ({ ...p.base, mode: 'declined', reason: 'declined at the prompt: nothing deleted' })
}

function isPlanned(p: Planned | PruneServerResult): p is Planned {
  return 'session' in p
}

/** Executes a planned server, then closes its session and releases its lock. */
async function executeAndRelease(
  planned: Planned,
  settings: Settings,
  deps: Deps,
  held: Planned[],
): Promise<PruneServerResult> {
  try {
    return await executeServer(planned, settings, deps)
  } finally {
    held.splice(held.indexOf(planned), 1)
    await planned.release()
  }
}

/** Compare, back up, delete the planned contacts of one server. */
async function executeServer(
  planned: Planned,
  settings: Settings,
  deps: Deps,
): Promise<PruneServerResult> {
  const { target, session, plan, base, family } = planned
  const backupFile = settings.backup ?? backupPathFor(target.name, deps)
  const realtime = planned.location.place.kind === 'realtime'
  const collections =
    !realtime && settings.via === 'asterisk'
      ? await collectionsFor(planned, settings.inFlight, deps)
      : new Map<string, Collection>()
  const execution = realtime
    ? await executeByNode(planned, backupFile, settings, deps)
    : await execute(session, family, plan, backupFile, settings, deps, collections)
  const { lost, refused, backupFailed } = execution
  let outcomes = execution.outcomes
  if (!realtime && settings.via === 'asterisk' && !lost && !refused && !deps.signal.aborted)
    outcomes = await collectThroughAsterisk(
      planned,
      outcomes,
      deps,
      settings.inFlight,
      planned.session,
      collections,
    )
  const done = outcomes
    .filter((o) => o.outcome === 'deleted' || o.outcome === 'expired')
    .map((o) => o.key)
  if (done.length && !lost)
    await announceChange(
      session,
      settings.via === 'expire' ? 'expired' : 'deleted',
      done,
      deps,
      backupFamilyOf(planned.location.place),
    )
  const interrupted = deps.signal.aborted
  const notSent = outcomes.filter((o) => o.outcome === 'not-sent').length
  const reason = backupFailed
    ? { reason: backupReason(backupFailed, outcomes) }
    : lost
      ? { reason: lostReason(target.name, lost, outcomes) }
      : refused
        ? {
            reason: `stopped at the first refusal: ${refused.message}; ${notSent} contact(s) not sent`,
          }
        : interrupted
          ? {
              reason: `interrupted: ${notSent} contact(s) not sent (counted as failed); run pjctl prune again to finish`,
            }
          : {}
  return {
    ...base,
    mode: interrupted ? 'interrupted' : 'executed',
    outcomes,
    backupFile,
    ...reason,
  }
}

function resultBase(
  server: string,
  plan: PrunePlan,
  report: ServerReport,
  settings: Settings,
): PruneServerResult {
  const planned = new Set(plan.items.filter((i) => i.action === 'delete').map((i) => i.aor))
  const advice = report.aors
    .filter((aor) => planned.has(aor.aor) && aor.superseded > 0)
    .flatMap((aor) => adviceFor(aor) ?? [])
  return {
    server,
    plan,
    mode: 'executed',
    outcomes: [],
    backupFile: null,
    advice,
    via: settings.via,
  }
}

/** Where a server's contacts were read from. */
function locationOf(report: ServerReport): ContactLocation {
  const place = report.contactsAt?.place ?? { kind: 'astdb', family: CONTACT_FAMILY }
  return { ...DEFAULT_LOCATION, place }
}

/** The astdb family a server's contacts were read from. */
function familyOf(report: ServerReport): string {
  const place = report.contactsAt?.place
  return place?.kind === 'astdb' ? place.family : CONTACT_FAMILY
}

/** Why the next realtime deletions are not sent: the backup failed, the database was lost, or the run was interrupted; null: go on. */
function stopBefore(
  backupFailed: BackupWriteError | null,
  lost: Error | null,
  signal: AbortSignal,
): string | null {
  if (backupFailed) return `not sent: ${backupFailed.message}`
  if (lost) return `not deleted: the database connection was lost (${lost.message})`
  return signal.aborted ? 'interrupted before this contact was deleted' : null
}

/** The backup lines of deletions: what each contact was, when and why it went. */
function backupEntries(
  server: string,
  family: string,
  items: readonly PlanItem[],
  deps: Deps,
): BackupEntry[] {
  const deletedAt = new Date(deps.now() * 1000).toISOString()
  return items.map((item) => ({
    server,
    family,
    key: item.key,
    value: item.contact.value,
    deletedAt,
    reason: pruneReasonsText(item.reasons),
  }))
}

/** The backup lines of the planned deletions, as execute() will write them (for their size). */
function planEntries(server: string, family: string, plan: PrunePlan, deps: Deps): BackupEntry[] {
  return backupEntries(
    server,
    family,
    plan.items.filter((i) => i.action === 'delete'),
    deps,
  )
}

/** Before anything is deleted: the backup file must be one pjctl may write, on a file system with room for the whole plan. */
async function backupRefusal(
  server: string,
  family: string,
  plan: PrunePlan,
  settings: Settings,
  deps: Deps,
): Promise<string | null> {
  const file = settings.backup ?? backupPathFor(server, deps)
  const room = await roomProblem(file, backupBytes(planEntries(server, family, plan, deps)))
  if (room) return room
  return writeTargetProblem(file, settings.backup === undefined ? 'backup file' : '--backup')
}

/** A misparse must never empty a PBX. */
function guard(plan: PrunePlan, report: ServerReport, settings: Settings): string | null {
  if (settings.force) return null
  const max = settings.maxDelete
  if (plan.toDelete > max)
    return `refusing to delete ${plan.toDelete} contacts (more than --max-delete ${max}); pass --force to allow it`
  const total = report.aors.reduce((n, aor) => n + aor.contacts.length, 0)
  if (plan.toDelete > total / 2)
    return `refusing to delete ${plan.toDelete} of the server's ${total} contacts (more than half); pass --force to allow it`
  return null
}

/**
 * Compare, back up, delete: in batches of --in-flight actions on the one connection. `collections`
 * (--via asterisk): a contact nothing in Asterisk can collect (`direct`) is deleted (DBDel) where the
 * others are expired.
 */
async function execute(
  session: AmiSession,
  family: string,
  plan: PrunePlan,
  backupFile: string,
  settings: Settings,
  deps: Deps,
  collections: ReadonlyMap<string, Collection> = new Map(),
): Promise<Execution> {
  const items = plan.items.filter((i) => i.action === 'delete')
  const batchSize = settings.inFlight
  const outcomes: Outcome[] = []
  const run: BatchRun = {
    session,
    family,
    deps,
    expire: settings.via !== 'delete',
    direct: new Set([...collections].filter(([, c]) => c === 'direct').map(([key]) => key)),
    backup: await BackupFile.open(backupFile, deps.log.warn),
    lost: null,
    refused: null,
    backupFailed: null,
  }
  const progress = items.length > 20 ? deps.progress('pruning') : null
  try {
    for (let start = 0; start < items.length; start += batchSize) {
      outcomes.push(...(await executeBatch(items.slice(start, start + batchSize), run)))
      progress?.update(Math.min(start + batchSize, items.length), items.length)
    }
  } finally {
    progress?.done()
    await run.backup.close()
  }
  return { outcomes, lost: run.lost, refused: run.refused, backupFailed: run.backupFailed }
}

type Outcome = PruneServerResult['outcomes'][number]

/** What every batch of one server's prune shares, and what a batch learns that stops the later ones. */
interface BatchRun {
  session: AmiSession
  /** The astdb family of the contacts. */
  family: string
  deps: Deps
  /** --via expire: DBPut an expired value instead of DBDel. */
  expire: boolean
  /** Keys deleted (DBDel) even so: --via asterisk's contacts that nothing in Asterisk can collect. */
  direct: ReadonlySet<string>
  backup: BackupFile
  /** Set when the connection is gone (closed, reset, timed out): nothing more can be sent. */
  lost: Error | null
  /** Set when the server refused a DBDel/DBPut for want of privilege: every later one would be refused too. */
  refused: Error | null
  /** Set when a backup line could not be written whole and synced: nothing more is deleted. */
  backupFailed: BackupWriteError | null
}

function outcome(item: PlanItem, result: DeleteOutcome, detail?: string): Outcome {
  return { key: item.key, aor: item.aor, outcome: result, ...(detail ? { detail } : {}) }
}

/** Why nothing more may be sent (lost connection, refusal, Ctrl-C), or null. */
function stopped(run: BatchRun): string | null {
  if (run.backupFailed) return `not sent: ${run.backupFailed.message}`
  return run.lost
    ? `not deleted: the connection was lost (${run.lost.message})`
    : run.refused
      ? `not sent: ${run.refused.message}`
      : run.deps.signal.aborted
        ? 'interrupted before this contact was deleted'
        : null
}

/**
 * One batch of at most --in-flight contacts: compare (DBGet), back up, write (DBDel or
 * DBPut), look again where DBDel said no. Returns each contact's outcome, in batch order
 * per step; a lost connection or a refusal is kept in `run` for the batches after it.
 */
async function executeBatch(batch: PlanItem[], run: BatchRun): Promise<Outcome[]> {
  const before = stopped(run)
  if (before) return batch.map((item) => outcome(item, 'not-sent', before))
  const { outcomes, verified } = await compareBatch(batch, run)
  if (!verified.length) return outcomes
  // Ctrl-C (or a lost connection) while the DBGets were in flight: no new delete is sent.
  const beforeBackup = stopped(run)
  if (beforeBackup)
    return [...outcomes, ...verified.map((item) => outcome(item, 'not-sent', beforeBackup))]
  try {
    await run.backup.append(backupEntries(run.session.target.name, run.family, verified, run.deps))
  } catch (error) {
    // no deletion without its backup line: this batch and every later one are not sent
    if (!(error instanceof BackupWriteError)) throw error
    run.backupFailed = error
    const why = `not sent: ${error.message}`
    return [...outcomes, ...verified.map((item) => outcome(item, 'not-sent', why))]
  }
  const beforeWrite = stopped(run)
  if (beforeWrite)
    return [
      ...outcomes,
      ...verified.map((item) =>
        outcome(
          item,
          'not-sent',
          `${beforeWrite} (its backup line is written; restore skips it while the key exists)`,
        ),
      ),
    ]
  return [...outcomes, ...(await writeBatch(verified, run))]
}

/** DBGet each key: only a contact whose value is still the planned one goes on (compare-before-delete). */
async function compareBatch(
  batch: PlanItem[],
  run: BatchRun,
): Promise<{ outcomes: Outcome[]; verified: PlanItem[] }> {
  const current = await Promise.all(
    batch.map((item) => run.session.dbGet(run.family, item.key).catch((e: unknown) => toError(e))),
  )
  run.lost = current.find((c): c is Error => c instanceof Error && connectionLost(c)) ?? null
  const outcomes: Outcome[] = []
  const verified: PlanItem[] = []
  batch.forEach((item, i) => {
    const now = current[i]
    if (now instanceof Error)
      outcomes.push(
        outcome(
          item,
          connectionLost(now) ? 'not-sent' : 'failed',
          connectionLost(now)
            ? `not deleted: the connection was lost (${now.message})`
            : now.message,
        ),
      )
    else if (now === null) outcomes.push(outcome(item, 'vanished', 'the key no longer exists'))
    else if (now !== item.contact.value)
      outcomes.push(
        outcome(
          item,
          'changed',
          'the value changed since the plan (the phone re-registered): not deleted',
        ),
      )
    else verified.push(item)
  })
  return { outcomes, verified }
}

/** DBDel (or DBPut an expired value) each verified key; where DBDel says no, DBGet again to tell "gone" from "refused". */
async function writeBatch(verified: PlanItem[], run: BatchRun): Promise<Outcome[]> {
  const { session, family } = run
  const expires = (item: PlanItem): boolean => run.expire && !run.direct.has(item.key)
  const results = await Promise.all(
    verified.map((item) =>
      (expires(item)
        ? session.dbPut(family, item.key, expiredValue(item.contact.value)).then(() => true)
        : session.dbDel(family, item.key)
      ).catch((e: unknown) => toError(e)),
    ),
  )
  run.lost ??= results.find((r): r is Error => r instanceof Error && connectionLost(r)) ?? null
  run.refused ??= results.find((r): r is Error => r instanceof PermissionError) ?? null
  // DBDel answers the same error whether the key was gone or the delete failed: look again.
  const notDeleted = verified.filter((_, i) => results[i] === false)
  const after = await Promise.all(
    notDeleted.map((item) => session.dbGet(family, item.key).catch((e: unknown) => toError(e))),
  )
  const recheck = new Map(notDeleted.map((item, i) => [item.key, after[i]]))
  return verified.map((item, i) => {
    const r = results[i]
    if (r instanceof Error)
      return outcome(
        item,
        'failed',
        connectionLost(r)
          ? `no answer (${r.message}): it may or may not be deleted; its value is in the backup`
          : r.message,
      )
    if (r === false) {
      const now = recheck.get(item.key)
      if (now === null) return outcome(item, 'vanished', 'the key was gone when DBDel arrived')
      if (now instanceof Error)
        return outcome(
          item,
          'failed',
          `DBDel was refused (Database entry could not be deleted), and the key could not be read again: ${now.message}`,
        )
      return outcome(
        item,
        'failed',
        'DBDel was refused: Database entry could not be deleted (the key is still there)',
      )
    }
    return expires(item)
      ? outcome(item, 'expired')
      : run.direct.has(item.key)
        ? outcome(item, 'deleted', DELETED_DIRECTLY)
        : outcome(item, 'deleted')
  })
}

interface Execution {
  outcomes: PruneServerResult['outcomes']
  /** The error that ended the connection mid-run, if it did. */
  lost: Error | null
  /** The permission error that stopped the run (the AMI user may not DBDel/DBPut), if one did. */
  refused: Error | null
  /** The backup write that failed and stopped the run, if one did. */
  backupFailed: BackupWriteError | null
}

/** The connection itself is gone (closed, reset, timed out, runaway answer): every later action fails the same way. */
function connectionLost(error: Error): boolean {
  return (
    error instanceof AmiError &&
    !(
      error instanceof ActionFailedError ||
      error instanceof PermissionError ||
      error instanceof UnknownActionError ||
      error instanceof IncompleteAnswerError
    )
  )
}

/** What the summary says when the backup could not be written: the file, what happened, what was and was not deleted. */
function backupReason(failure: BackupWriteError, outcomes: PruneServerResult['outcomes']): string {
  const done = outcomes.filter((o) => o.outcome === 'deleted' || o.outcome === 'expired').length
  const notSent = outcomes.filter((o) => o.outcome === 'not-sent').length
  return (
    `${failure.message}: stopped, ${done} deleted (each with a complete backup line), ${notSent} not sent` +
    (failure.truncated ? '' : '; its last line may be cut (restore names it)')
  )
}

/** What the summary says when the connection was lost mid-run. */
function lostReason(server: string, lost: Error, outcomes: PruneServerResult['outcomes']): string {
  const n = (o: DeleteOutcome): number => outcomes.filter((x) => x.outcome === o).length
  const uncertain = outcomes.filter(
    (o) => o.outcome === 'failed' && o.detail?.startsWith('no answer ('),
  ).length
  return (
    `the connection to ${server} was lost mid-prune (${lost.message}): ${n('deleted') + n('expired')} done, ` +
    `${uncertain} unanswered (each in the backup, may or may not be deleted), ${n('not-sent')} not attempted; run pjctl prune again`
  )
}

function failedServer(failure: ServerFailure, settings: Settings): PruneServerResult {
  return {
    server: failure.server,
    plan: null,
    mode: 'executed',
    outcomes: [],
    backupFile: null,
    advice: [],
    failure,
    via: settings.via,
  }
}

function summarise(servers: PruneServerResult[]): PruneData['summary'] {
  const count = (pred: (o: DeleteOutcome) => boolean): number =>
    servers.reduce((n, s) => n + s.outcomes.filter((o) => pred(o.outcome)).length, 0)
  return {
    planned: servers.reduce((n, s) => n + (s.plan?.toDelete ?? 0), 0),
    deleted: count((o) => o === 'deleted'),
    expired: count((o) => o === 'expired'),
    skipped: count((o) => o === 'changed' || o === 'vanished'),
    failed:
      count((o) => o === 'failed' || o === 'not-sent') + servers.filter((s) => s.failure).length,
  }
}

/** What a rejected AMI action gives: an Error (the session only ever rejects with one). */
function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error))
}

function exitFor(servers: PruneServerResult[]): ExitCode {
  if (servers.some((s) => s.mode === 'interrupted')) return EXIT.interrupted
  const failure = servers.find((s) => s.failure)?.failure
  if (failure) return failure.exit
  if (
    servers.some((s) => s.outcomes.some((o) => o.outcome === 'failed' || o.outcome === 'not-sent'))
  )
    return EXIT.failed
  if (servers.some((s) => s.mode === 'refused')) return EXIT.usage
  if (servers.some((s) => s.mode === 'declined')) return EXIT.failed
  // an AOR left full by duplicates pjctl would not choose between, or contacts of a cluster node pjctl
  // left alone: a cron prune must not hide the lockout
  if (
    servers.some(
      (s) =>
        s.mode !== 'dry-run' &&
        s.plan?.notes.some(
          (n) =>
            n.kind === 'duplicates-undecided' ||
            n.kind === 'duplicates-live' ||
            n.kind === 'unknown-node',
        ),
    )
  )
    return EXIT.failed
  return EXIT.ok
}

/**
 * --via asterisk, after the expiration_time of each contact was set in the past: one PJSIPShowEndpoint per
 * endpoint owning one (pipelined), so Asterisk retrieves the AOR's contacts and deletes the expired ones
 * through sorcery (res/res_pjsip/location.c contact_expire: ContactStatus Removed, qualify stops). Then
 * each is looked up again: gone is `deleted`; still holding exactly the expired value (no endpoint
 * collected it: an orphaned AOR) it is deleted directly, with the same compare; anything else was
 * registered again meanwhile and is left alone.
 */
async function collectThroughAsterisk(
  planned: Planned,
  outcomes: Outcome[],
  deps: Deps,
  inFlight: number,
  via: AmiSession = planned.session,
  collections: ReadonlyMap<string, Collection> = new Map(),
): Promise<Outcome[]> {
  const expired = outcomes.filter((o) => o.outcome === 'expired')
  if (!expired.length) return outcomes
  const items = new Map(planned.plan.items.map((i) => [i.key, i]))
  const endpoints = new Set<string>()
  // AORs no endpoint names whose contacts Asterisk holds state of: `pjsip show aor` retrieves them
  const aors = new Set<string>()
  for (const o of expired) {
    const item = items.get(o.key)
    if (!item) continue
    if (collections.get(o.key) === 'aor' && CLI_WORD.test(item.aor)) aors.add(item.aor)
    else endpoints.add(item.contact.endpoint || item.aor)
  }
  const { session } = planned
  const removed = `removed by Asterisk${via === session ? '' : ` on ${via.target.name}, the node that registered it`} (expired, then retrieved)`
  // Each answer lists the endpoint's AORs (AorDetail) and, after Asterisk deleted the expired ones, the
  // contacts left (ContactStatusDetail ID = the key): a key of a listed AOR that is not among them is gone.
  const retrieved = new Set<string>()
  const left = new Set<string>()
  const cli: { refused: Error | null } = { refused: null }
  await Promise.all([
    ...[...aors].map((aor) =>
      // location.c cli_aor_print_body: the contact formatter retrieves the AOR's contacts (contact_expire);
      // what it deleted is seen gone by the look below
      via.command(`pjsip show aor ${aor}`).then(
        () => undefined,
        (error: unknown) => {
          if (error instanceof PermissionError || error instanceof UnknownActionError)
            cli.refused ??= error
          else deps.log.debug(`pjsip show aor ${aor}: ${(error as Error).message}`)
        },
      ),
    ),
    ...[...endpoints].map((endpoint) =>
      via.list('PJSIPShowEndpoint', { Endpoint: endpoint }).then(
        (answer) => {
          // copies, not slices: a slice keeps the whole answer it was cut from (~5 KB a PJSIPShowEndpoint)
          // alive until every endpoint has answered (50 MB at 10,000 endpoints)
          for (const item of answer.items) {
            const event = item.get('Event')
            if (event === 'AorDetail') retrieved.add(ownCopy(item.get('ObjectName') ?? ''))
            else if (event === 'ContactStatusDetail') left.add(ownCopy(item.get('ID') ?? ''))
          }
        },
        (error: unknown) =>
          deps.log.debug(`PJSIPShowEndpoint ${endpoint}: ${(error as Error).message}`),
      ),
    ),
  ])
  if (cli.refused)
    deps.log.warn(
      `cannot have Asterisk retrieve the contacts of AORs no endpoint names (Command 'pjsip show aor': ${cli.refused.message}): they are deleted directly, and the cache in front of the contact store keeps its copy of each; give [${via.target.user}] write=command`,
    )
  const table =
    planned.location.place.kind === 'realtime'
      ? await openContactTable(session, planned.location)
      : null
  try {
    const store = table
      ? {
          gone: async (keys: string[]) => {
            const left = await table.existing(keys)
            return keys.map((k) => !left.has(k))
          },
          current: (key: string) => table.current(key),
          remove: (key: string, value: string) => table.remove(key, value),
        }
      : {
          // no lookup of its own: remove's DBGet, the compare before the DBDel, finds the contacts
          // Asterisk removed (vanished) as well, one round trip per contact fewer
          gone: (keys: string[]) => Promise.resolve(keys.map(() => false)),
          current: (key: string) => session.dbGet(planned.family, key),
          remove: async (key: string, value: string): Promise<RowOutcome> => {
            const now = await session.dbGet(planned.family, key)
            if (now === null) return 'vanished'
            if (now !== value) return 'changed'
            return (await session.dbDel(planned.family, key)) ? 'done' : 'vanished'
          },
        }
    const verdicts = new Map<string, Outcome>()
    for (const o of expired) {
      const item = items.get(o.key)
      if (!item) continue
      if (retrieved.has(item.aor) && !left.has(o.key))
        verdicts.set(o.key, outcome(item, 'deleted', removed))
    }
    // the others (no endpoint listed their AOR): looked up again (realtime: all in one query), and
    // deleted directly if still expired
    const keys = expired.map((o) => o.key).filter((key) => !verdicts.has(key))
    const gone = await store.gone(keys)
    const still: PlanItem[] = []
    for (const [i, key] of keys.entries()) {
      const item = items.get(key)
      if (!item) continue
      if (gone[i]) verdicts.set(key, outcome(item, 'deleted', removed))
      else still.push(item)
    }
    // each still expired one: compare and delete, --in-flight at a time (pipelined, as the expiring
    // was): one after the other, 10,000 orphaned contacts cost 20,000 round trips in a row
    for (let start = 0; start < still.length; start += inFlight) {
      const batch = still.slice(start, start + inFlight)
      const results = await Promise.all(
        batch.map((item) => store.remove(item.key, expiredRow(item.contact.value))),
      )
      for (const [i, item] of batch.entries())
        verdicts.set(
          item.key,
          results[i] === 'done'
            ? outcome(item, 'deleted', DELETED_DIRECTLY)
            : results[i] === 'vanished'
              ? outcome(item, 'deleted', removed)
              : outcome(
                  item,
                  'changed',
                  'registered again after it was expired: left as it is (its backup line is written)',
                ),
        )
    }
    return outcomes.map((o) => verdicts.get(o.key) ?? o)
  } catch (error) {
    deps.log.warn(
      `could not check that Asterisk removed the expired contacts: ${(error as Error).message}; they expire by themselves within contact_expiration_check_interval`,
    )
    return outcomes
  } finally {
    await table?.close()
  }
}

/** What a contact deleted directly, with no endpoint to collect it, is reported as. */
const DELETED_DIRECTLY = 'deleted directly: no endpoint collected it (orphaned)'

/** An AOR name the CLI takes as one word as it is (ast_cli's parse_args splits on blanks, reads quotes and backslashes). */
const CLI_WORD = /^[^\s"\\]+$/

/**
 * --via asterisk on astdb: how each planned contact is collected (core/endpoints.ts), from sorcery.conf (a
 * cache in front of the contacts, the endpoint mapping) and the configured endpoints. A contact of an AOR
 * that is not configured needs no endpoints. For those of configured AORs the endpoints are read (unless
 * planning already did) only when there are at least `inFlight` of them: Asterisk parses the whole file for
 * that answer (0.6 s at 33,000 AORs), while the long way (expire, PJSIPShowEndpoint, look again) costs a
 * few pipelined round trips for a batch. Whatever cannot be read, or cannot be the whole truth, sends the
 * contact the long way.
 */
async function collectionsFor(
  planned: Planned,
  inFlight: number,
  deps: Deps,
): Promise<Map<string, Collection>> {
  const items = planned.plan.items.filter((i) => i.action === 'delete')
  const collections = new Map<string, Collection>()
  if (!items.length) return collections
  const configured = items.filter((i) => planned.aors.get(i.aor)?.state !== 'orphaned').length
  const wanted = configured >= inFlight
  // nothing to learn: every contact is of a configured AOR, and too few of them to read the endpoints for
  if (!planned.endpointsRead && !wanted && configured === items.length)
    return new Map(items.map((i) => [i.key, 'endpoint']))
  let known: EndpointKnowledge
  let cached: boolean
  try {
    ;({ known, cached } = await (planned.endpointsRead ?? readEndpoints(planned.session, wanted)))
  } catch (error) {
    if (!(error instanceof PjctlError)) throw error
    // not even sorcery.conf: a cache may sit in front of the contacts, so nothing is deleted around it
    deps.log.debug(`cannot tell how each contact is collected (${error.message}): the long way`)
    return new Map(items.map((i) => [i.key, 'endpoint']))
  }
  if (!known.complete && configured)
    deps.log.debug(`endpoints not read (${known.why ?? ''}): their contacts go the long way`)
  for (const item of items) {
    const report = planned.aors.get(item.aor)
    collections.set(
      item.key,
      report ? collectionOf(item.contact, report, known, cached) : 'endpoint',
    )
  }
  return collections
}

/** The configured endpoints (complete or not), and whether a cache sits in front of the contact store. */
interface EndpointsRead {
  known: EndpointKnowledge
  cached: boolean
}

/**
 * GetConfig sorcery.conf (a cache in front of the contacts, the endpoint mapping) and, `withEndpoints`,
 * pjsip.conf `type=endpoint` and pjsip_wizard.conf, pipelined (plus the files sorcery.conf maps endpoints
 * to). Throws what GetConfig throws.
 */
async function readEndpoints(session: AmiSession, withEndpoints: boolean): Promise<EndpointsRead> {
  const [sorcery, pjsip, wizard] = await Promise.all([
    session.getConfig('sorcery.conf'),
    withEndpoints ? session.getConfig('pjsip.conf', 'type=endpoint') : null,
    withEndpoints ? session.getConfig(WIZARD_FILE, 'type=^wizard$') : null,
  ])
  const cached = contactCached(sorcery?.categories ?? null)
  const { files, why } = endpointFiles(sorcery?.categories ?? null)
  if (why) return { known: unknownEndpoints(why), cached }
  if (!withEndpoints) return { known: unknownEndpoints('the endpoints were not read'), cached }
  const answers = await Promise.all(
    files.map((file) =>
      file === 'pjsip.conf' ? Promise.resolve(pjsip) : session.getConfig(file, 'type=endpoint'),
    ),
  )
  const known = endpointKnowledge(
    answers.map((a) => a?.categories ?? null),
    wizard?.categories ?? null,
  )
  return { known, cached }
}

/**
 * A realtime table: per contact, the backup line first (fsynced), then one compare-and-set statement:
 * expiration_time set to 1 (--via asterisk, expire) or the row deleted (--via delete), each only
 * where every column is still as read.
 */
async function executeRealtime(
  planned: Planned,
  backupFile: string,
  settings: Settings,
  deps: Deps,
): Promise<Execution> {
  const items = planned.plan.items.filter((i) => i.action === 'delete')
  const outcomes: Outcome[] = []
  const table: ContactTable = await openContactTable(planned.session, planned.location)
  const backup = await BackupFile.open(backupFile, deps.log.warn)
  const family = `realtime:${table.table}`
  let lost: Error | null = null
  let backupFailed: BackupWriteError | null = null
  try {
    for (let start = 0; start < items.length; start += settings.inFlight) {
      const batch = items.slice(start, start + settings.inFlight)
      const stop = stopBefore(backupFailed, lost, deps.signal)
      if (stop) {
        outcomes.push(...batch.map((item) => outcome(item, 'not-sent', stop)))
        continue
      }
      try {
        await backup.append(backupEntries(planned.target.name, family, batch, deps))
      } catch (error) {
        if (!(error instanceof BackupWriteError)) throw error
        backupFailed = error
        outcomes.push(
          ...batch.map((item) => outcome(item, 'not-sent', `not sent: ${error.message}`)),
        )
        continue
      }
      for (const item of batch) {
        try {
          const result =
            settings.via === 'delete'
              ? await table.remove(item.key, item.contact.value)
              : await table.expire(item.key, item.contact.value)
          outcomes.push(
            result === 'done'
              ? outcome(item, settings.via === 'delete' ? 'deleted' : 'expired')
              : result === 'vanished'
                ? outcome(item, 'vanished', 'the row no longer exists')
                : outcome(
                    item,
                    'changed',
                    'the row changed since the plan (the phone re-registered): not deleted',
                  ),
          )
        } catch (error) {
          lost = error as Error
          outcomes.push(outcome(item, 'failed', (error as Error).message))
        }
      }
    }
  } finally {
    await backup.close()
    await table.close()
  }
  return { outcomes, lost, refused: null, backupFailed }
}

/**
 * A shared (realtime) table: the configured server of each cluster node whose contacts are planned (the
 * node named in reg_server, told by CoreSettings SystemName and the same contact store), and the nodes no
 * configured server is or that did not answer. Contacts with an empty reg_server, or this server's own,
 * need no route. Nothing to route for astdb (a node's own store) or when this server's name is unknown.
 */
async function routesFor(
  session: AmiSession,
  target: AmiTarget,
  report: ServerReport,
  plan: PrunePlan,
  group: readonly NodeIdentity[] | undefined,
  cluster: ClusterRun,
  settings: Settings,
  deps: Deps,
): Promise<{ routes: Map<string, AmiTarget>; unknown: Set<string> }> {
  const routes = new Map<string, AmiTarget>()
  const none = { routes, unknown: new Set<string>() }
  const place = report.contactsAt?.place
  if (place?.kind !== 'realtime') return none
  const nodes = new Set(
    plan.items.flatMap((i) =>
      i.action === 'delete' && i.contact.regServer ? [i.contact.regServer] : [],
    ),
  )
  if (!nodes.size) return none
  const own = group?.[0]?.systemName ?? (await systemNameOf(session, deps))
  if (own === null) {
    deps.log.warn(
      `${target.name}: cannot ask its systemname (CoreSettings), so it cannot tell which cluster node registered each contact: each is expired and retrieved through ${target.name}`,
    )
    return none
  }
  nodes.delete(own)
  if (!nodes.size) return none
  const store = group?.[0]?.store ?? (await storeOf(session, place))
  for (const node of group ?? []) cluster.known.set(node.target.name, Promise.resolve(node))
  const others = ((await deps.configuredTargets?.()) ?? []).filter((t) => t.name !== target.name)
  const ask = (t: AmiTarget): Promise<NodeIdentity | null> =>
    identify(t, deps).catch((error: unknown) => {
      deps.log.debug(`${t.name}: ${(error as Error).message}`)
      return null
    })
  for (let start = 0; start < others.length; start += settings.parallel) {
    const batch = others.slice(start, start + settings.parallel)
    for (const t of batch) if (!cluster.known.has(t.name)) cluster.known.set(t.name, ask(t))
    for (const t of batch) {
      const node = await cluster.known.get(t.name)
      if (node?.systemName && nodes.has(node.systemName) && node.store === store)
        if (!routes.has(node.systemName)) routes.set(node.systemName, t)
    }
  }
  const unknown = new Set([...nodes].filter((n) => !routes.has(n)))
  for (const [node, t] of routes) deps.log.debug(`contacts of node ${node}: through ${t.name}`)
  return { routes, unknown }
}

/**
 * A realtime table: the planned contacts node by node, each node's set expired in SQL and then retrieved
 * through that node (PJSIPShowEndpoint), so the node that qualifies a contact is the one that deletes it
 * (ContactStatus Removed, qualify stops). Any node's retrieval deletes every expired contact of the AOR,
 * so one node's contacts are expired only when the previous node has collected its own.
 */
async function executeByNode(
  planned: Planned,
  backupFile: string,
  settings: Settings,
  deps: Deps,
): Promise<Execution> {
  const parts = new Map<string, PlanItem[]>()
  for (const item of planned.plan.items) {
    if (item.action !== 'delete') continue
    const node = planned.routes.has(item.contact.regServer) ? item.contact.regServer : ''
    parts.set(node, [...(parts.get(node) ?? []), item])
  }
  // the other nodes first, then this server's own (and those of no node)
  const order = [...parts.keys()].sort((a, b) => (a === '' ? 1 : b === '' ? -1 : 0))
  const outcomes: Outcome[] = []
  let lost: Error | null = null
  let backupFailed: BackupWriteError | null = null
  for (const node of order) {
    const items = parts.get(node) ?? []
    const stop = stopBefore(backupFailed, lost, deps.signal)
    if (stop) {
      outcomes.push(...items.map((item) => outcome(item, 'not-sent', stop)))
      continue
    }
    const route = planned.routes.get(node)
    let via = planned.session
    if (route) {
      try {
        via = await deps.connect(route)
      } catch (error) {
        outcomes.push(
          ...items.map((item) =>
            outcome(
              item,
              'not-sent',
              `its node ${node} (${route.name}) did not answer: ${(error as Error).message}; left alone`,
            ),
          ),
        )
        continue
      }
    }
    try {
      const part: Planned = { ...planned, plan: { ...planned.plan, items, toDelete: items.length } }
      const execution = await executeRealtime(part, backupFile, settings, deps)
      lost = execution.lost
      backupFailed = execution.backupFailed
      const done =
        settings.via === 'asterisk' && !lost && !backupFailed && !deps.signal.aborted
          ? await collectThroughAsterisk(part, execution.outcomes, deps, settings.inFlight, via)
          : execution.outcomes
      outcomes.push(...done)
    } finally {
      if (via !== planned.session) await via.close()
    }
  }
  // --unknown-node delete: said on each such contact removed
  const nodeOf = new Map(planned.plan.items.map((i) => [i.key, i.contact.regServer]))
  const said = outcomes.map((o) => {
    const node = nodeOf.get(o.key) ?? ''
    if (!planned.unknown.has(node) || (o.outcome !== 'deleted' && o.outcome !== 'expired')) return o
    return {
      ...o,
      detail: `${o.detail ? `${o.detail}; ` : ''}registered through ${node}, which no configured server is: ${node} goes on qualifying it until it restarts`,
    }
  })
  return { outcomes: said, lost, refused: null, backupFailed }
}
