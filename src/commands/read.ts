// The one read path every command shares: contacts (AMI DBGetTree, AMI Command, or a
// saved dump), AOR limits (PJSIPShowAors / PJSIPShowEndpoint, --pjsip-conf, --max-contacts),
// judged by the pure core. (prune reads qualify state itself, only where a decision needs it: qualify.ts)

import { readFileSync } from 'node:fs'
import { dirname, isAbsolute, resolve } from 'node:path'
import type { AmiSession, AmiTarget } from '../ami/types.js'
import { aorConfigFromAorDetail, aorConfigsFromAorList } from '../core/aors.js'
import { buildReports, parseThreshold } from '../core/classify.js'
import {
  DatabaseShowParser,
  DbTreeParser,
  checkComplete,
  countCheck,
  parseDatabaseShow,
  KEEP_SHOWN,
  type KeepContact,
  type ParsedDump,
} from '../core/dump.js'
import { parsePjsipConf } from '../core/pjsipconf.js'
import { contactFromContactList, PJSIPSHOWCONTACTS_COST, USED_COLUMNS } from '../core/sorcery.js'
import {
  aorMapping,
  aorsFromPjsipConf,
  aorsFromWizardConf,
  DEFAULT_AOR_FILE,
  mergeAorConfigs,
  notAuthoritativeNote,
  WIZARD_FILE,
} from '../core/limits.js'
import type { PerIpLimit } from '../core/sources.js'
import {
  CONTACT_FAMILY,
  type AorConfig,
  type LimitsInfo,
  type ParsedContacts,
  type ServerReport,
  type Thresholds,
} from '../core/types.js'
import { selectAors, validateName } from '../core/select.js'
import {
  ActionFailedError,
  ActionTimeoutError,
  IncompleteAnswerError,
  InputError,
  cannotRead,
  PjctlError,
  PermissionError,
  UnknownActionError,
  UsageError,
} from '../errors.js'
import { SERVER_OPTIONS } from '../options.js'
import { storeGroups } from '../core/cluster.js'
import { identify, type NodeIdentity } from './cluster.js'
import {
  assumedPlaceEmpty,
  cannotReadPlace,
  DEFAULT_LOCATION,
  openContactTable,
  locateContacts,
  whereContactsLive,
  type ContactLocation,
} from './store.js'
import type { Deps, Settings } from './types.js'
import { failureOf, isFailure, type ServerFailure } from './views.js'

/** The options of every command that reads contacts (contacts, check, prune). */
export const READ_OPTIONS = [
  ...SERVER_OPTIONS,
  'parallel',
  'source',
  'contactsDb',
  'input',
  'strict',
  'limits',
  'pjsipConf',
  'maxContacts',
] as const

export interface ReadOptions {
  /** The names asked for (AOR or endpoint); one name lets pjctl ask PJSIPShowEndpoint instead of every AOR. */
  names?: string[]
  /** Read the limits for the whole server even for one name (gen --from-server needs where each AOR is defined). */
  wholeServer?: boolean
  /** What is kept of each contact as it is parsed (all of it by default). */
  keep?: KeepContact
  /** Whole stored rows (realtime: every column), for compare-before-delete and backups. */
  full?: boolean
}

/** Keeps the AORs the NAMEs ask for (AOR or endpoint); names matching nothing are warned about, and if nothing matches it is an error. */
export function selectNamed(report: ServerReport, names: string[], deps: Deps): ServerReport {
  if (!names.length) return report
  const { reports, unknown } = selectAors(report.aors, names)
  if (!reports.length)
    throw new UsageError(
      `no AOR or endpoint named ${unknown.map((n) => `'${n}'`).join(', ')} on ${report.server}`,
    )
  for (const name of unknown)
    deps.log.warn(`no AOR or endpoint named '${name}' on ${report.server}`)
  return { ...report, aors: reports }
}

/** Validates NAME arguments before anything connects. */
export function checkNames(names: string[]): string[] {
  for (const name of names) validateName(name, 'AOR or endpoint name')
  return names
}

