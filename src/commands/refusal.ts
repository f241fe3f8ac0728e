// What pjctl watch and the exporter do with a refused registration: read the refused AOR's contacts
// (one PJSIPShowEndpoint of the refused endpoint: its aors=, its AORs' limits and contacts, through
// sorcery wherever the contacts live), judge them with the one judgement, name the contacts that free
// the slot and the pjctl prune command that removes them; and, with --heal, run that prune (the prune
// command itself: its lock, qualify check, backup, compare-before-delete), at most once a minute per AOR.

import type { AmiSession, AmiTarget, ListAnswer } from '../ami/types.js'
import { buildReports } from '../core/classify.js'
import { aorConfigFromAorDetail } from '../core/aors.js'
import {
  aorOfRefusal,
  conservativeHeal,
  contactFromStatusDetail,
  healWhyText,
  readClassesFromShowUser,
  securityReadHint,
  splitAors,
  type HealPick,
  type Refusal,
} from '../core/refusals.js'
import type { AorReport, Contact } from '../core/types.js'
import { withDefaults } from '../options.js'
import { prune } from './prune.js'
import { thresholdsFrom } from './read.js'
import type { Deps, Settings } from './types.js'
import type { HealOutcome, PruneServerResult, RefusedAor } from './views.js'

/** A heal of one AOR at most this often (a phone misconfigured into a loop cannot make pjctl delete in one). */
const HEAL_EVERY_SECONDS = 60

/**
 * One PJSIPShowEndpoint of the refused endpoint → the refused AOR, judged. null when the endpoint has no
 * AOR (or no longer exists).
 */
export async function readRefusedAor(
  session: AmiSession,
  refusal: Refusal,
  target: AmiTarget,
  settings: Settings,
  deps: Deps,
  read: (endpoint: string) => Promise<ListAnswer> = (endpoint) => readEndpoint(session, endpoint),
): Promise<RefusedAor | null> {
  const answer = await read(refusal.endpoint)
  const detail = answer.items.find((i) => i.get('Event') === 'EndpointDetail')
  const aors = splitAors(detail?.get('Aors'))
  const configs = answer.items
    .filter((i) => i.get('Event') === 'AorDetail')
    .map((i) => aorConfigFromAorDetail(i.toRecord()))
  const contacts: Contact[] = []
  const qualify = new Map<string, string>()
  for (const item of answer.items) {
    if (item.get('Event') !== 'ContactStatusDetail') continue
    const contact = contactFromStatusDetail((h) => item.get(h))
    if (!contact) continue
    contacts.push(contact)
    if (contact.qualify) qualify.set(contact.key, contact.qualify)
  }
  const now = deps.now()
  const reports = buildReports({
    contacts,
    configs,
    qualify,
    now,
    thresholds: thresholdsFrom(settings),
    defaultMaxContacts: settings.maxContacts ?? null,
  })
  const byName = new Map(reports.map((r) => [r.aor, r]))
  const full = (aor: string): boolean => {
    const r = byName.get(aor)
    return r !== undefined && (r.state === 'full' || r.state === 'over')
  }
  const aor = aorOfRefusal(refusal.endpoint, aors, full)
  if (!aor) return null
  const report = byName.get(aor) ?? emptyReport(aor, configs)
  return judgeRefused(refusal, report, target)
}

/** PJSIPShowEndpoint of one endpoint: its aors=, its AORs' limits and contacts. */
function readEndpoint(session: AmiSession, endpoint: string): Promise<ListAnswer> {
  return session.list('PJSIPShowEndpoint', { Endpoint: endpoint }, [
    `Unable to retrieve endpoint ${endpoint}`,
  ])
}

/**
 * One read per endpoint for every refusal that arrives while it is in flight or within `fresh` ms of
 * its answer: a phone retrying, or a flood of refusals, costs one PJSIPShowEndpoint a second, not one
 * per event. A heal forgets the endpoint (the next refusal reads what the prune left).
 */
export class EndpointReads {
  private readonly reads = new Map<string, { answer: Promise<ListAnswer>; at: number }>()
  constructor(
    readonly session: AmiSession,
    private readonly fresh = 1000,
  ) {}
  read(endpoint: string): Promise<ListAnswer> {
    const now = Date.now()
    const cached = this.reads.get(endpoint)
    if (cached && now - cached.at < this.fresh) return cached.answer
    const answer = readEndpoint(this.session, endpoint)
    // `at` is the answer's time: a read in flight is shared, and fresh for `fresh` ms after it came
    const entry = { answer, at: Infinity }
    this.reads.set(endpoint, entry)
    answer.then(
      () => (entry.at = Date.now()),
      () => this.reads.delete(endpoint),
    )
    return answer
  }
  forget(endpoint: string): void {
    this.reads.delete(endpoint)
  }
}

