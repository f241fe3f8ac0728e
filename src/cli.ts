// The entry point: commander from the option table, one run, one output write, one
// error handler, one exit code. Nothing else in pjctl prints results, catches for
// display, traps signals or decides how the process ends.

import { Command, CommanderError, Help, Option } from 'commander'
import { readFile } from 'node:fs/promises'
import type { Readable, Writable } from 'node:stream'
import { COMMANDS } from './commands/index.js'
import type { AnyCommand, Deps, Format, Progress, Settings } from './commands/types.js'
import {
  EXIT,
  InterruptedError,
  PjctlError,
  UsageError,
  cannotRead,
  type ExitCode,
} from './errors.js'
import { OPTIONS, longForm, withDefaults, type OptionKey, type OptionSpec } from './options.js'
import { loadConfig, resolveTargets, type ConfigFile, type Layers } from './settings.js'
import { VERSION } from './version.js'
import { youngGenerationAsV8Grows } from './heap.js'
import { commandDocs, flagDoc, optionKeysOf } from './usage.js'

/**
 * For scripts/man.mjs (through entry.ts, built as dist/cli.js): the man page from the built CLI's own
 * option table and command catalog.
 * @public entry.ts imports it from this module's chunk
 */
export { manPageText } from './usage.js'
/** @public For the launcher (src/entry.ts), through the bundle's exports: it loads node:v8 only with the
 *  bundle, and `pjctl --version` not at all. */
export { keepYoungGenerationSmall, youngGenerationAsV8Grows } from './heap.js'
import { printable } from './text.js'

interface Chosen {
  spec: AnyCommand
  args: string[]
  command: Command
  attributes: Map<OptionKey, string>
}

/** A stream pjctl writes to: process.stdout/stderr, or a test's collector. */
export type OutStream = Writable & { isTTY?: boolean; columns?: number }

