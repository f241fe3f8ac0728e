// pjctl sources [NAME...]: registrations per source address (via_addr), busiest first;
// --per-ip-limit N [--per aor] marks the addresses at or above a per-address limit.

import { selectNodes } from '../core/select.js'
import { sourcesOf } from '../core/sources.js'
import { UsageError } from '../errors.js'
import { READ_OPTIONS, readFleet } from './read.js'
import { checkNames, isFleet, perIpLimitFrom, shownOnly } from './read.js'
import type { CommandSpec } from './types.js'
import { isFailure, type ServerFailure } from './views.js'

export const sources: CommandSpec<'sources'> = {
  name: 'sources',
  args: '[names...]',
  summary:
    'Registrations per source address: contacts, AORs, endpoints, user agents, stale contacts; busiest first.',
  examples: [
    'pjctl sources',
    'pjctl sources --per-ip-limit 10 --per aor',
    'pjctl sources --all --by node',
  ],
  options: [...READ_OPTIONS, 'perIpLimit', 'per', 'by', 'node'],
  formats: ['table', 'json'],
  async run({ args, settings, deps }) {
    const limit = perIpLimitFrom(settings)
    const by = settings.by
    if (by === 'node' && limit)
      throw new UsageError('--per-ip-limit counts contacts per source address: leave out --by node')
    const names = checkNames(args)
    const read = await readFleet(names, settings, deps, shownOnly(settings))
    // --node: the contacts registered through those cluster nodes (reg_server)
    const nodes = settings.node
    const servers = nodes
      ? read.map((s) => (isFailure(s) ? s : { ...s, aors: selectNodes(s.aors, nodes) }))
      : read
    const failed = servers.find((s): s is ServerFailure => isFailure(s))
    return {
      view: 'sources',
      data: {
        generatedAt: deps.now(),
        by,
        limit,
        fleet: isFleet(settings),
        servers: servers.map((s) =>
          isFailure(s)
            ? s
            : {
                server: s.server,
                ...(s.nodes ? { nodes: s.nodes } : {}),
                generatedAt: s.generatedAt,
                source: s.source,
                rows: sourcesOf(s.aors, limit, by),
              },
        ),
      },
      exitCode: failed ? failed.exit : 0,
    }
  },
}
