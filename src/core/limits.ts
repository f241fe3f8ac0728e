// AOR limits from the configuration files as Asterisk parses them (AMI GetConfig answers), and
// whether those files can be the whole truth. Pure: categories in, AorConfigs and words out.
//
// - pjsip.conf (`Filter: type=aor`): a category is an AOR when its first `type` is `aor`
//   (res_sorcery_config matches criteria type=aor); templates are already applied by Asterisk
//   and `(+)` additions already merged, so each category carries every variable. The last
//   value of an option wins (sorcery applies the variables in order). Options not set get the
//   defaults of res/res_pjsip/location.c (max_contacts 0, remove_existing no, ...).
// - pjsip_wizard.conf (`Filter: type=^wizard$`, as res_pjsip_config_wizard browses it): every
//   wizard category creates an AOR of the same name from its `aor/...` options
//   (res_pjsip_config_wizard.c handle_aor); the wizard adds no default of its own, so
//   `accepts_registrations = yes` without `aor/max_contacts` is max_contacts 0 (every REGISTER refused).
// - sorcery.conf `[res_pjsip]` `aor = <wizard>,<data>` lines replace res_pjsip's default mapping
//   (`config,pjsip.conf,criteria=type=aor`). A wizard other than `config` (realtime, astdb, memory...)
//   means AORs live elsewhere too: the files are not authoritative.

import { aorOptions } from './pjsipconf.js'
import { printable } from '../text.js'
import type { AorConfig, ConfigCategory } from './types.js'

/** res_pjsip's default sorcery mapping for `aor` (res/res_pjsip/location.c). */
export const DEFAULT_AOR_FILE = 'pjsip.conf'
export const WIZARD_FILE = 'pjsip_wizard.conf'

export interface AorMapping {
  /** Every `aor` mapping is the config wizard: the files hold every AOR. */
  authoritative: boolean
  /** The files the config wizard reads AORs from (pjsip.conf unless sorcery.conf says otherwise). */
  files: string[]
  /** The other backends mapped (`realtime,ps_aors`), as written. */
  others: string[]
}

/** The `aor` mapping of sorcery.conf (null: the file does not exist, so res_pjsip's default applies). */
export function aorMapping(sorcery: readonly ConfigCategory[] | null): AorMapping {
  return sorceryMapping(sorcery, 'aor')
}

/**
 * sorcery.conf's `[res_pjsip]` mapping of one object type (`aor`, `endpoint`): the files the config wizard
 * reads them from (res_pjsip's default: pjsip.conf), and whether those files hold every object of the type.
 */
export function sorceryMapping(
  sorcery: readonly ConfigCategory[] | null,
  type: string,
): AorMapping {
  const lines = (sorcery ?? [])
    .filter((c) => !c.template && c.name === 'res_pjsip')
    .flatMap((c) => c.lines.filter((l) => l.name.trim() === type).map((l) => l.value.trim()))
  if (!lines.length) return { authoritative: true, files: [DEFAULT_AOR_FILE], others: [] }
  const files: string[] = []
  const others: string[] = []
  for (const line of lines) {
    const comma = line.indexOf(',')
    const wizard = (comma < 0 ? line : line.slice(0, comma)).trim().toLowerCase()
    const data = comma < 0 ? '' : line.slice(comma + 1)
    if (wizard === 'config') {
      const file = (data.split(',')[0] ?? '').trim()
      if (file && !files.includes(file)) files.push(file)
    } else {
      others.push(line)
    }
  }
  return { authoritative: others.length === 0, files, others }
}

/** res_sorcery_config's criteria type=aor: the first `type` variable. */
export function firstType(category: ConfigCategory): string | undefined {
  const lines = category.lines
  // eslint-disable-next-line @typescript-eslint/prefer-for-of -- runs cold: each for-of step is an object there
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]
    if (line === undefined) continue
    if (optionName(line.name) === 'type') return line.value.trim()
  }
  return undefined
}

/** An option's name as ACO compares it: trimmed, any case. */
function optionName(name: string): string {
  return name.trim().toLowerCase()
}

/** The options aorOptions reads, as it reads them (asked once, with nothing set). */
const AOR_OPTIONS: string[] = []
aorOptions(
  (key) => void AOR_OPTIONS.push(key),
  () => {},
)

/**
 * The options of a category that aorOptions reads, after `prefix` (the wizard's `aor/`), by name as
 * ACO compares it, as [name, value] pairs in the order given: one pass over the lines, and no Map per
 * AOR (an AOR sets a handful).
 */
function aorValues(category: ConfigCategory, prefix: string): string[] {
  const pairs: string[] = []
  const lines = category.lines
  // eslint-disable-next-line @typescript-eslint/prefer-for-of -- runs cold: each for-of step is an object there
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]
    if (line === undefined) continue
    let name = optionName(line.name)
    if (prefix !== '') {
      if (!name.startsWith(prefix)) continue
      name = name.slice(prefix.length)
    }
    if (AOR_OPTIONS.includes(name)) pairs.push(name, line.value)
  }
  return pairs
}

