// Prune planning: which contacts to delete, and why. The why is structured (a kind and its
// figures, PruneReason and PruneNote); src/output/prune.ts words it for the admin, with the
// command-line flags the core does not know.
//
// - Criteria are OR'ed: a contact matched by any of them is planned for deletion.
// - A contact whose qualify status is Reachable/Avail (any case) is never deleted,
//   whatever the criteria: it is listed as `keep`, first reason `reachable`,
//   followed by what it matched. A qualified contact whose state could not be read is kept too.
// - orphaned: every contact of an AOR in state `orphaned` (said only when the AOR list is authoritative).
// - keep N keeps the N latest-expiring contacts of each AOR. A contact that expires in the
//   same second as the N-th kept one is kept too (which one is stale cannot be told), with a
//   note. Contacts without a numeric expiration_time are not ranked, so keep never deletes them.
// - Listed: contacts chosen for deletion and contacts protected from it; nothing else.
// - Order: by AOR, then key (code point order).

import { UsageError } from '../errors.js'
import { compareCodepoints } from './classify.js'
import { isReachable, undecidedDuplicates } from './fix.js'
import type { AorReport, ClassifiedContact } from './types.js'

export interface PruneCriteria {
  expired: boolean
  superseded: boolean
  /** Keep the N latest-expiring contacts of each AOR (N >= 1); null: not used. */
  keep: number | null
  /** Exact astdb keys (`<aor>;@<hash>`). */
  keys: string[]
  /** Qualify status Unreachable/Unavail/Unavailable. */
  unreachable: boolean
  /** Contacts of an AOR in state `orphaned` (not configured). Optional for callers that predate it. */
  orphaned?: boolean
}

/** Why a contact is in the plan: what it matched, or what protects it. */
export type PruneReason =
  /** Its AOR is not configured (criterion orphaned). */
  | { kind: 'orphaned'; aor: string }
  /** Its expiration_time passed this many seconds ago (criterion expired). */
  | { kind: 'expired'; agoSeconds: number }
  /** A newer registration from the same device (via address and user agent) holds key `by`. */
  | { kind: 'superseded'; viaAddr: string; userAgent: string; by: string | null }
  /** Beyond the `keep` latest-expiring contacts of its AOR. */
  | { kind: 'beyond-keep'; keep: number }
  /** Its key was asked for. */
  | { kind: 'key' }
  /** Its qualify status says unreachable (criterion unreachable). */
  | { kind: 'unreachable'; qualify: string }
  /** Kept: qualify reports it reachable. */
  | { kind: 'reachable' }
  /** Kept: it is qualified and its state could not be read (PJSIPShowEndpoint). */
  | { kind: 'qualify-unread' }
  /** Kept: it expires in the same second as the last of the `keep` kept ones. */
  | { kind: 'keep-tie'; keep: number }
  /** Kept: registered through cluster node `node` (its reg_server), which no configured, reachable server is. */
  | { kind: 'unknown-node'; node: string }

/** What the plan wants the admin to know beyond its items. */
export type PruneNote =
  /** superseded was judged without qualify state: nothing could be protected as reachable. */
  | { kind: 'superseded-unverified' }
  /** unreachable was asked for and no qualify state is known. */
  | { kind: 'unreachable-unknown' }
  /** A key asked for is not among the selected AORs' contacts. */
  | { kind: 'key-unmatched'; key: string }
  /** In `aor`, `tied` more contacts expire in the same second as the last of the `keep` kept ones. */
  | { kind: 'keep-tie'; aor: string; tied: number; keep: number }
  /**
   * `aor` is at its limit and still holds same-second duplicates of one device that nothing
   * orders (no qualify state tells): the plan does not guess. `keys`: the hashes whose deletion
   * frees it (`pjctl prune AOR --key …`); the run exits 1 so that a cron prune does not hide it.
   */
  | { kind: 'duplicates-undecided'; aor: string; keys: string[] }
  /** `aor` is at its limit with same-second duplicates that all answer qualify: nothing stale to prune (exit 1). */
  | { kind: 'duplicates-live'; aor: string; maxContacts: number }
  /** `count` contacts of cluster node `node`, which no configured, reachable server is, were left alone (exit 1). */
  | { kind: 'unknown-node'; node: string; count: number }

export interface PlanItem {
  key: string
  aor: string
  contact: ClassifiedContact
  action: 'delete' | 'keep'
  reasons: readonly PruneReason[]
}

