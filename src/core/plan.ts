// Prune planning: which contacts to delete, and why, in words a PBX admin understands.
//
// - Criteria are OR'ed: a contact matched by any of them is planned for deletion.
// - A contact whose qualify status is Reachable/Avail (any case) is never deleted,
//   whatever the criteria: it is listed as `keep`, first reason `qualify reports it reachable`,
//   followed by what it matched. A qualified contact whose state could not be read is kept too.
// - --orphaned: every contact of an AOR in state `orphaned` (said only when the AOR list is authoritative).
// - --keep N keeps the N latest-expiring contacts of each AOR. A contact that expires in the
//   same second as the N-th kept one is kept too (which one is stale cannot be told), with a
//   note. Contacts without a numeric expiration_time are not ranked, so --keep never deletes them.
// - Listed: contacts chosen for deletion and contacts protected from it; nothing else.
// - Order: by AOR, then key (code point order).

import { UsageError } from '../errors.js'
import { compareCodepoints } from './classify.js'
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

export interface PlanItem {
  key: string
  aor: string
  contact: ClassifiedContact
  action: 'delete' | 'keep'
  reasons: string[]
}

export interface PrunePlan {
  items: PlanItem[]
  toDelete: number
  kept: number
  notes: string[]
}

export const REACHABLE_REASON = 'qualify reports it reachable'
export const UNREAD_REASON = 'its qualify state could not be read (PJSIPShowEndpoint): kept rather than deleted on a guess'

const REACHABLE = new Set(['reachable', 'avail'])
const UNREACHABLE = new Set(['unreachable', 'unavail', 'unavailable'])

function qualifyIs(contact: ClassifiedContact, states: ReadonlySet<string>): boolean {
  return contact.qualify !== null && states.has(contact.qualify.trim().toLowerCase())
}