export function thresholdsFrom(settings: Settings): Thresholds {
  return {
    // not given: the default policy alone decides (core/classify.ts)
    warn: settings.warn === undefined ? null : parseThreshold(settings.warn),
    crit: settings.crit === undefined ? null : parseThreshold(settings.crit),
  }
}

/** --per-ip-limit / --per from the settings; null without --per-ip-limit. */
export function perIpLimitFrom(settings: Pick<Settings, 'perIpLimit' | 'per'>): PerIpLimit | null {
  if (settings.perIpLimit === undefined) {
    if (settings.per === 'aor') throw new UsageError('--per aor needs --per-ip-limit N')
    return null
  }
  return { limit: settings.perIpLimit, per: settings.per === 'aor' ? 'aor' : 'address' }
}

/** Reads one server (or the --input dump) into a judged report. */
export async function readServerReport(
  target: AmiTarget | null,
  settings: Settings,
  deps: Deps,
  options: ReadOptions = {},
): Promise<ServerReport> {
  const thresholds = thresholdsFrom(settings)
  if (settings.input !== undefined)
    return reportFromDump(settings.input, settings, deps, thresholds)
  if (target === null) throw new Error('readServerReport: no server to read and no --input')
  const session = await deps.connect(target)
  try {
    return await readFromSession(session, settings, deps, thresholds, options)
  } finally {
    await session.close()
  }
}

export async function readFromSession(
  session: AmiSession,
  settings: Settings,
  deps: Deps,
  thresholds: Thresholds,
  options: ReadOptions,
): Promise<ServerReport> {
  const { parsed, source, limits, location } = await readContactsAndLimits(
    session,
    settings,
    deps,
    options,
  )
  const name = session.target.name
  deps.log.debug(
    `${name}: ${parsed.contacts.length} contacts and ${limits.configs.length} AOR configurations read at ${Math.round(performance.now())} ms`,
  )
  const aors = buildReports({
    contacts: parsed.contacts,
    configs: limits.configs,
    qualify: new Map(),
    now: deps.now(),
    thresholds,
    defaultMaxContacts: settings.maxContacts,
    authoritative: limits.info.authoritative,
    // parsed for this report alone: classified in place
    owned: true,
  })
  deps.log.debug(`${name}: ${aors.length} AORs judged at ${Math.round(performance.now())} ms`)
  return {
    server: name,
    generatedAt: deps.now(),
    aors,
    problems: parsed.problems,
    source,
    qualifyKnown: false,
    configs: limits.configs,
    limits: limits.info,
    contactsAt: {
      place: location.place,
      described: whereContactsLive(location),
      mapping: location.mapping.described,
    },
  }
}

/**
 * A server's contacts and limits, read as every command reads them (the limits on a second session,
 * in parallel), not yet judged; parse problems already reported. `keep` cuts each contact down as it
 * is parsed (the exporter judges from a few fields and keeps no stored value).
 */
