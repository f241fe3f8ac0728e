// pjctl exporter's metrics. Names, labels and HELP are those of `pjctl check --format prometheus`; the
// exporter adds server-wide aggregates, event and resync counters.
//
// Two renderers, chosen by measurement (docs/exporter.md, Exposition; docs/performance.md):
// - the per-AOR families (5 series per AOR: 250,000 at 50,000 AORs) are hand-written text: each AOR
//   keeps its summary and its escaped labels, and a render writes their lines in slices that yield to
//   the event loop (prom-client renders them in one block, seconds at 50,000 AORs). Pre-rendered
//   lines per AOR were tried: they held over a million strings at 50,000 AORs for no faster render;
// - everything else (counters, gauges of aggregates: a few hundred series) is prom-client's registry.
// The body is rendered when the state changed (at most every `minRenderMs`), never by a scrape: a scrape
// is served the last complete body from memory.

import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client'
import type { AorSummary } from '../core/live.js'
import type { AorState } from '../core/types.js'
import { VERSION } from '../version.js'
import {
  AOR_FAMILIES,
  SERVER_FAMILIES,
  familyHeader,
  gaugeHeader,
  labelValue,
} from './exposition.js'

const AOR_STATES: readonly AorState[] = ['ok', 'near', 'full', 'over', 'unknown']
export type PerAor = 'all' | 'problems'
/** `pjctl_source_contacts` series per server: the busiest addresses. */
export const SOURCE_SERIES = 100

export interface ServerTotals {
  status: 0 | 1 | 2 | 3
  aorsByState: Map<AorState, number>
  contacts: number
  superseded: number
  expired: number
  qualify: Map<string, number>
}

export interface ResyncFigures {
  seconds: number
  added: number
  removed: number
  /** Unix seconds of the end of the read. */
  at: number
}

/**
 * The exporter process's own metrics: prom-client's default collectors (process_cpu_seconds_total,
 * process_resident_memory_bytes, nodejs_eventloop_lag_seconds, …) and pjctl_exporter_build_info. A
 * registry of their own, rendered for the scrape (they change every moment), apart from the body that
 * is rendered when what pjctl knows changes.
 */
export function processRegistry(): Registry {
  // one per process: the default collectors start an event-loop delay monitor and a GC observer that
  // nothing stops, and they describe the process, not one exporter (tests run many in one process)
  return (processMetrics ??= newProcessRegistry())
}
let processMetrics: Registry | null = null

function newProcessRegistry(): Registry {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  // gauges named _total, which promtool check metrics rejects; nodejs_active_handles (and _requests,
  // _resources) by type say the same
  for (const name of [
    'nodejs_active_handles_total',
    'nodejs_active_requests_total',
    'nodejs_active_resources_total',
  ])
    registry.removeSingleMetric(name)
  new Gauge({
    name: 'pjctl_exporter_build_info',
    help: 'Always 1: the pjctl version and the Node.js version it runs on.',
    labelNames: ['version', 'nodejs_version'],
    registers: [registry],
  }).set({ version: VERSION, nodejs_version: process.version }, 1)
  return registry
}

