// What a command is, and what it may use. Commands never print, exit, colour or
// touch sockets: they get `deps`, return data, and src/cli.ts does the rest.

import type { AmiSession, AmiTarget } from '../ami/types.js'
import type { ExitCode, PjctlError } from '../errors.js'
import type { Format, OptionKey, Settings } from '../options.js'
import type { ConfigFile } from '../settings.js'
import type { CommandDoc, View, ViewData, ViewResult } from './views.js'

export type { Format, Settings }

interface Logger {
  /** A warning on stderr (muted by --quiet). */
  warn: (message: string) => void
  /** Progress/info on stderr (muted by --quiet and when not useful). */
  info(message: string): void
  /** Only with --debug. */
  debug(message: string): void
}

export interface Progress {
  /** Called with done/total as work proceeds; a no-op off a terminal. */
  update(done: number, total: number): void
  done(): void
}

export interface Deps {
  /** The servers this run is for (one for --host/--port, several for --server a,b / --all). */
  targets(): Promise<AmiTarget[]>
  /** The config file (read once per run), null when there is none. */
  configFile?(): Promise<ConfigFile | null>
  /** Every server of the config file (what --all would read), whatever this run names: a cluster's other nodes. */
  configuredTargets?(): Promise<AmiTarget[]>
  /** Calls `listener` on each SIGHUP until the returned function is called. */
  onHangup?(listener: () => void): () => void
  /** Open a logged-in AMI session. */
  connect(target: AmiTarget): Promise<AmiSession>
  /** Unix seconds. */
  now(): number
  log: Logger
  readFile(path: string): Promise<string>
  /** The whole of standard input (for --input -). */
  readStdin(): Promise<string>
  /** Ask yes/no on the terminal, after showing `preview` (a view and its data, rendered as a table). Only called when `interactive`. */
  confirm(question: string, preview?: ViewResult): Promise<boolean>
  /** Standard input and output are a terminal. */
  interactive: boolean
  progress(label: string): Progress
  /** A streaming command's output as it happens (pjctl watch): one record rendered in the run's format and written at once. */
  emit?<V extends View>(view: V, data: ViewData[V]): void
  /** Aborted on SIGINT/SIGTERM. */
  signal: AbortSignal
  env: Record<string, string | undefined>
  /** Every command, as help, completion and the man page show it (the command line's catalog, for pjctl completion). */
  commandDocs?(): CommandDoc[]
}

interface RunContext {
  args: string[]
  settings: Settings
  format: Format
  deps: Deps
}

/** What a command returns: its view (which renderers draw `data`, src/output) and the exit code. */
export type CommandResult<V extends View = View> = ViewResult<V> & { exitCode: ExitCode }

export interface CommandSpec<V extends View> {
  name: string
  /** Commander argument syntax, e.g. '[names...]'. */
  args?: string
  summary: string
  /** Longer help shown under --help. */
  help?: string
  /** Two or three command lines shown under --help and in the man page. */
  examples?: readonly string[]
  /** The words the first argument may be (completion offers them). */
  argChoices?: readonly string[]
  /** This command's own wording for an option whose table help speaks of several commands. */
  optionHelp?: Partial<Record<OptionKey, string>>
  options: readonly OptionKey[]
  /** Output formats; the first is the default. */
  formats: readonly [Format, ...Format[]]
  /** Exit code for any error under this command, usage errors included (check: 3, UNKNOWN), instead of the error's own. */
  errorExit?: ExitCode
  /** On Ctrl-C/SIGTERM the command finishes the actions in flight and summarises (deps.signal aborts); without it the run stops at once. */
  handlesInterrupt?: boolean
  /** It runs until it is stopped (a service): V8 sizes its young generation as it does by default, not
   *  kept small as for a run that reads, writes and exits (src/heap.ts). */
  untilStopped?: boolean
  run(ctx: RunContext): Promise<CommandResult<V>>
  /**
   * A result to render when run() throws (check: UNKNOWN in the chosen format); the error still goes to stderr.
   * A promise in the built CLI, where the command's module is loaded on first use (scripts/build.mjs).
   */
  failure?(
    error: PjctlError,
    settings: Settings,
    now: number,
  ): CommandResult<V> | Promise<CommandResult<V>>
}

/** Any command: one CommandSpec per view, so a command's result and its renderers agree. */
export type AnyCommand = { [V in View]: CommandSpec<V> }[View]
