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
import { NO_FIELDS, ownCopy } from './contact.js'
import type { AorConfig, AorState, Contact, QualifyStatus, Thresholds } from './types.js'

/** What the metrics show of one AOR. */
export interface AorSummary {
  aor: string
  count: number
  maxContacts: number | null
  superseded: number
  expired: number
  /** Expired, superseded and same-second duplicates (AorReport.stale). */
  stale: number
  state: AorState
  severity: 0 | 1 | 2
  /** remove_existing as configured (null: unknown): with yes, a full AOR takes a new registration. */
  removeExisting: boolean | null
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
  /** A contact came or went after the first read (an event, a DBGet, a resync's drift): for the added/removed counters. */
  onContactChange?: (aor: string, change: 'added' | 'removed') => void
  /** Seconds before expiration_time to read a key again (a refresh shows up then). */
  recheckLead?: number
  /** Seconds after expiration_time to read a still-present key again (Asterisk's sweep runs every 30 s). */
  sweepGrace?: number
}

/** Contacts (or keys, or AORs) handled by loading() between two of its pauses. */
export const LOAD_STEP = 256

/** One contact as the exporter keeps it: what judging and the metrics use, nothing more (no stored value, no fields). */
interface Kept {
  readonly key: string
  aor: AorEntry
  viaAddr: string
  userAgent: string
  /** reg_server: the cluster node that registered it ('' without systemname). */
  regServer: string
  expirationTime: number | null
  /** From ContactStatus events; until one came, from the stored qualify_frequency. */
  qualify: QualifyStatus
  /** Time of this contact's next entry in the due heap (NaN: none), and which one it is. */
  due: number
  phase: Phase
  /** false once forgotten (its entries in the due heap are then skipped). */
  live: boolean
}

/** An AOR: its contacts, its limits (when configured), and its last judgement. */
interface AorEntry {
  readonly name: string
  /** Replaced on each addition (exact size: a pushed-to array reserves 17 slots, and most AORs hold 1 to 3 contacts). */
  contacts: Kept[]
  configured: boolean
  maxContacts: number | null
  removeExisting: boolean | null
  source: AorConfig['source']
  /** It was in the last full read that had the limits: when those list every AOR, not being among them means orphaned. */
  listed: boolean
  dirty: boolean
  summary: AorSummary | null
  /** What it adds to the per-source totals: address, contacts, stale, address, … */
  sources: (string | number)[]
}

/** The due times of a contact with an expiration_time, in order: re-read before it, judge at it, re-read after the sweep. */
const enum Phase {
  Recheck = 0,
  Judge = 1,
  Sweep = 2,
  Done = 3,
}

const NEXT_PHASE: Readonly<Record<Phase, Phase>> = {
  [Phase.Recheck]: Phase.Judge,
  [Phase.Judge]: Phase.Sweep,
  [Phase.Sweep]: Phase.Done,
  [Phase.Done]: Phase.Done,
}

/**
 * A binary min-heap of (time, contact), in two parallel arrays (one entry costs two slots, not an
 * object): a fraction of the memory one tuple per due time takes at 100,000 contacts.
 */
/* eslint-disable @typescript-eslint/no-non-null-assertion -- every index read here is below the heap's length */
class DueHeap {
  private readonly times: number[] = []
  private readonly items: Kept[] = []

  get size(): number {
    return this.times.length
  }

  push(time: number, item: Kept): void {
    const t = this.times
    const a = this.items
    let i = t.length
    t.push(time)
    a.push(item)
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (t[parent]! <= time) break
      t[i] = t[parent]!
      a[i] = a[parent]!
      i = parent
    }
    t[i] = time
    a[i] = item
  }

  /** The earliest time (Infinity when empty). */
  peekTime(): number {
    return this.times[0] ?? Infinity
  }

  peekItem(): Kept {
    return this.items[0]!
  }

  pop(): void {
    const t = this.times
    const a = this.items
    const lastTime = t.pop()!
    const lastItem = a.pop()!
    const n = t.length
    if (!n) return
    let i = 0
    for (;;) {
      const l = 2 * i + 1
      if (l >= n) break
      const r = l + 1
      const m = r < n && t[r]! < t[l]! ? r : l
      if (t[m]! >= lastTime) break
      t[i] = t[m]!
      a[i] = a[m]!
      i = m
    }
    t[i] = lastTime
    a[i] = lastItem
  }

  clear(): void {
    this.times.length = 0
    this.items.length = 0
  }
}
/* eslint-enable @typescript-eslint/no-non-null-assertion */