export class ExporterMetrics {
  readonly registry = new Registry()
  // bounded: the 100 busiest addresses of each server (as check: the same name, labels and help)
  private readonly source = this.gauge(SERVER_FAMILIES.sources.name, SERVER_FAMILIES.sources.help, [
    'server',
    'address',
  ])
  private readonly sourceLimit = this.gauge(
    'pjctl_source_contacts_limit',
    "The exporter's --per-ip-limit: contacts one source address may hold (absent without one).",
    ['server'],
  )
  private readonly up = this.gauge(SERVER_FAMILIES.up.name, SERVER_FAMILIES.up.help, ['server'])
  private readonly status = this.gauge(SERVER_FAMILIES.status.name, SERVER_FAMILIES.status.help, [
    'server',
  ])
  private readonly aors = this.gauge('pjctl_server_aors', 'AORs by state.', ['server', 'state'])
  private readonly contacts = this.gauge(
    'pjctl_server_contacts',
    'Unexpired contacts on the server.',
    ['server'],
  )
  private readonly superseded = this.gauge(
    'pjctl_server_superseded_contacts',
    'Contacts superseded by a newer registration from the same device, on the server.',
    ['server'],
  )
  private readonly expired = this.gauge(
    'pjctl_server_expired_contacts',
    'Contacts past expiration_time that Asterisk has not swept yet, on the server.',
    ['server'],
  )
  private readonly qualify = this.gauge(
    'pjctl_server_contacts_by_qualify',
    'Contacts by qualify status (from ContactStatus events; from qualify_frequency until one came).',
    ['server', 'status'],
  )
  private readonly events = new Counter({
    name: 'pjctl_events_received_total',
    help: 'AMI events received, by event name.',
    labelNames: ['server', 'event'],
    registers: [this.registry],
  })
  private readonly resyncSeconds = this.gauge(
    'pjctl_resync_duration_seconds',
    'How long the last full read of the server took.',
    ['server'],
  )
  private readonly drift = new Counter({
    name: 'pjctl_resync_drift_contacts_total',
    help: 'Contacts a full read found that events had not told: added (unknown to the exporter) or removed (gone from Asterisk).',
    labelNames: ['server', 'kind'],
    registers: [this.registry],
  })
  private readonly lastRead = this.gauge(
    'pjctl_last_full_read_timestamp_seconds',
    'When the last full read of the server ended (Unix time).',
    ['server'],
  )
  // refused registrations (AMI security events): per endpoint and AOR only for max_contacts and
  // invalid_contact (raised after Asterisk identified a configured endpoint: bounded by the configuration);
  // the other reasons per server and reason, with endpoint="" and aor="" (a scanner's user names never
  // become label values)
  private readonly rejected = new Counter({
    name: 'pjctl_registrations_rejected_total',
    help: 'REGISTERs Asterisk refused, from its security events (FailedACL, RequestNotSupported, ChallengeResponseFailed, InvalidPassword, InvalidAccountID), by reason: max_contacts, invalid_contact, no_aor, auth, other. endpoint and aor are set for max_contacts and invalid_contact only.',
    labelNames: ['server', 'endpoint', 'aor', 'reason'],
    registers: [this.registry],
  })
  private readonly lastRejection = this.gauge(
    'pjctl_last_rejection_timestamp_seconds',
    'When Asterisk last refused a REGISTER to the AOR for max_contacts or invalid_contact (Unix time).',
    ['server', 'aor'],
  )
  private readonly healActions = new Counter({
    name: 'pjctl_heal_actions_total',
    help: '--heal on a max_contacts refusal, by result: healed (stale contacts pruned), nothing (none stale by the policy), rate_limited (healed less than a minute ago), failed.',
    labelNames: ['server', 'aor', 'result'],
    registers: [this.registry],
  })
  private readonly added = new Counter({
    name: 'pjctl_contacts_added_total',
    help: 'Contacts that appeared after the first read (a registration from a new URI, a restore, one a resync found).',
    labelNames: ['server'],
    registers: [this.registry],
  })
  private readonly removed = new Counter({
    name: 'pjctl_contacts_removed_total',
    help: 'Contacts that went (an unREGISTER, expiry, remove_existing, a prune, one a resync found gone).',
    labelNames: ['server'],
    registers: [this.registry],
  })
  /** Per server, per AOR that had one since the start (--per-aor all only): contacts added and removed. */
  private readonly aorChanges = new Map<string, Map<string, AorChanges>>()
  /** Per server, the AORs that have per-AOR series. */
  private readonly exported = new Map<string, Map<string, AorSeries>>()
  /** Per server, `server="…"` escaped once. */
  private readonly serverLabels = new Map<string, string>()
  private readonly qualifyStatuses = new Map<string, Set<string>>()
  private readonly sourceAddresses = new Map<string, Set<string>>()