/** 45s, 3m, 2h 5m, 3d 4h: how long ago, in the largest units that matter. */
export function formatAgo(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds))
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m`
  const [big, unit, small, smallUnit] = s < 86400 ? [3600, 'h', 60, 'm'] : [86400, 'd', 3600, 'h']
  const rest = Math.floor((s % big) / small)
  return rest === 0 ? `${Math.floor(s / big)}${unit}` : `${Math.floor(s / big)}${unit} ${rest}${smallUnit}`
}

type KeepVerdict = 'beyond' | 'tie'

/** For --keep N in one AOR: contacts beyond the N latest-expiring, and those tied with the N-th. */
function keepVerdicts(contacts: readonly ClassifiedContact[], keep: number): Map<string, KeepVerdict> {
  const verdicts = new Map<string, KeepVerdict>()
  const ranked = contacts
    .filter((c): c is ClassifiedContact & { expirationTime: number } => c.expirationTime !== null)
    .sort((a, b) => b.expirationTime - a.expirationTime || compareCodepoints(a.key, b.key))
  if (ranked.length <= keep) return verdicts
  const cutoff = ranked[keep - 1].expirationTime
  for (const contact of ranked.slice(keep)) {
    verdicts.set(contact.key, contact.expirationTime === cutoff ? 'tie' : 'beyond')
  }
  return verdicts
}

function supersededReason(contact: ClassifiedContact): string {
  return (
    `superseded by a newer registration from the same device (${contact.viaAddr}, ${contact.userAgent}), ` +
    `key ${contact.supersededBy}`
  )
}

/** What the criteria say about one contact: the reasons it matched (empty: not matched). */
function matchedReasons(
  contact: ClassifiedContact,
  criteria: PruneCriteria,
  keys: ReadonlySet<string>,
  keep: ReadonlyMap<string, KeepVerdict>,
  orphaned: boolean,
): string[] {
  const reasons: string[] = []
  if (criteria.orphaned && orphaned) reasons.push(`orphaned: AOR ${contact.aor} is not configured`)
  if (criteria.expired && contact.status === 'expired' && contact.expiresIn !== null) {
    reasons.push(`expired ${formatAgo(-contact.expiresIn)} ago`)
  }
  if (criteria.superseded && contact.status === 'superseded') reasons.push(supersededReason(contact))
  if (keep.get(contact.key) === 'beyond') reasons.push(`beyond --keep ${criteria.keep} (keeps the latest-expiring)`)
  if (keys.has(contact.key)) reasons.push('--key')
  if (criteria.unreachable && qualifyIs(contact, UNREACHABLE)) reasons.push(`qualify: ${contact.qualify}`)
  return reasons
}

function validateCriteria(criteria: PruneCriteria): void {
  if (criteria.keep !== null && (!Number.isInteger(criteria.keep) || criteria.keep < 1)) {
    throw new UsageError(
      `--keep must be a whole number of at least 1, not ${criteria.keep} (use --key to delete one contact)`,
    )
  }
  const any = criteria.expired || criteria.superseded || criteria.keep !== null || criteria.keys.length > 0 || criteria.unreachable || criteria.orphaned
  if (!any) {
    throw new UsageError('nothing to prune: choose --expired, --superseded, --orphaned, --keep N, --key KEY or --unreachable')
  }
}

function planNotes(criteria: PruneCriteria, qualifyKnown: boolean, unmatchedKeys: readonly string[]): string[] {
  const notes: string[] = []
  if (criteria.superseded && !qualifyKnown) {
    notes.push(
      'superseded is a judgement from via address and user agent (qualify is off or unreadable): ' +
        'a contact that still answers cannot be told apart, so no contact is protected as reachable',
    )
  }
  if (criteria.unreachable && !qualifyKnown) {
    notes.push('--unreachable matched nothing: qualify status is unknown (qualify is off or unreadable)')
  }
  for (const key of unmatchedKeys) notes.push(`--key ${key}: no such contact in the selected AORs`)
  return notes
}

function tieNote(report: AorReport, keep: number, tied: number): string {
  return (
    `${report.aor}: ${tied} more contact(s) expire in the same second as the last one --keep ${keep} keeps; ` +
    'kept them too rather than guess which is stale'
  )
}

/** One AOR's plan items (by key) and its tie note, if any. */
function planAor(
  report: AorReport,
  criteria: PruneCriteria,
  keys: ReadonlySet<string>,
  unread: ReadonlySet<string>,
): { items: PlanItem[]; note: string | null } {
  const keep = criteria.keep === null ? new Map<string, KeepVerdict>() : keepVerdicts(report.contacts, criteria.keep)
  const items: PlanItem[] = []
  let tied = 0
  for (const contact of [...report.contacts].sort((a, b) => compareCodepoints(a.key, b.key))) {
    const reasons = matchedReasons(contact, criteria, keys, keep, report.state === 'orphaned')
    const tie = keep.get(contact.key) === 'tie' && reasons.length === 0
    if (tie) tied++
    if (reasons.length === 0 && !tie) continue
    const item = { key: contact.key, aor: report.aor, contact }
    if (qualifyIs(contact, REACHABLE)) {
      items.push({ ...item, action: 'keep', reasons: [REACHABLE_REASON, ...reasons] })
    } else if (unread.has(contact.key) && !tie) {
      items.push({ ...item, action: 'keep', reasons: [UNREAD_REASON, ...reasons] })
    } else if (tie) {
      items.push({ ...item, action: 'keep', reasons: [`expires with the last contact --keep ${criteria.keep} keeps`] })
    } else {
      items.push({ ...item, action: 'delete', reasons })
    }
  }
  return { items, note: tied > 0 && criteria.keep !== null ? tieNote(report, criteria.keep, tied) : null }
}

/**
 * The prune plan for the given (already selected) AOR reports. `unread`: keys whose qualify state was needed
 * (the contact is qualified) but could not be read: they are kept, never deleted on a guess.
 */
export function planPrune(reports: readonly AorReport[], criteria: PruneCriteria, qualifyKnown: boolean, unread: ReadonlySet<string> = new Set()): PrunePlan {
  validateCriteria(criteria)
  const keys = new Set(criteria.keys)
  const items: PlanItem[] = []
  const tieNotes: string[] = []
  for (const report of [...reports].sort((a, b) => compareCodepoints(a.aor, b.aor))) {
    const planned = planAor(report, criteria, keys, unread)
    items.push(...planned.items)
    if (planned.note !== null) tieNotes.push(planned.note)
  }
  const found = new Set(items.map((item) => item.key))
  const unmatchedKeys = [...keys].filter((key) => !found.has(key))
  const toDelete = items.filter((item) => item.action === 'delete').length
  return {
    items,
    toDelete,
    kept: items.length - toDelete,
    notes: [...planNotes(criteria, qualifyKnown, unmatchedKeys), ...tieNotes],
  }
}

// ---------------------------------------------------------------------------------------------
// --via expire

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
  for (const span of spans.reverse()) out = out.slice(0, span.valueStart) + '"1"' + out.slice(span.valueEnd)
  return out
}

/** The members of a JSON object text: each name (decoded) and where its value's text starts and ends. */
function topLevelMembers(text: string): { name: string; valueStart: number; valueEnd: number }[] {
  let i = 0
  const ws = (): void => {
    while (i < text.length && ' \t\r\n'.includes(text[i])) i++
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
      else if (c === '{' || c === '[') (depth++, i++)
      else if (c === '}' || c === ']') {
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
