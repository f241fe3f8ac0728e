// Measuring a child process: wall time (spawn to exit), peak RSS, bytes on stdout.
//
// Peak RSS: the child reports its own getrusage() ru_maxrss when it exits (a one-line
// `--import` probe writes process.resourceUsage().maxRSS to fd 3). That is the kernel's
// high-water mark of the whole process lifetime, so a peak just before exit is never
// missed. /proc/<pid>/status VmHWM is polled every few ms as well, as a cross-check and
// as the fallback when a child dies without reporting (killed at its time limit).

import { spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'

export interface ChildResult {
  wallMs: number
  /** Peak RSS in KiB; null when neither method saw it. */
  peakRssKb: number | null
  /** How peakRssKb was obtained. */
  rssMethod: 'ru_maxrss' | 'VmHWM poll' | 'none'
  /** Highest VmHWM seen by polling (KiB), for comparison with ru_maxrss. */
  polledHwmKb: number | null
  stdoutBytes: number
  /** The first `keepStdout` bytes of stdout. */
  stdoutHead: string
  stderr: string
  code: number | null
  signal: NodeJS.Signals | null
  timedOut: boolean
}

export interface ChildOptions {
  env?: Record<string, string | undefined>
  /** Report peak RSS (adds a ~1 ms probe to the child's start-up). */
  rss?: boolean
  /** Keep this many leading bytes of stdout (the rest is only counted). */
  keepStdout?: number
  /** SIGKILL the child after this many ms. */
  timeoutMs?: number
  pollMs?: number
}

const RSS_PROBE =
  'data:text/javascript,' +
  encodeURIComponent(
    'import{writeSync}from"node:fs";process.on("exit",()=>{try{writeSync(3,String(process.resourceUsage().maxRSS))}catch{}})',
  )

async function vmHwmKb(pid: number): Promise<number | null> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8')
    const m = /^VmHWM:\s+(\d+) kB/m.exec(status)
    return m ? Number(m[1]) : null
  } catch {
    return null
  }
}

/** Runs `node [probe] <args>` and measures it. */
export function runNode(args: string[], opts: ChildOptions = {}): Promise<ChildResult> {
  const nodeArgs = opts.rss ? ['--import', RSS_PROBE, ...args] : args
  const keep = opts.keepStdout ?? 0
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawn(process.execPath, nodeArgs, {
      env: opts.env,
      stdio: ['ignore', 'pipe', 'pipe', opts.rss ? 'pipe' : 'ignore'],
    })
    let stdoutBytes = 0
    let head = ''
    let stderr = ''
    let probe = ''
    let polled: number | null = null
    let timedOut = false
    child.stdout!.on('data', (chunk: Buffer) => {
      if (head.length < keep) head += chunk.subarray(0, keep - head.length).toString('latin1')
      stdoutBytes += chunk.length
    })
    child.stderr!.setEncoding('utf8').on('data', (text: string) => {
      if (stderr.length < 64 * 1024) stderr += text
    })
    const fd3 = child.stdio[3] as NodeJS.ReadableStream | null
    fd3?.setEncoding('utf8')
    fd3?.on('data', (text: string) => (probe += text))
    let polling = false
    const poller =
      opts.rss && child.pid
        ? setInterval(() => {
            if (polling) return
            polling = true
            void vmHwmKb(child.pid!).then((kb) => {
              polling = false
              if (kb !== null && (polled === null || kb > polled)) polled = kb
            })
          }, opts.pollMs ?? 5)
        : null
    const killer = opts.timeoutMs
      ? setTimeout(() => {
          timedOut = true
          child.kill('SIGKILL')
        }, opts.timeoutMs)
      : null
    child.on('error', reject)
    child.on('close', (code, signal) => {
      const wallMs = performance.now() - started
      if (poller) clearInterval(poller)
      if (killer) clearTimeout(killer)
      const reported = /^\d+$/.test(probe.trim()) ? Number(probe.trim()) : null
      resolve({
        wallMs,
        peakRssKb: reported ?? polled,
        rssMethod: reported !== null ? 'ru_maxrss' : polled !== null ? 'VmHWM poll' : 'none',
        polledHwmKb: polled,
        stdoutBytes,
        stdoutHead: head,
        stderr,
        code,
        signal,
        timedOut,
      })
    })
  })
}

export function median(values: number[]): number {
  if (!values.length) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** A plain-text table: right-aligned numbers, left-aligned text. */
export function table(head: string[], rows: (string | number)[][]): string {
  const cells = [head, ...rows.map((r) => r.map(String))]
  const widths = head.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)))
  const numeric = head.map((_, i) =>
    rows.every((r) => /^[-+]?[\d.,]+( ?[%×a-zA-Zµ/]+)?$|^-$|^>/.test(String(r[i] ?? '-'))),
  )
  const line = (r: string[]) =>
    r
      .map((c, i) => (numeric[i] && i > 0 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd()
  return [
    line(cells[0]!),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...cells.slice(1).map(line),
  ].join('\n')
}

export const fmt = {
  ms: (ms: number) =>
    Number.isNaN(ms)
      ? '-'
      : ms >= 10_000
        ? `${(ms / 1000).toFixed(1)} s`
        : ms >= 100
          ? `${ms.toFixed(0)} ms`
          : `${ms.toFixed(1)} ms`,
  mb: (kb: number | null) =>
    kb === null || Number.isNaN(kb) ? '-' : `${(kb / 1024).toFixed(0)} MB`,
  bytes: (n: number) =>
    n >= 1024 * 1024
      ? `${(n / 1024 / 1024).toFixed(1)} MB`
      : n >= 1024
        ? `${(n / 1024).toFixed(1)} KB`
        : `${n} B`,
  rate: (perSecond: number) =>
    perSecond >= 1e6
      ? `${(perSecond / 1e6).toFixed(2)} M/s`
      : perSecond >= 1e3
        ? `${(perSecond / 1e3).toFixed(0)} k/s`
        : `${perSecond.toFixed(0)} /s`,
  us: (us: number) => (Number.isNaN(us) ? '-' : `${us.toFixed(us < 10 ? 2 : 1)} µs`),
  ratio: (r: number) => (Number.isNaN(r) ? '-' : `${r.toFixed(2)}×`),
  count: (n: number) => n.toLocaleString('en-US'),
}