  /** Per server, what the aggregates and sources showed at the last set (a set that changes nothing is no change). */
  private readonly shown = new Map<string, string>()
  private changes = 0

  constructor(
    private readonly perAor: PerAor,
    private readonly isProblem: (summary: AorSummary) => boolean,
  ) {}

  /**
   * Counts the changes to what a render shows, the event counter aside: a render when this has not
   * moved would give the same body (a contact reaching expiration_time, say, without changing its AOR's
   * counts). The counter is rendered with the next change.
   */
  get version(): number {
    return this.changes
  }

  get contentType(): string {
    return this.registry.contentType
  }

  /** A server is known (before its first read): it is down until read. `perIpLimit`: --per-ip-limit, if any. */
  addServer(server: string, perIpLimit?: number): void {
    this.changes++
    if (perIpLimit !== undefined) this.sourceLimit.set({ server }, perIpLimit)
    this.up.set({ server }, 0)
    this.status.set({ server }, 3)
    this.events.inc({ server, event: 'ContactStatus' }, 0)
    this.events.inc({ server, event: 'UserEvent' }, 0)
    this.drift.inc({ server, kind: 'added' }, 0)
    this.drift.inc({ server, kind: 'removed' }, 0)
    for (const reason of ['no_aor', 'auth', 'other'])
      this.rejected.inc({ server, endpoint: '', aor: '', reason }, 0)
    this.added.inc({ server }, 0)
    this.removed.inc({ server }, 0)
  }

  /**
   * A contact came or went after the first read: the server's counter, and with --per-aor all the
   * AOR's (a series from its first change on: 2 per AOR that ever changed, at most 2 per AOR).
   */
  contactChanged(server: string, aor: string, change: 'added' | 'removed'): void {
    ;(change === 'added' ? this.added : this.removed).inc({ server })
    if (this.perAor !== 'all') return
    let aors = this.aorChanges.get(server)
    if (!aors) {
      aors = new Map<string, AorChanges>()
      this.aorChanges.set(server, aors)
    }
    let counts = aors.get(aor)
    if (!counts)
      aors.set(
        aor,
        (counts = {
          labels: flat(`{${this.serverLabel(server)},aor="${labelValue(aor)}"`),
          added: 0,
          removed: 0,
        }),
      )
    counts[change]++
    this.changes++
  }

  /** A refused REGISTER (labels already reduced: endpoint and aor '' unless the reason has per-AOR series). */
  refused(server: string, endpoint: string, aor: string, reason: string, at: number): void {
    this.changes++
    this.rejected.inc({ server, endpoint, aor, reason })
    if (aor) this.lastRejection.set({ server, aor }, at)
  }

  healed(server: string, aor: string, result: string): void {
    this.changes++
    this.healActions.inc({ server, aor, result })
  }

  /** One AOR's series: set, or removed when the AOR is gone or (with --per-aor problems) is no problem. */
  setAor(server: string, aor: string, summary: AorSummary | null): void {
    this.changes++
    let exported = this.exported.get(server)
    if (!exported) {
      exported = new Map<string, AorSeries>()
      this.exported.set(server, exported)
    }
    const shown = summary !== null && (this.perAor === 'all' || this.isProblem(summary))
    if (!shown) exported.delete(aor)
    else
      exported.set(aor, {
        labels:
          exported.get(aor)?.labels ??
          flat(`{${this.serverLabel(server)},aor="${labelValue(aor)}"`),
        summary,
      })
  }