export async function readContactsAndLimits(
  session: AmiSession,
  settings: Settings,
  deps: Deps,
  options: ReadOptions = {},
): Promise<{
  parsed: ParsedContacts
  source: string
  limits: Limits
  location: ContactLocation
}> {
  const names = options.names ?? []
  const [{ parsed, source, location }, limits] = await inParallel(
    session,
    deps,
    async (s) => {
      // Where sorcery.conf puts contacts (one small GetConfig), pipelined with a read of res_pjsip's default
      // place: Asterisk answers one session's actions in order, so the usual case costs no extra round trip,
      // and a read of the default place is used only when sorcery.conf says that is where contacts live.
      const locating = locateContacts(s, deps)
      const atDefault = readContacts(s, DEFAULT_LOCATION, settings.source, deps, options.keep)
      let location: ContactLocation
      try {
        location = await locating
      } catch (error) {
        atDefault.catch(() => undefined)
        throw error
      }
      deps.log.debug(`${s.target.name}: contacts: ${whereContactsLive(location)}`)
      const isDefault = location.place.kind === 'astdb' && location.place.family === CONTACT_FAMILY
      if (!isDefault) atDefault.catch(() => undefined)
      const read = isDefault
        ? await atDefault
        : await readContacts(
            s,
            location,
            settings.source,
            deps,
            options.keep,
            options.full === true || settings.raw === true,
          )
      if (location.assumed) {
        if (!read.parsed.contacts.length && !read.parsed.problems.length)
          throw assumedPlaceEmpty(location, s.target.user)
        deps.log.warn(
          `${location.assumed}; read astdb ${CONTACT_FAMILY} (res_pjsip's default), which holds contacts`,
        )
      }
      return { ...read, location }
    },
    (s, contactsRead) =>
      readLimits(s, settings, deps, options.wholeServer ? [] : names, contactsRead),
  )
  reportProblems(parsed, settings, deps)
  return { parsed, source, limits, location }
}

/**
 * `first` on the session, `second` at the same time on a second session (opened after `first` has sent its
 * action, so the contacts are asked for first): Asterisk runs one session's actions one after another.
 * When either fails the other session is dropped at once, not left reading an answer nobody will use.
 * `second` is told when `first` is over (`firstDone`, which never rejects).
 */
async function inParallel<A, B>(
  session: AmiSession,
  deps: Deps,
  first: (s: AmiSession) => Promise<A>,
  second: (s: AmiSession, firstDone: Promise<unknown>) => Promise<B>,
): Promise<[A, B]> {
  let other: AmiSession | null = null
  let failed = false
  const a = first(session)
  const firstDone = a.then(
    () => undefined,
    () => undefined,
  )
  const b = (async () => {
    const opened = await deps.connect(session.target)
    // set when `first` failed while this session was opening
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
    if (failed) {
      opened.destroy()
      throw new Error('not needed')
    }
    other = opened
    try {
      return await second(opened, firstDone)
    } finally {
      await opened.close()
    }
  })()
  try {
    return await Promise.all([a, b])
  } catch (error) {
    failed = true
    ;(other as AmiSession | null)?.destroy()
    a.catch(() => {})
    b.catch(() => {})
    throw error
  }
}

async function reportFromDump(
  file: string,
  settings: Settings,
  deps: Deps,
  thresholds: Thresholds,
): Promise<ServerReport> {
  const text = file === '-' ? await deps.readStdin() : await deps.readFile(file) // it throws `cannot read FILE: no such file` (and the like) itself
  const parsed = parseDatabaseShow(text)
  checkDumpComplete(parsed, file === '-' ? 'standard input' : file)
  reportProblems(parsed, settings, deps)
  const configs = configsFromFiles(settings, deps)
  return {
    server: file === '-' ? 'stdin' : file,
    generatedAt: deps.now(),
    aors: buildReports({
      contacts: parsed.contacts,
      configs,
      qualify: new Map(),
      now: deps.now(),
      thresholds,
      defaultMaxContacts: settings.maxContacts,
    }),
    problems: parsed.problems,
    source: 'dump',
    qualifyKnown: false,
    configs,
    limits: {
      from: configs.length ? 'files' : 'none',
      authoritative: false,
      note: configs.length
        ? '--pjsip-conf is not read for pjsip_wizard.conf or other AOR backends'
        : 'a dump holds no AOR configuration',
    },
  }
}

/**
 * Contacts only, at a place already located (the exporter's resync keeps the limits of its last read
 * that had them): the same read as every command's, with its retry on an incomplete answer, parse
 * problems reported. Never a partial answer: the last IncompleteAnswerError is thrown as it is.
 */
export async function readContactsAt(
  session: AmiSession,
  location: ContactLocation,
  settings: Settings,
  deps: Deps,
  keep?: KeepContact,
): Promise<ParsedContacts> {
  const { parsed } = await readContacts(session, location, settings.source, deps, keep)
  reportProblems(parsed, settings, deps)
  return parsed
}

