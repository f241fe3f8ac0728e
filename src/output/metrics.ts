// pjctl exporter's metrics, in prom-client (the exposition format is not written by hand).
// Names and labels are those of `pjctl check --format prometheus`; the exporter adds server-wide
// aggregates, event and resync counters. The body is rendered when the state changed (at most every
// `minRenderMs`), never by a scrape: a scrape is served the last rendered body from memory.

import { Counter, Gauge, Registry } from 'prom-client'
import type { AorSummary } from '../core/live.js'
import type { AorState } from '../core/types.js'

export const AOR_STATES: readonly AorState[] = ['ok', 'near', 'full', 'over', 'unknown']
export type PerAor = 'all' | 'problems'

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

export class ExporterMetrics {
  readonly registry = new Registry()
  private readonly aorContacts = this.gauge('pjctl_aor_contacts', 'Unexpired contacts registered to the AOR.', ['server', 'aor'])
  private readonly aorMax = this.gauge('pjctl_aor_max_contacts', "The AOR's max_contacts (absent when unknown).", ['server', 'aor'])
  private readonly aorSuperseded = this.gauge('pjctl_aor_superseded_contacts', 'Contacts superseded by a newer registration from the same device.', ['server', 'aor'])
  private readonly aorExpired = this.gauge('pjctl_aor_expired_contacts', 'Contacts past expiration_time that Asterisk has not swept yet.', ['server', 'aor'])
  private readonly aorState = this.gauge('pjctl_aor_state', 'The AOR\'s state (ok, near, full, over, unknown): 1 for the current one.', ['server', 'aor', 'state'])
  // bounded: the 100 busiest addresses of each server (as check: the same name, labels and help)
  private readonly source = this.gauge('pjctl_source_contacts', 'Unexpired contacts from the source address (via_addr), all AORs together; the 100 busiest addresses and every one at or above --per-ip-limit.', ['server', 'address'])
  private readonly up = this.gauge('pjctl_server_up', '1 when pjctl could read the server.', ['server'])
  private readonly status = this.gauge('pjctl_check_status', 'Check status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.', ['server'])
  private readonly aors = this.gauge('pjctl_server_aors', 'AORs by state.', ['server', 'state'])
  private readonly contacts = this.gauge('pjctl_server_contacts', 'Unexpired contacts on the server.', ['server'])
  private readonly superseded = this.gauge('pjctl_server_superseded_contacts', 'Contacts superseded by a newer registration from the same device, on the server.', ['server'])
  private readonly expired = this.gauge('pjctl_server_expired_contacts', 'Contacts past expiration_time that Asterisk has not swept yet, on the server.', ['server'])
  private readonly qualify = this.gauge('pjctl_server_contacts_by_qualify', 'Contacts by qualify status (from ContactStatus events; from qualify_frequency until one came).', ['server', 'status'])
  private readonly events = new Counter({ name: 'pjctl_events_received_total', help: 'AMI events received, by event name.', labelNames: ['server', 'event'], registers: [this.registry] })
  private readonly resyncSeconds = this.gauge('pjctl_resync_duration_seconds', 'How long the last full read of the server took.', ['server'])
  private readonly drift = new Counter({ name: 'pjctl_resync_drift_contacts_total', help: 'Contacts a full read found that events had not told: added (unknown to the exporter) or removed (gone from Asterisk).', labelNames: ['server', 'kind'], registers: [this.registry] })
  private readonly lastRead = this.gauge('pjctl_last_full_read_timestamp_seconds', 'When the last full read of the server ended (Unix time).', ['server'])
  /** Per server, the AORs that have per-AOR series, with their exported state. */
  private readonly exported = new Map<string, Map<string, AorState>>()
  private readonly qualifyStatuses = new Map<string, Set<string>>()
  private readonly sourceAddresses = new Map<string, Set<string>>()

  constructor(private readonly perAor: PerAor, private readonly isProblem: (summary: AorSummary) => boolean) {}

  get contentType(): string {
    return this.registry.contentType
  }

  /** A server is known (before its first read): it is down until read. */
  addServer(server: string): void {
    this.up.set({ server }, 0)
    this.status.set({ server }, 3)
    this.events.inc({ server, event: 'ContactStatus' }, 0)
    this.events.inc({ server, event: 'UserEvent' }, 0)
    this.drift.inc({ server, kind: 'added' }, 0)
    this.drift.inc({ server, kind: 'removed' }, 0)
  }

