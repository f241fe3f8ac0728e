// One status policy for check, doctor and the exporter (pjctl_check_status): how AOR severities,
// findings and unjudgeable AORs make a server's status, how statuses rank, and which AOR is a
// problem worth a look (contacts --problems, the exporter's --per-aor problems).

import type { AorState } from './types.js'

/** 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN: Nagios' order, and check's exit code. */
export type Status = 0 | 1 | 2 | 3

/** Worse is higher: UNKNOWN beats OK and WARNING; CRITICAL beats everything (a critical AOR somewhere is the news). */
const RANK: Readonly<Record<Status, number>> = { 0: 0, 1: 1, 3: 2, 2: 3 }

/** The worse of two statuses. */
function worse(a: Status, b: Status): Status {
  return RANK[b] > RANK[a] ? b : a
}

/** The worst of some statuses (OK for none). */
export function worstStatus(statuses: Iterable<Status>): Status {
  let worst: Status = 0
  for (const status of statuses) worst = worse(worst, status)
  return worst
}

/** What the policy needs of one AOR (a full report or the exporter's summary). */
export interface Judged {
  severity: 0 | 1 | 2
  state: AorState
  count: number
}

/** An AOR with contacts whose max_contacts is unknown cannot be judged. */
function unjudgeable(aor: Judged): boolean {
  return aor.state === 'unknown' && aor.count > 0
}

/** A server's status: the worst AOR severity or finding; an AOR that cannot be judged makes it at least UNKNOWN. */
export function serverStatus(
  aors: Iterable<Judged>,
  findings: Iterable<{ severity: 0 | 1 | 2 }> = [],
): Status {
  let status: Status = 0
  // once per AOR at 30,000 AORs: no array per comparison
  for (const aor of aors) {
    status = worse(status, aor.severity)
    if (unjudgeable(aor)) status = worse(status, 3)
  }
  for (const finding of findings) status = worse(status, finding.severity)
  return status
}

/** A doctor finding's severity as a status (info is OK). */
export function findingStatus(severity: 'critical' | 'warning' | 'info'): 0 | 1 | 2 {
  return severity === 'critical' ? 2 : severity === 'warning' ? 1 : 0
}

/**
 * An AOR worth a look: it pages (severity), holds stale contacts (expired, superseded, or
 * same-second duplicates of one device), is orphaned, or cannot be judged. `near` alone, or
 * full with healthy contacts where check does not page, is not one.
 */
export function isProblem(aor: Judged & { stale: number }): boolean {
  return aor.severity > 0 || aor.stale > 0 || aor.state === 'orphaned' || unjudgeable(aor)
}
