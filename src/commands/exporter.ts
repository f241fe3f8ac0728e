// pjctl exporter: live Prometheus metrics for every AOR, read once per server and then kept current
// from AMI events (see follow.ts). Runs until SIGTERM/SIGINT, then closes its sessions and exits 0.
// A scrape is answered from the last rendered body: it never sends an AMI action.

import type { Stats } from 'node:fs'
import { UsageError } from '../errors.js'
import type { HttpListener } from '../http/server.js'
import type { WebConfig } from '../http/webconfig.js'
import { HEAL_OPTION_HELP, HEAL_OPTIONS, SERVER_OPTIONS, listenAddress } from '../options.js'
import type { ServerFollower } from './follow.js'
import type { CommandSpec, Deps } from './types.js'

/**
 * Renders at most once a second while changes keep coming, and never more often than four times its own
 * cost: on a big PBX some contact expires nearly every second. A render builds the per-AOR text in
 * slices that yield to the event loop (exporter/metrics.ts), so scrapes are served the last complete body
 * meanwhile.
 */
const MIN_RENDER_MS = 1000
/** The process metrics of a scrape are at most this old. */
const PROCESS_MAX_AGE_MS = 1000
const RENDER_COST_FACTOR = 4
/** A render's slices: 5 ms, 1 ms while a /metrics answer is being written (the socket is fed between slices). */
const SLICE_MS = 5
const SLICE_WHILE_SENDING_MS = 1

