// The UserEvent that prune and restore send, and that the exporter reads back: one format, one place.
//
//   Action: UserEvent
//   UserEvent: pjctl
//   Change: deleted | expired | restored
//   Family: registrar/contact
//   Keys: N
//   Key1: <aor>;@<hash>
//   ...
//   KeyN: <aor>;@<hash>
//
// Numbered headers, not N `Key:` lines: asterisk-manager writes one header per name (and sorts them).
// Asterisk keeps at most 128 headers of an action (AST_MAX_MANHEADERS), hence batches of 100 keys.

export const ANNOUNCE_EVENT = 'pjctl'
export const ANNOUNCE_BATCH = 100

/** deleted: DBDel; expired: DBPut with expiration_time "1" (prune --via expire); restored: DBPut of a backed-up value. */
export type AnnouncedChange = 'deleted' | 'expired' | 'restored'

const CHANGES: readonly string[] = ['deleted', 'expired', 'restored']

export function announceHeaders(
  change: AnnouncedChange,
  family: string,
  keys: readonly string[],
): Record<string, string> {
  const headers: Record<string, string> = {
    Change: change,
    Family: family,
    Keys: String(keys.length),
  }
  keys.forEach((key, i) => (headers[`Key${i + 1}`] = key))
  return headers
}

export interface Announcement {
  change: AnnouncedChange
  family: string
  keys: string[]
  /** False when fewer keys arrived than `Keys:` said (the receiver cannot trust it and should re-read). */
  complete: boolean
}

/** A received `Event: UserEvent` (header lookup function) → the announcement, or null when it is not pjctl's. */
export function parseAnnouncement(get: (name: string) => string | undefined): Announcement | null {
  if (get('Event') !== 'UserEvent' || get('UserEvent')?.toLowerCase() !== ANNOUNCE_EVENT)
    return null
  const change = get('Change') ?? ''
  const declared = Number(get('Keys'))
  if (!CHANGES.includes(change)) return null
  const keys: string[] = []
  for (let i = 1; ; i++) {
    const key = get(`Key${i}`)
    if (key === undefined) break
    keys.push(key)
  }
  return {
    change: change as AnnouncedChange,
    family: get('Family') ?? '',
    keys,
    complete: Number.isInteger(declared) && declared === keys.length,
  }
}
