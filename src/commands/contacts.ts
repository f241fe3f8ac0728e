// pjctl contacts [NAME...]: who is registered, from where, expiring when; AORs near or at max_contacts flagged.

import { adviceFor } from '../core/advice.js'
import { atOrAboveLimit, sourcesOf } from '../core/sources.js'
import { isProblem, selectNodes } from '../core/select.js'
import type { ServerReport } from '../core/types.js'
import { READ_OPTIONS, checkNames, isFleet, perIpLimitFrom, readFleet, shownOnly } from './read.js'
import type { CommandSpec } from './types.js'
import { isFailure, type ServerFailure } from './views.js'

export const contacts: CommandSpec<'contacts'> = {
  name: 'contacts',
  args: '[names...]',
  summary:
    'Registered contacts per AOR (or endpoint): source, user agent, expiry; AORs near or at max_contacts flagged.',
  examples: [
    'pjctl contacts FAP003',
    'pjctl contacts --problems',
    'pjctl contacts --all --node pbxB --json',
  ],
  options: [...READ_OPTIONS, 'warn', 'crit', 'raw', 'perIpLimit', 'per', 'problems', 'node'],
  formats: ['table', 'json'],
  async run({ args, settings, format, deps }) {
    const limit = perIpLimitFrom(settings)
    const names = checkNames(args)
    const read = await readFleet(names, settings, deps, shownOnly(settings))
    // --problems: only the AORs that need a look (every format: the table, the rows, the JSON)
    const problems = settings.problems
      ? read.map((s) => (isFailure(s) ? s : { ...s, aors: s.aors.filter(isProblem) }))
      : read
    // --node: the contacts registered through those cluster nodes (reg_server)
    const nodes = settings.node
    const servers = nodes
      ? problems.map((s) => (isFailure(s) ? s : { ...s, aors: selectNodes(s.aors, nodes) }))
      : problems
    const reachable = servers.filter((s): s is ServerReport => !isFailure(s))
    // the lasting-fix advice is shown under the table only: for --json it would be an object per
    // problem AOR (a quarter of them at 100k contacts), made after the last byte and never written
    const advice =
      format === 'json'
        ? []
        : reachable.flatMap((report) =>
            report.aors.flatMap((aor) => {
              const a = adviceFor(aor)
              return a ? [{ server: report.server, advice: a }] : []
            }),
          )
    const failed = servers.find((s): s is ServerFailure => isFailure(s))
    return {
      view: 'contacts',
      data: {
        generatedAt: deps.now(),
        servers,
        advice,
        fleet: isFleet(settings),
        limit,
        // per-IP counts are over every AOR read, --problems or not
        sources: limit
          ? read
              .filter((s): s is ServerReport => !isFailure(s))
              .map((report) => ({
                server: report.server,
                rows: atOrAboveLimit(sourcesOf(report.aors, limit)),
              }))
          : undefined,
      },
      exitCode: failed ? failed.exit : 0,
    }
  },
}