/** Everything main() takes from the process, so tests can run it in-process (test/helpers/cli.ts). */
export interface Io {
  stdout: OutStream
  stderr: OutStream
  stdin: Readable & { isTTY?: boolean }
  env: Record<string, string | undefined>
  /** Milliseconds since the epoch. */
  clock(): number
  /**
   * Asks a yes/no question on the terminal; the default reads a line from stdin. Ctrl-C (or
   * `signal` aborting) rejects with InterruptedError.
   */
  ask(question: string, signal?: AbortSignal): Promise<boolean>
  /** Where SIGINT/SIGTERM come from (the process, or a test's emitter). */
  signals: {
    on(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown
    off(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown
  }
  /** Ends the process at once (a second Ctrl-C). */
  exit(code: ExitCode): void
}

function processIo(): Io {
  const io: Io = {
    stdout: process.stdout,
    stderr: process.stderr,
    // process.stdin is built on first use: most runs never read it
    get stdin() {
      return process.stdin
    },
    env: process.env,
    clock: () => Date.now(),
    ask: (question, signal) => askOnTerminal(io, question, signal),
    signals: process,
    exit: (code) => process.exit(code),
  }
  return io
}

export async function main(argv: string[] = process.argv, io: Io = processIo()): Promise<ExitCode> {
  const { stdout, stderr } = io
  // A reader that goes away (`pjctl contacts --json | head`) is not a crash.
  stdout.on('error', () => {})
  let chosen: Chosen | null = null
  const named = COMMANDS.find((spec) => spec.name === argv[2])
  // Only the command being run is built into commander (its help and errors are its own); every
  // command for the top-level help and "did you mean", none for --version.
  const program = buildProgram(
    (c) => (chosen = c),
    io,
    named ? [named] : argv[2] === '--version' || argv[2] === '-V' ? [] : COMMANDS,
  )
  // bare `pjctl`: the help, on stdout (it is what was asked for), but not a successful run
  if (argv.length <= 2) {
    stdout.write(program.helpInformation())
    return EXIT.usage
  }
  // `--secret x` must not end in "did you mean --crit?": say where a secret goes instead
  const operands = argv.indexOf('--', 2)
  if (
    argv
      .slice(2, operands < 0 ? undefined : operands)
      .some((arg) => /^--(secret|password|pass)(=|$)/i.test(arg))
  ) {
    const error = new UsageError(
      'the secret is never a flag: use PJCTL_SECRET, --secret-file or the config file',
    )
    const code = report(io, error, named?.errorExit, false)
    return (await failureOutput(io, named, error, argv)) ?? code
  }
  try {
    await program.parseAsync(argv)
  } catch (error) {
    if (error instanceof CommanderError) {
      if (
        error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        error.code === 'commander.help'
      )
        return EXIT.ok
      // commander said it on stderr; a monitoring system reads stdout: check says it there too
      const said = new UsageError(withoutOptionValue(error.message.replace(/^error: /, '')))
      return (await failureOutput(io, named, said, argv)) ?? named?.errorExit ?? EXIT.usage
    }
    const code = report(io, error, named?.errorExit, false)
    if (error instanceof PjctlError) return (await failureOutput(io, named, error, argv)) ?? code
    return code
  }
  // set by the command's action during parseAsync, which TypeScript cannot see
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
  if (!chosen) {
    stdout.write(program.helpInformation())
    return EXIT.usage
  }
  const { spec, args, command, attributes } = chosen as Chosen
  // The layers each server's settings are merged from (defaults <- config file <- environment <- flags);
  // `settings` is the run's own merge of them without a config file.
  const layers: Layers = { flags: {}, env: {} }
  const settings: Settings = withDefaults()
  try {
    for (const [key, attribute] of attributes) {
      const value: unknown = command.getOptionValue(attribute)
      ;(settings as Record<OptionKey, unknown>)[key] = value
      if (command.getOptionValueSource(attribute) === 'cli')
        (layers.flags as Record<OptionKey, unknown>)[key] = value
    }
    fromEnv(settings, layers, [...attributes.keys()], io.env)
    checkConflicts(settings, layers)
  } catch (error) {
    const code = report(io, error, spec.errorExit, false)
    if (error instanceof PjctlError) return (await failureOutput(io, spec, error, argv)) ?? code
    return code
  }
  if (spec.untilStopped === true) youngGenerationAsV8Grows()
  const debug = settings.debug === true
  const controller = new AbortController()
  const onSignal = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted || !spec.handlesInterrupt) {
      stderr.write(`pjctl: interrupted (${signal})\n`)
      io.exit(EXIT.interrupted)
      return
    }
    stderr.write(
      `pjctl: ${signal}: finishing the actions in flight, then stopping (again to quit at once)\n`,
    )
    controller.abort()
  }
  io.signals.on('SIGINT', onSignal)
  io.signals.on('SIGTERM', onSignal)
  let format: Format = spec.formats[0]
  const textfile = settings.textfile ?? null
  // --textfile is checked before anything runs: a directory or a symbolic link there is refused in words
  if (textfile !== null) {
    try {
      const { checkWriteTarget } = await import('./files.js')
      await checkWriteTarget(textfile, '--textfile', { owner: false })
    } catch (error) {
      io.signals.off('SIGINT', onSignal)
      io.signals.off('SIGTERM', onSignal)
      // as when the metrics cannot be written: exit 1
      return report(io, error, EXIT.failed, debug)
    }
  }
  try {
    format = chooseFormat(spec, settings, layers)
    // The renderers load once the command has logged in to its first server: while the server
    // computes its answers (a big registrar takes a while) the load is free; before the first
    // action it only delays it.
    let output: Promise<Output> | null = null
    const loadOutput = (): Promise<Output> => {
      if (output === null) {
        output = import('./output/index.js')
        // a run that fails first never waits for it
        output.catch(() => undefined)
      }
      return output
    }
    const deps = makeDeps(io, settings, layers, controller.signal, () => void loadOutput())
    const emitStyle = {
      color: useColor(io, settings, stdout),
      indent: false,
      ...layout(io, stdout),
    }
    // what pjctl watch emits is written in order, each line once the renderers are loaded
    let emitted: Promise<void> = Promise.resolve()
    deps.emit = (view, data) => {
      emitted = emitted.then(async () => {
        const { renderText } = await loadOutput()
        stdout.write(renderText(view, format, data, emitStyle))
      })
      emitted.catch(() => undefined)
    }
    const result = await spec.run({ args, settings, format, deps })
    await emitted
    const { render } = await loadOutput()
    const rendered = render(result.view, format, result.data, {
      color: useColor(io, settings, stdout),
      indent: Boolean(stdout.isTTY),
      raw: settings.raw === true,
      ...layout(io, stdout),
    })
    // --textfile: the state lives in the metrics; exit 0 once they are written
    if (textfile !== null) return await writeTextfile(io, textfile, rendered)
    return (await writeResult(io, stdout, rendered)) ?? result.exitCode
  } catch (error) {
    const code = report(io, error, spec.errorExit, debug)
    if (spec.failure && error instanceof PjctlError) {
      const { render } = await import('./output/index.js')
      const result = await spec.failure(error, settings, Math.floor(io.clock() / 1000))
      const rendered = render(
        result.view,
        spec.formats.includes(format) ? format : spec.formats[0],
        result.data,
        { color: false, indent: Boolean(stdout.isTTY) },
      )
      // a server that cannot be read is a state too: pjctl_server_up 0 goes to the textfile (not for usage errors)
      if (textfile !== null && format === 'prometheus' && !(error instanceof UsageError))
        return await writeTextfile(io, textfile, rendered)
      return (await writeResult(io, stdout, rendered)) ?? code
    }
    // --json asked for a document: a server that could not be read (exit 3) is one too, {server, error, hint, exitCode}
    if (format === 'json' && error instanceof PjctlError && error.exit === EXIT.unreadable) {
      const { failureJson } = await import('./output/failure.js')
      const server = settings.server?.[0] ?? `${settings.host}:${settings.port}`
      const doc = failureJson({
        kind: 'failure',
        server,
        message: error.message,
        hint: error.hint,
        exit: code,
      })
      return (await writeResult(io, stdout, `${JSON.stringify(doc)}\n`)) ?? code
    }
    return code
  } finally {
    io.signals.off('SIGINT', onSignal)
    io.signals.off('SIGTERM', onSignal)
  }
}

