// contacts: one table per AOR (header: count/max and state; a row per contact), or the JSON document.

import Table from 'cli-table3'
import type { AorReport, ClassifiedContact, ServerReport } from '../core/types.js'
import { isFailure, type ContactsData } from '../commands/views.js'
import { adviceBlocks } from './advice.js'
import { limitLines, sourceJson } from './sources.js'
import { failureJson, failureLine } from './failure.js'
import { BORDERLESS, FLEXIBLE, fitColumns } from './fitted.js'
import { jsonPieces, lazyMap, type Lazy } from './json.js'
import {
  duration,
  ellipsis,
  isoTime,
  paint,
  stateColor,
  textWidth,
  wrap,
  type Style,
} from './style.js'
import { fixFor, undecidedDuplicates } from '../core/fix.js'
import { fixCommand, fixWhy } from '../core/doctor.js'
import { printable } from '../text.js'

export function contactsTable(data: ContactsData, style: Style): string | Iterable<string> {
  if (style.plain) return contactsPlain(data)
  const c = paint(style)
  const out: string[] = []
  for (const server of data.servers) {
    if (isFailure(server)) {
      out.push(failureLine(server, c), '')
      continue
    }
    if (data.fleet) out.push(c.bold(`== ${server.server} ==`))
    if (!server.aors.length) out.push('No AORs and no registered contacts.', '')
    // cli-table3 costs time per table: on a big PBX show the first AORs that need attention.
    const shown =
      server.aors.length > MAX_TABLES
        ? server.aors.filter(needsAttention).slice(0, MAX_TABLES)
        : server.aors
    const hint = unknownLimitHint(server)
    for (const aor of shown)
      out.push(aorHeader(aor, style, hint), contactRows(aor, style), ...fixLines(aor, style), '')
    const hidden = server.aors.length - shown.length
    if (hidden)
      out.push(
        `${hidden} of ${server.aors.length} AORs not shown (the table shows at most ${MAX_TABLES}, those needing attention first); name them, or use --json for every AOR.`,
        '',
      )
  }
  if (data.limit && data.sources) {
    for (const { server, rows } of data.sources)
      out.push(...limitLines(rows, data.limit, style, data.fleet ? server : null), '')
  }
  out.push(...adviceBlocks(data.advice, data.fleet, style))
  return out.join('\n')
}

/** More AORs than this, and only those that need attention get a table. */
const MAX_TABLES = 1000

function needsAttention(aor: AorReport): boolean {
  return aor.state !== 'ok' || aor.superseded > 0 || aor.expired > 0
}

/** Why an AOR's max_contacts is unknown on this server, in words that name the real cause. */
function unknownLimitHint(report: ServerReport): string {
  const note = report.limits?.note
  return note
    ? `${printable(note)}; pass --pjsip-conf or --max-contacts`
    : 'pass --pjsip-conf or --max-contacts'
}

function aorHeader(aor: AorReport, style: Style, unknownHint: string): string {
  const c = paint(style)
  const max = aor.maxContacts === null ? '?' : String(aor.maxContacts)
  const limit =
    aor.state === 'orphaned'
      ? 'AOR not configured: orphaned contacts, pjctl prune removes them'
      : aor.maxContacts === null
        ? `max_contacts unknown: ${unknownHint}`
        : `max_contacts ${max} from ${aor.maxContactsSource}`
  const extras = [
    `endpoint ${aor.endpoints.join(', ') || '-'}`,
    limit,
    aor.removeExisting === true
      ? 'remove_existing=yes'
      : aor.removeExisting === false
        ? 'remove_existing=no'
        : null,
    aor.expired ? `${aor.expired} expired` : null,
  ]
    .filter(Boolean)
    .join('; ')
  const name = `AOR ${printable(aor.aor)}`
  const count = `${aor.count}/${max}`
  const state = aor.state.toUpperCase()
  // the header fits the terminal too: the details in parentheses give way first
  const room =
    style.width === undefined
      ? Infinity
      : style.width - textWidth(`${name}  ${count}  ${state}  ()`)
  const details = room >= 8 ? `  (${ellipsis(printable(extras), room)})` : ''
  const head =
    room >= 8 || style.width === undefined
      ? name
      : ellipsis(name, Math.max(style.width - textWidth(`  ${count}  ${state}`), 4))
  return `${c.bold(head)}  ${count}  ${stateColor(c, aor.state, state)}${details}`
}

const CONTACT_HEAD = ['KEY', 'URI', 'SOURCE', 'USER AGENT', 'EXPIRES', 'STATUS']

function contactRows(aor: AorReport, style: Style): string {
  const c = paint(style)
  if (!aor.contacts.length) return '  (no contacts registered)'
  const twins = new Set(undecidedDuplicates(aor).map((t) => t.key))
  // a cluster (nodes with a systemname): the node that registered each contact, last
  const heads = aor.contacts.some((contact) => contact.regServer)
    ? [...CONTACT_HEAD, 'NODE']
    : CONTACT_HEAD
  const rows = aor.contacts.map((contact) => [
    contact.hash.slice(0, 8),
    printable(contact.uri),
    printable(`${contact.viaAddr}:${contact.viaPort ?? '?'}`),
    printable(contact.userAgent),
    duration(contact.expiresIn),
    statusText(contact, true, twins.has(contact.key)),
    ...(heads.length > CONTACT_HEAD.length ? [printable(contact.regServer || '-')] : []),
  ])
  let widths = fitColumns(
    heads.map((h, i) => Math.max(textWidth(h), ...rows.map((r) => textWidth(r[i] ?? '')))),
    style.width,
  )
  // URI or USER AGENT cut short: `superseded` without `by <hash>` gives them room (the newer
  // contact's key is on its own row, and the JSON has supersededBy)
  const natural = heads.map((h, i) =>
    Math.max(textWidth(h), ...rows.map((r) => textWidth(r[i] ?? ''))),
  )
  if (
    FLEXIBLE.some((i) => (widths[i] ?? 0) < (natural[i] ?? 0)) &&
    aor.contacts.some((contact) => contact.status === 'superseded')
  ) {
    for (const [i, contact] of aor.contacts.entries()) {
      const row = rows[i]
      if (row) row[5] = statusText(contact, false, twins.has(contact.key))
    }
    widths = fitColumns(
      heads.map((h, i) => Math.max(textWidth(h), ...rows.map((r) => textWidth(r[i] ?? '')))),
      style.width,
    )
  }
  const table = new Table({
    head: heads,
    chars: BORDERLESS,
    colWidths: widths,
    style: { head: style.color ? ['cyan'] : [], border: [], 'padding-left': 0, 'padding-right': 0 },
    wordWrap: false,
  })
  for (const [i, row] of rows.entries()) {
    const status = aor.contacts[i]?.status ?? 'expired'
    table.push([...row.slice(0, 5), stateColor(c, status, row[5] ?? ''), ...row.slice(6)])
  }
  return table
    .toString()
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')
}

