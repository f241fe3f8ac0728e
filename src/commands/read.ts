// The one read path every command shares: contacts (AMI DBGetTree, AMI Command, or a
// saved dump), AOR limits (PJSIPShowAors / PJSIPShowEndpoint, --pjsip-conf, --max-contacts),
// optionally qualify state (PJSIPShowContacts), judged by the pure core.

import { readFileSync } from 'node:fs'
import { dirname, isAbsolute, resolve } from 'node:path'
import type { AmiSession, AmiTarget } from '../ami/types.js'
import { aorConfigFromAorDetail, aorConfigsFromAorList, qualifyFromContactList } from '../core/aors.js'
import { buildReports, parseThreshold } from '../core/classify.js'
import { DatabaseShowParser, DbTreeParser, checkComplete, countCheck, parseDatabaseShow, type ParsedDump } from '../core/dump.js'
import { parsePjsipConf } from '../core/pjsipconf.js'
import { CONTACT_FAMILY, type AorConfig, type ParsedContacts, type QualifyStatus, type ServerReport, type Thresholds } from '../core/types.js'
import { selectAors, validateName } from '../core/select.js'
import { ActionFailedError, InputError, cannotRead, PjctlError, PermissionError, UnknownActionError, UsageError } from '../errors.js'
import type { Deps, Settings } from './types.js'
import type { ServerFailure } from './views.js'

/** The options of every command that reads contacts (contacts, check, prune). */
export const READ_OPTIONS = ['server', 'all', 'config', 'host', 'port', 'user', 'secretFile', 'timeout', 'maxOutput', 'parallel', 'source', 'input', 'strict', 'pjsipConf', 'maxContacts'] as const

export interface ReadOptions {
  /** Also read qualify state (PJSIPShowContacts): prune needs it, contacts/check do not. */
  qualify?: boolean
  /** The names asked for (AOR or endpoint); one name lets pjctl ask PJSIPShowEndpoint instead of every AOR. */
  names?: string[]
}

/** Keeps the AORs the NAMEs ask for (AOR or endpoint); names matching nothing are warned about, and if nothing matches it is an error. */
export function selectNamed(report: ServerReport, names: string[], deps: Deps): ServerReport {
  if (!names.length) return report
  const { reports, unknown } = selectAors(report.aors, names)
  if (!reports.length) throw new UsageError(`no AOR or endpoint named ${unknown.map((n) => `'${n}'`).join(', ')} on ${report.server}`)
  for (const name of unknown) deps.log.warn(`no AOR or endpoint named '${name}' on ${report.server}`)
  return { ...report, aors: reports }
}

/** Validates NAME arguments before anything connects. */
export function checkNames(names: string[]): string[] {
  for (const name of names) validateName(name, 'AOR or endpoint name')
  return names
}

export function thresholdsFrom(settings: Settings): Thresholds {
  return {
    warn: parseThreshold(settings.warn),
    crit: parseThreshold(settings.crit),
  }
}

/** Reads one server (or the --input dump) into a judged report. */
export async function readServerReport(target: AmiTarget | null, settings: Settings, deps: Deps, options: ReadOptions = {}): Promise<ServerReport> {
  const thresholds = thresholdsFrom(settings)
  if (settings.input !== undefined) return reportFromDump(settings.input, settings, deps, thresholds)
  const session = await deps.connect(target!)
  try {
    return await readFromSession(session, settings, deps, thresholds, options)
  } finally {
    await session.close()
  }
}

export async function readFromSession(session: AmiSession, settings: Settings, deps: Deps, thresholds: Thresholds, options: ReadOptions): Promise<ServerReport> {
  const { parsed, source } = await readContacts(session, settings.source, deps)
  reportProblems(parsed, settings, deps)
  const configs = await readAorConfigs(session, settings, deps, options.names ?? [])
  const qualify = options.qualify ? await readQualify(session, deps) : null
  return {
    server: session.target.name,
    generatedAt: deps.now(),
    aors: buildReports({ contacts: parsed.contacts, configs, qualify: qualify ?? new Map(), now: deps.now(), thresholds, defaultMaxContacts: maxContactsFlag(settings) }),
    problems: parsed.problems,
    source,
    qualifyKnown: qualify !== null,
    configs,
  }
}

