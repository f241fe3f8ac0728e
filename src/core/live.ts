// The exporter's picture of one server, kept current from a full read and then from events.
// Pure: no I/O, no clock (every `now` is passed in, Unix seconds).
//
// - contacts by astdb key, grouped by AOR; limits per AOR (from the last read that had them);
// - each AOR judged with the same code as `pjctl check` (buildReports), again only when it is
//   dirty: a contact added, changed or removed, or one of its contacts reaching its
//   expiration_time (expired, and superseded judgements change then; nothing else changes with time);
// - what the follower should look at again: keys whose expiration_time is near (a phone refreshing
//   its registration changes astdb without any event, so the stored value is read again before it
//   is called expired) and, later, keys past expiry that no `Removed` event has taken away.

import { buildReports, compareCodepoints, DEFAULT_THRESHOLDS } from './classify.js'
import { KEY_SEPARATOR } from './contact.js'
import type { AorConfig, AorState, Contact, QualifyStatus, Thresholds } from './types.js'

/** What the metrics show of one AOR. */
export interface AorSummary {
  aor: string
  count: number
  maxContacts: number | null
  superseded: number
  expired: number
  state: AorState
  severity: 0 | 1 | 2
}

/** A full read compared with what the exporter believed just before it. */
export interface Drift {
  /** In Asterisk, unknown to the exporter (a registration whose event never came). */
  added: number
  /** Known to the exporter, gone from Asterisk (a DBDel nobody announced). */
  removed: number
  /** Known, with another stored value (a refresh the exporter had not read yet). Not counted as drift. */
  refreshed: number
}

export interface LiveOptions {
  thresholds?: Thresholds
  /** --max-contacts: for AORs whose max_contacts is not otherwise known. */
  defaultMaxContacts?: number | null
  /** Seconds before expiration_time to read a key again (a refresh shows up then). */
  recheckLead?: number
  /** Seconds after expiration_time to read a still-present key again (Asterisk's sweep runs every 30 s). */
  sweepGrace?: number
}

type Due = [time: number, key: string, kind: 'judge' | 'recheck']

/** The AOR of a key: everything before its first `;@` (Asterisk's rule). */
export function aorOfKey(key: string): string {
  const separator = key.indexOf(KEY_SEPARATOR)
  return separator < 0 ? key : key.slice(0, separator)
}

/** A minimal binary heap of due times. */
class DueHeap {
  private readonly items: Due[] = []

  get size(): number {
    return this.items.length
  }

  push(item: Due): void {
    const a = this.items
    a.push(item)
    let i = a.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (a[parent][0] <= a[i][0]) break
      ;[a[parent], a[i]] = [a[i], a[parent]]
      i = parent
    }
  }

  peek(): Due | undefined {
    return this.items[0]
  }

  pop(): Due | undefined {
    const a = this.items
    const top = a[0]
    const last = a.pop()
    if (a.length && last) {
      a[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < a.length && a[l][0] < a[m][0]) m = l
        if (r < a.length && a[r][0] < a[m][0]) m = r
        if (m === i) break
        ;[a[m], a[i]] = [a[i], a[m]]
        i = m
      }
    }
    return top
  }

  clear(): void {
    this.items.length = 0
  }
}

/** One server's contacts and limits, judged per AOR. */
export class LiveServer {
  private readonly contacts = new Map<string, Contact>()
  private readonly byAor = new Map<string, Set<string>>()
  private configs = new Map<string, AorConfig>()
  private readonly qualify = new Map<string, QualifyStatus>()
  private readonly summaries = new Map<string, AorSummary>()
  /** Per AOR, per source address (via_addr): [unexpired contacts, stale (superseded + expired)]. */
  private readonly aorSources = new Map<string, Map<string, [number, number]>>()
  private readonly dirty = new Set<string>()
  private readonly due = new DueHeap()
  private readonly thresholds: Thresholds
  private readonly defaultMaxContacts: number | null
  private readonly recheckLead: number
  private readonly sweepGrace: number

  constructor(options: LiveOptions = {}) {
    this.thresholds = options.thresholds ?? DEFAULT_THRESHOLDS
    this.defaultMaxContacts = options.defaultMaxContacts ?? null
    this.recheckLead = options.recheckLead ?? 2
    this.sweepGrace = options.sweepGrace ?? 40
  }

  get size(): number {
    return this.contacts.size
  }

  has(key: string): boolean {
    return this.contacts.has(key)
  }

  get(key: string): Contact | undefined {
    return this.contacts.get(key)
  }

  keys(): IterableIterator<string> {
    return this.contacts.keys()
  }

