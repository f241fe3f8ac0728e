// Contacts → per-AOR reports: contact status, count against max_contacts, state, severity.
//
// Decisions (res/res_pjsip/location.c, res_pjsip_registrar.c):
// - expired: expiration_time <= now (Asterisk keeps a contact only while
//   expiration_time - now > 0). A contact without a numeric expiration_time is never
//   called expired or superseded: unknown is not guessed at.
// - count: NON-expired contacts only. Asterisk deletes expired contacts before it counts
//   on every REGISTER, so they cannot lock an AOR out; they are reported in `expired`.
// - superseded: another non-expired contact of the same AOR from the same device (same
//   via_addr AND same user_agent, both non-empty) expires strictly later. supersededBy is
//   the latest-expiring contact of that device (the smallest key when several share that
//   latest time). Ties: contacts expiring in the same second supersede nobody — which one
//   is stale cannot be told, so neither is called superseded (prune never guesses) — unless
//   qualify state tells: a reachable one supersedes a tied one that is unreachable.
// - stale (for severity only): expired + every unexpired contact of a device beyond its one
//   newest. That is superseded plus same-second twins: two contacts of one device are one
//   too many even when which one is stale cannot be told (the real Asterisk capture of the
//   FAP003 lockout is exactly that: both contacts expire in the same second).
// - state: over (count > max_contacts), full (=), near (the --warn threshold when given,
//   else 1 free slot or 80 % used, with at least one contact), ok; unknown without a limit;
//   orphaned (contacts of an AOR that is not configured) is set by whoever knows the config.
// - severity (the default policy pages only for real trouble):
//   CRITICAL: full or over, remove_existing not yes, and holding a stale contact: a lockout
//   in progress (the device that left it is being refused).
//   WARNING: full without remove_existing and nothing stale, with two or more contacts
//   (one re-registration from a new port away from a lockout); over; orphaned.
//   OK: everything else, including `near`, max_contacts=0 and max_contacts=1 holding its
//   one healthy phone: those are configuration risks for `pjctl doctor`, not pages.
//   --crit / --warn thresholds, when given, add CRITICAL / WARNING for AORs that meet them.
// - remove_existing=yes: Asterisk drops the soonest-to-expire contact instead of refusing,
//   so the AOR is never a lockout risk: severity 0 whatever its state.
// - orphaned: contacts of an AOR that is not configured (its extension was deleted), said only
//   when the configs given are every AOR of the server (`authoritative`); severity 1 (WARNING:
//   they hold nothing up, but should be pruned). Without an authoritative list it stays unknown.

import { UsageError } from '../errors.js'
import { printable } from '../text.js'
import type {
  AorConfig,
  AorReport,
  AorState,
  ClassifiedContact,
  Contact,
  LimitSource,
  QualifyStatus,
  Threshold,
  Thresholds,
} from './types.js'

/** The default: no threshold pages; the policy above decides. */
export const DEFAULT_THRESHOLDS: Thresholds = { warn: null, crit: null }

/** What `near` means when --warn is not given: one free slot left, or 80 % used. */
const NEAR: Threshold = { free: 1, percent: 80 }

/** Surrogates (0xD800–0xDFFF) above the rest of the BMP, so UTF-16 compares as code points. */
function codepointRank(unit: number): number {
  return unit >= 0xe000 ? unit - 0x800 : unit >= 0xd800 ? unit + 0x2000 : unit
}

/** Code point order (not UTF-16 unit order, which puts U+10000.. before U+E000..). */
export function compareCodepoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x !== y) return codepointRank(x) - codepointRank(y)
  }
  return a.length - b.length
}

const FREE_SLOTS = /^\d{1,6}$/
const PERCENT_USED = /^\d{1,3}(\.\d{1,2})?%$/

/** `1` = free slots left, `80%` = percent used, `1,80%` = either. UsageError on anything else. */
export function parseThreshold(text: string): Threshold {
  const threshold: Threshold = { free: null, percent: null }
  const bad = () =>
    new UsageError(
      `invalid threshold "${printable(text, 80)}": give free slots left (1), percent used (80%), or both (1,80%)`,
    )
  const parts = text.split(',')
  if (parts.length > 2) throw bad()
  for (const raw of parts) {
    const part = raw.trim()
    if (FREE_SLOTS.test(part) && threshold.free === null) {
      threshold.free = Number(part)
    } else if (
      PERCENT_USED.test(part) &&
      threshold.percent === null &&
      Number(part.slice(0, -1)) <= 100
    ) {
      threshold.percent = Number(part.slice(0, -1))
    } else {
      throw bad()
    }
  }
  return threshold
}

