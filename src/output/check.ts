// check: Nagios plugin output, JSON, or Prometheus text exposition (node_exporter textfile collector).

import type { AorReport } from '../core/types.js'
import { fixFor } from '../core/fix.js'
import { fixCommand, fixWhy } from '../core/doctor.js'
import type { CheckData, CheckServer, CheckStatus } from '../commands/views.js'
import { boundedSources } from '../core/sources.js'
import { aorsJson } from './contacts.js'
import { failureJson } from './failure.js'
import { sourceJson } from './sources.js'
import { jsonPieces } from './json.js'
import { isoTime, type Style } from './style.js'
import { printable } from '../text.js'
import { AOR_FAMILIES, SERVER_FAMILIES, labelValue } from '../exporter/exposition.js'

const STATUS_WORD: Record<CheckStatus, string> = {
  0: 'OK',
  1: 'WARNING',
  2: 'CRITICAL',
  3: 'UNKNOWN',
}

/** At most this many AOR and finding lines in the long output without -v. */
const LONG_OUTPUT_LINES = 20

type Why = 'lockout' | 'crit' | 'full' | 'orphaned' | 'warn'

/** Why an AOR is not OK, in the words of the status line. */
const WHY: Record<Why, string> = {
  lockout: 'locked out (full, holding stale contacts)',
  crit: 'at or past --crit',
  full: 'full without remove_existing',
  orphaned: 'with orphaned contacts (AOR not configured)',
  warn: 'at or past --warn',
}

function whyOf(aor: AorReport): Why {
  const atLimit = aor.state === 'full' || aor.state === 'over'
  if (aor.severity === 2) return atLimit && aor.stale > 0 ? 'lockout' : 'crit'
  if (aor.state === 'orphaned') return 'orphaned'
  return atLimit ? 'full' : 'warn'
}

/** Nagios splits plugin output at the first `|`: no text may carry one (nor a control character). */
function nagiosText(text: string): string {
  return printable(text).replace(/\|/g, '\\x7c')
}

/** A perfdata label: quoted, `'` doubled, and no `=`, `|` or control character (plugin guidelines). */
function perfLabel(label: string): string {
  return `'${printable(label).replace(/[=|]/g, '_').replace(/'/g, "''")}'`
}

/** `'label'=value;warn;crit;min;max`, trailing empty fields left out. */
function perf(
  label: string,
  value: number,
  warn = '',
  crit = '',
  min: number | '' = 0,
  max: number | '' = '',
): string {
  return `${perfLabel(label)}=${[value, warn, crit, min, max].join(';').replace(/;+$/, '')}`
}