function emptyReport(
  aor: string,
  configs: readonly { aor: string; maxContacts: number | null }[],
): AorReport {
  return {
    aor,
    endpoints: [],
    maxContacts: configs.find((c) => c.aor === aor)?.maxContacts ?? null,
    maxContactsSource: 'ami',
    removeExisting: null,
    count: 0,
    state: 'unknown',
    severity: 0,
    superseded: 0,
    expired: 0,
    stale: 0,
    contacts: [],
  }
}

function judgeRefused(refusal: Refusal, report: AorReport, target: AmiTarget): RefusedAor {
  let free = conservativeHeal(refusal, report)
  let fallback = false
  if (!free.length) {
    // nothing stale: the soonest-expiring contact qualify does not call reachable (what remove_existing=yes would drop)
    const candidate = [...report.contacts]
      .filter((c) => !/^(reachable|avail)$/i.test(c.qualify ?? ''))
      .sort((a, b) => (a.expirationTime ?? Infinity) - (b.expirationTime ?? Infinity))[0]
    if (candidate) {
      free = [{ key: candidate.key, why: 'unreachable' }]
      fallback = true
    }
  }
  const why = new Map(free.map((p) => [p.key, p.why]))
  const contacts = report.contacts.map((c) => {
    const pick = why.get(c.key)
    return {
      key: c.key,
      uri: c.uri,
      source: c.viaPort === null ? c.viaAddr : `${c.viaAddr}:${c.viaPort}`,
      userAgent: c.userAgent,
      expiresIn: c.expiresIn,
      status: c.status,
      qualify: c.qualify,
      ...(pick && !fallback ? { stale: healWhyText(pick) } : {}),
    }
  })
  return {
    aor: report.aor,
    count: report.count,
    maxContacts: report.maxContacts,
    contacts,
    free,
    fallback,
    pruneCommand: free.length ? pruneCommand(report.aor, free, target) : '',
  }
}

/** `pjctl prune AOR --key <hash>[,<hash>] <server> --yes`: the server as the run named it. */
function pruneCommand(aor: string, free: readonly HealPick[], target: AmiTarget): string {
  const hashes = free.map((p) => p.key.slice(p.key.lastIndexOf(';@') + 2)).join(',')
  const where =
    target.name === `${target.host}:${target.port}`
      ? `-H ${target.host} -p ${target.port}`
      : `--server ${target.name}`
  return `pjctl prune ${shellWord(aor)} --key ${hashes} ${where} --yes`
}

function shellWord(word: string): string {
  return /^[A-Za-z0-9_.+@%:,=-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`
}

/**
 * Does the AMI user get security events? Asked once per connection with `manager show user` (needs
 * write=command). null: it does; `lacks`: it does not (the text names the manager.conf line); `unknown`:
 * it could not be told.
 */
export async function securityClassProblem(
  session: AmiSession,
  target: AmiTarget,
): Promise<{ lacks: boolean; text: string } | null> {
  let read: string[] | null
  try {
    const answer = await session.command(`manager show user ${target.user}`)
    read = readClassesFromShowUser(answer.lines)
  } catch {
    return {
      lacks: false,
      text: `cannot tell whether AMI user ${target.user} gets security events (asking needs write=command); without read=security no refusal is seen. If none show up, ${securityReadHint(target.user, null)}`,
    }
  }
  if (read === null)
    return {
      lacks: false,
      text: `cannot tell whether AMI user ${target.user} gets security events (manager show user answered nothing readable); without read=security no refusal is seen`,
    }
  if (read.includes('security') || read.includes('all')) return null
  return {
    lacks: true,
    text: `AMI user ${target.user} does not get security events (read = ${read.join(',')}), so Asterisk's refusals cannot be seen: ${securityReadHint(target.user, read)}`,
  }
}

/** Per server and AOR: when a heal last ran (Unix seconds). */
export class HealLimiter {
  private readonly last = new Map<string, number>()
  allow(server: string, aor: string, now: number): boolean {
    const key = `${server}\u0000${aor}`
    const last = this.last.get(key)
    if (last !== undefined && now - last < HEAL_EVERY_SECONDS) return false
    this.last.set(key, now)
    return true
  }
}

