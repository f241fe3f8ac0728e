// What each command accepts, as data: the option table (src/options.ts) and the command
// specs (src/commands), in the order the command line takes them. The help, the shell
// completion scripts and the man page are all drawn from this, so none can drift.

import { COMMANDS } from './commands/index.js'
import type { AnyCommand } from './commands/types.js'
import type { CommandDoc, FlagDoc } from './commands/views.js'
import {
  GROUP_OF,
  OPTIONS,
  OPTION_GROUPS,
  type OptionGroup,
  type OptionKey,
  type OptionSpec,
  sizeAsTyped,
} from './options.js'
import { manPage } from './output/man.js'

/** Options every command takes. */
const COMMON: readonly OptionKey[] = ['color', 'quiet', 'debug']

const GROUP_ORDER = Object.keys(OPTION_GROUPS) as OptionGroup[]

/** The option keys of a command, in the order its help lists them: by group, then as the command lists them. */
export function optionKeysOf(spec: AnyCommand): OptionKey[] {
  const keys = [...new Set<OptionKey>([...spec.options, ...COMMON])]
  if (spec.formats.length > 1 && !keys.includes('format')) keys.push('format')
  if (spec.formats.includes('json') && !keys.includes('json')) keys.push('json')
  return keys
    .map((key, i) => ({ key, i, g: GROUP_ORDER.indexOf(GROUP_OF[key]) }))
    .sort((a, b) => a.g - b.g || a.i - b.i)
    .map(({ key }) => key)
}

/** `Connection options:` */
function groupHeading(group: OptionGroup): string {
  return `${OPTION_GROUPS[group]} options:`
}

const FLAG = /^(?:(-[A-Za-z]),\s*)?(--[a-z][a-z0-9-]*)(?:\s+[<[]([^>\]]+)[>\]])?$/

/** One option's line in help, completion and the man page, for a command that takes it. */
export function flagDoc(key: OptionKey, spec: AnyCommand): FlagDoc | null {
  const option = OPTIONS[key] as OptionSpec
  if (!option.flag) return null
  const m = FLAG.exec(option.flag)
  if (!m)
    throw new Error(
      `src/options.ts: ${key}: flag syntax '${option.flag}' is not '[-x, ]--name [<value>]'`,
    )
  const [, short, long = '', value] = m
  const isFormat = key === 'format'
  const doc: FlagDoc = {
    key,
    long,
    short,
    value,
    help: isFormat
      ? `Output format: ${spec.formats.join(', ')}.`
      : (spec.optionHelp?.[key] ?? option.help),
    choices: isFormat ? spec.formats : option.choices,
    env: option.env,
    file: value !== undefined && /file|path/.test(value),
    group: GROUP_OF[key],
    heading: groupHeading(GROUP_OF[key]),
  }
  const fallback = isFormat ? spec.formats[0] : option.default
  if (fallback !== undefined) doc.default = shownValue(fallback, value)
  return doc
}

/** A default as typed on the command line: sizes in K/M/G. */
function shownValue(value: unknown, valueName?: string): string {
  if (valueName === 'size' && typeof value === 'number') return sizeAsTyped(value)
  if (Array.isArray(value)) return value.join(',')
  return String(value)
}

function commandDoc(spec: AnyCommand): CommandDoc {
  return {
    name: spec.name,
    args: spec.args,
    summary: spec.summary,
    help: spec.help,
    examples: spec.examples ?? [],
    argChoices: spec.argChoices,
    flags: optionKeysOf(spec).flatMap((key) => flagDoc(key, spec) ?? []),
  }
}

/** Every command, as help, completion and the man page show it. */
export function commandDocs(commands: readonly AnyCommand[] = COMMANDS): CommandDoc[] {
  return commands.map(commandDoc)
}

/** Every environment variable pjctl reads for an option, with the option's help. */
function environmentDocs(): {
  env: string
  flag?: string
  help: string
  default?: string
}[] {
  return (Object.entries(OPTIONS) as [OptionKey, OptionSpec][]).flatMap(([, option]) => {
    if (!option.env) return []
    const m = option.flag ? FLAG.exec(option.flag) : null
    return [
      {
        env: option.env,
        flag: m?.[2],
        help: option.help,
        default: option.default === undefined ? undefined : shownValue(option.default, m?.[3]),
      },
    ]
  })
}

/** The pjctl(1) man page for this option table (scripts/man.mjs writes it to man/pjctl.1 at build). */
export function manPageText(version: string): string {
  return manPage({ version, commands: commandDocs(), environment: environmentDocs() })
}
