// pjctl watch: one record per refused registration. Table: a head line (time, server, endpoint/AOR,
// refused address, reason), then for max_contacts the AOR's contacts, which are stale and why, and the
// prune command that frees the slot. JSON: the record on one line (for log shippers).

import type { WatchRecord } from '../commands/views.js'
import { printable } from '../text.js'
import { paint, type Style } from './style.js'

export function refusalTable(record: WatchRecord, style: Style): string {
  const c = paint(style)
  const p = (text: string, max = 120): string => printable(text, max)
  const who =
    record.aor && record.aor !== record.endpoint
      ? `${record.endpoint}/${record.aor}`
      : record.endpoint
  const refused = record.refused
  const count = refused ? ` (${refused.count}/${refused.maxContacts ?? '?'})` : ''
  const lines = [
    `${record.time} ${p(record.server)} ${c.bold(p(who || '?'))} refused ${p(record.address)}: ${c.red(record.reason)}${count}${record.detail && record.reason === 'other' ? ` (${p(record.detail)})` : ''}`,
  ]
  if (record.readError) lines.push(`  could not read the AOR: ${p(record.readError)}`)
  if (refused) {
    for (const contact of refused.contacts) {
      const expires = contact.expiresIn === null ? '?' : `${Math.round(contact.expiresIn / 60)}m`
      const state = contact.stale ? c.yellow(`stale: ${contact.stale}`) : contact.status
      lines.push(
        `  ${contact.key.slice(contact.key.lastIndexOf(';@') + 2, contact.key.lastIndexOf(';@') + 10)}  ${p(contact.source, 60)}  ${p(contact.userAgent, 40)}  expires ${expires}${contact.qualify && contact.qualify !== 'NonQualified' ? `  ${p(contact.qualify, 20)}` : ''}  ${state}`,
      )
    }
    if (refused.pruneCommand)
      lines.push(
        `  ${refused.fallback ? 'no contact is stale; to free the slot anyway (the soonest to expire)' : 'free the slot'}: ${c.cyan(p(refused.pruneCommand, 400))}`,
      )
  }
  if (record.heal) {
    const h = record.heal
    lines.push(
      `  heal: ${h.result}${h.removed.length ? `: removed ${h.removed.map((k) => p(k)).join(', ')}, backup ${p(h.backupFile ?? '')}` : ''}${h.detail ? ` (${p(h.detail, 300)})` : ''}`,
    )
  }
  return `${lines.join('\n')}\n`
}

export function refusalJson(record: WatchRecord): string {
  return `${JSON.stringify(record)}\n`
}