export interface PrunePlan {
  items: PlanItem[]
  toDelete: number
  kept: number
  notes: PruneNote[]
}

const REACHABLE = new Set(['reachable', 'avail'])
const UNREACHABLE = new Set(['unreachable', 'unavail', 'unavailable'])

function qualifyIs(contact: ClassifiedContact, states: ReadonlySet<string>): boolean {
  return contact.qualify !== null && states.has(contact.qualify.trim().toLowerCase())
}

type KeepVerdict = 'beyond' | 'tie'

/** No --keep: no contact has a verdict (one map for every AOR). */
const NO_VERDICTS: ReadonlyMap<string, KeepVerdict> = new Map()

/**
 * `items` in `compare` order: itself when it is in that order already (reports and their contacts
 * come sorted from buildReports), else a sorted copy. Never sorts `items` in place.
 */
function inOrder<T>(items: readonly T[], compare: (a: T, b: T) => number): readonly T[] {
  for (let i = 1; i < items.length; i++) {
    const a = items[i - 1]
    const b = items[i]
    if (a !== undefined && b !== undefined && compare(a, b) > 0) return [...items].sort(compare)
  }
  return items
}

const byKey = (a: ClassifiedContact, b: ClassifiedContact): number =>
  compareCodepoints(a.key, b.key)
const byAor = (a: AorReport, b: AorReport): number => compareCodepoints(a.aor, b.aor)

/** For keep N in one AOR: contacts beyond the N latest-expiring, and those tied with the N-th. */
function keepVerdicts(
  contacts: readonly ClassifiedContact[],
  keep: number,
): Map<string, KeepVerdict> {
  const verdicts = new Map<string, KeepVerdict>()
  const ranked = contacts
    .filter((c): c is ClassifiedContact & { expirationTime: number } => c.expirationTime !== null)
    .sort((a, b) => b.expirationTime - a.expirationTime || compareCodepoints(a.key, b.key))
  const last = ranked[keep - 1]
  if (ranked.length <= keep || last === undefined) return verdicts
  const cutoff = last.expirationTime
  for (const contact of ranked.slice(keep)) {
    verdicts.set(contact.key, contact.expirationTime === cutoff ? 'tie' : 'beyond')
  }
  return verdicts
}

/** What the criteria say about one contact: the reasons it matched (empty: not matched). */
function matchedReasons(
  contact: ClassifiedContact,
  criteria: PruneCriteria,
  keys: ReadonlySet<string>,
  keep: ReadonlyMap<string, KeepVerdict>,
  orphaned: boolean,
): readonly PruneReason[] {
  // most contacts match nothing: they share one empty list instead of an array each
  let reasons: PruneReason[] | null = null
  if (criteria.orphaned && orphaned) (reasons ??= []).push({ kind: 'orphaned', aor: contact.aor })
  if (criteria.expired && contact.status === 'expired' && contact.expiresIn !== null) {
    ;(reasons ??= []).push({ kind: 'expired', agoSeconds: -contact.expiresIn })
  }
  if (criteria.superseded && contact.status === 'superseded') {
    ;(reasons ??= []).push({
      kind: 'superseded',
      viaAddr: contact.viaAddr,
      userAgent: contact.userAgent,
      by: contact.supersededBy,
    })
  }
  if (criteria.keep !== null && keep.get(contact.key) === 'beyond')
    (reasons ??= []).push({ kind: 'beyond-keep', keep: criteria.keep })
  if (keys.size > 0 && keys.has(contact.key)) (reasons ??= []).push({ kind: 'key' })
  if (criteria.unreachable && contact.qualify !== null && qualifyIs(contact, UNREACHABLE))
    (reasons ??= []).push({ kind: 'unreachable', qualify: contact.qualify })
  return reasons ?? NO_REASONS
}

const NO_REASONS: readonly PruneReason[] = Object.freeze([])

/** The command turns the command line into criteria and refuses bad ones in its own words; this is the core's own guard. */
function validateCriteria(criteria: PruneCriteria): void {
  if (criteria.keep !== null && (!Number.isInteger(criteria.keep) || criteria.keep < 1)) {
    throw new UsageError(`prune: keep must be a whole number of at least 1, not ${criteria.keep}`)
  }
  const any =
    criteria.expired ||
    criteria.superseded ||
    criteria.keep !== null ||
    criteria.keys.length > 0 ||
    criteria.unreachable ||
    criteria.orphaned
  if (!any) throw new UsageError('nothing to prune: no criterion chosen')
}