async function reportFromDump(file: string, settings: Settings, deps: Deps, thresholds: Thresholds): Promise<ServerReport> {
  const text = file === '-' ? await deps.readStdin() : await readInput(file, deps)
  const parsed = parseDatabaseShow(text)
  checkDumpComplete(parsed, file === '-' ? 'standard input' : file)
  reportProblems(parsed, settings, deps)
  const configs = configsFromFiles(settings, deps)
  return {
    server: file === '-' ? 'stdin' : file,
    generatedAt: deps.now(),
    aors: buildReports({ contacts: parsed.contacts, configs, qualify: new Map(), now: deps.now(), thresholds, defaultMaxContacts: maxContactsFlag(settings) }),
    problems: parsed.problems,
    source: 'dump',
    qualifyKnown: false,
    configs,
  }
}

/** A saved dump is a file, not a server answer: an incomplete one is an input error (exit 2), and writetimeout is no help. */
function checkDumpComplete(parsed: ParsedDump, what: string): void {
  const { declared, arrived, complete } = countCheck(parsed)
  if (complete) return
  const said = declared === null ? `it has no \`N results found.\` line, ${arrived} entries read` : `it says ${declared} results found, ${arrived} entries read`
  throw new InputError(`${what} is not a complete 'database show' dump: ${said}`, `save the whole output of asterisk -rx "database show ${CONTACT_FAMILY}", including its last line`)
}

/** deps.readFile throws `cannot read FILE: no such file` (and the like) itself. */
function readInput(file: string, deps: Deps): Promise<string> {
  return deps.readFile(file)
}

/** DBGetTree where the server has it and the user may use it, else Command `database show`. */
async function readContacts(session: AmiSession, source: string, deps: Deps): Promise<{ parsed: ParsedContacts; source: string }> {
  if (source === 'dbgettree' || source === 'auto') {
    try {
      const parser = new DbTreeParser()
      const answer = await session.dbGetTree(CONTACT_FAMILY, (row) => parser.push(row))
      const parsed = parser.finish(answer.listItems)
      checkComplete(parsed, `DBGetTree from ${session.target.name}`, session.target.user)
      return { parsed, source: 'dbgettree' }
    } catch (error) {
      if (source === 'dbgettree' || !(error instanceof UnknownActionError || error instanceof PermissionError)) throw error
      deps.log.debug(`DBGetTree unavailable (${(error as Error).message}); using Command`)
    }
  }
  const parser = new DatabaseShowParser()
  try {
    await session.command(`database show ${CONTACT_FAMILY}`, (line) => parser.push(line))
  } catch (error) {
    if (source === 'auto' && error instanceof PermissionError) {
      throw new PermissionError('DBGetTree and Command', ['system', 'reporting', 'command'], `give [${session.target.user}] write=reporting (DBGetTree, Asterisk 16.28/18.14/19.6+) or write=command in manager.conf`)
    }
    throw error
  }
  const parsed = parser.finish()
  checkComplete(parsed, `Command 'database show ${CONTACT_FAMILY}' from ${session.target.name}`, session.target.user)
  return { parsed, source: 'command' }
}

function reportProblems(parsed: ParsedContacts, settings: Settings, deps: Deps): void {
  if (!parsed.problems.length) return
  if (settings.strict) {
    const first = parsed.problems[0]
    throw new InputError(`${parsed.problems.length} line(s) did not parse; first at line ${first.line}: ${first.reason}`, 'without --strict these are warnings and the rest is still reported')
  }
  for (const problem of parsed.problems) deps.log.warn(`line ${problem.line} did not parse (${problem.reason}): ${problem.text}`)
}

