// pjctl doctor [NAME...]: a read-only report of the devices and settings that cause lockouts,
// most severe first, each with its evidence and its fix. Exit 0 nothing above info, 1 warnings,
// 2 critical, 3 a server could not be read.

import { securityClassProblem } from './refusal.js'
import type { AmiSession, AmiTarget } from '../ami/types.js'
import { clusterFindings, type NodeFacts } from '../core/cluster.js'
import {
  actionsFromListCommands,
  diagnose,
  exitCodeOf,
  sortFindings,
  type AmiFacts,
} from '../core/doctor.js'
import { worstStatus, type Status } from '../core/status.js'
import type { PerIpLimit } from '../core/sources.js'
import type { ServerReport } from '../core/types.js'
import { storeOf, systemNameOf } from './cluster.js'
import { EXIT, PjctlError } from '../errors.js'
import { READ_OPTIONS } from './read.js'
import {
  checkNames,
  eachServer,
  isFleet,
  perIpLimitFrom,
  readFromSession,
  readServerReport,
  selectNamed,
  thresholdsFrom,
} from './read.js'
import type { CommandSpec, Deps, Settings } from './types.js'
import type { DoctorData, DoctorServer, ServerFailure } from './views.js'

export const doctor: CommandSpec<DoctorData> = {
  name: 'doctor',
  args: '[names...]',
  summary:
    'Findings on the devices and settings that cause lockouts, each with evidence and fix: exit 0 none above info, 1 warning, 2 critical, 3 unreadable.',
  examples: ['pjctl doctor', 'pjctl doctor FAP003 --json', 'pjctl doctor --all --per-ip-limit 10'],
  options: [...READ_OPTIONS, 'warn', 'crit', 'perIpLimit', 'per'],
  formats: ['table', 'json'],
  errorExit: EXIT.unreadable,
  async run({ args, settings, deps }) {
    const limit = perIpLimitFrom(settings)
    const names = checkNames(args)
    let servers: (DoctorServer | ServerFailure)[]
    if (settings.input !== undefined) {
      const report = selectNamed(
        await readServerReport(null, settings, deps, { names }),
        names,
        deps,
      )
      servers = [examine(report, null, null, limit, deps)]
    } else {
      const read = await eachServer<Examined | ServerFailure>(
        await deps.targets(),
        settings,
        deps,
        (target) => readOne(target, names, settings, limit, deps),
        (failure) => failure,
      )
      // a cluster: what the servers show together (shared store, systemnames, each contact's node)
      const facts = read.flatMap((s) => ('facts' in s ? [s.facts] : []))
      const together = clusterFindings(facts)
      servers = read.map((s) => {
        if (!('facts' in s)) return s
        const { facts: _facts, ...server } = s
        const more = together.get(server.server) ?? []
        return more.length
          ? { ...server, findings: sortFindings([...server.findings, ...more]) }
          : server
      })
    }
    const codes = servers.map((s): Status =>
      'message' in s ? EXIT.unreadable : exitCodeOf(s.findings),
    )
    return {
      view: 'doctor',
      data: { generatedAt: deps.now(), servers, fleet: isFleet(settings), limit },
      exitCode: worstStatus(codes),
    }
  },
}

/** One server over one session: the shared read, then what AMI allows this user (ListCommands). */
async function readOne(
  target: AmiTarget,
  names: string[],
  settings: Settings,
  limit: PerIpLimit | null,
  deps: Deps,
): Promise<Examined> {
  const session = await deps.connect(target)
  try {
    const report = selectNamed(
      await readFromSession(session, settings, deps, thresholdsFrom(settings), { names }),
      names,
      deps,
    )
    const actions = await allowedActions(session, deps)
    const ami: AmiFacts = {
      user: target.user,
      source: report.source,
      actions,
      // asked only where Command is allowed: a refused action would be noise in Asterisk's log
      security: actions?.has('command') ? await lacksSecurity(session, target) : null,
    }
    // An authoritative AOR list (the config files with no other aor backend, or PJSIPShowAors) holds every configured
    // AOR: absent from it means not configured (one NAME reads PJSIPShowEndpoint instead)
    const listed = (report.configs ?? []).filter(
      (c) => c.source === 'ami' || c.source === 'getconfig',
    )
    const configured =
      names.length !== 1 && report.limits?.authoritative && listed.length
        ? new Set(listed.map((c) => c.aor))
        : null
    const server = examine(report, ami, configured, limit, deps)
    const systemName =
      actions === null || actions.has('coresettings') ? await systemNameOf(session, deps) : null
    return {
      ...server,
      ...(systemName ? { node: systemName } : {}),
      facts: {
        server: server.server,
        systemName,
        store: report.contactsAt ? await storeOf(session, report.contactsAt.place) : null,
        aors: report.aors,
      },
    }
  } finally {
    await session.close()
  }
}

/** A server's doctor report, with what the cluster findings need (left out of the output). */
type Examined = DoctorServer & { facts: NodeFacts }

/** The user's read= lacks security (doctor says so only when it knows: a least-privilege user without write=command is not asked). */
async function lacksSecurity(session: AmiSession, target: AmiTarget): Promise<string | null> {
  const problem = await securityClassProblem(session, target)
  return problem?.lacks ? problem.text : null
}

async function allowedActions(session: AmiSession, deps: Deps): Promise<Set<string> | null> {
  try {
    return actionsFromListCommands((await session.action('ListCommands')).names)
  } catch (error) {
    if (!(error instanceof PjctlError)) throw error
    deps.log.debug(`ListCommands: ${error.message}`)
    return null
  }
}

function examine(
  report: ServerReport,
  ami: AmiFacts | null,
  configured: Set<string> | null,
  limit: PerIpLimit | null,
  deps: Deps,
): DoctorServer {
  return {
    server: report.server,
    generatedAt: report.generatedAt,
    source: report.source,
    aors: report.aors.length,
    contacts: report.aors.reduce((n, a) => n + a.contacts.length, 0),
    ...(report.contactsAt ? { contactsAt: report.contactsAt.described } : {}),
    findings: diagnose({ report, limit, now: deps.now(), ami, configuredAors: configured }),
  }
}
