// pjctl exporter: live Prometheus metrics for every AOR, read once per server and then kept current
// from AMI events. Runs until SIGTERM/SIGINT, then closes its sessions and exits 0. The command wires
// src/exporter/ (a follower per server, the metrics, the render scheduler, the web config) to the read
// path every command uses and to the HTTP listener; a scrape never sends an AMI action.

import type { AmiSession, AmiTarget } from '../ami/types.js'
import { contactFromRealtimeRow, realtimeColumns } from '../core/sorcery.js'
import type { KeepContact } from '../core/dump.js'
import { UsageError } from '../errors.js'
import type { FollowerPorts, ServerFollower } from '../exporter/follower.js'
import type { HttpListener } from '../http/server.js'
import type { WebConfig } from '../http/webconfig.js'
import { HEAL_OPTION_HELP, HEAL_OPTIONS, SERVER_OPTIONS, listenAddress } from '../options.js'
import { readContactsAndLimits, readContactsAt, storeLeaders, thresholdsFrom } from './read.js'
import type { NodeIdentity } from './cluster.js'
import { heal, HealLimiter, logHeal, readRefusedAor, securityClassProblem } from './refusal.js'
import type { ContactTable } from '../sql/table.js'
import { backupFamilyOf, openContactTable, type ContactLocation } from './store.js'
import type { CommandSpec, Deps, Settings } from './types.js'

export const exporter: CommandSpec<'exporter'> = {
  name: 'exporter',
  summary:
    'Serve live Prometheus metrics for every AOR (/metrics, /healthz), kept current from AMI events.',
  examples: [
    'pjctl exporter --all',
    'pjctl exporter --server pbx1 --listen :9814 --resync 10m --per-aor problems',
  ],
  options: [
    ...SERVER_OPTIONS,
    'source',
    'pjsipConf',
    'maxContacts',
    'warn',
    'crit',
    'listen',
    'resync',
    'perAor',
    'perIpLimit',
    'webConfig',
    ...HEAL_OPTIONS,
  ],
  optionHelp: {
    perIpLimit:
      'Serve it as pjctl_source_contacts_limit, for the alert on a source address at its per-IP limit.',
    ...HEAL_OPTION_HELP,
  },
  formats: ['text'],
  // SIGTERM/SIGINT end the run: sessions are logged off, then exit 0
  handlesInterrupt: true,
  untilStopped: true,
  async run({ settings, deps }) {
    const { host, port } = listenAddress(settings.listen)
    // loaded when the exporter runs, not at every pjctl start-up (prom-client, node:http, yaml, bcryptjs)
    const [
      { listen },
      { loadWebConfig },
      { ExporterMetrics },
      { ServerFollower, health },
      { RenderScheduler },
      { describeWeb, watchWebConfig },
      { isProblem, LiveServer },
    ] = await Promise.all([
      import('../http/server.js'),
      import('../http/webconfig.js'),
      import('../exporter/metrics.js'),
      import('../exporter/follower.js'),
      import('../exporter/render.js'),
      import('../exporter/web.js'),
      import('../core/live.js'),
    ])
    // a bad web config stops the start, before any server is contacted
    const webPath = settings.webConfig ?? (await deps.configFile?.())?.webConfig
    let web: WebConfig | Error | null = webPath ? await loadWebConfig(webPath) : null
    const resyncMs = settings.resync * 1000
    const metrics = new ExporterMetrics(settings.perAor, isProblem)
    const targets = await deps.targets()
    const followers: ServerFollower[] = []
    const renders = await RenderScheduler.start(metrics, followers, deps.log)
    const judgement = {
      thresholds: thresholdsFrom(settings),
      defaultMaxContacts: settings.maxContacts ?? null,
      ...(settings.perIpLimit === undefined ? {} : { perIpLimit: settings.perIpLimit }),
    }
    // A cluster's nodes sharing one contact store: one follower reads the store once, through the first,
    // and follows every node's events (series labelled server="pbxA,pbxB", each contact counted once).
    // A server that cannot be asked at start gets a follower of its own, which retries as usual.
    const { groups } =
      targets.length > 1
        ? await storeLeaders(targets, settings, deps)
        : { groups: new Map<AmiTarget, NodeIdentity[]>() }
    // followed through the first node of their store
    const throughAnother = new Set(
      [...groups.values()].flatMap((g) => g.slice(1).map((n) => n.target)),
    )
    for (const target of targets) {
      if (throughAnother.has(target)) continue
      const group = groups.get(target)
      const peers = (group ?? []).slice(1).map((n) => n.target)
      const name = group && group.length > 1 ? group.map((n) => n.target.name).join(',') : null
      const followed = name ? { ...target, name } : target
      followers.push(
        new ServerFollower(
          followed,
          judgement,
          portsFor(followed, settings, deps, LiveServer.slim),
          metrics,
          { changed: () => renders.schedule() },
          resyncMs,
          peers,
        ),
      )
    }

    let http: HttpListener
    try {
      http = await listen(
        host,
        port,
        {
          metrics: () => renders.scrape(),
          health: (authenticated) => health(followers, authenticated),
        },
        () => web,
      )
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message
      throw new UsageError(
        `cannot listen on ${host}:${port}: ${code}`,
        code === 'EADDRINUSE'
          ? 'another process (another pjctl exporter?) uses that port; pick another with --listen'
          : undefined,
      )
    }
    deps.log.info(
      `pjctl exporter: listening on ${http.scheme}://${host.includes(':') ? `[${host}]` : host}:${http.port}/metrics (${followers.length} server(s), resync every ${resyncMs / 1000} s${web instanceof Error || web === null ? '' : `; ${describeWeb(web)}`})`,
    )
    const stopWatching =
      webPath && web
        ? watchWebConfig(webPath, web, deps, (next) => {
            web = next
            if (!(next instanceof Error)) http.reconfigure(next)
          })
        : () => undefined
    renders.sending = http.sending
    for (const follower of followers) follower.start()

    await new Promise<void>((resolve) => {
      if (deps.signal.aborted) {
        resolve()
        return
      }
      deps.signal.addEventListener('abort', () => resolve(), { once: true })
    })
    deps.log.info('pjctl exporter: stopping')
    stopWatching()
    renders.stop()
    await Promise.all(followers.map((f) => f.stop()))
    await http.close()
    return { view: 'exporter', data: {}, exitCode: 0 }
  },
}

