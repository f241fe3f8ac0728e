// Where registrations come from: contacts grouped by source address (the contact's via_addr),
// and the per-address limit a hosted SIP service or a careful admin sets (--per-ip-limit).
//
// Decisions:
// - `contacts` counts unexpired contacts, like an AOR's count (Asterisk deletes expired ones
//   before it counts); `stale` is superseded + expired, so an address whose contacts have all
//   expired still shows, with contacts 0.
// - `maxPerAor` is the most unexpired contacts ONE AOR holds from the address: the count a
//   provider limits "per endpoint per source IP".
// - A contact without via_addr is grouped under the address '' (shown as `-`).
// - Order: busiest first (contacts, then stale), then address in code point order.

import { compareCodepoints } from './classify.js'
import type { AorReport } from './types.js'

/** `--per-ip-limit N [--per address|aor]`. */
export interface PerIpLimit {
  limit: number
  /** address: all AORs' contacts from the address together; aor: each AOR's contacts from it (the provider's rule). */
  per: 'address' | 'aor'
}

/** Where an address stands against the limit. */
type LimitState = 'below' | 'at' | 'above'

export interface SourceRow {
  address: string
  /** Unexpired contacts from this address, all AORs together. */
  contacts: number
  /** Distinct AORs with a contact (expired included) from this address. */
  aors: number
  /** Distinct endpoint fields. */
  endpoints: number
  /** The most unexpired contacts one AOR holds from this address. */
  maxPerAor: number
  /** That AOR (the first in code point order on a tie); null when contacts is 0. */
  busiestAor: string | null
  /** Unexpired contacts per user agent ('' when none was sent), most first. */
  userAgents: { userAgent: string; contacts: number }[]
  /** superseded + expired. */
  stale: number
  superseded: number
  expired: number
  /** The AORs with a contact from this address, code point order. */
  aorNames: string[]
  /** Against --per-ip-limit; null without one. */
  limitState: LimitState | null
}

interface Tally {
  contacts: number
  superseded: number
  expired: number
  aors: Map<string, number>
  endpoints: Set<string>
  userAgents: Map<string, number>
}

/**
 * One row per source address over the given AORs' contacts, busiest first; `by` node: one row per cluster
 * node that registered them (reg_server, '' for none) instead, how registrations spread over the nodes.
 */
export function sourcesOf(
  aors: readonly AorReport[],
  limit: PerIpLimit | null = null,
  by: 'address' | 'node' = 'address',
): SourceRow[] {
  const tallies = new Map<string, Tally>()
  for (const aor of aors) {
    for (const contact of aor.contacts) {
      const key = by === 'node' ? contact.regServer : contact.viaAddr
      let tally = tallies.get(key)
      if (tally === undefined) {
        tally = {
          contacts: 0,
          superseded: 0,
          expired: 0,
          aors: new Map(),
          endpoints: new Set(),
          userAgents: new Map(),
        }
        tallies.set(key, tally)
      }
      if (contact.endpoint !== '') tally.endpoints.add(contact.endpoint)
      const perAor = tally.aors.get(aor.aor) ?? 0
      if (contact.status === 'expired') {
        tally.expired++
        tally.aors.set(aor.aor, perAor)
        continue
      }
      if (contact.status === 'superseded') tally.superseded++
      tally.contacts++
      tally.aors.set(aor.aor, perAor + 1)
      tally.userAgents.set(contact.userAgent, (tally.userAgents.get(contact.userAgent) ?? 0) + 1)
    }
  }
  const rows: SourceRow[] = []
  for (const [address, tally] of tallies) {
    const aorNames = [...tally.aors.keys()].sort(compareCodepoints)
    let maxPerAor = 0
    let busiestAor: string | null = null
    for (const name of aorNames) {
      const n = tally.aors.get(name) ?? 0
      if (n > maxPerAor) {
        maxPerAor = n
        busiestAor = name
      }
    }
    const row: SourceRow = {
      address,
      contacts: tally.contacts,
      aors: aorNames.length,
      endpoints: tally.endpoints.size,
      maxPerAor,
      busiestAor,
      userAgents: [...tally.userAgents]
        .map(([userAgent, contacts]) => ({ userAgent, contacts }))
        .sort((a, b) => b.contacts - a.contacts || compareCodepoints(a.userAgent, b.userAgent)),
      stale: tally.superseded + tally.expired,
      superseded: tally.superseded,
      expired: tally.expired,
      aorNames,
      limitState: null,
    }
    row.limitState = limit === null ? null : limitStateOf(row, limit)
    rows.push(row)
  }
  return rows.sort(
    (a, b) =>
      b.contacts - a.contacts || b.stale - a.stale || compareCodepoints(a.address, b.address),
  )
}

/** The number the limit is compared with: all contacts from the address, or the busiest AOR's. */
export function limitedCount(row: SourceRow, limit: PerIpLimit): number {
  return limit.per === 'aor' ? row.maxPerAor : row.contacts
}

function limitStateOf(row: SourceRow, limit: PerIpLimit): LimitState {
  const n = limitedCount(row, limit)
  return n > limit.limit ? 'above' : n === limit.limit ? 'at' : 'below'
}

/** The addresses at or above the limit. */
export function atOrAboveLimit(rows: readonly SourceRow[]): SourceRow[] {
  return rows.filter((r) => r.limitState === 'at' || r.limitState === 'above')
}

/**
 * The rows a metrics exporter may publish: the `busiest` first ones plus every address at or
 * above the limit, in the rows' order (keeps label cardinality bounded on a 30,000-phone box).
 */
export function boundedSources(rows: readonly SourceRow[], busiest = 100): SourceRow[] {
  return rows.filter((r, i) => i < busiest || r.limitState === 'at' || r.limitState === 'above')
}

/** `203.0.113.7 (30 contacts over 10 AORs)` / per aor: `203.0.113.7 (12 on AOR ext1001)`. */
export function describeAgainstLimit(row: SourceRow, limit: PerIpLimit): string {
  const address = row.address || '-'
  return limit.per === 'aor'
    ? `${address} (${row.maxPerAor} on AOR ${row.busiestAor ?? '-'})`
    : `${address} (${row.contacts} contacts over ${row.aors} AORs)`
}
