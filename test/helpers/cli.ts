// Runs pjctl's main() in this process, the way test/helpers/run.ts runs the built CLI as a
// child: same environment rules (no PJCTL_* leaks, NO_COLOR=1, a fresh HOME), same result
// shape. No node start-up per test, so a CLI test costs milliseconds, not half a second.
// Keep spawned run() for what needs a real process: the launcher, signals, exit codes.
import { EventEmitter } from 'node:events'
import { Readable, Writable } from 'node:stream'
import { main, type Io, type OutStream } from '../../src/cli.js'
import { isolatedHome, type RunResult } from './run.js'

export interface RunInOptions {
  env?: Record<string, string | undefined>
  /** Standard input (for --input -, or the answer read by the real prompt). */
  stdin?: string
  /** Pretend stdin, stdout and stderr are a terminal (true), or say which ones are; `columns` is the terminal width. */
  tty?: boolean | { stdin?: boolean; stdout?: boolean; stderr?: boolean; columns?: number }
  /**
   * Answers the yes/no prompt instead of reading stdin: a fixed answer or a function of the question.
   * The question is still written to stderr, as the terminal would show it. Every question is in `asked`.
   */
  confirm?: boolean | ((question: string) => boolean)
  /** Milliseconds since the epoch (default Date.now). */
  clock?: () => number
  /** Where the run listens for SIGINT/SIGTERM: emit on it to interrupt the run. */
  signals?: EventEmitter
  /** Give up after this many ms: the result is then code null, signal SIGKILL, as a killed child's (a hung run fails its test). */
  killAfterMs?: number
}

export interface RunInResult extends RunResult {
  /** The questions asked through `confirm`. */
  asked: string[]
}

/** `pjctl ...args` in-process; resolves when main() returns (or a second signal exits). */
export function runIn(args: string[], opts: RunInOptions = {}): Promise<RunInResult> {
  return startIn(args, opts).done
}

/** A run in progress: what it has written so far, its signals, and its result. */
export interface StartedIn {
  stdout(): string
  stderr(): string
  /** Emit 'SIGTERM' or 'SIGINT' on it to stop the run as a signal would. */
  signals: EventEmitter
  done: Promise<RunInResult>
}

/** `pjctl ...args` in-process, for a run that keeps going (the exporter): read its output while it runs. */
export function startIn(args: string[], opts: RunInOptions = {}): StartedIn {
  const env: Record<string, string | undefined> = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('PJCTL_') && k !== 'FORCE_COLOR') env[k] = v
  }
  Object.assign(env, { NO_COLOR: '1' }, isolatedHome())
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete env[k]
    else env[k] = v
  }
  const tty =
    typeof opts.tty === 'object'
      ? opts.tty
      : { stdin: opts.tty, stdout: opts.tty, stderr: opts.tty }
  const columns = typeof opts.tty === 'object' ? opts.tty.columns : undefined
  const stdout = collector(Boolean(tty.stdout), columns)
  const stderr = collector(Boolean(tty.stderr), columns)
  const stdin = Object.assign(Readable.from(opts.stdin ? [Buffer.from(opts.stdin)] : []), {
    isTTY: Boolean(tty.stdin),
  })
  const asked: string[] = []
  const signals = opts.signals ?? new EventEmitter()
  let exited: (code: number) => void = () => {}
  const exit = new Promise<number>((resolve) => (exited = resolve))
  const io: Io = {
    stdout: stdout.stream,
    stderr: stderr.stream,
    stdin,
    env,
    clock: opts.clock ?? (() => Date.now()),
    ask: async (question) => {
      asked.push(question)
      stderr.stream.write(question)
      if (opts.confirm === undefined)
        throw new Error(`runIn: the run asked ${JSON.stringify(question)}; pass confirm`)
      const yes = typeof opts.confirm === 'function' ? opts.confirm(question) : opts.confirm
      stderr.stream.write(yes ? 'y\n' : 'n\n')
      return yes
    },
    signals,
    exit: (code) => exited(code),
  }
  let timer: NodeJS.Timeout | undefined
  const killed = new Promise<null>(
    (resolve) => (timer = setTimeout(() => resolve(null), opts.killAfterMs ?? 20_000)),
  )
  const done = (async (): Promise<RunInResult> => {
    try {
      const code = await Promise.race([main(['node', 'pjctl', ...args], io), exit, killed])
      return {
        code,
        signal: code === null ? 'SIGKILL' : null,
        stdout: stdout.text(),
        stderr: stderr.text(),
        asked,
      }
    } finally {
      clearTimeout(timer)
    }
  })()
  return { stdout: () => stdout.text(), stderr: () => stderr.text(), signals, done }
}

function collector(
  isTTY: boolean,
  columns: number | undefined,
): { stream: OutStream; text(): string } {
  const chunks: string[] = []
  const stream: OutStream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      chunks.push(typeof chunk === 'string' ? chunk : chunk.toString('utf8'))
      callback()
    },
  })
  stream.isTTY = isTTY
  if (isTTY) stream.columns = columns ?? 80
  return { stream, text: () => chunks.join('') }
}