/**
 * Bad input caught before the command ran (an unknown option, a value out of range): a command
 * with a failure view (check) still prints it on stdout, `PJCTL UNKNOWN - …`, so a monitoring
 * system shows why instead of nothing. Returns the exit code, or null when the command has no such view.
 */
async function failureOutput(
  io: Io,
  spec: AnyCommand | undefined,
  error: PjctlError,
  argv: string[],
): Promise<ExitCode | null> {
  if (!spec?.failure) return null
  const format: Format =
    argv.includes('--json') && spec.formats.includes('json') ? 'json' : spec.formats[0]
  const result = await spec.failure(error, withDefaults(), Math.floor(io.clock() / 1000))
  const { render } = await import('./output/index.js')
  const rendered = render(result.view, format, result.data, {
    color: false,
    indent: Boolean(io.stdout.isTTY),
  })
  return (await writeResult(io, io.stdout, rendered)) ?? spec.errorExit ?? result.exitCode
}

/** --input reads a saved dump and connects to nothing: a server named on the same command line is a mistake, not a choice. */
function checkConflicts(settings: Settings, layers: Layers): void {
  if (settings.input === undefined) return
  const given = (['host', 'port', 'server', 'all'] as const).filter((key) => key in layers.flags)
  if (given.length) {
    const flags = given
      .map((key) => longForm((OPTIONS[key] as OptionSpec).flag ?? key).split(' ')[0])
      .join(', ')
    throw new UsageError(
      `--input reads a saved dump and connects to nothing: it cannot be combined with ${flags}`,
      'leave out the server, or leave out --input to read the server',
    )
  }
}