export const exporter: CommandSpec<Record<string, never>> = {
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
  async run({ settings, deps }) {
    const { host, port } = listenAddress(settings.listen)
    // loaded when the exporter runs, not at every pjctl start-up (prom-client, node:http, yaml, bcryptjs)
    const [
      { watchFile, unwatchFile },
      { deflateOpen, deflateTail, gzipMember },
      { listen },
      { loadWebConfig },
      { ExporterMetrics, processRegistry },
      { ServerFollower },
      { isProblem },
    ] = await Promise.all([
      import('node:fs'),
      import('../http/gzip.js'),
      import('../http/server.js'),
      import('../http/webconfig.js'),
      import('../exporter/metrics.js'),
      import('./follow.js'),
      import('../core/live.js'),
    ])
    // a bad web config stops the start, before any server is contacted
    const webPath = settings.webConfig ?? (await deps.configFile?.())?.webConfig
    let web: WebConfig | Error | null = webPath ? await loadWebConfig(webPath) : null
    const resyncMs = settings.resync * 1000
    const metrics = new ExporterMetrics(settings.perAor, isProblem)
    const targets = await deps.targets()

    // /metrics answers being written (none until the listener is up)
    let sending = (): number => 0
    const sliceMs = (): number => (sending() > 0 ? SLICE_WHILE_SENDING_MS : SLICE_MS)
    // what pjctl knows, rendered when it changed; the process's own metrics (CPU, memory, event loop,
    // build info: ~50 series) rendered for the scrapes, at most PROCESS_MAX_AGE_MS old
    const own = processRegistry()
    let body = await metrics.renderChunks(sliceMs)
    let gzipped = await deflateOpen(body)
    let tail: { plain: Buffer; deflated: Buffer; at: number } | null = null
    let tailing: Promise<{ plain: Buffer; deflated: Buffer; at: number }> | null = null
    const processPart = async (): Promise<{ plain: Buffer; deflated: Buffer }> => {
      if (tail && Date.now() - tail.at < PROCESS_MAX_AGE_MS) return tail
      tailing ??= (async () => {
        const plain = Buffer.from(await own.metrics())
        tail = { plain, deflated: deflateTail(plain), at: Date.now() }
        return tail
      })().finally(() => (tailing = null))
      return tailing
    }
    let dirty = false
    let rendering = false
    let renderTimer: NodeJS.Timeout | null = null
    let lastRenderMs = 0
    let lastRenderAt = 0
    let renderedVersion = metrics.version
    const followers: ServerFollower[] = []
    const render = async (): Promise<void> => {
      renderTimer = null
      if (rendering) return
      rendering = true
      dirty = false
      const started = Date.now()
      let rendered = false
      try {
        for (const follower of followers) await follower.publish()
        // a render only when what it shows has changed (not when a contact reached expiration_time without moving its AOR's counts)
        const version = metrics.version
        if (version !== renderedVersion) {
          // compressed in libuv's thread pool (not on the event loop); body and gzipped change together
          const text = await metrics.renderChunks(sliceMs)
          const compressed = await deflateOpen(text)
          body = text
          gzipped = compressed
          renderedVersion = version
          rendered = true
        }
      } finally {
        lastRenderMs = Date.now() - started
        lastRenderAt = Date.now()
        rendering = false
      }
      deps.log.debug(
        rendered
          ? `exporter: rendered ${byteLength(body)} bytes (${gzipped.deflated.length} gzip) in ${lastRenderMs} ms`
          : `exporter: nothing shown changed (${lastRenderMs} ms)`,
      )
      // set again by a schedule() during the render
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
      if (dirty) schedule()
    }
    const schedule = (): void => {
      dirty = true
      if (renderTimer || rendering) return
      const wait = Math.max(
        0,
        Math.max(MIN_RENDER_MS, RENDER_COST_FACTOR * lastRenderMs) - (Date.now() - lastRenderAt),
      )
      renderTimer = setTimeout(() => void render(), wait)
    }

    for (const target of targets)
      followers.push(
        new ServerFollower(target, settings, deps, metrics, { changed: schedule }, resyncMs),
      )

    let http: HttpListener
    try {
      http = await listen(
        host,
        port,
        {
          metrics: async () => {
            const [plain, zipped] = [body, gzipped]
            const registry = await processPart()
            return {
              body: [...plain, registry.plain],
              gzipped: gzipMember(zipped, registry),
              contentType: metrics.contentType,
            }
          },
          health: (authenticated) => {
            const down = followers.filter((f) => f.state !== 'up')
            if (!down.length)
              return {
                ok: true,
                text: `ok: ${followers.map((f) => `${f.name} up (${f.contacts} contacts)`).join(', ')}`,
              }
            return {
              ok: false,
              text: down
                .map((f) => {
                  // while it reconnects after a failure, the failure is what is worth telling
                  const failed = f.state === 'down' || (f.state === 'connecting' && f.failed)
                  return `${f.name}: ${failed ? `down: ${authenticated ? f.reason : f.summary}` : f.state}`
                })
                .join('\n'),
            }
          },
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
    const stopWatching = webPath
      ? watchWebConfig(
          webPath,
          // eslint-disable-next-line @typescript-eslint/no-non-null-assertion -- --web-config was read above whenever its path is given
          web!,
          deps,
          { watchFile, unwatchFile, loadWebConfig },
          (next) => {
            web = next
            if (!(next instanceof Error)) http.reconfigure(next)
          },
        )
      : () => undefined
    sending = http.sending
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
    // set by schedule() while the exporter ran
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
    if (renderTimer) clearTimeout(renderTimer)
    await Promise.all(followers.map((f) => f.stop()))
    await http.close()
    return { view: 'exporter', data: {}, exitCode: 0 }
  },
}

/** "TLS, basic auth (2 users)" */
function describeWeb(web: WebConfig): string {
  const tls = web.tls
    ? `TLS${web.tls.clientAuth === 'NoClientCert' ? '' : ` (client certificates: ${web.tls.clientAuth})`}`
    : 'no TLS'
  return `${tls}, ${web.users.size ? `basic auth (${web.users.size} user(s))` : 'no basic auth'}`
}

/**
 * Re-reads the web config when it or a file it names changes (polled every second, as a file edited in
 * place, replaced by rename or renewed by certbot all show), and on SIGHUP. A file that no longer loads
 * is logged, and every request is then answered 500 until it loads again (as exporter-toolkit fails
 * closed); a change that would turn TLS on or off takes a restart and is refused.
 */
function watchWebConfig(
  path: string,
  first: WebConfig,
  deps: Deps,
  lib: {
    watchFile: typeof import('node:fs').watchFile
    unwatchFile: typeof import('node:fs').unwatchFile
    loadWebConfig: typeof import('../http/webconfig.js').loadWebConfig
  },
  apply: (next: WebConfig | Error) => void,
): () => void {
  const { watchFile, unwatchFile, loadWebConfig } = lib
  let watched: string[] = []
  let inForce = first
  let reloading: Promise<void> | null = null
  let again = false
  const watch = (files: readonly string[]): void => {
    for (const file of watched) unwatchFile(file, onChange)
    watched = [...new Set(files)]
    for (const file of watched) watchFile(file, { interval: 1000, persistent: false }, onChange)
  }
  const reload = (why: string): void => {
    if (reloading) {
      again = true
      return
    }
    reloading = (async () => {
      try {
        const next = await loadWebConfig(path)
        if (Boolean(next.tls) !== Boolean(inForce.tls)) {
          const error = new Error(
            `web config ${path}: ${next.tls ? 'turns TLS on' : 'turns TLS off'}, which takes a restart of the exporter`,
          )
          deps.log.warn(
            `${error.message}; answering 500 until it is restarted or the file put back`,
          )
          apply(error)
          return
        }
        inForce = next
        apply(next)
        watch(next.files)
        deps.log.info(`pjctl exporter: web config ${path} reloaded (${why}): ${describeWeb(next)}`)
      } catch (error) {
        deps.log.warn(`${(error as Error).message}; answering 500 until it loads again`)
        apply(error as Error)
      }
    })().finally(() => {
      reloading = null
      if (again) {
        again = false
        reload(why)
      }
    })
  }
  function onChange(current: Stats, previous: Stats): void {
    if (
      current.mtimeMs !== previous.mtimeMs ||
      current.ino !== previous.ino ||
      current.size !== previous.size
    )
      reload('changed')
  }
  watch(first.files)
  const offHangup = deps.onHangup?.(() => reload('SIGHUP')) ?? (() => undefined)
  return () => {
    offHangup()
    for (const file of watched) unwatchFile(file, onChange)
  }
}

function byteLength(chunks: readonly Buffer[]): number {
  let n = 0
  for (const chunk of chunks) n += chunk.length
  return n
}
