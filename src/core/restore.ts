// Restore's guard, pure: which AORs the contacts to be put back would push over max_contacts.
// Asterisk would hold them (astdb takes any row) and then refuse every new device of that AOR:
// a restore must not make the lockout it was meant to undo.

import { contactFromRow } from './contact.js'
import type { AorReport } from './types.js'

export interface OverLimit {
  aor: string
  /** Unexpired contacts after the restore. */
  count: number
  maxContacts: number
}

/**
 * The AORs whose unexpired contacts, with the `rows` put back (those not there now and not
 * expired), would exceed max_contacts. AORs whose limit is unknown are not judged.
 */
export function overLimitAfterRestore(
  reports: readonly AorReport[],
  rows: readonly { key: string; value: string }[],
  now: number,
): OverLimit[] {
  const byAor = new Map(reports.map((r) => [r.aor, r]))
  const added = new Map<string, number>()
  for (const row of rows) {
    const contact = contactFromRow(row.key, row.value)
    if (typeof contact === 'string') continue
    if (contact.expirationTime !== null && contact.expirationTime <= now) continue
    const report = byAor.get(contact.aor)
    if (report?.contacts.some((c) => c.key === row.key)) continue
    added.set(contact.aor, (added.get(contact.aor) ?? 0) + 1)
  }
  const over: OverLimit[] = []
  for (const [aor, n] of added) {
    const report = byAor.get(aor)
    const max = report?.maxContacts ?? null
    if (max === null || report?.removeExisting === true) continue
    const count = (report?.count ?? 0) + n
    if (count > max) over.push({ aor, count, maxContacts: max })
  }
  return over.sort((a, b) => (a.aor < b.aor ? -1 : a.aor > b.aor ? 1 : 0))
}
