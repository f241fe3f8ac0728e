// sources: one row per source address (busiest first), or the JSON document; and the
// "addresses at or above --per-ip-limit" lines contacts and check add.

import type { PerIpLimit, SourceRow } from '../core/sources.js'
import { describeAgainstLimit, limitedCount } from '../core/sources.js'
import { isFailure, type SourcesData, type SourcesServer } from '../commands/views.js'
import { failureJson, failureLine } from './failure.js'
import { jsonPieces, lazyMap } from './json.js'
import { fittedTable, type FittedRow } from './fitted.js'
import { isoTime, paint, type Style } from './style.js'
import { printable } from '../text.js'

/** More addresses than this and the table shows the busiest (and every one at or above the limit). */
const MAX_ROWS = 200

export function sourcesTable(data: SourcesData, style: Style): string {
  const c = paint(style)
  const out: string[] = []
  for (const server of data.servers) {
    if (isFailure(server)) {
      out.push(failureLine(server, c), '')
      continue
    }
    if (data.fleet) out.push(c.bold(`== ${server.server} ==`))
    if (!server.rows.length) {
      out.push('No registered contacts.', '')
      continue
    }
    const shown = server.rows.filter(
      (r, i) => i < MAX_ROWS || r.limitState === 'at' || r.limitState === 'above',
    )
    const head = [
      data.by === 'node' ? 'NODE' : 'SOURCE',
      'CONTACTS',
      'AORS',
      'ENDPOINTS',
      'MAX/AOR',
      'STALE',
      'USER AGENTS',
    ]
    // the limit itself is in the lines under the table: the header stays narrow
    if (data.limit) head.push('LIMIT')
    const rows: FittedRow[] = shown.map((row) => {
      const raw = [
        printable(row.address || '-'),
        String(row.contacts),
        String(row.aors),
        String(row.endpoints),
        String(row.maxPerAor),
        String(row.stale),
        userAgentsCell(row),
        ...(data.limit ? [limitCell(row, paint({ color: false }))] : []),
      ]
      const cells = [...raw]
      if (row.stale) cells[5] = c.yellow(raw[5])
      if (data.limit) cells[7] = limitCell(row, c)
      return { raw, cells }
    })
    // the user agents give way first; off a terminal, tab-separated rows with every value whole
    out.push(fittedTable(head, rows, style, [6]))
    const contacts = server.rows.reduce((n, r) => n + r.contacts, 0)
    const hidden = server.rows.length - shown.length
    out.push(
      `${server.rows.length} ${data.by === 'node' ? 'node(s)' : 'source address(es)'}, ${contacts} unexpired contact(s)${hidden ? `; ${hidden} quieter address(es) not shown (--json lists all)` : ''}.`,
    )
    const flagged = server.rows.filter((r) => r.limitState === 'at' || r.limitState === 'above')
    if (data.limit) out.push(...limitLines(flagged, data.limit, style))
    out.push('')
  }
  return out.join('\n')
}

/** `Grandstream Wave 1.0.5.12 ×20, Zoiper rv2.10.20.4 ×10` (at most 3, then `+N more`). */
function userAgentsCell(row: SourceRow): string {
  const shown = row.userAgents
    .slice(0, 3)
    .map((u) => `${printable(u.userAgent || '(none)')} ×${u.contacts}`)
  if (row.userAgents.length > 3) shown.push(`+${row.userAgents.length - 3} more`)
  return shown.join(', ') || '-'
}

function limitCell(row: SourceRow, c: ReturnType<typeof paint>): string {
  if (row.limitState === 'above') return c.red.bold('ABOVE')
  if (row.limitState === 'at') return c.yellow('AT LIMIT')
  return ''
}

/** The addresses at or above --per-ip-limit, one line each (contacts and sources print these under their tables). */
export function limitLines(
  flagged: readonly SourceRow[],
  limit: PerIpLimit,
  style: Style,
  server: string | null = null,
): string[] {
  const c = paint(style)
  const scope = limit.per === 'aor' ? 'contacts per AOR from one address' : 'contacts per address'
  const where = server ? ` on ${server}` : ''
  if (!flagged.length)
    return [`No source address at or above --per-ip-limit ${limit.limit} (${scope})${where}.`]
  const lines = [
    c.bold(
      `${flagged.length} source address(es) at or above --per-ip-limit ${limit.limit} (${scope})${where}:`,
    ),
  ]
  for (const row of flagged) {
    const word = row.limitState === 'above' ? c.red('above') : c.yellow('at')
    lines.push(
      `  - ${printable(describeAgainstLimit(row, limit))}: ${word} the limit (${limitedCount(row, limit)}/${limit.limit})${row.stale ? `, ${row.stale} stale` : ''}`,
    )
  }
  return lines
}

export function sourceJson(
  row: SourceRow,
  withLimit: boolean,
  by: 'address' | 'node' = 'address',
): object {
  return {
    [by]: row.address,
    contacts: row.contacts,
    aors: row.aors,
    endpoints: row.endpoints,
    maxPerAor: row.maxPerAor,
    busiestAor: row.busiestAor,
    userAgents: row.userAgents,
    stale: row.stale,
    superseded: row.superseded,
    expired: row.expired,
    ...(withLimit ? { limitState: row.limitState } : {}),
  }
}

function serverJson(
  server: SourcesServer,
  limit: PerIpLimit | null,
  by: 'address' | 'node',
): object {
  return {
    server: server.server,
    ...(server.nodes ? { nodes: server.nodes } : {}),
    generatedAt: isoTime(server.generatedAt),
    source: server.source,
    ...(limit ? { perIpLimit: limit } : {}),
    sources: lazyMap(server.rows, (row) => sourceJson(row, limit !== null, by)),
  }
}

export function* sourcesJson(data: SourcesData, style: Style): Generator<string> {
  const docs = data.servers.map((s) =>
    isFailure(s) ? failureJson(s) : serverJson(s, data.limit, data.by ?? 'address'),
  )
  yield* jsonPieces(
    data.fleet ? { generatedAt: isoTime(data.generatedAt), servers: docs } : docs[0],
    style.indent === true,
  )
  yield '\n'
}