/** Who is the same device: via_addr and user_agent (length-prefixed, so unambiguous). */
function deviceOf(contact: Contact): string {
  return `${contact.viaAddr.length}:${contact.viaAddr}${contact.userAgent}`
}

/** Up to this many contacts in one AOR, devices are told apart by comparing pairs (no key strings, no Map). */
const PAIRWISE = 16

/**
 * Each contact's device, as the index of the first contact of that device (same via_addr and
 * user_agent); -1 for a contact without both, which belongs to no device.
 */
function devicesOf(contacts: readonly Contact[]): number[] {
  const n = contacts.length
  const device = new Array<number>(n)
  if (n <= PAIRWISE) {
    for (let i = 0; i < n; i++) {
      const c = contacts[i]
      let d = -1
      if (c !== undefined && c.viaAddr !== '' && c.userAgent !== '') {
        d = i
        for (let j = 0; j < i; j++) {
          const o = contacts[j]
          if (device[j] === j && o?.viaAddr === c.viaAddr && o.userAgent === c.userAgent) {
            d = j
            break
          }
        }
      }
      device[i] = d
    }
    return device
  }
  const first = new Map<string, number>()
  for (let i = 0; i < n; i++) {
    const c = contacts[i]
    if (c === undefined || c.viaAddr === '' || c.userAgent === '') {
      device[i] = -1
      continue
    }
    const key = deviceOf(c)
    const d = first.get(key)
    if (d === undefined) first.set(key, i)
    device[i] = d ?? i
  }
  return device
}

/** Can take part in the superseded judgement: unexpired, known expiry, known device. */
function judgeable(contact: Contact, now: number): contact is Contact & { expirationTime: number } {
  return (
    contact.expirationTime !== null &&
    contact.expirationTime > now &&
    contact.viaAddr !== '' &&
    contact.userAgent !== ''
  )
}

/** Qualify states that say the contact answers OPTIONS, and that it does not (any case). */
export const REACHABLE = new Set(['reachable', 'avail'])
const UNREACHABLE = new Set(['unreachable', 'unavail', 'unavailable'])

type Qualify = ReadonlyMap<string, QualifyStatus> | null

/** 2 reachable, 0 unreachable, 1 anything else (not qualified, not known). */
function reachability(contact: Contact, qualify: Qualify): number {
  if (qualify === null) return 1
  const state = qualify.get(contact.key)?.trim().toLowerCase()
  return state === undefined ? 1 : REACHABLE.has(state) ? 2 : UNREACHABLE.has(state) ? 0 : 1
}

type Judgeable = Contact & { expirationTime: number }

/**
 * Per device (indexed by its number from devicesOf), its latest-expiring unexpired contact (the
 * reachable one, then the smallest key, on a tie).
 */
function latestPerDevice(
  contacts: readonly Contact[],
  device: readonly number[],
  now: number,
  qualify: Qualify,
): (Judgeable | undefined)[] {
  const latest: (Judgeable | undefined)[] = []
  for (let i = 0; i < contacts.length; i++) {
    const contact = contacts[i]
    if (contact === undefined || !judgeable(contact, now)) continue
    const d = device[i] ?? -1
    const best = latest[d]
    if (
      best === undefined ||
      contact.expirationTime > best.expirationTime ||
      (contact.expirationTime === best.expirationTime &&
        (reachability(contact, qualify) - reachability(best, qualify) ||
          compareCodepoints(best.key, contact.key)) > 0)
    ) {
      latest[d] = contact
    }
  }
  return latest
}

/**
 * The contact of the same device (`newest`: that device's latest) that expires strictly later, or
 * in the same second while it is reachable and this one is not; null otherwise.
 */
function supersederOf(
  contact: Contact,
  newest: Judgeable | undefined,
  now: number,
  qualify: Qualify,
): Contact | null {
  if (!judgeable(contact, now)) return null
  if (newest === undefined || newest === contact) return null
  if (newest.expirationTime > contact.expirationTime) return newest
  return newest.expirationTime === contact.expirationTime &&
    reachability(newest, qualify) === 2 &&
    reachability(contact, qualify) === 0
    ? newest
    : null
}

interface Judged {
  contacts: ClassifiedContact[]
  /** Unexpired contacts beyond one per device (same via_addr and user agent): superseded ones and same-second twins. */
  leftBehind: number
}