/**
 * PJCTL_* variables, read from io.env (not commander's process.env) so an in-process run
 * sees its own environment. A flag beats the variable; the variable beats the default.
 */
function fromEnv(
  settings: Settings,
  layers: Layers,
  keys: OptionKey[],
  env: Record<string, string | undefined>,
): void {
  for (const key of keys) {
    const spec = OPTIONS[key] as OptionSpec
    const raw = spec.env === undefined ? undefined : env[spec.env]
    if (!spec.env || !spec.flag || raw === undefined || key in layers.flags) continue
    let value: unknown = true
    if (/[<[]/.test(spec.flag)) {
      if (spec.choices && !spec.choices.includes(raw)) {
        throw new UsageError(
          `option '${longForm(spec.flag)}' value '${printable(raw)}' from env '${spec.env}' is invalid. Allowed choices are ${spec.choices.join(', ')}.`,
        )
      }
      try {
        value = spec.parse ? spec.parse(raw) : raw
      } catch (error) {
        throw new UsageError(`option '${longForm(spec.flag)}': ${(error as Error).message}`)
      }
    }
    ;(layers.env as Record<OptionKey, unknown>)[key] = value
    ;(settings as Record<OptionKey, unknown>)[key] = value
  }
}

/** Tables fit the terminal (its columns, else COLUMNS, else 80); off a terminal, plain rows. */
function layout(io: Io, stream: OutStream): { width: number; plain: boolean } {
  const columns = Number(io.env.COLUMNS)
  return {
    // 0 columns (not a terminal) falls back as undefined does
    // eslint-disable-next-line @typescript-eslint/prefer-nullish-coalescing
    width: stream.columns || (Number.isInteger(columns) && columns > 0 ? columns : 80),
    plain: !stream.isTTY,
  }
}

/** Colour only on a terminal, and never with NO_COLOR or --no-color. */
function useColor(io: Io, settings: Settings, stream: OutStream): boolean {
  return settings.color !== false && !io.env.NO_COLOR && Boolean(stream.isTTY)
}

/** One line (and a hint) on stderr; a stack only with --debug. */
function report(io: Io, error: unknown, override: ExitCode | undefined, debug: boolean): ExitCode {
  const { stderr } = io
  if (error instanceof PjctlError) {
    // A message may quote what a server or a file said: never let its control characters through.
    stderr.write(`pjctl: ${printable(error.message)}\n`)
    if (error.hint) stderr.write(`hint: ${printable(error.hint)}\n`)
    if (debug && error.stack) stderr.write(`${error.stack}\n`)
    return override ?? error.exit
  }
  const message = error instanceof Error ? error.message : String(error)
  stderr.write(`pjctl: internal error: ${printable(message)}\n`)
  stderr.write(
    debug && error instanceof Error && error.stack
      ? `${error.stack}\n`
      : 'hint: run again with --debug for details, and report it\n',
  )
  return override ?? EXIT.failed
}

function buildProgram(
  choose: (c: Chosen) => void,
  io: Io,
  commands: readonly AnyCommand[],
): Command {
  const envOf = new Map<Option, string>()
  const program = new Command('pjctl')
    .description('Find and safely prune stale Asterisk chan_pjsip contacts over AMI.')
    .version(VERSION)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(withoutOptionValue(text.replace(/^error: /, 'pjctl: '))),
      getOutHelpWidth: () => io.stdout.columns ?? 80,
      getErrHelpWidth: () => io.stderr.columns ?? 80,
      getOutHasColors: () => false,
      getErrHasColors: () => false,
    })
    .configureHelp({ optionDescription: (option) => describeOption(option, envOf.get(option)) })
    .showSuggestionAfterError(true)
    .addHelpText(
      'after',
      '\nExit codes: 0 ok; 1 check WARNING or something failed; 2 check CRITICAL or usage error; 3 cannot read the server (check UNKNOWN); 130 interrupted.\nSecrets: PJCTL_SECRET, --secret-file or the config file; never a flag.',
    )
  for (const spec of commands) {
    const command = program
      .command(spec.args ? `${spec.name} ${spec.args}` : spec.name)
      .description(spec.help ?? spec.summary)
      .summary(spec.summary)
      .exitOverride()
      .configureHelp({ optionDescription: (option) => describeOption(option, envOf.get(option)) })
    if (spec.examples?.length)
      command.addHelpText(
        'after',
        `\nExamples:\n${spec.examples.map((example) => `  ${example}`).join('\n')}\n`,
      )
    const attributes = new Map<OptionKey, string>()
    for (const key of optionKeysOf(spec)) {
      const option = toOption(key, spec)
      if (!option) continue
      command.addOption(option)
      attributes.set(key, option.attributeName())
      const env = (OPTIONS[key] as OptionSpec).env
      if (env) envOf.set(option, env)
    }
    command.action((...params: unknown[]) => {
      const self = params[params.length - 1] as Command
      const args = params
        .slice(0, -2)
        .flatMap((p): string[] =>
          Array.isArray(p) ? p.map(String) : typeof p === 'string' ? [p] : [],
        )
      choose({ spec, args, command: self, attributes })
    })
  }
  return program
}