  /**
   * Replaces everything with a full read. `configs` null keeps the limits already known (a resync
   * that read contacts only). `untouched` keys (changed by events while the read ran) are not counted as drift.
   */
  load(contacts: readonly Contact[], configs: readonly AorConfig[] | null, now: number, untouched: ReadonlySet<string> = new Set()): Drift {
    const drift: Drift = { added: 0, removed: 0, refreshed: 0 }
    const fresh = new Map<string, Contact>()
    for (const contact of contacts) fresh.set(contact.key, contact)
    for (const key of this.contacts.keys()) {
      if (!fresh.has(key)) {
        if (!untouched.has(key)) drift.removed++
        this.remove(key)
      }
    }
    for (const contact of fresh.values()) {
      const outcome = this.put(contact, now)
      if (untouched.has(contact.key)) continue
      if (outcome === 'added') drift.added++
      else if (outcome === 'changed') drift.refreshed++
    }
    if (configs !== null) {
      const next = new Map<string, AorConfig>()
      for (const config of configs) if (!next.has(config.aor)) next.set(config.aor, config)
      for (const aor of new Set([...this.configs.keys(), ...next.keys()])) {
        if (!sameConfig(this.configs.get(aor), next.get(aor))) this.dirty.add(aor)
      }
      this.configs = next
    }
    return drift
  }

  /** Adds or replaces a contact (a new registration, a refresh read back, a restore). */
  put(contact: Contact, now: number): 'added' | 'changed' | 'same' {
    const old = this.contacts.get(contact.key)
    if (old && sameContact(old, contact)) return 'same'
    contact = slim(contact)
    this.contacts.set(contact.key, contact)
    let keys = this.byAor.get(contact.aor)
    if (!keys) this.byAor.set(contact.aor, (keys = new Set()))
    keys.add(contact.key)
    if (!this.qualify.has(contact.key)) this.qualify.set(contact.key, initialQualify(contact))
    this.dirty.add(contact.aor)
    if (!old || old.expirationTime !== contact.expirationTime) this.schedule(contact, now)
    return old ? 'changed' : 'added'
  }

  /** Forgets a contact (Removed event, announced prune, key gone on re-read). */
  remove(key: string): boolean {
    const contact = this.contacts.get(key)
    if (!contact) return false
    this.contacts.delete(key)
    this.qualify.delete(key)
    const keys = this.byAor.get(contact.aor)
    keys?.delete(key)
    if (keys && keys.size === 0) this.byAor.delete(contact.aor)
    this.dirty.add(contact.aor)
    return true
  }

  /** Qualify status from a ContactStatus event (Reachable, Unreachable, Unknown, NonQualified); true when it changed. */
  setQualify(key: string, status: QualifyStatus): boolean {
    if (!this.contacts.has(key) || this.qualify.get(key) === status) return false
    this.qualify.set(key, status)
    return true
  }

  /** Some AOR needs judging (a change, or a contact reached its expiration_time). */
  get hasDirty(): boolean {
    return this.dirty.size > 0
  }

  /** Contacts per qualify status (what events said; from the stored qualify_frequency until one did). */
  qualifyCounts(): Map<QualifyStatus, number> {
    const counts = new Map<QualifyStatus, number>()
    for (const status of this.qualify.values()) counts.set(status, (counts.get(status) ?? 0) + 1)
    return counts
  }

  /**
   * Moves the clock: AORs whose contacts reached expiration_time become dirty; returns the keys to
   * read again now (expiry near, or past expiry with no Removed event yet).
   */
  tick(now: number): string[] {
    const recheck = new Set<string>()
    for (let top = this.due.peek(); top && top[0] <= now; top = this.due.peek()) {
      this.due.pop()
      const [time, key, kind] = top
      const contact = this.contacts.get(key)
      if (!contact || contact.expirationTime === null) continue
      const exp = contact.expirationTime
      // a stale entry (the contact was refreshed since): its own entries are in the heap too
      if (kind === 'judge' ? time !== exp : time !== exp - this.recheckLead && time !== exp + this.sweepGrace) continue
      if (kind === 'judge') this.dirty.add(contact.aor)
      else recheck.add(key)
    }
    return [...recheck]
  }

  /** Re-judges the dirty AORs (at most `limit` of them: the rest stay dirty); returns the summaries that changed (null: the AOR is gone). */
  judge(now: number, limit = Infinity): Map<string, AorSummary | null> {
    const changed = new Map<string, AorSummary | null>()
    let judged = 0
    for (const aor of this.dirty) {
      if (judged++ >= limit) break
      this.dirty.delete(aor)
      const keys = this.byAor.get(aor)
      const contacts: Contact[] = keys ? [...keys].map((key) => this.contacts.get(key)!) : []
      const config = this.configs.get(aor)
      const [report] = buildReports({ contacts, configs: config ? [config] : [], now, thresholds: this.thresholds, defaultMaxContacts: this.defaultMaxContacts })
      const summary: AorSummary | null = report
        ? { aor, count: report.count, maxContacts: report.maxContacts, superseded: report.superseded, expired: report.expired, state: report.state, severity: report.severity }
        : null
      // what `pjctl check` counts per source address (core/sources.ts sourcesOf): expired are stale, not contacts
      const sources = new Map<string, [number, number]>()
      for (const c of report?.contacts ?? []) {
        const tally = sources.get(c.viaAddr) ?? [0, 0]
        if (c.status === 'expired') tally[1]++
        else {
          tally[0]++
          if (c.status === 'superseded') tally[1]++
        }
        sources.set(c.viaAddr, tally)
      }
      if (sources.size) this.aorSources.set(aor, sources)
      else this.aorSources.delete(aor)
      const old = this.summaries.get(aor)
      if (summary === null) {
        if (old) {
          this.summaries.delete(aor)
          changed.set(aor, null)
        }
      } else if (!old || !sameSummary(old, summary)) {
        this.summaries.set(aor, summary)
        changed.set(aor, summary)
      }
    }
    return changed
  }

