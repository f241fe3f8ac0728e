// The entry point: commander from the option table, one run, one output write, one
// error handler, one exit code. Nothing else in pjctl prints results, catches for
// display, traps signals or decides how the process ends.

import { Command, CommanderError, Option } from 'commander'
import { readFile } from 'node:fs/promises'
import { createInterface } from 'node:readline/promises'
import { COMMANDS } from './commands/index.js'
import type { CommandSpec, Deps, Format, Progress, Settings } from './commands/types.js'
import { EXIT, PjctlError, UsageError, type ExitCode } from './errors.js'
import { OPTIONS, printable, type OptionKey, type OptionSpec } from './options.js'
import { resolveTargets } from './settings.js'

const COMMON: OptionKey[] = ['color', 'quiet', 'debug']
/** Commands that finish their own work on Ctrl-C (stop sending, summarise); the rest stop at once. */
const HANDLES_INTERRUPT = new Set(['prune', 'restore'])

interface Chosen {
  spec: CommandSpec
  args: string[]
  command: Command
  attributes: Map<OptionKey, string>
}

export async function main(argv: string[] = process.argv): Promise<ExitCode> {
  const stdout = process.stdout
  const stderr = process.stderr
  // A reader that goes away (`pjctl contacts --json | head`) is not a crash.
  stdout.on('error', () => {})
  let chosen: Chosen | null = null
  const program = buildProgram((c) => (chosen = c), (text) => stderr.write(text))
  const subcommand = argv[2]
  try {
    await program.parseAsync(argv)
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return EXIT.ok
      return subcommand === 'check' ? EXIT.unreadable : EXIT.usage
    }
    return report(error, undefined, false)
  }
  if (!chosen) {
    stdout.write(program.helpInformation())
    return EXIT.usage
  }
  const { spec, args, command, attributes } = chosen as Chosen
  const settings: Settings = {}
  for (const [key, attribute] of attributes) settings[key] = command.getOptionValue(attribute)
  const debug = Boolean(settings.debug)
  const controller = new AbortController()
  const onSignal = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted || !HANDLES_INTERRUPT.has(spec.name)) {
      stderr.write(`pjctl: interrupted (${signal})\n`)
      process.exit(EXIT.interrupted)
    }
    stderr.write(`pjctl: ${signal}: finishing the actions in flight, then stopping (again to quit at once)\n`)
    controller.abort()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  let format: Format = spec.formats[0]
  try {
    format = chooseFormat(spec, settings)
    const deps = makeDeps(settings, (key) => command.getOptionValueSource(attributes.get(key) ?? key), controller.signal)
    const result = await spec.run({ args, settings, format, deps })
    const { render } = await import('./output/index.js')
    await write(stdout, render(result.view, format, result.data, { color: useColor(settings, stdout) }))
    return result.exitCode
  } catch (error) {
    const code = report(error, spec.errorExit, debug)
    if (spec.failure && error instanceof PjctlError) {
      const { render } = await import('./output/index.js')
      const result = spec.failure(error, settings)
      await write(stdout, render(result.view, spec.formats.includes(format) ? format : spec.formats[0], result.data, { color: false }))
    }
    return code
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}

/** Colour only on a terminal, and never with NO_COLOR or --no-color. */
function useColor(settings: Settings, stream: NodeJS.WriteStream): boolean {
  return settings.color !== false && !process.env.NO_COLOR && Boolean(stream.isTTY)
}

/** One line (and a hint) on stderr; a stack only with --debug. */
function report(error: unknown, override: ExitCode | undefined, debug: boolean): ExitCode {
  if (error instanceof PjctlError) {
    process.stderr.write(`pjctl: ${error.message}\n`)
    if (error.hint) process.stderr.write(`hint: ${error.hint}\n`)
    if (debug && error.stack) process.stderr.write(`${error.stack}\n`)
    return override ?? error.exit
  }
  const message = error instanceof Error ? error.message : String(error)
  process.stderr.write(`pjctl: internal error: ${printable(message)}\n`)
  process.stderr.write(debug && error instanceof Error && error.stack ? `${error.stack}\n` : 'hint: run again with --debug for details, and report it\n')
  return override ?? EXIT.failed
}

function buildProgram(choose: (c: Chosen) => void, writeErr: (text: string) => void): Command {
  const program = new Command('pjctl')
    .description('Find and safely prune stale Asterisk chan_pjsip contacts over AMI.')
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeErr: (text) => writeErr(withoutOptionValue(text.replace(/^error: /, 'pjctl: '))) })
    .showSuggestionAfterError(true)
    .addHelpText('after', '\nExit codes: 0 ok; 1 check WARNING or something failed; 2 check CRITICAL or usage error; 3 cannot read the server (check UNKNOWN); 130 interrupted.\nSecrets: PJCTL_SECRET, --secret-file or the config file; never a flag.')
  for (const spec of COMMANDS) {
    const command = program.command(spec.args ? `${spec.name} ${spec.args}` : spec.name).description(spec.help ?? spec.summary).summary(spec.summary).exitOverride()
    const attributes = new Map<OptionKey, string>()
    const keys = [...new Set([...spec.options, ...COMMON])]
    if (spec.formats.length > 1) keys.push('format')
    if (spec.formats.includes('json')) keys.push('json')
    for (const key of keys) {
      const option = toOption(key, key === 'format' ? spec.formats : undefined, spec.formats[0])
      if (!option) continue
      command.addOption(option)
      attributes.set(key, option.attributeName())
    }
    command.action((...params: unknown[]) => {
      const self = params[params.length - 1] as Command
      const args = params.slice(0, -2).flatMap((p) => (Array.isArray(p) ? p : p === undefined ? [] : [String(p)]))
      choose({ spec, args, command: self, attributes })
    })
  }
  return program
}