  setTotals(server: string, totals: ServerTotals): void {
    if (
      !this.differs(
        `${server}\ttotals`,
        JSON.stringify([
          totals.status,
          [...totals.aorsByState],
          totals.contacts,
          totals.superseded,
          totals.expired,
          [...totals.qualify],
        ]),
      )
    )
      return
    this.status.set({ server }, totals.status)
    for (const state of AOR_STATES)
      this.aors.set({ server, state }, totals.aorsByState.get(state) ?? 0)
    this.contacts.set({ server }, totals.contacts)
    this.superseded.set({ server }, totals.superseded)
    this.expired.set({ server }, totals.expired)
    const seen = this.qualifyStatuses.get(server) ?? new Set<string>()
    for (const status of seen)
      if (!totals.qualify.has(status)) this.qualify.remove({ server, status })
    for (const [status, n] of totals.qualify) this.qualify.set({ server, status }, n)
    this.qualifyStatuses.set(server, new Set(totals.qualify.keys()))
  }

  /** The busiest source addresses (already ordered); only the first SOURCE_SERIES get a series. */
  setSources(server: string, rows: readonly { address: string; contacts: number }[]): void {
    const shown = rows.slice(0, SOURCE_SERIES)
    if (
      !this.differs(`${server}\tsources`, JSON.stringify(shown.map((r) => [r.address, r.contacts])))
    )
      return
    const now = new Set(shown.map((r) => r.address))
    for (const address of this.sourceAddresses.get(server) ?? [])
      if (!now.has(address)) this.source.remove({ server, address })
    for (const r of shown) this.source.set({ server, address: r.address }, r.contacts)
    this.sourceAddresses.set(server, now)
  }

  setUp(server: string, up: boolean): void {
    this.changes++
    this.up.set({ server }, up ? 1 : 0)
  }

  /**
   * The server is down: what can no longer be known is dropped (per-AOR series, aggregates, qualify);
   * pjctl_server_up 0, check status 3 (UNKNOWN), and the counters and the last read's time stay.
   */
  serverDown(server: string): void {
    this.changes++
    this.shown.delete(`${server}\ttotals`)
    this.shown.delete(`${server}\tsources`)
    this.up.set({ server }, 0)
    this.status.set({ server }, 3)
    this.exported.delete(server)
    for (const state of AOR_STATES) this.aors.remove({ server, state })
    this.contacts.remove({ server })
    this.superseded.remove({ server })
    this.expired.remove({ server })
    for (const status of this.qualifyStatuses.get(server) ?? [])
      this.qualify.remove({ server, status })
    this.qualifyStatuses.delete(server)
    for (const address of this.sourceAddresses.get(server) ?? [])
      this.source.remove({ server, address })
    this.sourceAddresses.delete(server)
  }

  countEvent(server: string, event: string): void {
    this.events.inc({ server, event })
  }

  resynced(server: string, figures: ResyncFigures): void {
    this.changes++
    this.resyncSeconds.set({ server }, figures.seconds)
    this.drift.inc({ server, kind: 'added' }, figures.added)
    this.drift.inc({ server, kind: 'removed' }, figures.removed)
    this.lastRead.set({ server }, figures.at)
  }

  /**
   * The exposition text of everything, in pieces of ~100 KB, to be sent one after the other. The
   * per-AOR series are taken as they are when the render starts (an AOR's entry is replaced, never
   * changed) and written in slices of about `sliceMs`, yielding to the event loop in between, so
   * scrapes and AMI events are served while a big body is built; `sliceMs()` is asked at each slice
   * (shorter while a big body is being sent: the event loop then turns more often to feed the socket).
   * Not joined into one Buffer: at 100k contacts that is a body-sized allocation and copy in one
   * block (page faults of a fresh allocation included), on every render.
   */
  async renderChunks(sliceMs: () => number = () => 5): Promise<Buffer[]> {
    const snapshot = [...this.exported.values()].map((aors) => [...aors.values()])
    const registry = await this.registry.metrics()
    const chunks: Buffer[] = []
    let sliceStart = performance.now()
    for (const [family, header] of PER_AOR.entries()) {
      let text = gaugeHeader(header)
      const line = LINES[family]
      if (line === undefined) continue
      for (const aors of snapshot) {
        let n = 0
        for (const aor of aors) {
          text += line(aor)
          if ((++n & 1023) === 0) {
            chunks.push(Buffer.from(text))
            text = ''
            if (performance.now() - sliceStart > sliceMs()) {
              await new Promise<void>((resolve) => setImmediate(resolve))
              sliceStart = performance.now()
            }
          }
        }
      }
      chunks.push(Buffer.from(text))
    }
    for (const [family, which] of [
      [AOR_ADDED, 'added'],
      [AOR_REMOVED, 'removed'],
    ] as const) {
      let text = ''
      for (const aors of this.aorChanges.values())
        for (const c of aors.values()) text += `${family.name}${c.labels}} ${c[which]}\n`
      if (text) chunks.push(Buffer.from(familyHeader(family, 'counter') + text))
    }
    chunks.push(Buffer.from(registry))
    return chunks
  }

