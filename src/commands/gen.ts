// pjctl gen <pjsip|wizard> [NAME...]: AOR config that prevents lockouts
// (max_contacts >= 1, remove_existing=yes), as pjsip.conf or pjsip_wizard.conf
// snippets. The text comes from the pure renderer in src/core/genconf.ts; this
// layer gathers names (arguments, --from-csv, --from-server), passwords
// (--password-env, the CSV, or --generate-password) and writes --out.

import { randomBytes } from 'node:crypto'
import { lstat } from 'node:fs/promises'
import {
  renderGen,
  type GenEntry,
  type GenKind,
  type GenOptions,
  type OptionNames,
} from '../core/genconf.js'
import { proposeFromReports } from '../core/genpropose.js'
import { selectAors } from '../core/select.js'
import { InputError, UsageError } from '../errors.js'
import { CONNECTION_SECURITY, flagOf } from '../options.js'
import { printable } from '../text.js'
import { writeFileAtomic } from '../atomic.js'
import { checkWriteTarget, inWords } from '../files.js'
import { readServerReport } from './read.js'
import { WIZARD_FILE } from '../core/limits.js'
import type { AorReport } from '../core/types.js'
import type { CommandSpec, Deps, Settings } from './types.js'

/** A password for one endpoint: 24 random bytes, base64url (32 characters, no character pjsip.conf treats specially). */
function generatePassword(): string {
  return randomBytes(24).toString('base64url')
}

const GEN_OPTIONS = [
  'genMaxContacts',
  'removeExisting',
  'removeUnavailable',
  'qualifyFrequency',
  'minimumExpiration',
  'maximumExpiration',
  'defaultExpiration',
  'expirationWindow',
  'context',
  'transport',
  'allow',
  'template',
  'passwordEnv',
  'generatePassword',
  'out',
  'force',
  'append',
  'aorOnly',
  'fromCsv',
  'fromServer',
  // for --from-server
  'server',
  'host',
  'port',
  'user',
  'secretFile',
  ...CONNECTION_SECURITY,
  'timeout',
  'config',
  'source',
  'limits',
] as const