/** A saved dump is a file, not a server answer: an incomplete one is an input error (exit 2), and writetimeout is no help. */
function checkDumpComplete(parsed: ParsedDump, what: string): void {
  const { declared, arrived, complete } = countCheck(parsed)
  if (complete) return
  const said =
    declared === null
      ? `it has no \`N results found.\` line, ${arrived} entries read`
      : `it says ${declared} results found, ${arrived} entries read`
  throw new InputError(
    `${what} is not a complete 'database show' dump: ${said}`,
    `save the whole output of asterisk -rx "database show ${CONTACT_FAMILY}", including its last line`,
  )
}

/** How many times an answer that came back incomplete is read in all (on a fresh session each time). */
const READ_ATTEMPTS = 3

/**
 * The contacts, read again (up to READ_ATTEMPTS in all) when Asterisk's answer came back incomplete.
 * A short answer means Asterisk hit the manager user's writetimeout while pjctl's socket was full (a
 * loaded machine, a slow network): it dropped output and then ends that session (main/manager.c stops
 * a session after a write error), so each new try opens a new session. DBGetTree is linear for
 * Asterisk, so a retry costs it little. Every try is checked against its own count; the last
 * IncompleteAnswerError is thrown as it is: never a partial answer reported as whole.
 */
async function readContacts(
  session: AmiSession,
  location: ContactLocation,
  source: string,
  deps: Deps,
  keep?: KeepContact,
  full = false,
): Promise<{ parsed: ParsedContacts; source: string }> {
  const place = location.place
  if (place.kind === 'realtime') return readRealtime(session, location, full, keep)
  if (place.kind === 'ami') return readThroughAmi(session, place, deps, keep)
  // a place kind added later must not be read as astdb
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
  if (place.kind !== 'astdb') throw cannotReadPlace(location.mapping)
  for (let attempt = 1; ; attempt++) {
    const current = attempt === 1 ? session : await deps.connect(session.target)
    try {
      return await readContactsOnce(current, place.family, source, deps, keep)
    } catch (error) {
      if (!(error instanceof IncompleteAnswerError) || attempt >= READ_ATTEMPTS) throw error
      deps.log.warn(
        `${error.message}; reading again on a new session (try ${attempt + 1} of ${READ_ATTEMPTS})`,
      )
    } finally {
      if (current !== session) await current.close()
    }
  }
}

/** A realtime table: one COPY, each row cut down by `keep` as it arrives (every column when `full`: prune compares and backs up whole rows). */
async function readRealtime(
  session: AmiSession,
  location: ContactLocation,
  full: boolean,
  keep?: KeepContact,
): Promise<{ parsed: ParsedContacts; source: string }> {
  const table = await openContactTable(session, location)
  try {
    const { contacts, problems, rows } = await table.read(full, USED_COLUMNS, keep)
    return {
      parsed: { contacts, problems, declaredCount: rows },
      source: location.place.kind === 'realtime' ? location.place.driver : 'sql',
    }
  } finally {
    await table.close()
  }
}

/** Said once per run (the exporter reads again and again). */
const costStated = new WeakSet<Deps['log']>()

/**
 * A store pjctl has no client for (memory, odbc, ...): Asterisk's own list, one PJSIPShowContacts, checked
 * against its ListItems (static contacts it lists are counted, not kept). Asterisk sorts every contact
 * into a list before the first event (main/sorcery.c ast_sorcery_retrieve_by_fields): its cost grows with
 * the square of the contacts, which is said once on stderr. Not retried: a second try costs the same.
 */
