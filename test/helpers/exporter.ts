// Runs `pjctl exporter` against a sim (or the lab) and scrapes it over HTTP: in this process
// through main(argv, io) (no node start-up; stop() emits SIGTERM on its signals), or as a child
// process where a real signal and a real exit code are the point.
import { get } from 'node:http'
import { afterEach, beforeEach } from 'vitest'
import { startIn } from './cli.js'
import { spawnCli } from './prune.js'
import type { RunResult } from './run.js'

export interface RunningExporter {
  port: number
  stderr(): string
  /** GET a path: status and body. */
  fetch(path: string): Promise<{ status: number; body: string; contentType: string }>
  /** The body of /metrics. */
  scrape(): Promise<string>
  /** A sample's value (`name{labels}`, labels as written by prom-client), or undefined when absent. */
  value(series: string): Promise<number | undefined>
  /** Polls /metrics until `series` has `expected` (undefined: absent), or fails after `ms`. */
  waitFor(series: string, expected: number | undefined, ms?: number): Promise<void>
  /** SIGTERM, then the result. */
  stop(): Promise<RunResult>
}

export function httpGet(
  port: number,
  path: string,
): Promise<{ status: number; body: string; contentType: string }> {
  return new Promise((resolve, reject) => {
    const request = get({ host: '127.0.0.1', port, path, agent: false }, (response) => {
      let body = ''
      response.setEncoding('utf8')
      response.on('data', (d: string) => (body += d))
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          body,
          contentType: response.headers['content-type'] ?? '',
        }),
      )
    })
    request.on('error', reject)
  })
}

/** The value of one sample in an exposition text. */
function sample(text: string, series: string): number | undefined {
  const start = text.startsWith(`${series} `) ? 0 : text.indexOf(`\n${series} `)
  if (start < 0) return undefined
  const from = start === 0 ? series.length + 1 : start + series.length + 2
  return Number(text.slice(from, text.indexOf('\n', from)))
}

/** How the exporter runs: in this process (the default), or as a child process (`spawned`). */
export type ExporterMode = 'in-process' | 'spawned'

export async function startExporter(
  args: string[],
  env: Record<string, string>,
  killAfterMs = 120_000,
  mode: ExporterMode = 'in-process',
): Promise<RunningExporter> {
  const argv = ['exporter', '--listen', '127.0.0.1:0', ...args]
  let stderr: () => string
  let stop: () => Promise<RunResult>
  if (mode === 'spawned') {
    const child = spawnCli(argv, env, killAfterMs)
    stderr = () => child.stderr()
    stop = () => {
      child.child.kill('SIGTERM')
      return child.done
    }
  } else {
    const run = startIn(argv, { env, killAfterMs })
    stderr = () => run.stderr()
    stop = () => {
      run.signals.emit('SIGTERM', 'SIGTERM')
      return run.done
    }
  }
  const deadline = Date.now() + 20_000
  let port = 0
  while (!port) {
    const m = /listening on http:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(stderr())
    if (m) port = Number(m[1])
    else if (Date.now() > deadline) throw new Error(`the exporter did not start: ${stderr()}`)
    else await new Promise((r) => setTimeout(r, 20))
  }
  const fetch = (path: string) => httpGet(port, path)
  const scrape = async () => (await fetch('/metrics')).body
  const value = async (series: string) => sample(await scrape(), series)
  return {
    port,
    stderr,
    fetch,
    scrape,
    value,
    async waitFor(series, expected, ms = 15_000) {
      const until = Date.now() + ms
      let last: number | undefined
      for (;;) {
        last = await value(series)
        if (last === expected) return
        if (Date.now() > until)
          throw new Error(`${series} is ${last}, expected ${expected}; stderr:\n${stderr()}`)
        await new Promise((r) => setTimeout(r, 25))
      }
    },
    stop,
  }
}

/**
 * The exporters a test file starts, stopped once the last of its tests still running ends (its tests
 * run concurrently: most of their time is an exporter starting and polling). Call it at the top of
 * the file: the hooks are that file's (test files share helper modules, vitest isolate: false).
 */
export function exportersOfThisFile(): RunningExporter[] {
  const running: RunningExporter[] = []
  let inFlight = 0
  beforeEach(() => {
    inFlight++
  })
  afterEach(async () => {
    if (--inFlight === 0) await Promise.all(running.splice(0).map((e) => e.stop()))
  })
  return running
}

/** Polls until `done()` holds, or fails after `ms`, with what the exporter logged. */
export async function until(e: RunningExporter, done: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out; stderr:\n${e.stderr()}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}