export const gen: CommandSpec<'gen'> = {
  name: 'gen',
  args: '<kind> [names...]',
  summary:
    'Generate pjsip.conf or pjsip_wizard.conf AOR config that prevents lockouts (max_contacts, remove_existing=yes).',
  argChoices: ['pjsip', 'wizard'],
  examples: [
    'pjctl gen pjsip 1001 1002 --max-contacts 2 --generate-password',
    'pjctl gen wizard --from-csv phones.csv --out /etc/asterisk/pjsip_wizard_phones.conf',
    'pjctl gen pjsip --from-server --server pbx1',
  ],
  help: [
    'Generate pjsip.conf (kind pjsip) or pjsip_wizard.conf (kind wizard) snippets whose AORs do not lock phones out:',
    'max_contacts of at least 1 (default 1) and remove_existing=yes.',
    '',
    'Names come from the arguments, --from-csv FILE (name,password[,max_contacts,context,...]; - for stdin),',
    'or --from-server (one proposal per AOR the server has: [NAME](+type=aor) for pjsip.conf AORs with gen pjsip,',
    '[NAME](+) with aor/ options for pjsip_wizard.conf wizards with gen wizard; max_contacts = devices registered now,',
    'never less than the current max_contacts).',
    'Passwords: --password-env VAR, a password column in the CSV, or --generate-password; never invented otherwise.',
    '--aor-only prints only the type=aor sections; --append prints [NAME](+type=aor) additions for AORs defined',
    'elsewhere (FreePBX: pjsip.aor_custom_post.conf). --template T prints the shared options once as templates',
    '([T](!), [T-auth](!), [T-aor](!) for pjsip) and [NAME](T) sections with only what is per name.',
    '--out FILE writes the snippet (mode 600 when it holds passwords) and never overwrites without --force.',
  ].join('\n'),
  optionHelp: { force: 'Overwrite the --out file if it exists.' },
  options: GEN_OPTIONS,
  formats: ['text'],
  async run({ args, settings, deps }) {
    const flat = (args as unknown[]).flat(2).map(String)
    const [kindArg, ...names] = flat
    if (kindArg !== 'pjsip' && kindArg !== 'wizard') {
      throw new UsageError(
        `gen: unknown kind '${printable(kindArg ?? '', 80)}'`,
        'use: pjctl gen pjsip NAME... or pjctl gen wizard NAME...',
      )
    }
    const kind: GenKind = kindArg

    const options = optionsFrom(settings)
    const append = Boolean(options.append || options.fromServer)
    const endpointToo = !append && !options.aorOnly

    const sources = [
      names.length > 0 && !options.fromServer,
      settings.fromCsv !== undefined,
      Boolean(options.fromServer),
    ].filter(Boolean).length
    if (sources > 1)
      throw new UsageError(
        'gen: give names, --from-csv or --from-server, not several',
        'with --from-server, names only pick which AORs to propose',
      )
    if (settings.passwordEnv !== undefined && settings.generatePassword) {
      throw new UsageError('gen: give --password-env or --generate-password, not both')
    }

    // --out is checked before anything else happens: a directory, a symbolic link, a missing directory
    if (settings.out !== undefined) await checkOut(settings.out, settings.force === true)

    let entries: GenEntry[]
    if (options.fromServer) {
      entries = await fromServer(kind, names, settings, deps)
    } else if (settings.fromCsv !== undefined) {
      const file = settings.fromCsv
      const text = file === '-' ? await deps.readStdin() : await deps.readFile(file)
      // csv-parse is loaded only for --from-csv
      entries = (await import('../core/gencsv.js')).parseGenCsv(text)
      if (entries.length === 0)
        throw new InputError(`--from-csv ${printable(file, 200)}: no names in the file`)
    } else {
      if (names.length === 0)
        throw new UsageError(
          'gen: no names',
          'give NAME arguments, --from-csv FILE or --from-server',
        )
      entries = names.map((name) => ({ name }))
    }

    const warnings: string[] = []
    if (endpointToo) {
      entries = fillPasswords(entries, settings, deps, warnings)
    } else if (
      settings.passwordEnv !== undefined ||
      settings.generatePassword ||
      entries.some((e) => e.password !== undefined)
    ) {
      warnings.push(
        `passwords are not used with ${append ? '--append/--from-server' : '--aor-only'}: only AOR options are printed`,
      )
      entries = entries.map(({ password: _password, ...rest }) => rest)
    }

    const result = renderGen({ kind, entries, options, names: FLAG_NAMES })
    warnings.push(...result.warnings)
    for (const w of warnings) deps.log.warn(w)

    if (settings.out !== undefined) {
      const out = settings.out
      // Passwords → 600 (the Asterisk user must then be given the file: chown); AOR options only → the umask's mode.
      await writeOut(out, result.text, settings.force === true, endpointToo)
      deps.log.info(
        `wrote ${entries.length} ${entries.length === 1 ? 'name' : 'names'} to ${printable(out, 200)}`,
      )
      if (endpointToo)
        deps.log.info(
          `${printable(out, 200)} holds passwords and is mode 600: make sure Asterisk can read it (e.g. chown asterisk: FILE)`,
        )
      return { view: 'gen', data: { text: '', warnings, out }, exitCode: 0 }
    }
    return { view: 'gen', data: { text: result.text, warnings }, exitCode: 0 }
  },
}

/** How the command line spells each option core/genconf names in its messages and header line. */
export const FLAG_NAMES: OptionNames = {
  maxContacts: flagOf('genMaxContacts'),
  removeExisting: flagOf('removeExisting'),
  removeUnavailable: flagOf('removeUnavailable'),
  qualifyFrequency: flagOf('qualifyFrequency'),
  minimumExpiration: flagOf('minimumExpiration'),
  maximumExpiration: flagOf('maximumExpiration'),
  defaultExpiration: flagOf('defaultExpiration'),
  expirationWindow: flagOf('expirationWindow'),
  context: flagOf('context'),
  transport: flagOf('transport'),
  allow: flagOf('allow'),
  template: flagOf('template'),
  aorOnly: flagOf('aorOnly'),
  append: flagOf('append'),
  fromServer: flagOf('fromServer'),
  passwordEnv: flagOf('passwordEnv'),
  generatePassword: flagOf('generatePassword'),
  fromCsv: flagOf('fromCsv'),
}

