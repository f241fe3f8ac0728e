// What frees an AOR now, as data: the one answer that check, contacts, doctor and prune print as
// `pjctl prune …`, so every command pjctl suggests is one that fixes.
//
// - orphaned: `--orphaned`.
// - superseded or expired contacts, and no undecided duplicates: the default prune.
// - undecided duplicates: contacts of one device (same via address and user agent) that expire in
//   the same second, where nothing orders them (see core/classify.ts: qualify breaks such a tie
//   when one of them is reachable and the other is not). pjctl cannot tell which is stale, and
//   says so:
//   - the AOR is qualified: the default prune, which reads the contacts' qualify state and
//     breaks the tie with it (and, where it cannot, says so and names the keys, exit 1);
//   - not qualified: the exact `--key` of every duplicate beyond one per device (the one with the
//     smallest key stays). A phone refused while its old contacts fill the AOR registers from a
//     new address, so for it every old contact is stale: deleting any of them lets it in.

import { REACHABLE, compareCodepoints } from './classify.js'
import type { AorReport, ClassifiedContact } from './types.js'

export interface AorFix {
  aor: string
  /** Its contacts are orphaned: prune's orphaned criterion. */
  orphaned: boolean
  /** Hashes of the same-second duplicates to name (prune's key criterion), with the AOR's expired and superseded ones when it has any. */
  keys: string[]
  expired: boolean
  superseded: boolean
  /** Same-second duplicates that neither expiry nor (known) qualify state orders. */
  undecided: number
  /** Their tie is left to prune's own qualify read (the AOR is qualified). */
  byQualify: boolean
}

/** Who is the same device: via_addr and user_agent (as core/classify.ts). */
function deviceOf(contact: ClassifiedContact): string {
  return `${contact.viaAddr.length}:${contact.viaAddr}${contact.userAgent}`
}

/**
 * Unexpired, unsuperseded contacts of a device beyond its first (a reachable one, else the smallest key): same-second twins
 * that expiry and qualify could not order. Empty when there are none.
 */
export function undecidedDuplicates(aor: AorReport): ClassifiedContact[] {
  // stale = expired + superseded + these duplicates (core/classify.ts): most AORs have none
  if (aor.stale - aor.expired - aor.superseded <= 0) return []
  const seen = new Set<string>()
  const twins: ClassifiedContact[] = []
  // the one that stays: a reachable one first, then the smallest key
  const live = aor.contacts
    .filter((c) => c.status === 'active' && c.viaAddr !== '' && c.userAgent !== '')
    .sort(
      (a, b) => Number(isReachable(b)) - Number(isReachable(a)) || compareCodepoints(a.key, b.key),
    )
  for (const contact of live) {
    const device = deviceOf(contact)
    if (seen.has(device)) twins.push(contact)
    else seen.add(device)
  }
  return twins
}

/** Qualify says it answers (prune never deletes such a contact). */
export function isReachable(contact: ClassifiedContact): boolean {
  return contact.qualify !== null && REACHABLE.has(contact.qualify.trim().toLowerCase())
}

/** The AOR (or one of its contacts) is qualified: prune can read qualify state to break a tie. */
function isQualified(aor: AorReport): boolean {
  return (
    (aor.qualifyFrequency ?? 0) > 0 ||
    aor.contacts.some((c) => Number(c.fields.qualify_frequency ?? '0') > 0)
  )
}

/** What frees this AOR now, or null when nothing stale holds it (core/doctor.ts words it as a command). */
export function fixFor(aor: AorReport): AorFix | null {
  const fix: AorFix = {
    aor: aor.aor,
    orphaned: false,
    keys: [],
    expired: false,
    superseded: false,
    undecided: 0,
    byQualify: false,
  }
  if (aor.state === 'orphaned') return { ...fix, orphaned: true }
  const twins = undecidedDuplicates(aor)
  if (twins.length === 0) return aor.superseded || aor.expired ? fix : null
  if (isQualified(aor)) return { ...fix, undecided: twins.length, byQualify: true }
  return {
    ...fix,
    keys: twins.map((c) => c.hash),
    expired: aor.expired > 0,
    superseded: aor.superseded > 0,
    undecided: twins.length,
  }
}