async function readThroughAmi(
  session: AmiSession,
  place: { kind: 'ami'; store: string },
  deps: Deps,
  keep?: KeepContact,
): Promise<{ parsed: ParsedContacts; source: string }> {
  if (!costStated.has(deps.log)) {
    costStated.add(deps.log)
    deps.log.warn(
      `${session.target.name}: contacts are in Asterisk's ${place.store}: ${PJSIPSHOWCONTACTS_COST}`,
    )
  }
  const contacts: ParsedContacts['contacts'] = []
  const problems: ParsedContacts['problems'] = []
  let item = 0
  let statics = 0
  const answer = await session.list('PJSIPShowContacts', {}, ['No Contacts found'], (event) => {
    if (event.get('Event') !== 'ContactList') return
    item++
    const record = event.toRecord()
    const contact = contactFromContactList(record)
    if (contact === null) statics++
    else if (typeof contact === 'string')
      problems.push({
        line: item,
        reason: contact,
        text: `${record.ObjectName ?? ''}: ${record.Uri ?? ''}`.slice(0, 160),
      })
    else contacts.push(keep ? keep(contact) : contact)
  })
  const parsed = { contacts, problems, declaredCount: answer.listItems, otherRows: statics }
  checkComplete(parsed, `PJSIPShowContacts from ${session.target.name}`, session.target.user)
  return {
    parsed: { contacts, problems, declaredCount: answer.listItems },
    source: 'pjsipshowcontacts',
  }
}

/** DBGetTree where the server has it and the user may use it, else Command `database show`. */
async function readContactsOnce(
  session: AmiSession,
  family: string,
  source: string,
  deps: Deps,
  keep?: KeepContact,
): Promise<{ parsed: ParsedContacts; source: string }> {
  if (source === 'dbgettree' || source === 'auto') {
    try {
      const parser = new DbTreeParser(keep)
      const answer = await session.dbGetTree(family, (key, value) => parser.add(key, value))
      const parsed = parser.finish(answer.listItems)
      checkComplete(parsed, `DBGetTree from ${session.target.name}`, session.target.user)
      return { parsed, source: 'dbgettree' }
    } catch (error) {
      if (
        source === 'dbgettree' ||
        !(error instanceof UnknownActionError || error instanceof PermissionError)
      )
        throw error
      deps.log.debug(`DBGetTree unavailable (${(error as Error).message}); using Command`)
    }
  }
  const parser = new DatabaseShowParser(family, keep)
  try {
    await session.command(`database show ${family}`, (line) => parser.push(line))
  } catch (error) {
    if (source === 'auto' && error instanceof PermissionError) {
      throw new PermissionError(
        'DBGetTree and Command',
        ['system', 'reporting', 'command'],
        `give [${session.target.user}] write=reporting (DBGetTree, Asterisk 16.28/18.14/19.6+) or write=command in manager.conf`,
      )
    }
    throw error
  }
  const parsed = parser.finish()
  checkComplete(
    parsed,
    `Command 'database show ${family}' from ${session.target.name}`,
    session.target.user,
  )
  return { parsed, source: 'command' }
}

function reportProblems(parsed: ParsedContacts, settings: Settings, deps: Deps): void {
  const first = parsed.problems[0]
  if (first === undefined) return
  if (settings.strict) {
    throw new InputError(
      `${parsed.problems.length} line(s) did not parse; first at line ${first.line}: ${first.reason}`,
      'without --strict these are warnings and the rest is still reported',
    )
  }
  for (const problem of parsed.problems)
    deps.log.warn(
      `line ${problem.line} ${problem.kept ? 'has a problem' : 'did not parse'} (${problem.reason}): ${problem.text}`,
    )
}

type LimitsMode = 'auto' | 'config' | 'ami'

export interface Limits {
  configs: AorConfig[]
  info: LimitsInfo
}

/**
 * AOR limits (max_contacts, remove_existing, qualify_frequency, expirations), AMI first, then --pjsip-conf, then --max-contacts.
 * - One NAME: PJSIPShowEndpoint (that endpoint's AORs, as Asterisk runs them).
 * - --limits auto/config: GetConfig sorcery.conf, pjsip.conf (Filter type=aor) and pjsip_wizard.conf, pipelined:
 *   linear in the AORs, where PJSIPShowAors is superlinear (res_pjsip sorts every AOR before its first event).
 * - PJSIPShowAors only with --limits ami, or in auto mode when the files cannot be the whole truth
 *   (sorcery.conf maps aor elsewhere, no pjsip.conf) or GetConfig is refused; the user is told why, once.
 */