/** Settings → renderer options (typed and parsed by the option table already). */
function optionsFrom(settings: Settings): GenOptions {
  const o: GenOptions = {
    maxContacts: settings.genMaxContacts,
    qualifyFrequency: settings.qualifyFrequency,
    minimumExpiration: settings.minimumExpiration,
    maximumExpiration: settings.maximumExpiration,
    defaultExpiration: settings.defaultExpiration,
    expirationWindow: settings.expirationWindow,
    context: settings.context,
    transport: settings.transport,
    allow: settings.allow,
    template: settings.template,
    passwordEnv: settings.passwordEnv,
    fromCsv: settings.fromCsv,
  }
  if (settings.removeExisting === false) o.removeExisting = false
  if (settings.removeUnavailable) o.removeUnavailable = true
  if (settings.aorOnly) o.aorOnly = true
  if (settings.append) o.append = true
  if (settings.fromServer) o.fromServer = true
  if (settings.generatePassword) o.generatePassword = true
  return Object.fromEntries(Object.entries(o).filter(([, value]) => value !== undefined))
}

/** Every endpoint gets a password: the CSV's, else --password-env's, else a generated one; none → refused. */
function fillPasswords(
  entries: GenEntry[],
  settings: Settings,
  deps: Deps,
  warnings: string[],
): GenEntry[] {
  let fromEnv: string | undefined
  if (settings.passwordEnv !== undefined) {
    const variable = settings.passwordEnv
    const value = deps.env[variable]
    if (value === undefined || value === '') {
      throw new UsageError(
        `--password-env ${printable(variable, 80)}: the environment variable is not set or empty`,
      )
    }
    fromEnv = value
  }
  const generate = settings.generatePassword === true
  const missing = entries.filter((e) => e.password === undefined)
  if (missing.length > 0 && fromEnv === undefined && !generate) {
    const which = missing
      .slice(0, 5)
      .map((e) =>
        e.origin ? `${e.origin} (${printable(e.name, 80)})` : `'${printable(e.name, 80)}'`,
      )
      .join(', ')
    throw new UsageError(
      `gen: no password for ${which}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}; pjctl never invents one silently`,
      'give --password-env VAR or --generate-password (or a password column in --from-csv); --aor-only or --append print no endpoint',
    )
  }
  if (fromEnv !== undefined && missing.length > 1) {
    warnings.push(
      `--password-env gives ${missing.length} endpoints the same password; consider --generate-password or a password column with --from-csv`,
    )
  }
  return entries.map((e) =>
    e.password !== undefined ? e : { ...e, password: fromEnv ?? generatePassword() },
  )
}

/**
 * Proposals from a live server, for the file the kind names: `[NAME](+type=aor)` only for AORs defined in
 * pjsip.conf (Asterisk rejects the whole file when a `(+)` target does not exist: a wizard's AOR is not a
 * pjsip.conf section), `[NAME](+)` with aor/ options only for wizards of pjsip_wizard.conf. Where each AOR is
 * defined comes from the files themselves (GetConfig), whatever --limits says. A NAME that cannot be
 * proposed for this kind is refused with the reason; without names such AORs are left out, and said so.
 */
