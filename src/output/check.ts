// check: Nagios plugin output, JSON, or Prometheus text exposition (node_exporter textfile collector).

import type { AorReport } from '../core/types.js'
import type { CheckData, CheckServer, CheckStatus } from '../commands/views.js'
import { boundedSources, describeAgainstLimit, type SourceRow } from '../core/sources.js'
import { aorsJson, failureJson } from './contacts.js'
import { sourceJson } from './sources.js'
import { jsonPieces } from './json.js'
import { isoTime, type Style } from './style.js'
import { printable } from '../text.js'

const STATUS_WORD: Record<CheckStatus, string> = { 0: 'OK', 1: 'WARNING', 2: 'CRITICAL', 3: 'UNKNOWN' }

export function checkNagios(data: CheckData): string {
  const alone = !data.fleet && data.servers.length === 1 ? data.servers[0].failure : undefined
  if (alone) return `PJCTL UNKNOWN - ${printable(alone.message)}\n`
  const aors = data.servers.flatMap((s) => (s.report ? s.report.aors.map((aor) => ({ server: s.server, aor })) : []))
  const critical = aors.filter((a) => a.aor.severity === 2)
  const orphaned = aors.filter((a) => a.aor.state === 'orphaned')
  const warning = aors.filter((a) => a.aor.severity === 1 && a.aor.state !== 'orphaned')
  const unknown = data.servers.filter((s) => s.failure)
  const name = (a: { server: string; aor: AorReport }): string =>
    `${data.fleet ? `${a.server}/` : ''}${printable(a.aor.aor)} (${a.aor.count}/${a.aor.maxContacts ?? '?'} ${a.aor.state})`
  const orphanName = (a: { server: string; aor: AorReport }): string => `${data.fleet ? `${a.server}/` : ''}${printable(a.aor.aor)} (${a.aor.contacts.length})`
  const parts: string[] = []
  // a tighter --crit makes AORs critical that still have free slots: do not call those full
  const fullOrOver = critical.every((a) => a.aor.state === 'full' || a.aor.state === 'over')
  if (critical.length) parts.push(`${critical.length} AOR(s) ${fullOrOver ? 'full or over' : 'at or past --crit'}: ${list(critical.map(name))}`)
  if (warning.length) parts.push(`${warning.length} AOR(s) near max_contacts: ${list(warning.map(name))}`)
  if (orphaned.length) {
    const n = orphaned.reduce((sum, a) => sum + a.aor.contacts.length, 0)
    parts.push(`${n} orphaned contact(s) of ${orphaned.length} AOR(s) no longer configured (pjctl prune removes them): ${list(orphaned.map(orphanName))}`)
  }
  if (unknown.length) parts.push(`${unknown.length} server(s) unreadable: ${unknown.map((s) => s.server).join(', ')}`)
  // --per-ip-limit: the addresses above it (CRITICAL) and at it (WARNING), each named
  const flagged = data.servers.flatMap((s) => (s.sources ?? []).filter((r) => r.limitState === 'at' || r.limitState === 'above').map((row) => ({ server: s.server, row })))
  const source = (f: { server: string; row: SourceRow }): string => `${data.fleet ? `${f.server}/` : ''}${printable(describeAgainstLimit(f.row, data.limit!))}`
  const above = flagged.filter((f) => f.row.limitState === 'above')
  const atLimit = flagged.filter((f) => f.row.limitState === 'at')
  const scope = data.limit?.per === 'aor' ? ' per AOR' : ''
  if (above.length) parts.push(`${above.length} address(es) above --per-ip-limit ${data.limit!.limit}${scope}: ${list(above.map(source))}`)
  if (atLimit.length) parts.push(`${atLimit.length} address(es) at --per-ip-limit ${data.limit!.limit}${scope}: ${list(atLimit.map(source))}`)
  const unjudged = aors.filter((a) => a.aor.state === 'unknown' && a.aor.count > 0)
  if (unjudged.length) {
    const notes = [...new Set(data.servers.flatMap((s) => (s.report?.limits?.note ? [printable(s.report.limits.note)] : [])))]
    const why = notes.length ? `${notes.join('; ')}; pass --pjsip-conf/--max-contacts` : 'give the AMI user write=config or system, or pass --pjsip-conf/--max-contacts'
    parts.push(`${unjudged.length} AOR(s) with unknown max_contacts (${why}): ${list(unjudged.map(name))}`)
  }
  if (!parts.length) parts.push(`${aors.length} AOR(s) below max_contacts`)
  const contacts = aors.reduce((n, a) => n + a.aor.count, 0)
  const superseded = aors.reduce((n, a) => n + a.aor.superseded, 0)
  const sourcesPerf = data.limit ? ` sources_at_limit=${atLimit.length} sources_above_limit=${above.length}` : ''
  const perf = `aors=${aors.length} contacts=${contacts} warning=${warning.length + orphaned.length} critical=${critical.length} superseded=${superseded} unreadable=${unknown.length}${sourcesPerf}`
  const lines = [`PJCTL ${STATUS_WORD[data.status]} - ${parts.join('; ')} | ${perf}`]
  for (const s of data.servers) if (s.failure) lines.push(`${printable(s.server)}: UNKNOWN - ${printable(s.failure.message)}`)
  for (const a of [...critical, ...warning]) {
    const fix = a.aor.superseded ? `, ${a.aor.superseded} superseded (pjctl prune ${a.aor.aor})` : ''
    lines.push(`${STATUS_WORD[a.aor.severity as CheckStatus]}: ${name(a)}${fix}`)
  }
  for (const a of orphaned) lines.push(`WARNING: ${orphanName(a)} orphaned: AOR not configured (pjctl prune ${printable(a.aor.aor)})`)
  for (const f of [...above, ...atLimit]) lines.push(`${f.row.limitState === 'above' ? 'CRITICAL' : 'WARNING'}: source ${source(f)} ${f.row.limitState} --per-ip-limit ${data.limit!.limit}${scope}`)
  if (data.fleet) for (const s of data.servers) lines.push(`server ${s.server}: ${STATUS_WORD[s.status]}`)
  return lines.join('\n') + '\n'
}

