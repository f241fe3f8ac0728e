// pjctl check: the contacts judgement as a monitoring check (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN).

import { DEFAULT_THRESHOLDS } from '../core/classify.js'
import { perIpLimitFrom, sourcesOf, type SourceRow } from '../core/sources.js'
import { EXIT } from '../errors.js'
import type { ServerReport } from '../core/types.js'
import { READ_OPTIONS, checkNames, isFleet, readFleet, thresholdsFrom } from './read.js'
import type { CommandSpec } from './types.js'
import type { CheckData, CheckServer, CheckStatus } from './views.js'

export const check: CommandSpec<CheckData> = {
  name: 'check',
  args: '[names...]',
  summary: 'Monitoring check over every AOR: exit 0 OK, 1 WARNING (near), 2 CRITICAL (full/over), 3 UNKNOWN.',
  examples: [
    'pjctl check --server pbx1',
    'pjctl check --all --format prometheus',
    'pjctl check --warn 1 --json',
  ],
  optionHelp: { perIpLimit: 'Flag source addresses holding N contacts or more: WARNING at N, CRITICAL above.' },
  options: [...READ_OPTIONS, 'warn', 'crit', 'raw', 'perIpLimit', 'per'],
  formats: ['nagios', 'json', 'prometheus'],
  errorExit: EXIT.unreadable,
  // A check that cannot run is still a check result: UNKNOWN in the chosen format (a textfile
  // collector must see pjctl_server_up 0, not an empty file).
  failure(error, settings, now) {
    const server = settings.server?.[0] ?? `${settings.host}:${settings.port}`
    const failure = { server, message: error.message, hint: error.hint, exit: EXIT.unreadable }
    return {
      view: 'check',
      data: { generatedAt: now, status: 3, thresholds: DEFAULT_THRESHOLDS, servers: [{ server, status: 3, failure }], fleet: false },
      exitCode: EXIT.unreadable,
    }
  },
  async run({ args, settings, deps }) {
    const thresholds = thresholdsFrom(settings)
    const limit = perIpLimitFrom(settings.perIpLimit, settings.per)
    const results = await readFleet(checkNames(args), settings, deps)
    const servers: CheckServer[] = results.map((r) => {
      if ('message' in r) return { server: r.server, status: 3, failure: r }
      const sources = sourcesOf(r.aors, limit)
      return { server: r.server, status: worst([serverStatus(r), sourcesStatus(sources)]), report: r, sources }
    })
    const status = worst(servers.map((s) => s.status))
    return { view: 'check', data: { generatedAt: deps.now(), status, thresholds, servers, fleet: isFleet(settings), limit }, exitCode: status }
  },
}

/** The worst AOR; an AOR with contacts whose max_contacts is unknown cannot be judged: UNKNOWN. */
function serverStatus(report: ServerReport): CheckStatus {
  const judged = report.aors.reduce<CheckStatus>((status, aor) => (aor.severity > status ? aor.severity : status), 0)
  return report.aors.some((aor) => aor.state === 'unknown' && aor.count > 0) ? worst([judged, 3]) : judged
}

/** --per-ip-limit: an address at the limit is a WARNING, one above it CRITICAL. */
function sourcesStatus(rows: readonly SourceRow[]): CheckStatus {
  return rows.some((r) => r.limitState === 'above') ? 2 : rows.some((r) => r.limitState === 'at') ? 1 : 0
}

/** UNKNOWN beats OK and WARNING; CRITICAL beats everything (a critical AOR somewhere is the news). */
function worst(statuses: CheckStatus[]): CheckStatus {
  const rank = (s: CheckStatus): number => ({ 0: 0, 1: 1, 3: 2, 2: 3 })[s]
  return statuses.reduce<CheckStatus>((a, b) => (rank(b) > rank(a) ? b : a), 0)
}