async function fromServer(
  kind: GenKind,
  names: string[],
  settings: Settings,
  deps: Deps,
): Promise<GenEntry[]> {
  const targets = await deps.targets()
  const target = targets[0]
  if (!target)
    throw new UsageError('--from-server: no server to read', 'give --host/--user or --server NAME')
  if (targets.length > 1) deps.log.warn(`--from-server reads one server; using ${target.name}`)
  const report = await readServerReport(target, { ...settings, limits: 'config' }, deps, {
    names,
    wholeServer: true,
  })
  const definedIn = new Map(
    (report.configs ?? []).flatMap((c) => (c.definedIn ? [[c.aor, c.definedIn] as const] : [])),
  )
  const fits = (aor: string): boolean => {
    const file = definedIn.get(aor)
    return kind === 'wizard' ? file === WIZARD_FILE : file !== undefined && file !== WIZARD_FILE
  }
  const why = (aor: AorReport): string => {
    const file = definedIn.get(aor.aor)
    const name = `'${printable(aor.aor)}'`
    if (file === WIZARD_FILE)
      return `${name} is a wizard of ${WIZARD_FILE}, not a pjsip.conf section (a [${printable(aor.aor)}](+type=aor) would make Asterisk reject the whole file): use pjctl gen wizard --from-server ${printable(aor.aor)}`
    if (file !== undefined)
      return `${name} is defined in ${printable(file)}, not by a wizard: use pjctl gen pjsip --from-server ${printable(aor.aor)}`
    if (aor.state === 'orphaned')
      return `${name} is not configured anywhere (its contacts are orphaned): there is no AOR to add to; pjctl prune --orphaned removes its contacts`
    return `${name} is in neither pjsip.conf nor ${WIZARD_FILE}${report.limits?.note ? ` (${report.limits.note})` : ''}: change it where it is defined`
  }
  let aors = report.aors
  if (names.length > 0) {
    const { reports, unknown } = selectAors(report.aors, names)
    if (unknown.length)
      throw new UsageError(
        `--from-server: no AOR or endpoint named ${unknown.map((n) => `'${printable(n)}'`).join(', ')} on ${target.name}`,
      )
    const refused = reports.filter((a) => !fits(a.aor))
    if (refused.length)
      throw new InputError(`gen ${kind} --from-server: ${refused.map(why).join('; ')}`)
    aors = reports
  } else {
    const left = aors.filter((a) => !fits(a.aor) && (definedIn.has(a.aor) || a.contacts.length > 0))
    if (left.length) {
      const shownNames =
        left
          .slice(0, 5)
          .map((a) => printable(a.aor))
          .join(', ') + (left.length > 5 ? ` and ${left.length - 5} more` : '')
      deps.log.warn(
        `left out ${left.length} AOR(s) this ${kind === 'wizard' ? WIZARD_FILE : 'pjsip.conf'} snippet cannot add to (${shownNames}): ${left[0] ? why(left[0]) : ''}`,
      )
    }
    aors = aors.filter((a) => fits(a.aor))
  }
  if (aors.length === 0)
    throw new InputError(
      `--from-server: no ${kind === 'wizard' ? 'wizard-defined' : 'pjsip.conf'} AOR${names.length ? ' matches the names given' : ''} on ${target.name}`,
    )
  return proposeFromReports(aors)
}

/** Refuses an --out that cannot be written, in words, before anything is done; an existing file needs --force. */
async function checkOut(path: string, force: boolean): Promise<void> {
  await checkWriteTarget(path, '--out', { owner: false })
  const exists = await lstat(path).then(
    () => true,
    () => false,
  )
  if (exists && !force)
    throw new UsageError(
      `--out ${printable(path, 200)}: the file exists; refusing to overwrite it`,
      '--force',
    )
}

/**
 * Writes --out atomically (src/atomic.ts) with the final mode (600 when it holds passwords:
 * an old 644 file is replaced, never reused), renamed over the target (--force) or linked to
 * it (refused if it exists meanwhile).
 */
async function writeOut(
  path: string,
  text: string,
  force: boolean,
  secret: boolean,
): Promise<void> {
  try {
    await writeFileAtomic(
      path,
      text,
      secret ? { mode: 0o600, replace: force } : { mode: 0o666, exact: false, replace: force },
    )
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'EEXIST' && !force)
      throw new UsageError(
        `--out ${printable(path, 200)}: the file exists; refusing to overwrite it`,
        '--force',
      )
    throw new InputError(`--out ${printable(path, 200)}: cannot write it: ${inWords(error)}`)
  }
}