/** `unknown option '--secret=hunter2'` → `unknown option '--secret=…'`: a mistyped flag may carry a secret. */
function withoutOptionValue(text: string): string {
  return text.replace(/(unknown option '[^'=]*)=.*'/, "$1=…'")
}

/** Commander's help line with `env: PJCTL_…` (the variable is read by fromEnv, not by commander). */
function describeOption(option: Option, env: string | undefined): string {
  if (!env) return Help.prototype.optionDescription.call(new Help(), option)
  option.envVar = env
  try {
    return Help.prototype.optionDescription.call(new Help(), option)
  } finally {
    option.envVar = undefined
  }
}

/** The commander option for `key` under `command`: its wording there, its group, its default as typed (256M). */
function toOption(key: OptionKey, command: AnyCommand): Option | null {
  const spec = OPTIONS[key] as OptionSpec
  const doc = flagDoc(key, command)
  if (!spec.flag || !doc) return null
  const flag = spec.flag
  const option = new Option(spec.flag, doc.help).helpGroup(doc.heading)
  if (key === 'format') option.choices(command.formats).default(command.formats[0])
  else {
    // a size as typed (256M); other defaults as commander shows them
    if (spec.default !== undefined)
      // eslint-disable-next-line @typescript-eslint/no-base-to-string -- defaults are numbers, strings and booleans
      option.default(spec.default, doc.default !== String(spec.default) ? doc.default : undefined)
    if (spec.choices) option.choices(spec.choices)
  }
  if (spec.parse) {
    const parse = spec.parse
    option.argParser((raw: string) => {
      try {
        return parse(raw)
      } catch (error) {
        throw new UsageError(`option '${longForm(flag)}': ${(error as Error).message}`)
      }
    })
  }
  return option
}

function chooseFormat(spec: AnyCommand, settings: Settings, layers: Layers): Format {
  if (settings.textfile !== undefined) {
    const explicit =
      settings.json ||
      (('format' in layers.flags || 'format' in layers.env) && settings.format !== 'prometheus')
    if (explicit)
      throw new UsageError(
        '--textfile writes Prometheus metrics: use it with --format prometheus (or no --format)',
      )
    return 'prometheus'
  }
  const format = settings.format
  if (settings.json) {
    if (format && format !== 'json' && format !== spec.formats[0])
      throw new UsageError(`--json and --format ${format} disagree`)
    return 'json'
  }
  return format ?? spec.formats[0]
}