/**
 * Not a terminal: one tab-separated row per contact, each carrying its AOR (and server), so
 * `pjctl contacts | grep superseded` keeps the context: [server] aor, count/max, state, key
 * hash, status, expires in, source, user agent, uri. No colour, no boxes, no advice.
 */
function* contactsPlain(data: ContactsData): Generator<string> {
  for (const server of data.servers) {
    if (isFailure(server)) continue
    let batch = ''
    for (const aor of server.aors) {
      const head = `${data.fleet ? `${printable(server.server)}\t` : ''}${printable(aor.aor)}\t${aor.count}/${aor.maxContacts ?? '?'}\t${aor.state}`
      const twins = new Set(undecidedDuplicates(aor).map((t) => t.key))
      for (const contact of aor.contacts) {
        batch += `${head}\t${contact.hash}\t${statusText(contact, true, twins.has(contact.key))}\t${duration(contact.expiresIn)}\t${printable(`${contact.viaAddr}:${contact.viaPort ?? '?'}`)}\t${printable(contact.userAgent)}\t${printable(contact.uri)}${contact.regServer ? `\t${printable(contact.regServer)}` : ''}\n`
      }
      if (batch.length >= 1 << 16) {
        yield batch
        batch = ''
      }
    }
    if (batch) yield batch
  }
}

/**
 * Under an AOR that pages (check's WARNING or CRITICAL), what frees it now: the command that
 * check prints, whole on its line, and why it takes keys (same-second duplicates), wrapped.
 */
function fixLines(aor: AorReport, style: Style): string[] {
  const fix = aor.severity > 0 ? fixFor(aor) : null
  if (!fix) return []
  const why = fixWhy(fix)
  return [
    ...wrap(`  Free it now: ${printable(fixCommand(fix))}`, style.width, '    '),
    ...(why ? wrap(`    (${why})`, style.width, '     ') : []),
  ]
}

function statusText(contact: ClassifiedContact, by = true, twin = false): string {
  const superseded =
    by && contact.status === 'superseded' && contact.supersededBy
      ? ` by ${contact.supersededBy.split(';@')[1]?.slice(0, 8) ?? ''}`
      : ''
  const qualify =
    contact.qualify && contact.qualify !== 'NonQualified' ? ` (${contact.qualify})` : ''
  // same-second duplicate of its device that nothing orders (core/fix.ts)
  const status = twin && contact.status === 'active' ? 'duplicate' : contact.status
  return `${status}${superseded}${qualify}`
}

export function* contactsJson(data: ContactsData, style: Style): Generator<string> {
  yield* jsonPieces(contactsDoc(data, style), style.indent === true)
  yield '\n'
}

/** The document `contactsJson` writes: each server's AORs a Lazy array, made as they are written. */
export function contactsDoc(data: ContactsData, style: Style): unknown {
  const docs = data.servers.map((server) => {
    if (isFailure(server)) return failureJson(server)
    const doc = serverJson(server, style.raw === true)
    if (!data.limit) return doc
    const rows = data.sources?.find((s) => s.server === server.server)?.rows ?? []
    return {
      ...doc,
      perIpLimit: data.limit,
      sourcesAtOrAboveLimit: rows.map((r) => sourceJson(r, true)),
    }
  })
  return data.fleet ? { generatedAt: isoTime(data.generatedAt), servers: docs } : docs[0]
}

function serverJson(report: ServerReport, raw = false): object {
  return {
    server: report.server,
    ...(report.nodes ? { nodes: report.nodes } : {}),
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
    stale: aor.stale,
    contacts: aor.contacts.map(raw ? contactJsonRaw : contactJson),
  }))
}

/** One contact as `contacts --json` writes it (built field by field: an object spread per contact,
 *  100,000 of them at 33k/100k, ran cold). */
function contactJson(contact: ClassifiedContact): ContactJson {
  return {
    key: contact.key,
    hash: contact.hash,
    uri: contact.uri,
    viaAddr: contact.viaAddr,
    viaPort: contact.viaPort,
    userAgent: contact.userAgent,
    endpoint: contact.endpoint,
    node: contact.regServer,
    expirationTime: contact.expirationTime,
    expiresIn: contact.expiresIn,
    status: contact.status,
    supersededBy: contact.supersededBy,
    qualify: contact.qualify,
  }
}

/** contactJson and, last, the raw stored fields (--raw). */
function contactJsonRaw(contact: ClassifiedContact): ContactJson {
  return { ...contactJson(contact), fields: contact.fields }
}

type ContactJson = Record<string, string | number | null | Record<string, string>>