/**
 * One server's contacts and limits, judged per AOR. Kept lean, because a big PBX has 100,000
 * contacts: per contact one small object (key, AOR, via_addr, user agent, expiration_time, qualify
 * status) with repeated strings shared, per AOR one object; totals (qualify counts, per-source
 * counts) kept up to date as things change instead of recounted.
 */
export class LiveServer {
  private readonly contacts = new Map<string, Kept>()
  private readonly aors = new Map<string, AorEntry>()
  /** Per qualify status, how many contacts have it. */
  private readonly qualify = new Map<QualifyStatus, number>()
  /** Per source address (via_addr), over every AOR: [unexpired contacts, stale (superseded + expired)]. */
  private readonly sourceTotals = new Map<string, [number, number]>()
  /** Repeated strings (user agents, addresses, qualify statuses) kept once; emptied at each full read. */
  private strings = new Map<string, string>()
  private readonly dirty = new Set<AorEntry>()
  /** The last limits read listed every AOR of the server: contacts of any other AOR are orphaned (as in check). */
  private authoritative = false
  private readonly due = new DueHeap()
  private readonly thresholds: Thresholds
  private readonly defaultMaxContacts: number | null
  private readonly recheckLead: number
  private readonly sweepGrace: number
  private readonly onContactChange: (aor: string, change: 'added' | 'removed') => void
  /** false while a first read is loaded: what was there before the exporter looked is no change. */
  private counting = true