/**
 * What a follower reads through: the read path every command uses (contacts where sorcery.conf puts
 * them, limits, the retry on an incomplete answer), each contact cut down to what the exporter keeps
 * as it is parsed (`keep`), so a first read of 100,000 contacts never holds them whole; and --heal.
 */
function portsFor(
  target: AmiTarget,
  settings: Settings,
  deps: Deps,
  keep: KeepContact,
): FollowerPorts {
  let location: ContactLocation | null = null
  const healLimiter = new HealLimiter()
  // the realtime table a new contact's row is read from: opened at the first such contact, kept open
  // for the session it was located through (one connection, one SELECT per contact an event names)
  let table: { session: AmiSession; open: Promise<ContactTable> } | null = null
  const closeTable = async (): Promise<void> => {
    const current = table
    table = null
    if (current) await (await current.open.catch(() => null))?.close()
  }
  const readAll: FollowerPorts['readAll'] = async (session) => {
    const read = await readContactsAndLimits(session, settings, deps, { keep })
    location = read.location
    return {
      contacts: read.parsed.contacts,
      configs: read.limits.configs,
      authoritative: read.limits.info.authoritative,
      place: {
        family: backupFamilyOf(read.location.place),
        // DBGetTree re-reads only astdb; any other place is read again as a whole
        realtime: read.location.place.kind !== 'astdb',
        oneRow: read.location.place.kind === 'realtime',
      },
    }
  }
  return {
    connect: (t) => deps.connect(t),
    now: () => deps.now(),
    log: deps.log,
    readAll,
    async readContacts(session) {
      if (!location) return (await readAll(session)).contacts
      return (await readContactsAt(session, location, settings, deps, keep)).contacts
    },
    async readOne(session, key) {
      if (location?.place.kind !== 'realtime') return null
      if (table?.session !== session) {
        await closeTable()
        table = { session, open: openContactTable(session, location) }
      }
      const opened = table
      try {
        const value = await (await opened.open).current(key)
        if (value === null) return null
        const stored = realtimeColumns(value)
        if (!stored) return 'not a row of the table'
        const contact = contactFromRealtimeRow(Object.keys(stored), Object.values(stored), false)
        return typeof contact === 'string' ? contact : keep(contact)
      } catch (error) {
        // a failed connection or statement: the next contact opens the table again
        if (table === opened) await closeTable()
        throw error
      }
    },
    close: closeTable,
    async securityProblem(session) {
      return (await securityClassProblem(session, target))?.text ?? null
    },
    ...(settings.heal
      ? {
          async heal(session, refusal) {
            const refused = await readRefusedAor(session, refusal, target, settings, deps)
            if (!refused) return null
            const outcome = await heal(refused, target, settings, deps, healLimiter)
            logHeal(deps, target.name, refused, outcome)
            return { aor: refused.aor, result: outcome.result }
          },
        }
      : {}),
  }
}