  /** One AOR's series: set, or removed when the AOR is gone or (with --per-aor problems) is no problem. */
  setAor(server: string, aor: string, summary: AorSummary | null): void {
    let exported = this.exported.get(server)
    if (!exported) this.exported.set(server, (exported = new Map()))
    const shown = summary !== null && (this.perAor === 'all' || this.isProblem(summary))
    const before = exported.get(aor)
    if (!shown) {
      if (before !== undefined) this.removeAor(server, aor, before)
      exported.delete(aor)
      return
    }
    const labels = { server, aor }
    this.aorContacts.set(labels, summary.count)
    if (summary.maxContacts === null) this.aorMax.remove(labels)
    else this.aorMax.set(labels, summary.maxContacts)
    this.aorSuperseded.set(labels, summary.superseded)
    this.aorExpired.set(labels, summary.expired)
    if (before !== summary.state) {
      if (before !== undefined) this.aorState.remove({ server, aor, state: before })
      this.aorState.set({ server, aor, state: summary.state }, 1)
    }
    exported.set(aor, summary.state)
  }

  setTotals(server: string, totals: ServerTotals): void {
    this.status.set({ server }, totals.status)
    for (const state of AOR_STATES) this.aors.set({ server, state }, totals.aorsByState.get(state) ?? 0)
    this.contacts.set({ server }, totals.contacts)
    this.superseded.set({ server }, totals.superseded)
    this.expired.set({ server }, totals.expired)
    const seen = this.qualifyStatuses.get(server) ?? new Set<string>()
    for (const status of seen) if (!totals.qualify.has(status)) this.qualify.remove({ server, status })
    for (const [status, n] of totals.qualify) this.qualify.set({ server, status }, n)
    this.qualifyStatuses.set(server, new Set(totals.qualify.keys()))
  }

  /** The busiest source addresses (already ordered); only the first 100 get a series. */
  setSources(server: string, rows: readonly { address: string; contacts: number }[]): void {
    const shown = rows.slice(0, 100)
    const now = new Set(shown.map((r) => r.address))
    for (const address of this.sourceAddresses.get(server) ?? []) if (!now.has(address)) this.source.remove({ server, address })
    for (const r of shown) this.source.set({ server, address: r.address }, r.contacts)
    this.sourceAddresses.set(server, now)
  }

  setUp(server: string, up: boolean): void {
    this.up.set({ server }, up ? 1 : 0)
  }

  /**
   * The server is down: what can no longer be known is dropped (per-AOR series, aggregates, qualify);
   * pjctl_server_up 0, check status 3 (UNKNOWN), and the counters and the last read's time stay.
   */
  serverDown(server: string): void {
    this.up.set({ server }, 0)
    this.status.set({ server }, 3)
    for (const [aor, state] of this.exported.get(server) ?? []) this.removeAor(server, aor, state)
    this.exported.delete(server)
    for (const state of AOR_STATES) this.aors.remove({ server, state })
    this.contacts.remove({ server })
    this.superseded.remove({ server })
    this.expired.remove({ server })
    for (const status of this.qualifyStatuses.get(server) ?? []) this.qualify.remove({ server, status })
    this.qualifyStatuses.delete(server)
    for (const address of this.sourceAddresses.get(server) ?? []) this.source.remove({ server, address })
    this.sourceAddresses.delete(server)
  }

  countEvent(server: string, event: string): void {
    this.events.inc({ server, event })
  }

  resynced(server: string, figures: ResyncFigures): void {
    this.resyncSeconds.set({ server }, figures.seconds)
    this.drift.inc({ server, kind: 'added' }, figures.added)
    this.drift.inc({ server, kind: 'removed' }, figures.removed)
    this.lastRead.set({ server }, figures.at)
  }

  /** The exposition text of everything. */
  render(): Promise<string> {
    return this.registry.metrics()
  }

  private removeAor(server: string, aor: string, state: AorState): void {
    const labels = { server, aor }
    this.aorContacts.remove(labels)
    this.aorMax.remove(labels)
    this.aorSuperseded.remove(labels)
    this.aorExpired.remove(labels)
    this.aorState.remove({ server, aor, state })
  }

  private gauge<L extends string>(name: string, help: string, labelNames: readonly L[]): Gauge<L> {
    return new Gauge({ name, help, labelNames, registers: [this.registry] })
  }
}