function planNotes(
  criteria: PruneCriteria,
  qualifyKnown: boolean,
  unmatchedKeys: readonly string[],
): PruneNote[] {
  const notes: PruneNote[] = []
  if (criteria.superseded && !qualifyKnown) notes.push({ kind: 'superseded-unverified' })
  if (criteria.unreachable && !qualifyKnown) notes.push({ kind: 'unreachable-unknown' })
  for (const key of unmatchedKeys) notes.push({ kind: 'key-unmatched', key })
  return notes
}

/** One AOR's plan items (by key) and its tie note, if any. */
function planAor(
  report: AorReport,
  criteria: PruneCriteria,
  keys: ReadonlySet<string>,
  unread: ReadonlySet<string>,
): { items: PlanItem[]; note: PruneNote | null } {
  const keep = criteria.keep === null ? NO_VERDICTS : keepVerdicts(report.contacts, criteria.keep)
  const items: PlanItem[] = []
  let tied = 0
  const contacts = inOrder(report.contacts, byKey)
  // eslint-disable-next-line @typescript-eslint/prefer-for-of -- runs cold: each for-of step is an object there
  for (let i = 0; i < contacts.length; i++) {
    const contact = contacts[i]
    if (contact === undefined) continue
    const reasons = matchedReasons(contact, criteria, keys, keep, report.state === 'orphaned')
    const tie = keep.get(contact.key) === 'tie' && reasons.length === 0
    if (tie) tied++
    if (reasons.length === 0 && !tie) continue
    // each item written out whole (key, aor, contact, action, reasons): an object spread per
    // planned contact was most of planAor's time on a big plan
    const { key } = contact
    const aor = report.aor
    if (qualifyIs(contact, REACHABLE)) {
      items.push({
        key,
        aor,
        contact,
        action: 'keep',
        reasons: [{ kind: 'reachable' }, ...reasons],
      })
    } else if (unread.has(key) && !tie) {
      items.push({
        key,
        aor,
        contact,
        action: 'keep',
        reasons: [{ kind: 'qualify-unread' }, ...reasons],
      })
    } else if (tie && criteria.keep !== null) {
      items.push({
        key,
        aor,
        contact,
        action: 'keep',
        reasons: [{ kind: 'keep-tie', keep: criteria.keep }],
      })
    } else {
      items.push({ key, aor, contact, action: 'delete', reasons })
    }
  }
  return {
    items,
    note:
      tied > 0 && criteria.keep !== null
        ? { kind: 'keep-tie', aor: report.aor, tied, keep: criteria.keep }
        : null,
  }
}

/**
 * The prune plan for the given (already selected) AOR reports. `unread`: keys whose qualify state was needed
 * (the contact is qualified) but could not be read: they are kept, never deleted on a guess.
 */
export function planPrune(
  reports: readonly AorReport[],
  criteria: PruneCriteria,
  qualifyKnown: boolean,
  unread: ReadonlySet<string> = new Set(),
): PrunePlan {
  validateCriteria(criteria)
  const keys = new Set(criteria.keys)
  const items: PlanItem[] = []
  const tieNotes: PruneNote[] = []
  const sorted = inOrder(reports, byAor)
  // indexed loops: this runs cold, once per AOR of the server, and each for-of step is an object there
  // eslint-disable-next-line @typescript-eslint/prefer-for-of -- runs cold: each for-of step is an object there
  for (let i = 0; i < sorted.length; i++) {
    const report = sorted[i]
    if (report === undefined) continue
    const planned = planAor(report, criteria, keys, unread)
    // eslint-disable-next-line @typescript-eslint/prefer-for-of -- runs cold: each for-of step is an object there
    for (let j = 0; j < planned.items.length; j++) {
      const item = planned.items[j]
      if (item !== undefined) items.push(item)
    }
    if (planned.note !== null) tieNotes.push(planned.note)
  }
  // the keys planned for deletion, collected only if an AOR holds undecided duplicates (few do)
  let deleted: Set<string> | null = null
  // eslint-disable-next-line @typescript-eslint/prefer-for-of -- runs cold: each for-of step is an object there
  for (let i = 0; i < sorted.length; i++) {
    const report = sorted[i]
    if (report === undefined) continue
    const atLimit = report.state === 'full' || report.state === 'over'
    if (!atLimit || report.removeExisting === true) continue
    const duplicates = undecidedDuplicates(report)
    if (duplicates.length === 0) continue
    deleted ??= new Set(items.filter((i) => i.action === 'delete').map((i) => i.key))
    const planned = deleted
    const twins = duplicates.filter((c) => !planned.has(c.key))
    // a reachable duplicate answers qualify, as the one kept does: live devices, not stale ones
    if (twins.some(isReachable))
      tieNotes.push({
        kind: 'duplicates-live',
        aor: report.aor,
        maxContacts: report.maxContacts ?? 0,
      })
    else if (twins.length)
      tieNotes.push({
        kind: 'duplicates-undecided',
        aor: report.aor,
        keys: twins.map((c) => c.hash),
      })
  }
  const found = keys.size ? new Set(items.map((item) => item.key)) : null
  const unmatchedKeys = [...keys].filter((key) => !found?.has(key))
  const toDelete = items.filter((item) => item.action === 'delete').length
  return {
    items,
    toDelete,
    kept: items.length - toDelete,
    notes: [...planNotes(criteria, qualifyKnown, unmatchedKeys), ...tieNotes],
  }
}