/** `after`: parse the config answers once it settles (the contacts read on the other session; see getConfig). */
async function readLimits(
  session: AmiSession,
  settings: Settings,
  deps: Deps,
  names: string[],
  after?: Promise<unknown>,
): Promise<Limits> {
  const fromFiles = configsFromFiles(settings, deps)
  const mode: LimitsMode = settings.limits
  let limits: Limits
  try {
    limits = await limitsOverAmi(session, mode, deps, names, after)
  } catch (error) {
    if (!(error instanceof PermissionError || error instanceof UnknownActionError)) throw error
    if (!fromFiles.length && settings.maxContacts === undefined) {
      deps.log.warn(
        // under --all several servers warn: each says which it is
        `${session.target.name}: cannot read max_contacts over AMI (${error.message}); ${error.hint ?? 'pass --pjsip-conf FILE or --max-contacts N'}`,
      )
    }
    limits = {
      configs: [],
      info: {
        from: fromFiles.length ? 'files' : 'none',
        authoritative: false,
        note: error.message,
      },
    }
  }
  const known = new Set(limits.configs.map((c) => c.aor))
  return {
    configs: [...limits.configs, ...fromFiles.filter((c) => !known.has(c.aor))],
    info: limits.info,
  }
}

async function limitsOverAmi(
  session: AmiSession,
  mode: LimitsMode,
  deps: Deps,
  names: string[],
  after?: Promise<unknown>,
): Promise<Limits> {
  if (names.length === 1 && names[0] !== undefined) {
    const ofEndpoint = await aorsOfEndpoint(session, names[0]).catch((error: unknown) => {
      if (error instanceof PermissionError) return [] // GetConfig may still be allowed (write=config)
      throw error
    })
    if (ofEndpoint.length)
      return { configs: ofEndpoint, info: { from: 'pjsipshowendpoint', authoritative: false } }
  }
  if (mode === 'ami') return showAors(session, null)
  let files: FileLimits
  try {
    files = await limitsFromConfig(session, after)
  } catch (error) {
    if (
      mode === 'config' ||
      !(error instanceof PermissionError || error instanceof UnknownActionError)
    ) {
      if (error instanceof PermissionError) {
        throw new PermissionError(
          'GetConfig',
          error.needs,
          `give [${session.target.user}] write=config (or system) in manager.conf, or use --limits ami (PJSIPShowAors, write=system)`,
        )
      }
      throw error
    }
    try {
      const limits = await showAors(session, null)
      deps.log.warn(
        `limits: GetConfig refused (${error.message}); read PJSIPShowAors instead (slow on big servers; give [${session.target.user}] write=config)`,
      )
      return limits
    } catch (second) {
      if (!(second instanceof PermissionError)) throw second
      throw new PermissionError(
        'GetConfig and PJSIPShowAors',
        ['config', 'system'],
        `give [${session.target.user}] write=config (GetConfig) or write=system in manager.conf, then 'manager reload'`,
      )
    }
  }
  for (const warning of files.warnings) deps.log.warn(warning)
  if (files.why === null || mode === 'config') {
    return {
      configs: files.configs,
      info: {
        from: 'getconfig',
        authoritative: files.why === null,
        ...(files.why ? { note: files.why } : {}),
      },
    }
  }
  deps.log.warn(`limits: ${files.why}; reading PJSIPShowAors (what Asterisk runs) instead`)
  return showAors(session, files.configs.length || null)
}

interface FileLimits {
  configs: AorConfig[]
  /** Why the files cannot hold every AOR; null when they can. */
  why: string | null
  warnings: string[]
}