export function checkNagios(data: CheckData): string {
  const alone = !data.fleet && data.servers.length === 1 ? data.servers[0]?.failure : undefined
  if (alone) return `PJCTL UNKNOWN - ${nagiosText(alone.message)}\n`
  const aors = data.servers.flatMap((s) =>
    s.report ? s.report.aors.map((aor) => ({ server: s.server, aor })) : [],
  )
  const findings = data.servers.flatMap((s) =>
    s.findings.map((finding) => ({ server: s.server, finding })),
  )
  const where = (server: string): string => (data.fleet ? `${server}/` : '')
  const name = (a: { server: string; aor: AorReport }): string =>
    `${where(a.server)}${a.aor.aor} (${a.aor.count}/${a.aor.maxContacts ?? '?'} ${a.aor.state}${staleText(a.aor)})`
  const paged = aors
    .filter((a) => a.aor.severity > 0)
    .sort((a, b) => b.aor.severity - a.aor.severity)
  const unknown = data.servers.filter((s) => s.failure)
  const parts: string[] = []
  // each paged AOR under its why, in paged order, the whys in WHY's order
  const byWhy = new Map<Why, typeof paged>(Object.keys(WHY).map((why) => [why as Why, []]))
  for (const a of paged) byWhy.get(whyOf(a.aor))?.push(a)
  for (const [why, these] of byWhy) {
    if (these.length) parts.push(`${these.length} AOR(s) ${WHY[why]}: ${list(these, name)}`)
  }
  for (const group of [...new Set(findings.map((f) => f.finding.group))]) {
    const these = findings.filter((f) => f.finding.group === group)
    parts.push(
      `${these.length} ${group}: ${list(these, (f) => `${where(f.server)}${f.finding.subject}`)}`,
    )
  }
  if (unknown.length)
    parts.push(`${unknown.length} server(s) unreadable: ${unknown.map((s) => s.server).join(', ')}`)
  const unjudged = aors.filter((a) => a.aor.state === 'unknown' && a.aor.count > 0)
  if (unjudged.length) {
    const notes = [
      ...new Set(
        data.servers.flatMap((s) => (s.report?.limits?.note ? [s.report.limits.note] : [])),
      ),
    ]
    const why = notes.length
      ? `${notes.join('; ')}; pass --pjsip-conf/--max-contacts`
      : 'give the AMI user write=config or system, or pass --pjsip-conf/--max-contacts'
    parts.push(
      `${unjudged.length} AOR(s) with unknown max_contacts (${why}): ${list(unjudged, name)}`,
    )
  }
  const contacts = aors.reduce((n, a) => n + a.aor.count, 0)
  if (!parts.length)
    parts.push(
      okText(
        aors.map((a) => a.aor),
        contacts,
      ),
    )
  const count = (pick: (aor: AorReport) => boolean): number =>
    aors.reduce((n, a) => n + (pick(a.aor) ? 1 : 0), 0)
  const sum = (pick: (aor: AorReport) => number): number =>
    aors.reduce((n, a) => n + pick(a.aor), 0)
  const perfdata = [
    perf('aors', aors.length),
    perf('contacts', contacts),
    perf(
      'critical',
      count((a) => a.severity === 2),
      '',
      '0',
      0,
      aors.length,
    ),
    perf(
      'warning',
      count((a) => a.severity === 1),
      '0',
      '',
      0,
      aors.length,
    ),
    perf(
      'full',
      count((a) => a.state === 'full' || a.state === 'over'),
      '',
      '',
      0,
      aors.length,
    ),
    perf(
      'near',
      count((a) => a.state === 'near'),
      '',
      '',
      0,
      aors.length,
    ),
    perf(
      'superseded',
      sum((a) => a.superseded),
    ),
    perf(
      'expired',
      sum((a) => a.expired),
    ),
    perf(
      'parse_errors',
      data.servers.reduce((n, s) => n + (s.report?.problems.length ?? 0), 0),
      '0',
    ),
    perf('servers_unreadable', unknown.length, '', '0', 0, data.servers.length),
    ...(data.limit
      ? [
          perf(
            'sources_at_limit',
            findings.filter((f) => f.finding.kind === 'per-ip-limit' && f.finding.severity === 1)
              .length,
            '0',
          ),
          perf(
            'sources_above_limit',
            findings.filter((f) => f.finding.kind === 'per-ip-limit' && f.finding.severity === 2)
              .length,
            '',
            '0',
          ),
        ]
      : []),
    ...(data.fleet
      ? data.servers.map((s) => perf(`${s.server} status`, s.status, '1', '2', 0, 3))
      : []),
  ]
  const long: string[] = []
  for (const s of unknown) if (s.failure) long.push(`${s.server}: UNKNOWN - ${s.failure.message}`)
  // the lines of every paged AOR, then of every finding; only the ones shown are written out
  const details = paged.length + findings.length
  const shown = data.verbose ? details : Math.min(details, LONG_OUTPUT_LINES)
  for (let i = 0; i < shown; i++) {
    const a = paged[i]
    const f = findings[i - paged.length]
    if (a)
      long.push(
        `${STATUS_WORD[a.aor.severity]}: ${name(a)}${fixOf(a.aor, data.fleet ? a.server : '')}`,
      )
    else if (f)
      long.push(
        `${STATUS_WORD[f.finding.severity]}: ${where(f.server)}${f.finding.line ?? f.finding.subject}`,
      )
  }
  if (shown < details) long.push(`and ${details - shown} more (pjctl check -v lists them all)`)
  if (data.fleet)
    for (const s of data.servers) long.push(`server ${s.server}: ${STATUS_WORD[s.status]}`)
  const first = `PJCTL ${STATUS_WORD[data.status]} - ${nagiosText(parts.join('; '))} | ${perfdata.join(' ')}`
  return [first, ...long.map(nagiosText)].join('\n') + '\n'
}

/** `, 1 superseded`, `, 1 duplicate from the same device`: what the AOR holds that a device left behind. */
function staleText(aor: AorReport): string {
  const twins = aor.stale - aor.superseded - aor.expired
  const parts = [
    aor.superseded ? `${aor.superseded} superseded` : '',
    aor.expired ? `${aor.expired} expired` : '',
    twins > 0 ? `${twins} duplicate${twins > 1 ? 's' : ''} from the same device` : '',
  ]
  return parts
    .filter(Boolean)
    .map((p) => `, ${p}`)
    .join('')
}

/** What frees the slot now (core/fix.ts: the one fix every command prints). */
function fixOf(aor: AorReport, server: string): string {
  const fix = fixFor(aor)
  if (!fix) return ''
  const why = fixWhy(fix)
  return ` - ${fixCommand(fix, server || undefined)}${why ? ` (${why})` : ''}`
}