export function* checkJson(data: CheckData, style: Style): Generator<string> {
  const server = (s: CheckServer): object => ({
    server: s.server,
    status: s.status,
    statusText: STATUS_WORD[s.status],
    ...(s.report ? { aors: aorsJson(s.report.aors, style.raw === true) } : failureJson(s.failure!)),
    ...(data.limit && s.sources ? { sourcesAtOrAboveLimit: s.sources.filter((r) => r.limitState === 'at' || r.limitState === 'above').map((r) => sourceJson(r, true)) } : {}),
  })
  yield* jsonPieces({ generatedAt: isoTime(data.generatedAt), status: data.status, statusText: STATUS_WORD[data.status], thresholds: data.thresholds, ...(data.limit ? { perIpLimit: data.limit } : {}), servers: data.servers.map(server) }, style.indent === true)
  yield '\n'
}

/** Label values escaped as the exposition format requires (backslash, double quote, newline). */
function label(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}

export function checkPrometheus(data: CheckData): string {
  const metric = (name: string, help: string, rows: [Record<string, string>, number][]): string[] => [
    `# HELP ${name} ${help}`,
    `# TYPE ${name} gauge`,
    ...rows.map(([labels, value]) => `${name}{${Object.entries(labels).map(([k, v]) => `${k}="${label(v)}"`).join(',')}} ${value}`),
  ]
  const perAor = (pick: (aor: AorReport) => number | null): [Record<string, string>, number][] =>
    data.servers.flatMap((s) =>
      (s.report?.aors ?? []).flatMap((aor) => {
        const value = pick(aor)
        return value === null ? [] : [[{ server: s.server, aor: aor.aor }, value] as [Record<string, string>, number]]
      }),
    )
  return [
    ...metric('pjctl_aor_contacts', 'Unexpired contacts registered to the AOR.', perAor((a) => a.count)),
    ...metric('pjctl_aor_max_contacts', 'The AOR\'s max_contacts (absent when unknown).', perAor((a) => a.maxContacts)),
    ...metric('pjctl_aor_superseded_contacts', 'Contacts superseded by a newer registration from the same device.', perAor((a) => a.superseded)),
    ...metric('pjctl_aor_expired_contacts', 'Contacts past expiration_time that Asterisk has not swept yet.', perAor((a) => a.expired)),
    // bounded: the 100 busiest addresses of each server plus every one at or above --per-ip-limit
    ...metric('pjctl_source_contacts', 'Unexpired contacts from the source address (via_addr), all AORs together; the 100 busiest addresses and every one at or above --per-ip-limit.',
      data.servers.flatMap((s) => boundedSources(s.sources ?? []).map((r): [Record<string, string>, number] => [{ server: s.server, address: r.address }, r.contacts]))),
    ...metric('pjctl_server_up', '1 when pjctl could read the server.', data.servers.map((s) => [{ server: s.server }, s.failure ? 0 : 1])),
    ...metric('pjctl_check_status', 'Check status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.', data.servers.map((s) => [{ server: s.server }, s.status])),
  ].join('\n') + '\n'
}

function list(names: string[]): string {
  return names.length > 5 ? `${names.slice(0, 5).join(', ')} and ${names.length - 5} more` : names.join(', ')
}