/** The last value of `key` in aorValues' pairs (sorcery applies the variables in order). */
function lastValue(pairs: readonly string[], key: string): string | undefined {
  for (let i = pairs.length - 2; i >= 0; i -= 2) if (pairs[i] === key) return pairs[i + 1]
  return undefined
}

type AorOptions = ReturnType<typeof aorOptions>

/**
 * The options of each set of AOR option values seen so far (one reading per set, not per AOR: a big
 * server's AORs share a few templates). A set Asterisk would refuse a number of is read again for
 * every AOR that has it, so that each one is warned about.
 */
type OptionsMemo = Map<string, AorOptions>

function aorConfigOf(
  category: ConfigCategory,
  file: string,
  prefix: string,
  warnings: string[],
  memo: OptionsMemo,
): AorConfig {
  const pairs = aorValues(category, prefix)
  // a config line holds no line break: the pairs joined by one are the set
  const set = pairs.join('\n')
  let options = memo.get(set)
  if (options === undefined) {
    const warned = warnings.length
    options = aorOptions(
      (key) => lastValue(pairs, key),
      (key, value, max) =>
        warnings.push(
          `${file} [${printable(category.name)}]: ${prefix}${key}=${printable(value)} is not a number from 0 to ${max}; Asterisk would refuse this AOR`,
        ),
    )
    if (warnings.length === warned) memo.set(set, options)
  }
  // field by field, in AorConfig's order: an object spread per AOR costs more than the rest of it
  return {
    aor: category.name,
    maxContacts: options.maxContacts,
    removeExisting: options.removeExisting,
    removeUnavailable: options.removeUnavailable,
    qualifyFrequency: options.qualifyFrequency,
    minimumExpiration: options.minimumExpiration,
    maximumExpiration: options.maximumExpiration,
    defaultExpiration: options.defaultExpiration,
    source: 'getconfig',
    definedIn: file,
  }
}

/** The AORs of a pjsip.conf GetConfig answer (`Filter: type=aor`); a second AOR of the same name is warned about and ignored. */
export function aorsFromPjsipConf(
  categories: readonly ConfigCategory[],
  file = DEFAULT_AOR_FILE,
  warnings: string[] = [],
): AorConfig[] {
  const seen = new Set<string>()
  const memo: OptionsMemo = new Map()
  const result: AorConfig[] = []
  // eslint-disable-next-line @typescript-eslint/prefer-for-of -- runs cold: each for-of step is an object there
  for (let i = 0; i < categories.length; i++) {
    const category = categories[i]
    if (category === undefined) continue
    if (category.template || firstType(category) !== 'aor') continue
    if (seen.has(category.name)) {
      warnings.push(
        `${file}: a second type=aor section [${printable(category.name)}]; Asterisk refuses the duplicate object (use [${printable(category.name)}](+type=aor) to add to it)`,
      )
      continue
    }
    seen.add(category.name)
    result.push(aorConfigOf(category, file, '', warnings, memo))
  }
  return result
}

/** The AORs the config wizard creates from a pjsip_wizard.conf GetConfig answer: one per `type = wizard` category. */
export function aorsFromWizardConf(
  categories: readonly ConfigCategory[],
  warnings: string[] = [],
): AorConfig[] {
  const seen = new Set<string>()
  const memo: OptionsMemo = new Map()
  const result: AorConfig[] = []
  for (const category of categories) {
    if (category.template || firstType(category) !== 'wizard' || seen.has(category.name)) continue
    seen.add(category.name)
    result.push(aorConfigOf(category, WIZARD_FILE, 'aor/', warnings, memo))
  }
  return result
}

/** pjsip.conf AORs first, then wizard AORs not already defined there (sorcery asks the config wizard first). */
export function mergeAorConfigs(...lists: readonly AorConfig[][]): AorConfig[] {
  // each list names an AOR once (aorsFromPjsipConf and aorsFromWizardConf see to it): one list alone is the answer
  const given = lists.filter((list) => list.length > 0)
  if (given.length <= 1) return given[0] ?? []
  const seen = new Set<string>()
  const merged: AorConfig[] = []
  for (const list of lists) {
    for (const config of list) {
      if (seen.has(config.aor)) continue
      seen.add(config.aor)
      merged.push(config)
    }
  }
  return merged
}

/** Why the files cannot be the whole truth, in words for the user. */
export function notAuthoritativeNote(mapping: AorMapping): string {
  return `sorcery.conf maps res_pjsip aor to ${mapping.others.map((o) => `'${printable(o)}'`).join(', ')}: AORs may live outside the config files`
}