/**
 * A cluster: the planned deletions of contacts registered through `nodes` (their reg_server), nodes no
 * configured server is, become kept ones: only the node that registered a contact stops qualifying it,
 * so pjctl does not remove it around that node. Each such node gets a note with its count.
 */
export function keepContactsOfNodes(plan: PrunePlan, nodes: ReadonlySet<string>): PrunePlan {
  const counts = new Map<string, number>()
  const items = plan.items.map((item): PlanItem => {
    const node = item.contact.regServer
    if (item.action !== 'delete' || !nodes.has(node)) return item
    counts.set(node, (counts.get(node) ?? 0) + 1)
    return { ...item, action: 'keep', reasons: [{ kind: 'unknown-node', node }, ...item.reasons] }
  })
  if (!counts.size) return plan
  const toDelete = items.filter((item) => item.action === 'delete').length
  return {
    items,
    toDelete,
    kept: items.length - toDelete,
    notes: [
      ...plan.notes,
      ...[...counts]
        .sort(([a], [b]) => compareCodepoints(a, b))
        .map(([node, count]): PruneNote => ({ kind: 'unknown-node', node, count })),
    ],
  }
}

// ---------------------------------------------------------------------------------------------
// prune via expire

/**
 * The same stored value with only expiration_time's value replaced by "1": every other byte stays as
 * stored (unknown fields, escapes, order). Asterisk's own sweep then removes the contact.
 */
export function expiredValue(value: string): string {
  const spans = topLevelMembers(value).filter((m) => m.name === 'expiration_time')
  if (!spans.length) {
    const close = value.lastIndexOf('}')
    const empty = /^\s*\{\s*$/.test(value.slice(0, close))
    return `${value.slice(0, close)}${empty ? '' : ','}"expiration_time":"1"${value.slice(close)}`
  }
  let out = value
  for (const span of spans.reverse())
    out = out.slice(0, span.valueStart) + '"1"' + out.slice(span.valueEnd)
  return out
}

/** The members of a JSON object text: each name (decoded) and where its value's text starts and ends. */
function topLevelMembers(text: string): { name: string; valueStart: number; valueEnd: number }[] {
  let i = 0
  const ws = (): void => {
    while (i < text.length && ' \t\r\n'.includes(text.charAt(i))) i++
  }
  const string = (): string => {
    const start = i++
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1
    i++
    return JSON.parse(text.slice(start, i)) as string
  }
  const skipValue = (): void => {
    if (text[i] === '"') return void string()
    let depth = 0
    while (i < text.length) {
      const c = text[i]
      if (c === '"') string()
      else if (c === '{' || c === '[') {
        depth++
        i++
      } else if (c === '}' || c === ']') {
        if (depth === 0) return
        depth--
        i++
        if (depth === 0) return
      } else if (c === ',' && depth === 0) return
      else i++
    }
  }
  const members: { name: string; valueStart: number; valueEnd: number }[] = []
  ws()
  if (text[i] !== '{') throw new Error('not a JSON object')
  i++
  ws()
  while (i < text.length && text[i] !== '}') {
    const name = string()
    ws()
    i++ // ':'
    ws()
    const valueStart = i
    skipValue()
    members.push({ name, valueStart, valueEnd: i })
    ws()
    if (text[i] === ',') i++
    ws()
  }
  return members
}
