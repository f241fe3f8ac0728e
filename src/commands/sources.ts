// pjctl sources [NAME...]: registrations per source address (via_addr), busiest first;
// --per-ip-limit N [--per aor] marks the addresses at or above a per-address limit.

import { sourcesOf } from '../core/sources.js'
import { READ_OPTIONS, readFleet } from './read.js'
import { checkNames, isFleet, perIpLimitFrom, shownOnly } from './read.js'
import type { CommandSpec } from './types.js'
import type { ServerFailure, SourcesData } from './views.js'

export const sources: CommandSpec<SourcesData> = {
  name: 'sources',
  args: '[names...]',
  summary:
    'Registrations per source address: contacts, AORs, endpoints, user agents, stale contacts; busiest first.',
  examples: [
    'pjctl sources',
    'pjctl sources --per-ip-limit 10 --per aor',
    'pjctl sources --all --json',
  ],
  options: [...READ_OPTIONS, 'perIpLimit', 'per'],
  formats: ['table', 'json'],
  async run({ args, settings, deps }) {
    const limit = perIpLimitFrom(settings)
    const names = checkNames(args)
    const servers = await readFleet(names, settings, deps, shownOnly(settings))
    const failed = servers.find((s): s is ServerFailure => 'message' in s)
    return {
      view: 'sources',
      data: {
        generatedAt: deps.now(),
        limit,
        fleet: isFleet(settings),
        servers: servers.map((s) =>
          'message' in s
            ? s
            : {
                server: s.server,
                ...(s.nodes ? { nodes: s.nodes } : {}),
                generatedAt: s.generatedAt,
                source: s.source,
                rows: sourcesOf(s.aors, limit),
              },
        ),
      },
      exitCode: failed ? failed.exit : 0,
    }
  },
}