/** The contacts of ONE AOR classified, and how many of them a device left behind. */
function judgeContacts(
  contacts: readonly Contact[],
  now: number,
  given: Qualify,
  owned = false,
): Judged {
  // an empty map knows no state: the same as none
  const qualify = given !== null && given.size > 0 ? given : null
  const device = devicesOf(contacts)
  const latest = latestPerDevice(contacts, device, now, qualify)
  // judged in place (owned), the contacts themselves are the classified ones: no second array
  const result: ClassifiedContact[] | null = owned ? null : []
  // unexpired contacts of a known device, and how many devices they are (a device is counted at the
  // first of its contacts seen: its number is that contact's index, so a bit of `seen` when it is small)
  let judged = 0
  let devices = 0
  let seen = 0
  let counted: Set<number> | null = null
  for (let i = 0; i < contacts.length; i++) {
    const contact = contacts[i]
    if (contact === undefined) continue
    const d = device[i] ?? -1
    const expiration = contact.expirationTime
    const superseder = d < 0 ? null : supersederOf(contact, latest[d], now, qualify)
    const expired = expiration !== null && expiration <= now
    const status = expired ? 'expired' : superseder !== null ? 'superseded' : 'active'
    if (!expired && d >= 0) {
      judged++
      if (d < 31) {
        if ((seen & (1 << d)) === 0) {
          seen |= 1 << d
          devices++
        }
      } else if (!(counted ??= new Set()).has(d)) {
        counted.add(d)
        devices++
      }
    }
    const verdict = (owned ? classifiedInPlace : classified)(
      contact,
      status,
      expiration === null ? null : expiration - now,
      superseder === null ? null : superseder.key,
      qualify === null ? null : (qualify.get(contact.key) ?? null),
    )
    result?.push(verdict)
  }
  return {
    contacts: result ?? (contacts as ClassifiedContact[]),
    leftBehind: judged - devices,
  }
}

/** Classifies the contacts of ONE AOR (superseded is judged within the AOR). */
export function classifyContacts(
  contacts: readonly Contact[],
  now: number,
  qualify: ReadonlyMap<string, QualifyStatus> | null = null,
): ClassifiedContact[] {
  return judgeContacts(contacts, now, qualify).contacts
}

/** A contact and its verdict as the ClassifiedContact a report holds. */
type Classify = (
  c: Contact,
  status: ClassifiedContact['status'],
  expiresIn: number | null,
  supersededBy: string | null,
  qualify: QualifyStatus | null,
) => ClassifiedContact

/** Contact + verdict, built field by field: an object spread per contact is far slower on a big read (npm run bench). */
const classified: Classify = (c, status, expiresIn, supersededBy, qualify) => ({
  key: c.key,
  aor: c.aor,
  hash: c.hash,
  uri: c.uri,
  viaAddr: c.viaAddr,
  viaPort: c.viaPort,
  userAgent: c.userAgent,
  endpoint: c.endpoint,
  regServer: c.regServer,
  expirationTime: c.expirationTime,
  fields: c.fields,
  value: c.value,
  status,
  expiresIn,
  supersededBy,
  qualify,
})

/**
 * classified() for contacts the caller owns (BuildReportsInput.owned): the verdict is written onto
 * the contact itself, which then is the ClassifiedContact. At 100,000 contacts the copies were 15 MB
 * held beside the contacts they copied until a full GC.
 */
const classifiedInPlace: Classify = (c, status, expiresIn, supersededBy, qualify) => {
  const judged = c as ClassifiedContact
  judged.status = status
  judged.expiresIn = expiresIn
  judged.supersededBy = supersededBy
  judged.qualify = qualify
  return judged
}

function meets(threshold: Threshold, free: number, percentUsed: number): boolean {
  return (
    (threshold.free !== null && free <= threshold.free) ||
    (threshold.percent !== null && percentUsed >= threshold.percent)
  )
}

export interface AorCounts {
  /** Unexpired contacts. */
  count: number
  /** Expired contacts plus unexpired ones a device left behind (see `stale` above). */
  stale: number
}

/** State and severity of an AOR (see the decisions at the top of this file). */
export function judgeAor(
  counts: AorCounts,
  maxContacts: number | null,
  removeExisting: boolean | null,
  thresholds: Thresholds,
): { state: AorState; severity: 0 | 1 | 2 } {
  if (maxContacts === null) return { state: 'unknown', severity: 0 }
  const { count } = counts
  const free = maxContacts - count
  const percentUsed = maxContacts > 0 ? (count * 100) / maxContacts : 100
  const near =
    count >= 1 &&
    (meets(thresholds.warn ?? NEAR, free, percentUsed) ||
      (thresholds.crit !== null && meets(thresholds.crit, free, percentUsed)))
  const state: AorState = free < 0 ? 'over' : free === 0 ? 'full' : near ? 'near' : 'ok'
  return {
    state,
    severity: severityOf(state, counts, removeExisting, thresholds, free, percentUsed),
  }
}