/** max_contacts per AOR: AMI first, then --pjsip-conf, then --max-contacts. */
async function readAorConfigs(session: AmiSession, settings: Settings, deps: Deps, names: string[]): Promise<AorConfig[]> {
  const fromFiles = configsFromFiles(settings, deps)
  let fromAmi: AorConfig[] = []
  try {
    fromAmi = names.length === 1 ? await aorsOfEndpoint(session, names[0]) : []
    if (!fromAmi.length) {
      const configs: AorConfig[] = []
      await session.list('PJSIPShowAors', {}, ['No AORs found'], (item) => void configs.push(...aorConfigsFromAorList([item.toRecord()])))
      fromAmi = configs
    }
  } catch (error) {
    if (!(error instanceof PermissionError || error instanceof UnknownActionError)) throw error
    if (!fromFiles.length && maxContactsFlag(settings) === undefined) {
      deps.log.warn(`cannot read max_contacts over AMI (${error.message}); pass --pjsip-conf FILE or --max-contacts N`)
    }
  }
  const known = new Set(fromAmi.map((c) => c.aor))
  return [...fromAmi, ...fromFiles.filter((c) => !known.has(c.aor))]
}

async function aorsOfEndpoint(session: AmiSession, endpoint: string): Promise<AorConfig[]> {
  try {
    const answer = await session.list('PJSIPShowEndpoint', { Endpoint: endpoint })
    return answer.items.filter((item) => item.get('Event') === 'AorDetail').map((item) => aorConfigFromAorDetail(item.toRecord()))
  } catch (error) {
    if (error instanceof ActionFailedError && /unable to retrieve endpoint/i.test(error.serverMessage)) return []
    throw error
  }
}

async function readQualify(session: AmiSession, deps: Deps): Promise<Map<string, QualifyStatus> | null> {
  try {
    const records: Record<string, string>[] = []
    await session.list('PJSIPShowContacts', {}, ['No Contacts found'], (item) => void records.push(item.toRecord()))
    return qualifyFromContactList(records)
  } catch (error) {
    if (!(error instanceof PermissionError || error instanceof UnknownActionError)) throw error
    deps.log.warn(`cannot read qualify state (${error.message}); 'superseded' is judged from via address and user agent alone`)
    return null
  }
}

function configsFromFiles(settings: Settings, deps: Deps): AorConfig[] {
  if (settings.pjsipConf === undefined) return []
  const entry = resolve(settings.pjsipConf)
  const conf = parsePjsipConf(
    entry,
    (path) => {
      try {
        return readFileSync(path, 'utf8')
      } catch (error) {
        // the file named by --pjsip-conf says why; a missing #include is the parser's to report (with its line)
        if (path === entry) throw cannotRead(settings.pjsipConf!, error)
        return null
      }
    },
    (from, include) => (isAbsolute(include) ? include : resolve(dirname(from), include)),
  )
  for (const warning of conf.warnings) deps.log.warn(warning)
  return conf.aors()
}

function maxContactsFlag(settings: Settings): number | undefined {
  return settings.maxContacts
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
export async function eachServer<T>(targets: AmiTarget[], settings: Settings, deps: Deps, work: (target: AmiTarget) => Promise<T>, failed: (failure: ServerFailure) => T): Promise<T[]> {
  const fleet = isFleet(settings)
  const results: T[] = new Array(targets.length)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < targets.length) {
      const i = next++
      try {
        results[i] = await work(targets[i])
      } catch (error) {
        if (!fleet || !(error instanceof PjctlError)) throw error
        deps.log.warn(`${targets[i].name}: ${error.message}`)
        results[i] = failed({ server: targets[i].name, message: error.message, hint: error.hint, exit: error.exit })
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(settings.parallel, targets.length) }, worker))
  return results
}

/** Reads every target (or the --input dump) and keeps only the asked-for AORs. One unreachable server in a fleet is a failure entry; alone, it throws. */
export async function readFleet(names: string[], settings: Settings, deps: Deps, options: { qualify?: boolean } = {}): Promise<(ServerReport | ServerFailure)[]> {
  const pick = (report: ServerReport): ServerReport => selectNamed(report, names, deps)
  if (settings.input !== undefined) return [pick(await readServerReport(null, settings, deps, { names, ...options }))]
  return eachServer<ServerReport | ServerFailure>(await deps.targets(), settings, deps, async (target) => pick(await readServerReport(target, settings, deps, { names, ...options })), (failure) => failure)
}