/** The renderers (src/output/index.ts), loaded when first needed. */
type Output = typeof import('./output/index.js')

/** `connected`: told each time a session to a server is open (logged in). */
function makeDeps(
  io: Io,
  settings: Settings,
  layers: Layers,
  signal: AbortSignal,
  connected?: () => void,
): Deps {
  const quiet = settings.quiet === true
  const debug = settings.debug === true
  const { stderr, env } = io
  const log = {
    warn: (message: string) => {
      if (!quiet) stderr.write(`pjctl: warning: ${printable(message)}\n`)
    },
    info: (message: string) => {
      if (!quiet) stderr.write(`${message}\n`)
    },
    debug: (message: string) => {
      if (debug) stderr.write(`pjctl: debug: ${message}\n`)
    },
  }
  let targets: ReturnType<Deps['targets']> | null = null
  let config: Promise<ConfigFile | null> | null = null
  const configFile = (): Promise<ConfigFile | null> =>
    (config ??= loadConfig({ settings, layers, env, warn: log.warn }))
  // A security warning (--tls-insecure) is printed on every run, --quiet or not; once per run, however many sessions it opens.
  const warned = new Set<string>()
  const securityWarning = (message: string): void => {
    if (warned.has(message)) return
    warned.add(message)
    stderr.write(`pjctl: warning: ${message}\n`)
  }
  return {
    targets: () =>
      (targets ??= resolveTargets({ settings, layers, env, warn: log.warn }, configFile())),
    configFile,
    configuredTargets: async () => {
      const config = await configFile()
      if (!config || !Object.keys(config.servers).length) return []
      const every = { ...settings, all: true, server: undefined }
      return resolveTargets(
        { settings: every, layers, env, warn: log.warn },
        Promise.resolve(config),
      )
    },
    commandDocs: () => commandDocs(),
    onHangup: (listener) => {
      io.signals.on('SIGHUP', listener)
      return () => void io.signals.off('SIGHUP', listener)
    },
    connect: async (target) => {
      const session = await (
        await import('./ami/session.js')
      ).openSession(target, log.debug, securityWarning)
      connected?.()
      return session
    },
    now: () => Math.floor(io.clock() / 1000),
    log,
    readFile: async (path) => {
      try {
        return await readFile(path, 'utf8')
      } catch (error) {
        throw cannotRead(path, error)
      }
    },
    readStdin: async () => {
      const chunks: Buffer[] = []
      for await (const chunk of io.stdin)
        chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer))
      return Buffer.concat(chunks).toString('utf8')
    },
    confirm: async (question, preview) => {
      if (preview) {
        const { renderText } = await import('./output/index.js')
        stderr.write(
          // the plan read before answering fits the terminal too
          renderText(preview.view, 'table', preview.data, {
            color: useColor(io, settings, stderr),
            ...layout(io, stderr),
          }),
        )
      }
      return io.ask(question, signal)
    },
    get interactive() {
      return Boolean(io.stdin.isTTY && stderr.isTTY)
    },
    progress: (label) => progressBar(stderr, label, !quiet && Boolean(stderr.isTTY)),
    signal,
    env,
  }
}

/**
 * y/yes on the terminal is yes; anything else or end of input is no (never a hang). Ctrl-C
 * (readline's SIGINT in raw mode, or a signal while waiting) ends the line and throws
 * InterruptedError: exit 130, nothing changed.
 */