  /** Source addresses over every AOR, ordered as `pjctl check` orders them (contacts, then stale, most first; then address). */
  sources(): { address: string; contacts: number; stale: number }[] {
    const total = new Map<string, [number, number]>()
    for (const perAor of this.aorSources.values()) {
      for (const [address, [contacts, stale]] of perAor) {
        const t = total.get(address) ?? [0, 0]
        t[0] += contacts
        t[1] += stale
        total.set(address, t)
      }
    }
    return [...total]
      .map(([address, [contacts, stale]]) => ({ address, contacts, stale }))
      .sort((a, b) => b.contacts - a.contacts || b.stale - a.stale || compareCodepoints(a.address, b.address))
  }

  /** Every AOR's current summary (after judge). */
  allSummaries(): IterableIterator<AorSummary> {
    return this.summaries.values()
  }

  /** Forgets everything (the server is down: nothing of it can be vouched for). */
  clear(): void {
    this.contacts.clear()
    this.byAor.clear()
    this.qualify.clear()
    this.summaries.clear()
    this.aorSources.clear()
    this.dirty.clear()
    this.due.clear()
  }

  private schedule(contact: Contact, now: number): void {
    const exp = contact.expirationTime
    if (exp === null) return
    if (exp > now) this.due.push([exp, contact.key, 'judge'])
    if (exp - this.recheckLead > now) this.due.push([exp - this.recheckLead, contact.key, 'recheck'])
    this.due.push([exp + this.sweepGrace, contact.key, 'recheck'])
  }
}

/** NonQualified when qualify is off for the contact (Asterisk's status for it), else Unknown until an event says. */
function initialQualify(contact: Contact): QualifyStatus {
  const frequency = contact.fields.qualify_frequency
  return frequency === undefined || frequency === '0' || frequency === '' ? 'NonQualified' : 'Unknown'
}

/** Equal in everything the judgement and the metrics use (a kept contact is slim: see slim()). */
function sameContact(a: Contact, b: Contact): boolean {
  return a.expirationTime === b.expirationTime && a.viaAddr === b.viaAddr && a.userAgent === b.userAgent && a.endpoint === b.endpoint && qualifyFrequency(a) === qualifyFrequency(b)
}

function qualifyFrequency(contact: Contact): string {
  return contact.fields.qualify_frequency ?? ''
}

const NO_QUALIFY: Record<string, string> = Object.freeze({ qualify_frequency: '0' }) as Record<string, string>

/** A string of its own: a key cut from a 64 KB network chunk would otherwise keep the whole chunk alive. */
function own(text: string): string {
  return text.length > 12 ? (JSON.parse(JSON.stringify(text)) as string) : text
}

/**
 * What judging needs of a contact and nothing more: no stored value, no other fields. At 100,000
 * contacts the full value and fields would be most of the exporter's memory.
 */
function slim(c: Contact): Contact {
  const frequency = qualifyFrequency(c)
  return {
    key: own(c.key),
    aor: own(c.aor),
    hash: '',
    uri: '',
    viaAddr: own(c.viaAddr),
    viaPort: c.viaPort,
    userAgent: own(c.userAgent),
    endpoint: own(c.endpoint),
    expirationTime: c.expirationTime,
    fields: frequency === '0' || frequency === '' ? NO_QUALIFY : { qualify_frequency: frequency },
    value: '',
  }
}

function sameSummary(a: AorSummary, b: AorSummary): boolean {
  return a.count === b.count && a.maxContacts === b.maxContacts && a.superseded === b.superseded && a.expired === b.expired && a.state === b.state && a.severity === b.severity
}

function sameConfig(a: AorConfig | undefined, b: AorConfig | undefined): boolean {
  if (!a || !b) return a === b
  return a.maxContacts === b.maxContacts && a.removeExisting === b.removeExisting && a.source === b.source
}

/** An AOR worth a per-AOR series under `--per-aor problems`: not ok, or holding stale contacts. */
export function isProblem(summary: AorSummary): boolean {
  if (summary.superseded > 0 || summary.expired > 0) return true
  if (summary.state === 'ok') return false
  return !(summary.state === 'unknown' && summary.count === 0)
}

/** The check status of a whole server, as `pjctl check` computes it: worst AOR; contacts under an unknown limit: UNKNOWN. */
export function serverStatus(summaries: Iterable<AorSummary>): 0 | 1 | 2 | 3 {
  let judged: 0 | 1 | 2 = 0
  let unknown = false
  for (const s of summaries) {
    if (s.severity > judged) judged = s.severity
    if (s.state === 'unknown' && s.count > 0) unknown = true
  }
  return judged === 2 ? 2 : unknown ? 3 : judged
}
