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
import { storeOf, systemNameOf, type NodeIdentity } from './cluster.js'
import { EXIT, PjctlError } from '../errors.js'
import { READ_OPTIONS } from './read.js'
import {
  asGroup,
  checkNames,
  eachServer,
  storeLeaders,
  isFleet,
  perIpLimitFrom,
  readFromSession,
  readServerReport,
  selectNamed,
  thresholdsFrom,
} from './read.js'
import type { CommandSpec, Deps, Settings } from './types.js'
import { isFailure, type DoctorServer, type ServerFailure } from './views.js'

export const doctor: CommandSpec<'doctor'> = {
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
      // servers sharing one contact store (a cluster) are read once, through the first: the others
      // are asked only what is their own (AMI privileges, systemname)
      const targets = await deps.targets()
      const { order, groups } =
        targets.length > 1
          ? await storeLeaders(targets, settings, deps)
          : { order: targets, groups: new Map<AmiTarget, NodeIdentity[]>() }
      const examined = await eachServer<Examined | ServerFailure>(
        order.filter((t): t is AmiTarget => !isFailure(t)),
        settings,
        deps,
        async (target) => {
          const group = groups.get(target) ?? []
          // in a fleet run every prune a fix prints names its server (a cluster: the name it is shown under)
          const shownAs = isFleet(settings)
            ? group.length < 2
              ? target.name
              : group.map((n) => n.target.name).join(',')
            : undefined
          const lead = await readOne(target, names, settings, limit, deps, shownAs)
          if (group.length < 2) return lead
          const others = await Promise.all(
            group.slice(1).map((node) => nodeOnly(node, lead.facts[0]?.aors ?? [], deps)),
          )
          return {
            ...asGroup(lead, group),
            node: group.map((n) => n.systemName ?? '?').join(','),
            findings: [
              ...lead.findings.map((f) =>
                OWN_KINDS.has(f.kind) ? { ...f, subject: `${target.name}: ${f.subject}` } : f,
              ),
              ...others.flatMap((o) => o.findings),
            ],
            facts: [...lead.facts, ...others.map((o) => o.facts)],
          }
        },
        (failure) => failure,
      )
      let next = 0
      const read = order.flatMap((t): (Examined | ServerFailure)[] => {
        if (isFailure(t)) return [t]
        const one = examined[next++]
        return one ? [one] : []
      })
      // a cluster: what the servers show together (shared store, systemnames, each contact's node)
      const together = clusterFindings(read.flatMap((s) => ('facts' in s ? s.facts : [])))
      servers = read.map((s) => {
        if (!('facts' in s)) return s
        const { facts, ...server } = s
        // said once per entry: the nodes of one store see the same contacts
        const seen = new Set(server.findings.map((f) => `${f.kind}\n${f.subject}`))
        const more = facts
          .flatMap((f) => together.get(f.server) ?? [])
          .filter((f) => {
            const id = `${f.kind}\n${f.subject}`
            if (seen.has(id)) return false
            seen.add(id)
            return true
          })
        return more.length || facts.length > 1
          ? { ...server, findings: sortFindings([...server.findings, ...more]) }
          : server
      })
    }
    const codes = servers.map((s): Status =>
      isFailure(s) ? EXIT.unreadable : exitCodeOf(s.findings),
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
  shownAs?: string,
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
    const server = examine(report, ami, configured, limit, deps, shownAs)
    const systemName =
      actions === null || actions.has('coresettings') ? await systemNameOf(session, deps) : null
    return {
      ...server,
      ...(systemName ? { node: systemName } : {}),
      facts: [
        {
          server: server.server,
          systemName,
          store: report.contactsAt ? await storeOf(session, report.contactsAt.place) : null,
          aors: report.aors,
        },
      ],
    }
  } finally {
    await session.close()
  }
}

/** Findings about a node itself, not about the contacts it shares: said for each node of a cluster. */
const OWN_KINDS: ReadonlySet<string> = new Set(['ami-privileges', 'ami-no-security-events'])

/** A server's doctor report, with what the cluster findings need of each of its nodes (left out of the output). */
type Examined = DoctorServer & { facts: NodeFacts[] }

/**
 * A node whose contacts were read through another node of its store: only what is its own, the AMI
 * user's privileges and read=security (its findings' subjects start with the server's name).
 */
async function nodeOnly(
  node: NodeIdentity,
  aors: NodeFacts['aors'],
  deps: Deps,
): Promise<{ findings: DoctorServer['findings']; facts: NodeFacts }> {
  const { target } = node
  const facts = { server: target.name, systemName: node.systemName, store: node.store, aors }
  const session = await deps.connect(target)
  try {
    const actions = await allowedActions(session, deps)
    const ami: AmiFacts = {
      user: target.user,
      source: '',
      actions,
      security: actions?.has('command') ? await lacksSecurity(session, target) : null,
    }
    const empty: ServerReport = {
      server: target.name,
      generatedAt: deps.now(),
      aors: [],
      problems: [],
      source: '',
      qualifyKnown: false,
    }
    const findings = diagnose({ report: empty, limit: null, now: deps.now(), ami }).map((f) => ({
      ...f,
      subject: `${target.name}: ${f.subject}`,
    }))
    return { findings, facts }
  } finally {
    await session.close()
  }
}

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
  shownAs?: string,
): DoctorServer {
  return {
    server: report.server,
    generatedAt: report.generatedAt,
    source: report.source,
    aors: report.aors.length,
    contacts: report.aors.reduce((n, a) => n + a.contacts.length, 0),
    ...(report.contactsAt ? { contactsAt: report.contactsAt.described } : {}),
    findings: diagnose({
      report,
      limit,
      now: deps.now(),
      ami,
      configuredAors: configured,
      ...(shownAs ? { server: shownAs } : {}),
    }),
  }
}
