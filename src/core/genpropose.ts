// pjctl gen --from-server: one AOR snippet proposed per AOR from what is registered
// on a live server (max_contacts from the devices seen, remove_existing=yes).

import type { GenEntry } from './genconf.js'
import type { AorReport } from './types.js'

/**
 * One proposal per AOR: max_contacts = the number of distinct devices (via
 * address + user agent) with a contact that has not expired, at least 1, and
 * never less than the AOR's current max_contacts (a second device that is
 * offline today would otherwise be evicted or flap); remove_existing=yes; a
 * note says what the AOR has now. Sorted by AOR name so that runs diff well.
 */
export function proposeFromReports(reports: AorReport[]): GenEntry[] {
  const sorted = [...reports].sort((a, b) => (a.aor < b.aor ? -1 : a.aor > b.aor ? 1 : 0))
  return sorted.map((r) => {
    const live = r.contacts.filter((c) => c.status !== 'expired')
    const devices = new Set(
      live.map((c) =>
        c.viaAddr || c.userAgent ? `${c.viaAddr}\u0000${c.userAgent}` : `uri\u0000${c.uri}`,
      ),
    )
    const expired = r.contacts.length - live.length
    const now =
      r.maxContacts === null
        ? 'max_contacts unknown'
        : `max_contacts=${r.maxContacts}${r.maxContactsSource !== 'none' ? ` (from ${r.maxContactsSource})` : ''}`
    const re =
      r.removeExisting === null ? '' : `, remove_existing=${r.removeExisting ? 'yes' : 'no'}`
    const counts = `${r.count} contact${r.count === 1 ? '' : 's'} (${live.length} current${expired ? `, ${expired} expired` : ''}${r.superseded ? `, ${r.superseded} superseded` : ''}) from ${devices.size} device${devices.size === 1 ? '' : 's'}`
    const current = r.maxContacts ?? 0
    const kept = current > Math.max(1, devices.size)
    return {
      name: r.aor,
      maxContacts: Math.max(1, devices.size, current),
      removeExisting: true,
      note: [
        `${r.aor}: now ${now}${re}; ${counts}${kept ? `; max_contacts stays ${current}: never lowered (a device offline now would lose its slot)` : ''}`,
      ],
    }
  })
}