/** OK: say what was judged and why the full or near ones are not a risk. */
function okText(aors: AorReport[], contacts: number): string {
  const notes: string[] = []
  const full = aors.filter((a) => a.state === 'full' || a.state === 'over')
  const replacing = full.filter((a) => a.removeExisting === true).length
  const single = full.length - replacing
  const near = aors.filter((a) => a.state === 'near').length
  if (replacing) notes.push(`${replacing} full with remove_existing=yes`)
  if (single) notes.push(`${single} full with one healthy contact`)
  if (near) notes.push(`${near} near max_contacts`)
  return `${aors.length} AOR(s), ${contacts} contact(s), no lockout${notes.length ? ` (${notes.join(', ')})` : ''}`
}

export function* checkJson(data: CheckData, style: Style): Generator<string> {
  const server = (s: CheckServer): object => ({
    server: s.server,
    ...(s.report?.nodes ? { nodes: s.report.nodes } : {}),
    status: s.status,
    statusText: STATUS_WORD[s.status],
    ...(s.report
      ? {
          aors: aorsJson(s.report.aors, style.raw === true),
          parseErrors: s.report.problems.length,
          findings: s.findings,
        }
      : s.failure
        ? failureJson(s.failure)
        : {}),
    ...(data.limit && s.sources
      ? {
          sourcesAtOrAboveLimit: s.sources
            .filter((r) => r.limitState === 'at' || r.limitState === 'above')
            .map((r) => sourceJson(r, true)),
        }
      : {}),
  })
  yield* jsonPieces(
    {
      generatedAt: isoTime(data.generatedAt),
      status: data.status,
      statusText: STATUS_WORD[data.status],
      thresholds: data.thresholds,
      ...(data.limit ? { perIpLimit: data.limit } : {}),
      servers: data.servers.map(server),
    },
    style.indent === true,
  )
  yield '\n'
}

export function checkPrometheus(data: CheckData): string {
  const metric = (
    name: string,
    help: string,
    rows: [Record<string, string>, number][],
  ): string[] => [
    `# HELP ${name} ${help}`,
    `# TYPE ${name} gauge`,
    ...rows.map(
      ([labels, value]) =>
        `${name}{${Object.entries(labels)
          .map(([k, v]) => `${k}="${labelValue(v)}"`)
          .join(',')}} ${value}`,
    ),
  ]
  const perAor = (pick: (aor: AorReport) => number | null): [Record<string, string>, number][] =>
    data.servers.flatMap((s) =>
      (s.report?.aors ?? []).flatMap((aor) => {
        const value = pick(aor)
        return value === null
          ? []
          : [[{ server: s.server, aor: aor.aor }, value] as [Record<string, string>, number]]
      }),
    )
  return (
    [
      ...metric(
        AOR_FAMILIES.contacts.name,
        AOR_FAMILIES.contacts.help,
        perAor((a) => a.count),
      ),
      ...metric(
        AOR_FAMILIES.maxContacts.name,
        AOR_FAMILIES.maxContacts.help,
        perAor((a) => a.maxContacts),
      ),
      ...metric(
        AOR_FAMILIES.superseded.name,
        AOR_FAMILIES.superseded.help,
        perAor((a) => a.superseded),
      ),
      ...metric(
        AOR_FAMILIES.expired.name,
        AOR_FAMILIES.expired.help,
        perAor((a) => a.expired),
      ),
      // bounded: the 100 busiest addresses of each server plus every one at or above --per-ip-limit
      ...metric(
        SERVER_FAMILIES.sources.name,
        SERVER_FAMILIES.sources.help,
        data.servers.flatMap((s) =>
          boundedSources(s.sources ?? []).map((r): [Record<string, string>, number] => [
            { server: s.server, address: r.address },
            r.contacts,
          ]),
        ),
      ),
      ...metric(
        SERVER_FAMILIES.up.name,
        SERVER_FAMILIES.up.help,
        data.servers.map((s) => [{ server: s.server }, s.failure ? 0 : 1]),
      ),
      ...metric(
        'pjctl_parse_errors',
        "Lines (or items) of the server's answer that did not parse: contacts may be missing.",
        data.servers.flatMap((s) =>
          s.report
            ? [[{ server: s.server }, s.report.problems.length] as [Record<string, string>, number]]
            : [],
        ),
      ),
      ...metric(
        SERVER_FAMILIES.status.name,
        SERVER_FAMILIES.status.help,
        data.servers.map((s) => [{ server: s.server }, s.status]),
      ),
    ].join('\n') + '\n'
  )
}

/** The first five items named, and how many more: only those five are written out. */
function list<T>(items: readonly T[], nameOf: (item: T) => string): string {
  const names = items.slice(0, 5).map(nameOf).join(', ')
  return items.length > 5 ? `${names} and ${items.length - 5} more` : names
}