async function askOnTerminal(io: Io, question: string, signal?: AbortSignal): Promise<boolean> {
  const { createInterface } = await import('node:readline/promises')
  return new Promise<boolean>((resolve, reject) => {
    const rl = createInterface({ input: io.stdin, output: io.stderr })
    let settled = false
    const settle = (outcome: boolean | 'interrupted', newline: boolean): void => {
      if (settled) return
      settled = true
      signal?.removeEventListener('abort', onAbort)
      if (newline) io.stderr.write('\n')
      // settled first: close() emits 'close', which must not answer again
      rl.close()
      if (outcome === 'interrupted')
        reject(new InterruptedError('interrupted at the prompt: nothing deleted'))
      else resolve(outcome)
    }
    const onAbort = (): void => settle('interrupted', true)
    if (signal?.aborted) {
      settle('interrupted', false)
      return
    }
    signal?.addEventListener('abort', onAbort)
    rl.on('SIGINT', () => settle('interrupted', true))
    // end of input (Ctrl-D, a closed terminal) declines, on a line of its own
    rl.on('close', () => settle(false, true))
    rl.question(question).then(
      (text) => settle(/^y(es)?$/i.test(text.trim()), false),
      () => settle(false, true),
    )
  })
}

function progressBar(stderr: OutStream, label: string, enabled: boolean): Progress {
  if (!enabled) return { update: () => {}, done: () => {} }
  return {
    update: (done, total) => {
      const width = 30
      const filled = Math.round((done / Math.max(total, 1)) * width)
      stderr.write(
        `\r${label} [${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${done}/${total}`,
      )
    },
    done: () => void stderr.write('\n'),
  }
}

/** Waits for room in the pipe, or for the reader to go away (`pjctl … | head`). */
function drained(stream: OutStream): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done).off('error', done).off('close', done)
      resolve()
    }
    stream.on('drain', done).on('error', done).on('close', done)
  })
}

/**
 * Writes the text (or its pieces, honouring backpressure) and resolves once it is handed to
 * the OS, with the first write error (null when none). A full disk must not pass for
 * success: `pjctl gen … > snippet.conf` would leave half a snippet and exit 0.
 */
export async function write(
  stream: OutStream,
  rendered: string | Iterable<string>,
): Promise<NodeJS.ErrnoException | null> {
  let failure: NodeJS.ErrnoException | null = null
  const onError = (error: NodeJS.ErrnoException): void => void (failure ??= error)
  stream.on('error', onError)
  try {
    const pieces = typeof rendered === 'string' ? [rendered] : rendered
    let batch = ''
    for (const piece of pieces) {
      batch += piece
      if (batch.length < 1 << 16) continue
      if (!stream.write(batch, (error) => error && onError(error))) await drained(stream)
      batch = ''
      // set by onError while the write was in flight
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
      if (failure) return failure
    }
    await new Promise<void>((resolve) =>
      batch
        ? stream.write(batch, (error) => {
            if (error) onError(error)
            resolve()
          })
        : resolve(),
    )
    return failure
  } finally {
    stream.off('error', onError)
  }
}

/** Writes the result to stdout: null when done, or exit 1 after `write error: …` (as GNU tools say it). A reader that went away (`| head`) is no error. */
async function writeResult(
  io: Io,
  stream: OutStream,
  rendered: string | Iterable<string>,
): Promise<ExitCode | null> {
  const failure = await write(stream, rendered)
  if (!failure || failure.code === 'EPIPE' || failure.code === 'ERR_STREAM_DESTROYED') return null
  const { systemMessage } = await import('./atomic.js')
  io.stderr.write(`pjctl: write error: ${systemMessage(failure)}\n`)
  return EXIT.failed
}

/** check --textfile: the metrics replace PATH atomically; exit 0 once written, 1 when they cannot be. */
async function writeTextfile(
  io: Io,
  path: string,
  rendered: string | Iterable<string>,
): Promise<ExitCode> {
  const { writeFileAtomic, systemMessage } = await import('./atomic.js')
  try {
    await writeFileAtomic(path, rendered, { mode: 0o644 })
    return EXIT.ok
  } catch (error) {
    io.stderr.write(`pjctl: cannot write ${printable(path)}: ${systemMessage(error)}\n`)
    return EXIT.failed
  }
}
