// pjctl check: the contacts judgement as a monitoring check (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN).

import { EXIT } from '../errors.js'
import type { ServerReport } from '../core/types.js'
import { READ_OPTIONS, isFleet, readFleet } from './contacts.js'
import { thresholdsFrom } from './read.js'
import type { CommandSpec } from './types.js'
import type { CheckData, CheckServer, CheckStatus } from './views.js'

export const check: CommandSpec<CheckData> = {
  name: 'check',
  args: '[names...]',
  summary: 'Monitoring check over every AOR: exit 0 OK, 1 WARNING (near), 2 CRITICAL (full/over), 3 UNKNOWN.',
  options: [...READ_OPTIONS, 'warn', 'crit'],
  formats: ['nagios', 'json', 'prometheus'],
  errorExit: EXIT.unreadable,
  async run({ args, settings, deps }) {
    const thresholds = thresholdsFrom(settings)
    const results = await readFleet(args, settings, deps)
    const servers: CheckServer[] = results.map((r) =>
      'message' in r ? { server: r.server, status: 3, failure: r } : { server: r.server, status: serverStatus(r), report: r },
    )
    const status = worst(servers.map((s) => s.status))
    return { view: 'check', data: { generatedAt: deps.now(), status, thresholds, servers, fleet: isFleet(settings) }, exitCode: status }
  },
}

function serverStatus(report: ServerReport): CheckStatus {
  return report.aors.reduce<CheckStatus>((status, aor) => (aor.severity > status ? aor.severity : status), 0)
}

/** UNKNOWN beats OK and WARNING; CRITICAL beats everything (a critical AOR somewhere is the news). */
function worst(statuses: CheckStatus[]): CheckStatus {
  const rank = (s: CheckStatus): number => ({ 0: 0, 1: 1, 3: 2, 2: 3 })[s]
  return statuses.reduce<CheckStatus>((a, b) => (rank(b) > rank(a) ? b : a), 0)
}