/** The default policy plus any --crit/--warn threshold; remove_existing=yes is never a page. */
export function severityOf(
  state: AorState,
  { count, stale }: AorCounts,
  removeExisting: boolean | null,
  thresholds: Thresholds,
  free = 0,
  percentUsed = 0,
): 0 | 1 | 2 {
  if (state === 'unknown') return 0
  if (state === 'orphaned') return 1
  if (removeExisting === true) return 0
  const atLimit = state === 'full' || state === 'over'
  if (atLimit && stale > 0) return 2
  if (thresholds.crit && count >= 1 && meets(thresholds.crit, free, percentUsed)) return 2
  if (state === 'over' || (state === 'full' && count >= 2)) return 1
  if (thresholds.warn && count >= 1 && meets(thresholds.warn, free, percentUsed)) return 1
  return 0
}

interface Limit {
  maxContacts: number | null
  source: LimitSource
  removeExisting: boolean | null
  qualifyFrequency?: number | null
}

/** The configured max_contacts; else --max-contacts (source 'flag'); else unknown. */
function limitOf(config: AorConfig | undefined, defaultMaxContacts: number | null): Limit {
  const removeExisting = config?.removeExisting ?? null
  const qualifyFrequency = config?.qualifyFrequency ?? null
  if (config !== undefined && config.maxContacts !== null) {
    return {
      maxContacts: config.maxContacts,
      source: config.source,
      removeExisting,
      qualifyFrequency,
    }
  }
  if (defaultMaxContacts !== null)
    return { maxContacts: defaultMaxContacts, source: 'flag', removeExisting, qualifyFrequency }
  return { maxContacts: null, source: 'none', removeExisting, qualifyFrequency }
}

/** True when code point order is UTF-16 unit order for this string: nothing at or above U+D800. */
function bmpBelowSurrogates(value: string): boolean {
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) >= 0xd800) return false
  return true
}

/** Sorts in place in code point order (the default sort, by UTF-16 units, is that order when no value reaches U+D800). */
function sortCodepoints(values: string[]): string[] {
  return values.every(bmpBelowSurrogates) ? values.sort() : values.sort(compareCodepoints)
}

/** Distinct values in code point order. */
function sortedDistinct(values: Iterable<string>): string[] {
  return sortCodepoints([...new Set(values)])
}

const byKey = (a: Contact, b: Contact): number => compareCodepoints(a.key, b.key)

/**
 * Sorts one AOR's contacts by key, in place and stable as Array.prototype.sort: by insertion when
 * they are few (a sort call per AOR costs more than the few comparisons, and they usually come in
 * key order already).
 */
function sortByKey(contacts: Contact[]): void {
  if (contacts.length > PAIRWISE) {
    contacts.sort(byKey)
    return
  }
  for (let i = 1; i < contacts.length; i++) {
    const contact = contacts[i]
    if (contact === undefined) continue
    let j = i - 1
    for (let before = contacts[j]; before !== undefined && byKey(before, contact) > 0;) {
      contacts[j + 1] = before
      before = contacts[--j]
    }
    contacts[j + 1] = contact
  }
}

export interface BuildReportsInput {
  contacts: readonly Contact[]
  /** Known AOR configurations; when one AOR appears twice the first wins (pass them in order of preference). */
  configs: readonly AorConfig[]
  /** astdb key → qualify status (PJSIPShowContacts); empty or null when unknown. */
  qualify?: ReadonlyMap<string, QualifyStatus> | null
  /** Unix seconds. */
  now: number
  thresholds?: Thresholds
  /** `--max-contacts N`: for AORs whose max_contacts is not known otherwise. */
  defaultMaxContacts?: number | null
  /** `configs` holds every AOR of the server: contacts of any other AOR are orphaned. */
  authoritative?: boolean
  /** The contacts are this call's: nothing reads them afterwards but through the reports (a read
   *  that parsed them for this judgement). Each is then classified in place, not copied. */
  owned?: boolean
}

