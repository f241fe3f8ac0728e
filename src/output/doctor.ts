// doctor: findings grouped by severity (most severe first), or the JSON document.

import type { Finding, Severity } from '../core/doctor.js'
import { isFailure, type DoctorData, type DoctorServer } from '../commands/views.js'
import { failureJson, failureLine } from './failure.js'
import { jsonPieces } from './json.js'
import { isoTime, paint, wrap, type Style } from './style.js'
import { printable } from '../text.js'

const ORDER: Severity[] = ['critical', 'warning', 'info']

export function doctorTable(data: DoctorData, style: Style): string {
  const c = paint(style)
  const out: string[] = []
  for (const server of data.servers) {
    if (isFailure(server)) {
      out.push(failureLine(server, c), '')
      continue
    }
    out.push(
      c.bold(`pjctl doctor: ${server.server}`) +
        ` (${server.contacts} contacts, ${server.aors} AORs, read with ${server.source}${server.node ? `; node ${printable(server.node)}` : ''})`,
      ...(server.contactsAt
        ? wrap(
            `contacts live in ${printable(server.contactsAt)}`,
            style.plain ? undefined : style.width,
            '  ',
          )
        : []),
      '',
    )
    if (!server.findings.length) out.push('No findings: nothing here causes lockouts.', '')
    let n = 0
    for (const severity of ORDER) {
      const group = server.findings.filter((f) => f.severity === severity)
      if (!group.length) continue
      const title = `${severity.toUpperCase()} (${group.length})`
      out.push(
        severity === 'critical'
          ? c.red.bold(title)
          : severity === 'warning'
            ? c.yellow.bold(title)
            : c.bold(title),
      )
      for (const f of group) out.push(...findingLines(++n, f, style), '')
    }
    out.push(summaryLine(server))
    out.push('')
  }
  return out.join('\n')
}

function findingLines(n: number, f: Finding, style: Style): string[] {
  const c = paint(style)
  // on a terminal, evidence and fix wrap to its width (a command's words stay whole); piped, one line each
  const width = style.plain ? undefined : style.width
  const fix = wrap(`     fix: ${printable(f.fix)}`, width, '          ')
  fix[0] = (fix[0] ?? '').replace('fix:', c.cyan('fix:'))
  return [
    `${String(n).padStart(3)}. ${c.bold(printable(f.subject))}  [${f.kind}]`,
    ...wrap(`     ${printable(f.evidence)}`, width, '     '),
    ...fix,
  ]
}

function summaryLine(server: DoctorServer): string {
  const count = (s: Severity) => server.findings.filter((f) => f.severity === s).length
  return `${count('critical')} critical, ${count('warning')} warning, ${count('info')} info`
}

function serverJson(server: DoctorServer): object {
  return {
    server: server.server,
    generatedAt: isoTime(server.generatedAt),
    source: server.source,
    ...(server.contactsAt ? { contactsAt: server.contactsAt } : {}),
    ...(server.node ? { node: server.node } : {}),
    ...(server.nodes ? { nodes: server.nodes } : {}),
    findings: server.findings,
  }
}

export function* doctorJson(data: DoctorData, style: Style): Generator<string> {
  const docs = data.servers.map((s) => (isFailure(s) ? failureJson(s) : serverJson(s)))
  yield* jsonPieces(
    data.fleet ? { generatedAt: isoTime(data.generatedAt), servers: docs } : docs[0],
    style.indent === true,
  )
  yield '\n'
}