/** GetConfig sorcery.conf, pjsip.conf (Filter type=aor) and pjsip_wizard.conf, pipelined on one session. */
async function limitsFromConfig(
  session: AmiSession,
  after?: Promise<unknown>,
): Promise<FileLimits> {
  const [sorcery, pjsip, wizard] = await Promise.all([
    session.getConfig('sorcery.conf'),
    session.getConfig(DEFAULT_AOR_FILE, 'type=aor', after),
    session.getConfig(WIZARD_FILE, 'type=^wizard$', after),
  ])
  const mapping = aorMapping(sorcery?.categories ?? null)
  const warnings: string[] = []
  const answers = new Map([[DEFAULT_AOR_FILE, pjsip]])
  for (const file of mapping.files) {
    if (!answers.has(file)) answers.set(file, await session.getConfig(file, 'type=aor', after))
  }
  const lists = mapping.files.map((file) =>
    aorsFromPjsipConf(answers.get(file)?.categories ?? [], file, warnings),
  )
  const configs = mergeAorConfigs(...lists, aorsFromWizardConf(wizard?.categories ?? [], warnings))
  const missing = mapping.files.filter((file) => answers.get(file) === null)
  const why = !mapping.authoritative
    ? notAuthoritativeNote(mapping)
    : missing.length === mapping.files.length && !wizard
      ? `GetConfig found no ${missing.join(' or ')} and no ${WIZARD_FILE}`
      : null
  return { configs, why, warnings }
}

/** PJSIPShowAors: every AOR Asterisk runs (superlinear in the AORs on Asterisk's side: it sorts them all before answering). */
async function showAors(session: AmiSession, aorCount: number | null): Promise<Limits> {
  const configs: AorConfig[] = []
  try {
    await session.list(
      'PJSIPShowAors',
      {},
      ['No AORs found'],
      (item) => void configs.push(...aorConfigsFromAorList([item.toRecord()])),
    )
  } catch (error) {
    if (error instanceof ActionTimeoutError) {
      const count = aorCount === null ? '' : ` (${aorCount} in the config files)`
      throw new ActionTimeoutError(
        'PJSIPShowAors',
        `${error.message}: Asterisk builds the whole AOR list${count} before it sends the first one, which takes seconds on a big server`,
        '--limits config reads the limits from the config files (GetConfig) instead; or raise --timeout',
      )
    }
    throw error
  }
  return { configs, info: { from: 'pjsipshowaors', authoritative: true } }
}

async function aorsOfEndpoint(session: AmiSession, endpoint: string): Promise<AorConfig[]> {
  try {
    const answer = await session.list('PJSIPShowEndpoint', { Endpoint: endpoint })
    return answer.items
      .filter((item) => item.get('Event') === 'AorDetail')
      .map((item) => aorConfigFromAorDetail(item.toRecord()))
  } catch (error) {
    if (
      error instanceof ActionFailedError &&
      /unable to retrieve endpoint/i.test(error.serverMessage)
    )
      return []
    throw error
  }
}

function configsFromFiles(settings: Settings, deps: Deps): AorConfig[] {
  const named = settings.pjsipConf
  if (named === undefined) return []
  const entry = resolve(named)
  const conf = parsePjsipConf(
    entry,
    (path) => {
      try {
        return readFileSync(path, 'utf8')
      } catch (error) {
        // the file named by --pjsip-conf says why; a missing #include is the parser's to report (with its line)
        if (path === entry) throw cannotRead(named, error)
        return null
      }
    },
    (from, include) => (isAbsolute(include) ? include : resolve(dirname(from), include)),
  )
  for (const warning of conf.warnings) deps.log.warn(warning)
  return conf.aors()
}

/** Several servers named (--server a,b / --all): output carries a server column, and one failing server does not stop the others. */
export function isFleet(settings: Settings): boolean {
  return settings.all === true || (settings.server?.length ?? 0) > 1
}

/**
 * Runs `work` for each target, at most --parallel at once; results in target order.
 * In a fleet run a server that fails becomes `failed(failure)` (and a warning) while the
 * others go on; alone, its error is the run's error.
 */
