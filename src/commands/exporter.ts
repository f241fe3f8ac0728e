// pjctl exporter: live Prometheus metrics for every AOR, read once per server and then kept current
// from AMI events (see follow.ts). Runs until SIGTERM/SIGINT, then closes its sessions and exits 0.
// A scrape is answered from the last rendered body: it never sends an AMI action.

import type { createGzip } from 'node:zlib'
import { UsageError } from '../errors.js'
import type { HttpListener } from '../http/server.js'
import { CONNECTION_SECURITY, listenAddress } from '../options.js'
import type { ServerFollower } from './follow.js'
import type { CommandSpec } from './types.js'

/**
 * Renders at most once a second while changes keep coming, and never more often than four times its own
 * cost: on a big PBX some contact expires nearly every second. A render builds the per-AOR text in
 * slices that yield to the event loop (output/metrics.ts), so scrapes are served the last complete body
 * meanwhile.
 */
const MIN_RENDER_MS = 1000
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
    'server',
    'all',
    'config',
    'host',
    'port',
    'user',
    'secretFile',
    ...CONNECTION_SECURITY,
    'timeout',
    'maxOutput',
    'source',
    'pjsipConf',
    'maxContacts',
    'warn',
    'crit',
    'listen',
    'resync',
    'perAor',
    'heal',
    'expired',
    'superseded',
    'keep',
    'unreachable',
  ],
  optionHelp: {
    expired: "With --heal: also prune the refused AOR's expired contacts.",
    superseded: 'With --heal: also prune every superseded contact of the refused AOR (any device).',
    keep: 'With --heal: also keep only the N latest-expiring contacts of the refused AOR.',
    unreachable:
      "With --heal: prune the refused AOR's unreachable contacts (the default does too).",
  },
  formats: ['text'],
  // SIGTERM/SIGINT end the run: sessions are logged off, then exit 0
  handlesInterrupt: true,
  async run({ settings, deps }) {
    const { host, port } = listenAddress(settings.listen)
    // loaded when the exporter runs, not at every pjctl start-up (prom-client, node:http, node:zlib)
    const [{ createGzip }, { listen }, { ExporterMetrics }, { ServerFollower }, { isProblem }] =
      await Promise.all([
        import('node:zlib'),
        import('../http/server.js'),
        import('../output/metrics.js'),
        import('./follow.js'),
        import('../core/live.js'),
      ])
    const gzip = (chunks: readonly Buffer[]): Promise<Buffer> => gzipWith(createGzip, chunks)
    const resyncMs = settings.resync * 1000
    const metrics = new ExporterMetrics(settings.perAor, isProblem)
    const targets = await deps.targets()

    // /metrics answers being written (none until the listener is up)
    let sending = (): number => 0
    const sliceMs = (): number => (sending() > 0 ? SLICE_WHILE_SENDING_MS : SLICE_MS)
    let body = await metrics.renderChunks(sliceMs)
    let gzipped = await gzip(body)
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
          const compressed = await gzip(text)
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
          ? `exporter: rendered ${byteLength(body)} bytes (${gzipped.length} gzip) in ${lastRenderMs} ms`
          : `exporter: nothing shown changed (${lastRenderMs} ms)`,
      )
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
      http = await listen(host, port, {
        metrics: () => ({ body, gzipped, contentType: metrics.contentType }),
        health: () => {
          const down = followers.filter((f) => f.state !== 'up')
          if (!down.length)
            return {
              ok: true,
              text: `ok: ${followers.map((f) => `${f.name} up (${f.contacts} contacts)`).join(', ')}`,
            }
          return {
            ok: false,
            text: down
              .map((f) => `${f.name}: ${f.state === 'down' ? `down: ${f.reason}` : f.state}`)
              .join('\n'),
          }
        },
      })
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
      `pjctl exporter: listening on http://${host.includes(':') ? `[${host}]` : host}:${http.port}/metrics (${followers.length} server(s), resync every ${resyncMs / 1000} s)`,
    )
    sending = http.sending
    for (const follower of followers) follower.start()

    await new Promise<void>((resolve) => {
      if (deps.signal.aborted) return resolve()
      deps.signal.addEventListener('abort', () => resolve(), { once: true })
    })
    deps.log.info('pjctl exporter: stopping')
    if (renderTimer) clearTimeout(renderTimer)
    await Promise.all(followers.map((f) => f.stop()))
    await http.close()
    return { view: 'exporter', data: {}, exitCode: 0 }
  },
}

/** The body gzip-compressed (level 1: fast; 23 MB becomes ~1 MB), piece by piece in libuv's thread pool. */
function gzipWith(create: typeof createGzip, chunks: readonly Buffer[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = []
    const stream = create({ level: 1 })
    stream.on('data', (data: Buffer) => out.push(data))
    stream.on('end', () => resolve(Buffer.concat(out)))
    stream.on('error', reject)
    for (const chunk of chunks) stream.write(chunk)
    stream.end()
  })
}

function byteLength(chunks: readonly Buffer[]): number {
  let n = 0
  for (const chunk of chunks) n += chunk.length
  return n
}
