// pjctl check: the contacts judgement as a monitoring check (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN).

import { DEFAULT_THRESHOLDS } from '../core/classify.js'
import { selectNodes } from '../core/select.js'
import { serverStatus, worstStatus } from '../core/status.js'
import {
  describeAgainstLimit,
  sourcesOf,
  type PerIpLimit,
  type SourceRow,
} from '../core/sources.js'
import { EXIT } from '../errors.js'
import type { ServerReport } from '../core/types.js'
import {
  READ_OPTIONS,
  checkNames,
  isFleet,
  perIpLimitFrom,
  readFleet,
  shownOnly,
  thresholdsFrom,
} from './read.js'
import type { CommandSpec } from './types.js'
import { failureOf, isFailure, type CheckFinding, type CheckServer } from './views.js'

export const check: CommandSpec<'check'> = {
  name: 'check',
  args: '[names...]',
  summary:
    'Monitoring check over every AOR: exit 0 OK, 1 WARNING (full, orphaned, parse problems, at --per-ip-limit), 2 CRITICAL (lockout: full with stale contacts), 3 UNKNOWN.',
  examples: [
    'pjctl check -H pbx1 -t 20',
    'pjctl check --all --textfile /var/lib/node_exporter/pjctl.prom',
    'pjctl check --warn 1 --json',
  ],
  optionHelp: {
    perIpLimit: 'Flag source addresses holding N contacts or more: WARNING at N, CRITICAL above.',
  },
  options: [
    ...READ_OPTIONS,
    'warn',
    'crit',
    'raw',
    'perIpLimit',
    'per',
    'node',
    'verbose',
    'textfile',
  ],
  formats: ['nagios', 'json', 'prometheus'],
  errorExit: EXIT.unreadable,
  // A check that cannot run is still a check result: UNKNOWN in the chosen format (a textfile
  // collector must see pjctl_server_up 0, not an empty file).
  failure(error, settings, now) {
    const server = settings.server?.[0] ?? `${settings.host}:${settings.port}`
    const failure = failureOf(server, {
      message: error.message,
      hint: error.hint,
      exit: EXIT.unreadable,
    })
    return {
      view: 'check',
      data: {
        generatedAt: now,
        status: 3,
        thresholds: DEFAULT_THRESHOLDS,
        servers: [{ server, status: 3, failure, findings: [] }],
        fleet: false,
        verbose: false,
      },
      exitCode: EXIT.unreadable,
    }
  },
  async run({ args, settings, format, deps }) {
    const thresholds = thresholdsFrom(settings)
    const limit = perIpLimitFrom(settings)
    const read = await readFleet(checkNames(args), settings, deps, shownOnly(settings))
    // --node: the AORs holding contacts registered through those cluster nodes (reg_server), each
    // still judged on all its contacts
    const nodes = settings.node
    const results = nodes
      ? read.map((r) => (isFailure(r) ? r : { ...r, aors: selectNodes(r.aors, nodes) }))
      : read
    const servers: CheckServer[] = results.map((r) => {
      if (isFailure(r)) return { server: r.server, status: 3, failure: r, findings: [] }
      // the per-address summary is shown only against --per-ip-limit and in the Prometheus metrics:
      // otherwise it is work after the last byte that nobody reads
      const sources = limit !== null || format === 'prometheus' ? sourcesOf(r.aors, limit) : []
      const findings = [...findingsOf(r), ...limitFindings(sources, limit)]
      return {
        server: r.server,
        status: serverStatus(r.aors, findings),
        report: r,
        sources,
        findings,
      }
    })
    const status = worstStatus(servers.map((s) => s.status))
    return {
      view: 'check',
      data: {
        generatedAt: deps.now(),
        status,
        thresholds,
        servers,
        fleet: isFleet(settings),
        limit,
        verbose: Boolean(settings.verbose),
      },
      exitCode: status,
    }
  },
}

/** Any line of the answer that did not parse is at least a WARNING: a contact may be missing from the judgement. */
function findingsOf(report: ServerReport): CheckFinding[] {
  return report.problems.map((problem) => ({
    kind: 'parse',
    severity: 1,
    group: 'parse problem(s) in the answer',
    subject: `line ${problem.line}: ${problem.reason}`,
  }))
}

/** --per-ip-limit: an address at the limit is a WARNING, one above it CRITICAL; each is named. */
function limitFindings(rows: readonly SourceRow[], limit: PerIpLimit | null): CheckFinding[] {
  if (!limit) return []
  const scope = `--per-ip-limit ${limit.limit}${limit.per === 'aor' ? ' per AOR' : ''}`
  return rows.flatMap((row): CheckFinding[] =>
    row.limitState === 'above' || row.limitState === 'at'
      ? [
          {
            kind: 'per-ip-limit',
            severity: row.limitState === 'above' ? 2 : 1,
            group: `address(es) ${row.limitState} ${scope}`,
            subject: describeAgainstLimit(row, limit),
            line: `source ${describeAgainstLimit(row, limit)} ${row.limitState} ${scope}`,
          },
        ]
      : [],
  )
}