function buildReport(
  aor: string,
  contacts: Contact[],
  limit: Limit,
  input: BuildReportsInput,
  missing: boolean,
): AorReport {
  sortByKey(contacts)
  const judged = judgeContacts(contacts, input.now, input.qualify ?? null, input.owned === true)
  const classified = judged.contacts
  let expired = 0
  let superseded = 0
  // the distinct endpoints: almost always none or one, so a Set only for a second one
  let endpoint = ''
  let endpoints: Set<string> | null = null
  // eslint-disable-next-line @typescript-eslint/prefer-for-of -- runs cold: each for-of step is an object there
  for (let i = 0; i < classified.length; i++) {
    const c = classified[i]
    if (c === undefined) continue
    if (c.status === 'expired') expired++
    else if (c.status === 'superseded') superseded++
    if (c.endpoint === '' || c.endpoint === endpoint) continue
    if (endpoint === '') endpoint = c.endpoint
    else (endpoints ??= new Set([endpoint])).add(c.endpoint)
  }
  const count = classified.length - expired
  const stale = expired + judged.leftBehind
  const orphaned = missing && classified.length > 0
  const { state, severity } = orphaned
    ? {
        state: 'orphaned' as const,
        severity: severityOf('orphaned', { count, stale }, null, DEFAULT_THRESHOLDS),
      }
    : judgeAor(
        { count, stale },
        limit.maxContacts,
        limit.removeExisting,
        input.thresholds ?? DEFAULT_THRESHOLDS,
      )
  return {
    aor,
    endpoints: endpoints ? sortedDistinct(endpoints) : endpoint === '' ? [] : [endpoint],
    maxContacts: limit.maxContacts,
    maxContactsSource: limit.source,
    removeExisting: limit.removeExisting,
    qualifyFrequency: limit.qualifyFrequency ?? null,
    count,
    state,
    severity,
    superseded,
    expired,
    stale,
    contacts: classified,
  }
}

/** One report per AOR that has contacts or a configuration, sorted by AOR name (code point order). */
export function buildReports(input: BuildReportsInput): AorReport[] {
  // indexed loops and no collection more than needed: this runs cold (interpreted), once per contact
  // and once per AOR, and every iterator step of a for-of is an object there
  const byAor = new Map<string, Contact[]>()
  // a read comes in key order, so an AOR's contacts are mostly next to each other: no look-up for those
  let aor: string | null = null
  let list: Contact[] | undefined
  const contacts = input.contacts
  // eslint-disable-next-line @typescript-eslint/prefer-for-of -- runs cold: each for-of step is an object there
  for (let i = 0; i < contacts.length; i++) {
    const contact = contacts[i]
    if (contact === undefined) continue
    if (contact.aor !== aor || list === undefined) {
      aor = contact.aor
      list = byAor.get(aor)
      if (list === undefined) byAor.set(aor, (list = []))
    }
    list.push(contact)
  }
  const configs = new Map<string, AorConfig>()
  const names = [...byAor.keys()]
  // eslint-disable-next-line @typescript-eslint/prefer-for-of -- runs cold: each for-of step is an object there
  for (let i = 0; i < input.configs.length; i++) {
    const config = input.configs[i]
    if (config === undefined) continue
    if (configs.has(config.aor)) continue
    configs.set(config.aor, config)
    if (!byAor.has(config.aor)) names.push(config.aor)
  }
  const defaultMax = input.defaultMaxContacts ?? null
  sortCodepoints(names)
  const reports = new Array<AorReport>(names.length)
  for (let i = 0; i < names.length; i++) {
    const name = names[i]
    if (name === undefined) continue
    const config = configs.get(name)
    // an AOR that does not exist has no limit, not the --max-contacts guess
    const missing = config === undefined && input.authoritative === true
    const limit = missing
      ? { maxContacts: null, source: 'none' as const, removeExisting: null }
      : limitOf(config, defaultMax)
    reports[i] = buildReport(name, byAor.get(name) ?? [], limit, input, missing)
  }
  return reports
}

/**
 * The report judged again once its contacts' qualify state is known (prune reads it): a reachable
 * contact then supersedes a same-second twin of its device that is unreachable. The counts that
 * do not depend on it (count, stale, state, severity) stay.
 */
export function withQualifyState(report: AorReport, now: number): AorReport {
  const qualify = new Map<string, QualifyStatus>()
  for (const c of report.contacts) if (c.qualify !== null) qualify.set(c.key, c.qualify)
  if (qualify.size === 0) return report
  const contacts = classifyContacts(report.contacts, now, qualify)
  return {
    ...report,
    contacts,
    superseded: contacts.filter((c) => c.status === 'superseded').length,
  }
}