/**
 * Heals a max_contacts refusal: runs pjctl prune on the refused AOR of that one server, with the keys the
 * conservative policy picked (`refused.free`, unless they were only a fallback) and the criteria the admin
 * widened it with (--expired, --superseded, --keep, --unreachable). The prune re-reads, keeps reachable
 * contacts, writes the backup and compares each value before deleting.
 */
export async function heal(
  refused: RefusedAor,
  target: AmiTarget,
  settings: Settings,
  deps: Deps,
  limiter: HealLimiter,
): Promise<HealOutcome> {
  const keys = refused.fallback ? [] : refused.free.map((p) => p.key)
  const widened =
    settings.expired || settings.superseded || settings.unreachable || settings.keep !== undefined
  if (!keys.length && !widened)
    return {
      result: 'nothing',
      removed: [],
      backupFile: null,
      detail: 'no contact of the AOR is stale by the heal policy: nothing removed',
    }
  if (!limiter.allow(target.name, refused.aor, deps.now()))
    return {
      result: 'rate_limited',
      removed: [],
      backupFile: null,
      detail: `healed less than ${HEAL_EVERY_SECONDS} s ago: not again yet`,
    }
  const pruneSettings = withDefaults({
    ...settings,
    key: keys.length ? keys : undefined,
    expired: settings.expired,
    superseded: settings.superseded,
    unreachable: settings.unreachable,
    keep: settings.keep,
    orphaned: false,
    // unattended: a contact of a cluster node no configured server is, or that does not answer, is never
    // removed around that node (it would go on qualifying it); the outcome names the node
    unknownNode: 'keep',
    dryRun: false,
    yes: true,
    quiet: true,
    json: false,
    format: undefined,
  })
  const pruneDeps: Deps = {
    ...deps,
    targets: () => Promise.resolve([target]),
    interactive: false,
    confirm: () => Promise.resolve(false),
    emit: undefined,
  }
  try {
    const result = await prune.run({
      args: [refused.aor],
      settings: pruneSettings,
      format: 'json',
      deps: pruneDeps,
    })
    return healOutcomeOf(result.data.servers[0])
  } catch (error) {
    return { result: 'failed', removed: [], backupFile: null, detail: (error as Error).message }
  }
}

/**
 * What the heal's prune did on its one server: the keys removed, and what was not (each contact with its
 * outcome, and the contacts of cluster nodes left alone because no configured, reachable server is that
 * node: the prune routes each contact to the node named in its reg_server, as pjctl prune does).
 */
export function healOutcomeOf(server: PruneServerResult | undefined): HealOutcome {
  if (!server || server.failure)
    return {
      result: 'failed',
      removed: [],
      backupFile: null,
      detail: server?.failure?.message ?? 'prune returned nothing',
    }
  const removed = server.outcomes
    .filter((o) => o.outcome === 'deleted' || o.outcome === 'expired')
    .map((o) => o.key)
  const failed = server.outcomes.filter((o) => o.outcome === 'failed' || o.outcome === 'not-sent')
  const notes = server.outcomes
    .filter((o) => o.outcome !== 'deleted' && o.outcome !== 'expired')
    .map((o) => `${o.key} ${o.outcome}${o.detail ? ` (${o.detail})` : ''}`)
  const leftAlone = (server.plan?.notes ?? []).flatMap((n) =>
    n.kind === 'unknown-node'
      ? [
          `${n.count} contact(s) of cluster node ${n.node} left alone: no configured server is ${n.node} (or it did not answer), and only that node stops qualifying them`,
        ]
      : [],
  )
  const said = [...notes, ...leftAlone].join('; ')
  return {
    result: failed.length ? 'failed' : removed.length ? 'healed' : 'nothing',
    removed,
    backupFile: server.backupFile,
    detail:
      server.mode === 'refused'
        ? `prune refused: ${server.reason ?? ''}`
        : said || (removed.length ? '' : 'prune found nothing to remove'),
  }
}

/** Every heal action, logged: what, why, the backup file. */
export function logHeal(
  deps: Deps,
  server: string,
  refused: RefusedAor,
  outcome: HealOutcome,
): void {
  const aor = refused.aor
  const why = new Map(refused.free.map((p) => [p.key, healWhyText(p.why)]))
  const what =
    outcome.result === 'healed'
      ? `removed ${outcome.removed.map((k) => `${k} (${why.get(k) ?? 'matched the widened policy'})`).join(', ')}; backup ${outcome.backupFile}`
      : outcome.result
  const line = `pjctl heal: ${server}: ${aor}: ${what}${outcome.detail ? `: ${outcome.detail}` : ''}`
  if (outcome.result === 'failed') deps.log.warn(line)
  else deps.log.info(line)
}