  /** true (and counted as a change) when `what` is not what `key` showed last. */
  private differs(key: string, what: string): boolean {
    if (this.shown.get(key) === what) return false
    this.shown.set(key, what)
    this.changes++
    return true
  }

  private serverLabel(server: string): string {
    let label = this.serverLabels.get(server)
    if (label === undefined)
      this.serverLabels.set(server, (label = `server="${labelValue(server)}"`))
    return label
  }

  private gauge<L extends string>(name: string, help: string, labelNames: readonly L[]): Gauge<L> {
    return new Gauge({ name, help, labelNames, registers: [this.registry] })
  }
}

/** Sparse: a series only for an AOR with remove_existing=yes (a full one is no lockout). */
const AOR_REMOVE_EXISTING = {
  name: 'pjctl_aor_remove_existing',
  help: '1 for an AOR with remove_existing=yes (a full AOR then takes a new registration); no series when it is no or unknown.',
}

/** The per-AOR families, in the order of the body (those of `check --format prometheus`, then state). */
const PER_AOR = [
  AOR_FAMILIES.contacts,
  AOR_FAMILIES.maxContacts,
  AOR_FAMILIES.superseded,
  AOR_FAMILIES.expired,
  AOR_FAMILIES.state,
  AOR_REMOVE_EXISTING,
] as const

/** The per-AOR counters (--per-aor all), written after the per-AOR gauges. */
const AOR_ADDED = {
  name: 'pjctl_aor_contacts_added_total',
  help: "Contacts of the AOR that appeared after the first read; a series from the AOR's first change on (--per-aor all).",
}
const AOR_REMOVED = {
  name: 'pjctl_aor_contacts_removed_total',
  help: "Contacts of the AOR that went after the first read; a series from the AOR's first change on (--per-aor all).",
}

/** An AOR's added/removed counts, with its labels escaped once. */
interface AorChanges {
  readonly labels: string
  added: number
  removed: number
}

/** One flat string (a template result is a tree of pieces: ~4 objects where one will do, per AOR). */
function flat(text: string): string {
  return JSON.parse(JSON.stringify(text)) as string
}

/** An AOR with per-AOR series: `{server="…",aor="…"` (escaped once), and what its lines say. */
interface AorSeries {
  readonly labels: string
  readonly summary: AorSummary
}

/** One AOR's sample line per family of PER_AOR, each ending in a line feed ('' when it has none). */
const LINES: readonly ((a: AorSeries) => string)[] = [
  (a) => `${AOR_FAMILIES.contacts.name}${a.labels}} ${a.summary.count}\n`,
  (a) =>
    a.summary.maxContacts === null
      ? ''
      : `${AOR_FAMILIES.maxContacts.name}${a.labels}} ${a.summary.maxContacts}\n`,
  (a) => `${AOR_FAMILIES.superseded.name}${a.labels}} ${a.summary.superseded}\n`,
  (a) => `${AOR_FAMILIES.expired.name}${a.labels}} ${a.summary.expired}\n`,
  (a) => `${AOR_FAMILIES.state.name}${a.labels},state="${a.summary.state}"} 1\n`,
  (a) => (a.summary.removeExisting === true ? `${AOR_REMOVE_EXISTING.name}${a.labels}} 1\n` : ''),
]