export async function eachServer<T>(
  targets: AmiTarget[],
  settings: Settings,
  deps: Deps,
  work: (target: AmiTarget) => Promise<T>,
  failed: (failure: ServerFailure) => T,
): Promise<T[]> {
  const fleet = isFleet(settings)
  const results: T[] = []
  let next = 0
  const worker = async (): Promise<void> => {
    for (let target = targets[next]; target !== undefined; target = targets[next]) {
      const i = next++
      try {
        results[i] = await work(target)
      } catch (error) {
        if (!fleet || !(error instanceof PjctlError)) throw error
        deps.log.warn(`${target.name}: ${error.message}`)
        results[i] = failed(failureOf(target.name, error))
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(settings.parallel, targets.length) }, worker))
  return results
}

/** What a command that shows contacts keeps of each: what it shows; the stored fields too with --raw. */
export function shownOnly(settings: Pick<Settings, 'raw'>): { keep?: KeepContact } {
  return settings.raw ? {} : { keep: KEEP_SHOWN }
}

/** Reads every target (or the --input dump) and keeps only the asked-for AORs. One unreachable server in a fleet is a failure entry; alone, it throws. */
export async function readFleet(
  names: string[],
  settings: Settings,
  deps: Deps,
  options: Pick<ReadOptions, 'keep'> = {},
): Promise<(ServerReport | ServerFailure)[]> {
  const pick = (report: ServerReport): ServerReport => selectNamed(report, names, deps)
  if (settings.input !== undefined)
    return [pick(await readServerReport(null, settings, deps, { names, ...options }))]
  const read = async (target: AmiTarget): Promise<ServerReport> =>
    pick(await readServerReport(target, settings, deps, { names, ...options }))
  const targets = await deps.targets()
  if (targets.length < 2)
    return eachServer<ServerReport | ServerFailure>(targets, settings, deps, read, (f) => f)
  // Several servers: those sharing one contact store (a cluster's nodes) are read once, through the first.
  const { order, groups } = await storeLeaders(targets, settings, deps)
  const reports = await eachServer<ServerReport | ServerFailure>(
    order.filter((t): t is AmiTarget => !isFailure(t)),
    settings,
    deps,
    async (target) => asGroup(await read(target), groups.get(target)),
    (f) => f,
  )
  let next = 0
  return order.flatMap((t) => {
    if (isFailure(t)) return [t]
    const report = reports[next++]
    return report ? [report] : []
  })
}

/**
 * Several servers, asked who they are (systemname, contact store): the first server of each store in
 * target order, with the servers that could not be asked as failures where they were; `groups` gives each
 * first server every node that shares its store (itself first).
 */
export async function storeLeaders(
  targets: AmiTarget[],
  settings: Settings,
  deps: Deps,
): Promise<{ order: (AmiTarget | ServerFailure)[]; groups: Map<AmiTarget, NodeIdentity[]> }> {
  const identified = await eachServer<NodeIdentity | ServerFailure>(
    targets,
    settings,
    deps,
    (target) => identify(target, deps),
    (failure) => failure,
  )
  const groups = new Map<AmiTarget, NodeIdentity[]>()
  for (const group of storeGroups(identified.filter((n): n is NodeIdentity => !isFailure(n))))
    if (group[0]) groups.set(group[0].target, group)
  const order = identified.flatMap((n): (AmiTarget | ServerFailure)[] =>
    isFailure(n) ? [n] : groups.has(n.target) ? [n.target] : [],
  )
  return { order, groups }
}

/** A report read through the first of several nodes that share its store: named after all of them. */
export function asGroup<R extends { server: string }>(
  report: R,
  group: readonly NodeIdentity[] | undefined,
): R & { nodes?: readonly string[] } {
  if (!group || group.length < 2) return report
  const nodes = group.map((n) => n.target.name)
  return { ...report, server: nodes.join(','), nodes }
}