  constructor(options: LiveOptions = {}) {
    this.onContactChange = options.onContactChange ?? (() => undefined)
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

  keys(): IterableIterator<string> {
    return this.contacts.keys()
  }

  /**
   * What the exporter keeps of a parsed contact (for a full read's parser: each row is cut down as it
   * is read, so 100,000 whole contacts, values and parsed fields never live at once).
   */
  static readonly slim = (c: Contact): Contact => {
    return {
      // copies: slices would keep every network chunk of the answer alive until the read ends
      key: ownCopy(c.key),
      aor: ownCopy(c.aor),
      hash: '',
      uri: '',
      viaAddr: c.viaAddr,
      viaPort: null,
      userAgent: c.userAgent,
      regServer: ownCopy(c.regServer),
      endpoint: '',
      expirationTime: c.expirationTime,
      fields: qualifyOff(c) ? NO_QUALIFY : QUALIFY,
      value: '',
    }
  };

  /**
   * Replaces everything with a full read. `configs` null keeps the limits already known (a resync that
   * read contacts only). `untouched` keys (changed by events while the read ran) are not counted as
   * drift. In steps: pauses after every LOAD_STEP contacts, AORs or keys (at 100,000 contacts the whole
   * apply would block for long, so a caller serving scrapes and events runs its event loop between steps).
   * Between two steps the picture is half applied: nothing else may read or change this LiveServer
   * (no put, remove, tick or judge) until the generator is done; one abandoned half way must be
   * followed by clear().
   */
  *loading(
    contacts: readonly Contact[],
    configs: readonly AorConfig[] | null,
    now: number,
    untouched: ReadonlySet<string> = new Set(),
    authoritative = false,
  ): Generator<void, Drift, void> {
    const drift: Drift = { added: 0, removed: 0, refreshed: 0 }
    this.strings = new Map()
    this.counting = this.contacts.size > 0
    try {
      return yield* this.loadingSteps(contacts, configs, now, untouched, authoritative, drift)
    } finally {
      this.counting = true
    }
  }

  private *loadingSteps(
    contacts: readonly Contact[],
    configs: readonly AorConfig[] | null,
    now: number,
    untouched: ReadonlySet<string>,
    authoritative: boolean,
    drift: Drift,
  ): Generator<void, Drift, void> {
    let n = 0
    // nothing to forget on a first read (or after a reconnect): no set of 100,000 keys to build
    if (this.contacts.size) {
      const fresh = new Set<string>()
      for (const contact of contacts) {
        fresh.add(contact.key)
        if (++n % LOAD_STEP === 0) yield
      }
      // deleting the current entry while iterating a Map is safe: it is not visited again, the rest are
      for (const key of this.contacts.keys()) {
        if (!fresh.has(key)) {
          if (!untouched.has(key)) drift.removed++
          this.remove(key)
        }
        if (++n % LOAD_STEP === 0) yield
      }
    }
    for (const contact of contacts) {
      const outcome = this.put(contact, now)
      if (!untouched.has(contact.key)) {
        if (outcome === 'added') drift.added++
        else if (outcome === 'changed') drift.refreshed++
      }
      if (++n % LOAD_STEP === 0) yield
    }
    if (configs !== null) {
      // `configs` is every AOR of the server (or not): an unconfigured AOR is orphaned (or unknown)
      if (authoritative !== this.authoritative) {
        this.authoritative = authoritative
        for (const entry of this.aors.values()) if (!entry.configured) this.markDirty(entry)
      }
      const next = new Map<string, AorConfig>()
      for (const config of configs) {
        if (!next.has(config.aor)) next.set(config.aor, config)
        if (++n % LOAD_STEP === 0) yield
      }
      for (const entry of this.aors.values()) {
        // an AOR first seen in an event after this read (a new extension) is unknown, not orphaned
        if (!entry.listed) {
          entry.listed = true
          if (!entry.configured) this.markDirty(entry)
        }
        if (!next.has(entry.name)) this.configure(entry, undefined)
        if (++n % LOAD_STEP === 0) yield
      }
      for (const config of next.values()) {
        this.configure(this.aor(config.aor), config)
        if (++n % LOAD_STEP === 0) yield
      }
    }
    return drift
  }

  /** Adds or replaces a contact (a new registration, a refresh read back, a restore). */
  put(contact: Contact, now: number): 'added' | 'changed' | 'same' {
    const old = this.contacts.get(contact.key)
    const viaAddr = this.intern(contact.viaAddr)
    const userAgent = this.intern(contact.userAgent)
    if (old) {
      if (
        old.expirationTime === contact.expirationTime &&
        old.viaAddr === viaAddr &&
        old.userAgent === userAgent &&
        old.regServer === contact.regServer
      )
        return 'same'
      const moved = old.expirationTime !== contact.expirationTime
      old.viaAddr = viaAddr
      old.userAgent = userAgent
      old.regServer = contact.regServer
      old.expirationTime = contact.expirationTime
      this.markDirty(old.aor)
      if (moved) this.schedule(old, now)
      return 'changed'
    }
    const aor = this.aor(contact.aor)
    const kept: Kept = {
      key: ownCopy(contact.key),
      aor,
      viaAddr,
      userAgent,
      regServer: contact.regServer,
      expirationTime: contact.expirationTime,
      qualify: qualifyOff(contact) ? 'NonQualified' : 'Unknown',
      due: NaN,
      phase: Phase.Done,
      live: true,
    }
    this.contacts.set(kept.key, kept)
    aor.contacts = aor.contacts.concat(kept)
    this.count(kept.qualify, 1)
    this.markDirty(aor)
    this.schedule(kept, now)
    if (this.counting) this.onContactChange(aor.name, 'added')
    return 'added'
  }

  /** Forgets a contact (Removed event, announced prune, key gone on re-read). */
  remove(key: string): boolean {
    const kept = this.contacts.get(key)
    if (!kept) return false
    this.contacts.delete(key)
    kept.live = false
    this.count(kept.qualify, -1)
    const list = kept.aor.contacts
    const i = list.indexOf(kept)
    const last = list.pop()
    if (last !== undefined && i < list.length) list[i] = last
    this.markDirty(kept.aor)
    if (this.counting) this.onContactChange(kept.aor.name, 'removed')
    return true
  }

  /** Qualify status from a ContactStatus event (Reachable, Unreachable, Unknown, NonQualified); true when it changed. */
  setQualify(key: string, status: QualifyStatus): boolean {
    const kept = this.contacts.get(key)
    if (!kept || kept.qualify === status) return false
    this.count(kept.qualify, -1)
    kept.qualify = this.intern(status)
    this.count(kept.qualify, 1)
    return true
  }

  /** Some AOR needs judging (a change, or a contact reached its expiration_time). */
  get hasDirty(): boolean {
    return this.dirty.size > 0
  }

  /** Contacts per qualify status (what events said; from the stored qualify_frequency until one did). */
  qualifyCounts(): Map<QualifyStatus, number> {
    return new Map(this.qualify)
  }

  /**
   * Moves the clock: AORs whose contacts reached expiration_time become dirty; returns the keys to
   * read again now (expiry near, or past expiry with no Removed event yet).
   */
  tick(now: number): string[] {
    const recheck = new Set<string>()
    while (this.due.peekTime() <= now) {
      const time = this.due.peekTime()
      const kept = this.due.peekItem()
      this.due.pop()
      // forgotten, or moved since (a refresh read back): its current entry is in the heap too
      if (!kept.live || kept.due !== time) continue
      if (kept.phase === Phase.Judge) this.markDirty(kept.aor)
      else recheck.add(kept.key)
      this.advance(kept, NEXT_PHASE[kept.phase])
    }
    return [...recheck]
  }

  /** Re-judges the dirty AORs (at most `limit` of them: the rest stay dirty); returns the summaries that changed (null: the AOR is gone). */
  judge(now: number, limit = Infinity): Map<string, AorSummary | null> {
    const changed = new Map<string, AorSummary | null>()
    let judged = 0
    for (const entry of this.dirty) {
      if (judged++ >= limit) break
      this.dirty.delete(entry)
      entry.dirty = false
      const contacts: Contact[] = entry.contacts.map(asContact)
      const config: AorConfig[] = entry.configured
        ? [
            {
              aor: entry.name,
              maxContacts: entry.maxContacts,
              removeExisting: entry.removeExisting,
              removeUnavailable: null,
              qualifyFrequency: null,
              minimumExpiration: null,
              maximumExpiration: null,
              defaultExpiration: null,
              source: entry.source,
            },
          ]
        : []
      const [report] = buildReports({
        contacts,
        configs: config,
        now,
        thresholds: this.thresholds,
        defaultMaxContacts: this.defaultMaxContacts,
        authoritative: this.authoritative && entry.listed,
      })
      // what `pjctl check` counts per source address (core/sources.ts sourcesOf): expired are stale, not contacts
      this.addSources(entry.sources, -1)
      const sources: (string | number)[] = []
      for (const c of report?.contacts ?? []) {
        let i = 0
        while (i < sources.length && sources[i] !== c.viaAddr) i += 3
        if (i === sources.length) sources.push(c.viaAddr, 0, 0)
        if (c.status === 'expired') (sources[i + 2] as number)++
        else {
          ;(sources[i + 1] as number)++
          if (c.status === 'superseded') (sources[i + 2] as number)++
        }
      }
      entry.sources = sources.length ? sources.slice() : NO_SOURCES
      this.addSources(sources, 1)
      const old = entry.summary
      if (!report) {
        entry.summary = null
        this.aors.delete(entry.name)
        if (old) changed.set(entry.name, null)
        continue
      }
      const summary: AorSummary = {
        aor: entry.name,
        count: report.count,
        maxContacts: report.maxContacts,
        superseded: report.superseded,
        expired: report.expired,
        stale: report.stale,
        state: report.state,
        severity: report.severity,
        removeExisting: entry.removeExisting,
      }
      if (!old || !sameSummary(old, summary)) {
        entry.summary = summary
        changed.set(entry.name, summary)
      }
    }
    return changed
  }

  /** Source addresses over every AOR, ordered as `pjctl check` orders them (contacts, then stale, most first; then address); the first `limit`. */
  sources(limit = Infinity): { address: string; contacts: number; stale: number }[] {
    const order = (
      a: { address: string; contacts: number; stale: number },
      b: { address: string; contacts: number; stale: number },
    ) => b.contacts - a.contacts || b.stale - a.stale || compareCodepoints(a.address, b.address)
    // the first `limit` kept sorted as they come: at 100,000 addresses this is far cheaper than sorting them all
    const top: { address: string; contacts: number; stale: number }[] = []
    for (const [address, [contacts, stale]] of this.sourceTotals) {
      const row = { address, contacts, stale }
      const last = top[top.length - 1]
      if (top.length >= limit && last && order(row, last) >= 0) continue
      let i = top.length
      while (i > 0 && order(row, top[i - 1] ?? row) < 0) i--
      top.splice(i, 0, row)
      if (top.length > limit) top.pop()
    }
    return top
  }

  /** An AOR's state as last judged: full or over max_contacts (false when unknown). */
  isFull(aor: string): boolean {
    const state = this.aors.get(aor)?.summary?.state
    return state === 'full' || state === 'over'
  }

  /** The AOR is configured (in the last limits read) or holds contacts. */
  knowsAor(aor: string): boolean {
    return this.aors.has(aor)
  }

  /** Every AOR's current summary (after judge). */
  *allSummaries(): IterableIterator<AorSummary> {
    for (const entry of this.aors.values()) if (entry.summary) yield entry.summary
  }

  /** Forgets everything (the server is down: nothing of it can be vouched for). */
  clear(): void {
    for (const kept of this.contacts.values()) kept.live = false
    this.contacts.clear()
    this.aors.clear()
    this.qualify.clear()
    this.sourceTotals.clear()
    this.strings = new Map()
    this.dirty.clear()
    this.due.clear()
    this.counting = true
  }

  private aor(name: string): AorEntry {
    let entry = this.aors.get(name)
    if (!entry) {
      entry = {
        name: ownCopy(name),
        contacts: [],
        configured: false,
        listed: false,
        maxContacts: null,
        removeExisting: null,
        source: 'none',
        dirty: false,
        summary: null,
        sources: NO_SOURCES,
      }
      this.aors.set(entry.name, entry)
    }
    return entry
  }

  private configure(entry: AorEntry, config: AorConfig | undefined): void {
    const configured = config !== undefined
    const maxContacts = config?.maxContacts ?? null
    const removeExisting = config?.removeExisting ?? null
    const source = config?.source ?? 'none'
    if (
      entry.configured === configured &&
      entry.maxContacts === maxContacts &&
      entry.removeExisting === removeExisting &&
      entry.source === source
    )
      return
    entry.configured = configured
    entry.maxContacts = maxContacts
    entry.removeExisting = removeExisting
    entry.source = source
    this.markDirty(entry)
  }

  private markDirty(entry: AorEntry): void {
    if (entry.dirty) return
    entry.dirty = true
    this.dirty.add(entry)
  }

  private count(status: QualifyStatus, by: 1 | -1): void {
    const n = (this.qualify.get(status) ?? 0) + by
    if (n > 0) this.qualify.set(status, n)
    else this.qualify.delete(status)
  }

  private addSources(sources: readonly (string | number)[], sign: 1 | -1): void {
    for (let i = 0; i < sources.length; i += 3) {
      const address = sources[i] as string
      const total = this.sourceTotals.get(address) ?? [0, 0]
      total[0] += sign * (sources[i + 1] as number)
      total[1] += sign * (sources[i + 2] as number)
      if (total[0] === 0 && total[1] === 0) this.sourceTotals.delete(address)
      else this.sourceTotals.set(address, total)
    }
  }

  /** A string kept once, of its own (see ownCopy()). */
  private intern(text: string): string {
    let kept = this.strings.get(text)
    if (kept === undefined) this.strings.set((kept = ownCopy(text)), kept)
    return kept
  }

  /** A new or moved expiration_time: the first of its due times still ahead. */
  private schedule(kept: Kept, now: number): void {
    const exp = kept.expirationTime
    if (exp === null) {
      this.advance(kept, Phase.Done)
      return
    }
    this.advance(
      kept,
      exp - this.recheckLead > now ? Phase.Recheck : exp > now ? Phase.Judge : Phase.Sweep,
    )
  }

  private advance(kept: Kept, phase: Phase): void {
    kept.phase = phase
    const exp = kept.expirationTime
    if (phase === Phase.Done || exp === null) {
      kept.due = NaN
      return
    }
    kept.due =
      phase === Phase.Recheck
        ? exp - this.recheckLead
        : phase === Phase.Judge
          ? exp
          : exp + this.sweepGrace
    this.due.push(kept.due, kept)
  }
}

/** qualify_frequency 0 or absent: Asterisk does not qualify the contact (NonQualified), else Unknown until an event says. */
function qualifyOff(contact: Contact): boolean {
  const frequency = contact.fields.qualify_frequency
  return frequency === undefined || frequency === '0' || frequency === ''
}

const NO_QUALIFY: Record<string, string> = Object.freeze({ qualify_frequency: '0' })
const QUALIFY: Record<string, string> = Object.freeze({ qualify_frequency: '1' })
const NO_SOURCES: (string | number)[] = []

/** A kept contact as the judging code (buildReports) takes it. */
function asContact(k: Kept): Contact {
  return {
    key: k.key,
    aor: k.aor.name,
    hash: '',
    uri: '',
    viaAddr: k.viaAddr,
    viaPort: null,
    userAgent: k.userAgent,
    regServer: k.regServer,
    endpoint: '',
    expirationTime: k.expirationTime,
    fields: NO_FIELDS,
    value: '',
  }
}

function sameSummary(a: AorSummary, b: AorSummary): boolean {
  return (
    a.count === b.count &&
    a.maxContacts === b.maxContacts &&
    a.superseded === b.superseded &&
    a.expired === b.expired &&
    a.stale === b.stale &&
    a.state === b.state &&
    a.severity === b.severity &&
    a.removeExisting === b.removeExisting
  )
}

/** The exporter's status and problems: the one policy (core/status.ts) that check and doctor use. */
export { isProblem, serverStatus } from './status.js'