/** `unknown option '--secret=hunter2'` → `unknown option '--secret=…'`: a mistyped flag may carry a secret. */
function withoutOptionValue(text: string): string {
  return text.replace(/(unknown option '[^'=]*)=.*'/, "$1=…'")
}

function toOption(key: OptionKey, formats: readonly Format[] | undefined, defaultFormat: Format): Option | null {
  const spec = OPTIONS[key] as OptionSpec
  if (!spec.flag) return null
  const option = new Option(spec.flag, formats ? `Output format: ${formats.join(', ')}.` : spec.help)
  if (spec.env) option.env(spec.env)
  if (formats) option.choices(formats).default(defaultFormat)
  else if (spec.default !== undefined) option.default(spec.default)
  if (spec.choices) option.choices(spec.choices)
  if (spec.parse) {
    const parse = spec.parse
    option.argParser((raw: string) => {
      try {
        return parse(raw)
      } catch (error) {
        throw new UsageError(`option '${spec.flag}': ${(error as Error).message}`)
      }
    })
  }
  return option
}

function chooseFormat(spec: CommandSpec, settings: Settings): Format {
  const format = settings.format as Format | undefined
  if (settings.json) {
    if (format && format !== 'json' && format !== spec.formats[0]) throw new UsageError(`--json and --format ${format} disagree`)
    return 'json'
  }
  return format ?? spec.formats[0]
}

function makeDeps(settings: Settings, sourceOf: (key: OptionKey) => string | undefined, signal: AbortSignal): Deps {
  const quiet = Boolean(settings.quiet)
  const debug = Boolean(settings.debug)
  const stderr = process.stderr
  const log = {
    warn: (message: string) => void (quiet || stderr.write(`pjctl: warning: ${message}\n`)),
    info: (message: string) => void (quiet || stderr.write(`${message}\n`)),
    debug: (message: string) => void (debug && stderr.write(`pjctl: debug: ${message}\n`)),
  }
  let targets: ReturnType<Deps['targets']> | null = null
  return {
    targets: () => (targets ??= resolveTargets({ settings, sourceOf, env: process.env, warn: log.warn })),
    connect: async (target) => (await import('./ami/session.js')).openSession(target, log.debug),
    now: () => Math.floor(Date.now() / 1000),
    log,
    readFile: (path) => readFile(path, 'utf8'),
    readStdin: async () => {
      const chunks: Buffer[] = []
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
      return Buffer.concat(chunks).toString('utf8')
    },
    confirm: async (question, preview) => {
      if (preview) {
        const { renderText } = await import('./output/index.js')
        stderr.write(renderText(preview.view, 'table', preview.data, { color: useColor(settings, stderr) }))
      }
      return new Promise<boolean>((resolve) => {
        const rl = createInterface({ input: process.stdin, output: stderr })
        const answer = (yes: boolean): void => {
          rl.close()
          resolve(yes)
        }
        // Ctrl-C at the prompt is a "no", never a hang.
        rl.on('SIGINT', () => answer(false))
        rl.question(question).then((text) => answer(/^y(es)?$/i.test(text.trim())), () => answer(false))
      })
    },
    interactive: Boolean(process.stdin.isTTY && stderr.isTTY),
    progress: (label) => progressBar(label, !quiet && Boolean(stderr.isTTY)),
    signal,
    env: process.env,
  }
}

function progressBar(label: string, enabled: boolean): Progress {
  if (!enabled) return { update: () => {}, done: () => {} }
  return {
    update: (done, total) => {
      const width = 30
      const filled = Math.round((done / Math.max(total, 1)) * width)
      process.stderr.write(`\r${label} [${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${done}/${total}`)
    },
    done: () => void process.stderr.write('\n'),
  }
}

/** Waits for room in the pipe, or for the reader to go away (`pjctl … | head`). */
function drained(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done).off('error', done).off('close', done)
      resolve()
    }
    stream.on('drain', done).on('error', done).on('close', done)
  })
}

/** Writes the text (or its pieces, honouring backpressure) and resolves once it is handed to the OS. */
async function write(stream: NodeJS.WriteStream, rendered: string | Iterable<string>): Promise<void> {
  const pieces = typeof rendered === 'string' ? [rendered] : rendered
  let batch = ''
  for (const piece of pieces) {
    batch += piece
    if (batch.length < 1 << 16) continue
    if (!stream.write(batch)) await drained(stream)
    batch = ''
  }
  await new Promise<void>((resolve) => (batch ? stream.write(batch, () => resolve()) : resolve()))
}

const VERSION = '0.1.0'
