// contacts: one table per AOR (header: count/max and state; a row per contact), or the JSON document.

import Table from 'cli-table3'
import type { AorReport, ClassifiedContact, ServerReport } from '../core/types.js'
import type { ContactsData, ServerFailure } from '../commands/views.js'
import { adviceLines, adviceSummary } from './advice.js'
import { limitLines, sourceJson } from './sources.js'
import { jsonPieces, lazyMap, type Lazy } from './json.js'
import { duration, isoTime, paint, stateColor, type Style } from './style.js'
import { printable } from '../text.js'

export function contactsTable(data: ContactsData, style: Style): string {
  const c = paint(style)
  const out: string[] = []
  for (const server of data.servers) {
    if (isFailure(server)) {
      out.push(c.red(`${printable(server.server)}: could not read: ${printable(server.message)}`), '')
      continue
    }
    if (data.fleet) out.push(c.bold(`== ${server.server} ==`))
    if (!server.aors.length) out.push('No AORs and no registered contacts.', '')
    // cli-table3 needs ~0.4 ms a table: on a big PBX show the first AORs that need attention.
    const shown = server.aors.length > MAX_TABLES ? server.aors.filter(needsAttention).slice(0, MAX_TABLES) : server.aors
    const hint = unknownLimitHint(server)
    for (const aor of shown) out.push(aorHeader(aor, style, hint), contactRows(aor, style), '')
    const hidden = server.aors.length - shown.length
    if (hidden) out.push(`${hidden} of ${server.aors.length} AORs not shown (the table shows at most ${MAX_TABLES}, those needing attention first); name them, or use --json for every AOR.`, '')
  }
  if (data.limit && data.sources) {
    for (const { server, rows } of data.sources) out.push(...limitLines(rows, data.limit, style, data.fleet ? server : null), '')
  }
  if (data.advice.length > MAX_ADVICE) out.push(...adviceSummary(data.advice.map((a) => a.advice), style), '')
  else for (const { server, advice } of data.advice) out.push(...adviceLines(advice, data.fleet ? server : null, style), '')
  return out.join('\n')
}

/** More AORs than this, and only those that need attention get a table. */
const MAX_TABLES = 1000
/** More AORs needing advice than this, and the advice is summarised. */
const MAX_ADVICE = 20

function needsAttention(aor: AorReport): boolean {
  return aor.state !== 'ok' || aor.superseded > 0 || aor.expired > 0
}

/** Why an AOR's max_contacts is unknown on this server, in words that name the real cause. */
export function unknownLimitHint(report: ServerReport): string {
  const note = report.limits?.note
  return note ? `${printable(note)}; pass --pjsip-conf or --max-contacts` : 'pass --pjsip-conf or --max-contacts'
}

function aorHeader(aor: AorReport, style: Style, unknownHint: string): string {
  const c = paint(style)
  const max = aor.maxContacts === null ? '?' : String(aor.maxContacts)
  const limit = aor.state === 'orphaned'
    ? 'AOR not configured: orphaned contacts, pjctl prune removes them'
    : aor.maxContacts === null ? `max_contacts unknown: ${unknownHint}` : `max_contacts ${max} from ${aor.maxContactsSource}`
  const extras = [
    `endpoint ${aor.endpoints.join(', ') || '-'}`,
    limit,
    aor.removeExisting === true ? 'remove_existing=yes' : aor.removeExisting === false ? 'remove_existing=no' : null,
    aor.expired ? `${aor.expired} expired` : null,
  ].filter(Boolean)
  return `${c.bold(`AOR ${printable(aor.aor)}`)}  ${aor.count}/${max}  ${stateColor(c, aor.state, aor.state.toUpperCase())}  (${extras.join('; ')})`
}

function contactRows(aor: AorReport, style: Style): string {
  const c = paint(style)
  if (!aor.contacts.length) return '  (no contacts registered)'
  const table = new Table({
    head: ['KEY', 'URI', 'SOURCE', 'USER AGENT', 'EXPIRES IN', 'STATUS'],
    style: { head: style.color ? ['cyan'] : [], border: style.color ? ['gray'] : [] },
    wordWrap: false,
  })
  for (const contact of aor.contacts) {
    table.push([
      contact.hash.slice(0, 8),
      printable(contact.uri),
      printable(`${contact.viaAddr}:${contact.viaPort ?? '?'}`),
      printable(contact.userAgent),
      duration(contact.expiresIn),
      stateColor(c, contact.status, statusText(contact)),
    ])
  }
  return table.toString()
}

function statusText(contact: ClassifiedContact): string {
  const superseded = contact.status === 'superseded' && contact.supersededBy ? ` by ${contact.supersededBy.split(';@')[1]?.slice(0, 8) ?? ''}` : ''
  const qualify = contact.qualify && contact.qualify !== 'NonQualified' ? ` (${contact.qualify})` : ''
  return `${contact.status}${superseded}${qualify}`
}

export function* contactsJson(data: ContactsData, style: Style): Generator<string> {
  const docs = data.servers.map((server) => {
    if (isFailure(server)) return failureJson(server)
    const doc = serverJson(server, style.raw === true)
    if (!data.limit) return doc
    const rows = data.sources?.find((s) => s.server === server.server)?.rows ?? []
    return { ...doc, perIpLimit: data.limit, sourcesAtOrAboveLimit: rows.map((r) => sourceJson(r, true)) }
  })
  yield* jsonPieces(data.fleet ? { generatedAt: isoTime(data.generatedAt), servers: docs } : docs[0], style.indent === true)
  yield '\n'
}

export function serverJson(report: ServerReport, raw = false): object {
  return {
    server: report.server,
    generatedAt: isoTime(report.generatedAt),
    source: report.source,
    limits: report.limits ?? null,
    aors: aorsJson(report.aors, raw),
    problems: report.problems,
  }
}

/** The AORs of a report as JSON objects, made one at a time as they are written. The raw stored
 *  fields of each contact (which roughly double the output) only with `raw` (--raw). */
export function aorsJson(aors: AorReport[], raw = false): Lazy<object> {
  return lazyMap(aors, (aor) => ({
      aor: aor.aor,
      endpoints: aor.endpoints,
      maxContacts: aor.maxContacts,
      maxContactsSource: aor.maxContactsSource,
      removeExisting: aor.removeExisting,
      count: aor.count,
      state: aor.state,
      severity: aor.severity,
      contacts: aor.contacts.map((contact) => ({
        key: contact.key,
        hash: contact.hash,
        uri: contact.uri,
        viaAddr: contact.viaAddr,
        viaPort: contact.viaPort,
        userAgent: contact.userAgent,
        endpoint: contact.endpoint,
        expirationTime: contact.expirationTime,
        expiresIn: contact.expiresIn,
        status: contact.status,
        supersededBy: contact.supersededBy,
        qualify: contact.qualify,
        ...(raw ? { fields: contact.fields } : {}),
      })),
  }))
}

export function failureJson(failure: ServerFailure): object {
  return { server: failure.server, error: failure.message, hint: failure.hint ?? null, exitCode: failure.exit }
}

export function isFailure(value: ServerReport | ServerFailure): value is ServerFailure {
  return 'message' in value
}
