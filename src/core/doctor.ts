// pjctl doctor: which devices and settings cause lockouts, as a ranked list of findings, each
// with its evidence (numbers from this read) and its fix (an exact change). Pure: the command
// hands in the report, the AOR configurations, the limit and what the AMI side showed.
//
// Decisions where the issue was silent:
// - One finding per subject; a kind with more than MAX_PER_KIND findings of one severity is
//   summarised into one finding that names the first few subjects and lists all in `subjects`.
// - AORs with max_contacts=1 and no remove_existing are one summary finding (warning) with the
//   count; a lone phone on such an AOR is not also reported as "at its limit".
// - Registration churn is measured, never guessed: a device (AOR + via_addr + user agent) with
//   two or more contacts that each live at most CHURN_SECONDS has re-registered every
//   <median gap between their expiration_times> seconds. A single contact tells nothing: a phone
//   with a one-hour expiration is seconds from its refresh one time in twelve.
// - Remaining lifetime beyond maximum_expiration allows 2 s of clock skew.
// - The registrar answer's size is that of `database show registrar/contact` through AMI
//   Command (one message: what Asterisk drops after writetimeout): info from 1 MiB, warning
//   from 10 MiB (asterisk-manager lost lines of a 50,000-contact answer on Asterisk 22).

import { phoneModelOf } from './advice.js'
import { compareCodepoints } from './classify.js'
import { PJSIP_RELOAD } from './genconf.js'
import { fixFor, type AorFix } from './fix.js'
import { findingStatus, serverStatus } from './status.js'
import { groupBy } from './group.js'
import { atOrAboveLimit, describeAgainstLimit, sourcesOf, type PerIpLimit } from './sources.js'
import { sizeText } from '../text.js'
import {
  CONTACT_FAMILY,
  type AorConfig,
  type AorReport,
  type ClassifiedContact,
  type ServerReport,
} from './types.js'

export type Severity = 'critical' | 'warning' | 'info'

export interface Finding {
  severity: Severity
  kind: FindingKind
  /** The AOR, device, address or setting. */
  subject: string
  /** Numbers from this read. */
  evidence: string
  /** The exact change: a pjctl gen … --append line, a phone-side setting, a pjsip.conf option, a pjctl command. */
  fix: string
  /** Summarised findings: every subject they stand for. */
  subjects?: string[]
}

const FINDING_KINDS = [
  'aor-at-limit',
  'source-at-limit',
  'stale-device',
  'orphaned-contacts',
  'max-contacts-1-without-remove-existing',
  'max-contacts-zero',
  'registration-churn',
  'lifetime-beyond-maximum-expiration',
  'remove-unavailable-without-qualify',
  'full-unqualified',
  'registrar-answer-size',
  'ami-privileges',
  'ami-no-security-events',
  'cluster-systemname',
  'contacts-of-unknown-node',
  'aor-split-across-nodes',
] as const
type FindingKind = (typeof FINDING_KINDS)[number]

/** What the AMI side showed; null for a saved dump. */
export interface AmiFacts {
  user: string
  /** How pjctl read the contacts: dbgettree | command. */
  source: string
  /** Actions this user may run (AMI ListCommands), null when it could not be asked. */
  actions: ReadonlySet<string> | null
  /** Why this user sees no refused registrations (it lacks read=security, or that could not be told), with the manager.conf line; null: it does. */
  security?: string | null
}

export interface DoctorInput {
  report: ServerReport
  limit: PerIpLimit | null
  now: number
  ami: AmiFacts | null
  /** AOR names whose absence from the configuration makes their contacts orphaned (the AOR list was read whole). */
  configuredAors?: ReadonlySet<string> | null
  /** A fleet run's name for this server: every `pjctl prune` a fix prints names it (`--server NAME`), so it works as printed. */
  server?: string
}

const CHURN_SECONDS = 300
const MAX_PER_KIND = 20
const SKEW_SECONDS = 2
const MIB = 1024 * 1024

const SEVERITY_RANK: Record<Severity, number> = { critical: 0, warning: 1, info: 2 }

/** The findings for one server, most severe first (then by kind, then subject). */
export function diagnose(input: DoctorInput): Finding[] {
  const configs = new Map<string, AorConfig>()
  for (const config of input.report.configs ?? [])
    if (!configs.has(config.aor)) configs.set(config.aor, config)
  const aors = input.report.aors
  const on = onServer(input.server)
  const findings = [
    ...aorLimitFindings(aors, input.server),
    ...maxContactsOneFinding(aors),
    ...sourceFindings(aors, input.limit, on),
    ...staleDeviceFindings(aors, on),
    ...orphanFindings(aors, input.configuredAors ?? null, input.now, on),
    ...churnFindings(aors, configs),
    ...lifetimeFindings(aors, configs, on),
    ...qualifyFindings(aors, configs),
    ...answerSizeFindings(aors, input.ami),
    ...privilegeFindings(input.ami),
    ...securityFindings(input.ami),
  ]
  return sortFindings(summarise(findings))
}

/** Most severe first, then by kind, then by subject. */
export function sortFindings(findings: Finding[]): Finding[] {
  return findings.sort(
    (a, b) =>
      SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] ||
      FINDING_KINDS.indexOf(a.kind) - FINDING_KINDS.indexOf(b.kind) ||
      compareCodepoints(a.subject, b.subject),
  )
}

/** 0 nothing above info, 1 a warning, 2 a critical finding. */
export function exitCodeOf(findings: readonly Finding[]): 0 | 1 | 2 {
  // check's policy (core/status.ts): the worst finding; doctor judges no AOR it cannot read
  return serverStatus(
    [],
    findings.map((f) => ({ severity: findingStatus(f.severity) })),
  ) as 0 | 1 | 2
}

// --- What frees an AOR now, as the command every command prints (check, contacts, doctor, prune) ---

/** ` --server NAME` for a command printed in a fleet run; empty for one server. */
function onServer(server?: string): string {
  return server ? ` --server ${server}` : ''
}

/** `pjctl prune AOR …` for core/fix.ts's answer (with `--server S` in a fleet). */
export function fixCommand(fix: AorFix, server?: string): string {
  const args = fix.orphaned
    ? ['--orphaned']
    : fix.keys.length
      ? [
          ...(fix.expired ? ['--expired'] : []),
          ...(fix.superseded ? ['--superseded'] : []),
          // one --key with commas: the option takes a list, and a second --key would replace the first
          '--key',
          fix.keys.join(','),
        ]
      : []
  return ['pjctl prune', fix.aor, ...args, ...(server ? ['--server', server] : [])].join(' ')
}

/** Why the fix names keys, or reads qualify: one clause, empty when the fix is plain. */
export function fixWhy(fix: AorFix): string {
  if (!fix.undecided) return ''
  return fix.byQualify
    ? 'same-second duplicates of one device: prune tells them apart by qualify state'
    : 'same-second duplicates of one device, not qualified: which is stale cannot be told; deleting either frees a slot'
}

/** A prune note's command: `pjctl prune AOR --key H1,H2`. */
export function keysCommand(aor: string, keys: readonly string[]): string {
  return `pjctl prune ${aor} --key ${keys.join(',')}`
}

/** The config fix for an AOR that needs room: `pjctl gen pjsip AOR --append --max-contacts N`. */
export function moreRoomCommand(aor: string, maxContacts: number): string {
  return `pjctl gen pjsip ${aor} --append --max-contacts ${maxContacts}`
}

// --- AORs and their limits -------------------------------------------------------------------

function names(list: readonly string[], max = 5): string {
  return list.length > max
    ? `${list.slice(0, max).join(', ')} and ${list.length - max} more`
    : list.join(', ')
}

function genLine(aors: readonly string[], options: string): string {
  return `pjctl gen pjsip ${aors.join(' ')} --append${options} >> /etc/asterisk/pjsip.conf (or any file loaded after the AOR), then: ${PJSIP_RELOAD}`
}

function aorLimitFindings(aors: readonly AorReport[], server?: string): Finding[] {
  const findings: Finding[] = []
  for (const aor of aors) {
    if (aor.maxContacts === null) continue
    if (aor.maxContacts <= 0) {
      if (aor.count === 0 && aor.contacts.length === 0) continue
      findings.push({
        severity: 'critical',
        kind: 'max-contacts-zero',
        subject: aor.aor,
        evidence: `max_contacts=${aor.maxContacts}: Asterisk refuses every REGISTER to this AOR (${aor.count} contact(s) in astdb)`,
        fix: genLine([aor.aor], ' --max-contacts 1'),
      })
      continue
    }
    // a configuration risk even when check does not page for it (near, or full with healthy contacts)
    if (
      aor.removeExisting === true ||
      (aor.severity === 0 && aor.state !== 'near' && aor.state !== 'full' && aor.state !== 'over')
    )
      continue
    // a lone phone on max_contacts=1: the summary finding covers it
    if (aor.maxContacts === 1 && aor.count <= 1) continue
    const stale = aor.superseded ? `, ${aor.superseded} of them superseded` : ''
    // the one fix check and contacts print (core/fix.ts)
    const fix = fixFor(aor)
    const why = fix ? fixWhy(fix) : ''
    const prune = fix ? `; now: ${fixCommand(fix, server)}${why ? ` (${why})` : ''}` : ''
    findings.push({
      // check's judgement (core/classify.ts): a page there is a warning or worse here; what
      // check calls OK (near, full with healthy contacts) is a configuration note, not a warning
      severity: aor.severity === 2 ? 'critical' : aor.severity === 1 ? 'warning' : 'info',
      kind: 'aor-at-limit',
      subject: aor.aor,
      evidence:
        `${aor.count}/${aor.maxContacts} contacts (${aor.state})${stale}, remove_existing=${aor.removeExisting === false ? 'no' : 'unknown'}: ` +
        (aor.state === 'near'
          ? 'registrations go through now; once it is full, one from a new address or port is refused (403)'
          : 'a registration from a new address or port is refused (403)'),
      fix: `${genLine([aor.aor], ` --max-contacts ${aor.maxContacts}`)}${prune}`,
    })
  }
  return findings
}

function maxContactsOneFinding(aors: readonly AorReport[]): Finding[] {
  const risky = aors
    .filter((a) => a.maxContacts === 1 && a.removeExisting !== true)
    .map((a) => a.aor)
  if (!risky.length) return []
  const gen =
    risky.length <= 10
      ? genLine(risky, ' --max-contacts 1')
      : `pjctl gen pjsip --from-server >> /etc/asterisk/pjsip.conf proposes the lines for all ${risky.length} (listed in subjects with --json), then: ${PJSIP_RELOAD}`
  return [
    {
      severity: 'warning',
      kind: 'max-contacts-1-without-remove-existing',
      subject: `${risky.length} AOR(s) with max_contacts=1`,
      evidence: `max_contacts=1 and remove_existing not yes on ${names(risky)}: the lockout configuration, a phone that registers again from a new port or address is refused (403) until its old contact expires`,
      fix: `${gen} (remove_existing=yes: Asterisk replaces the old contact instead of refusing)`,
      subjects: risky,
    },
  ]
}

// --- where registrations come from -----------------------------------------------------------

function sourceFindings(
  aors: readonly AorReport[],
  limit: PerIpLimit | null,
  on: string,
): Finding[] {
  if (!limit) return []
  return atOrAboveLimit(sourcesOf(aors, limit)).map((row) => {
    const agents = row.userAgents
      .slice(0, 3)
      .map((u) => `${u.userAgent || '(no user agent)'} ×${u.contacts}`)
      .join(', ')
    const top = row.userAgents[0]?.userAgent ?? ''
    const fix = row.stale
      ? `pjctl prune ${row.aorNames.length <= 5 ? `${row.aorNames.join(' ')} ` : ''}--superseded --expired${on} removes its ${row.stale} stale contact(s); ${phoneModelOf(top).advice}`
      : `${row.contacts} live contacts from one address: a big office behind one NAT (raise --per-ip-limit for it) or a runaway device (pjctl contacts ${row.busiestAor ?? ''} shows which)`
    return {
      severity: row.limitState === 'above' ? 'critical' : 'warning',
      kind: 'source-at-limit' as const,
      subject: row.address || '(no via_addr)',
      evidence: `${describeAgainstLimit(row, limit)}: ${row.limitState} --per-ip-limit ${limit.limit}${limit.per === 'aor' ? ' per AOR' : ''}; ${row.stale} stale; user agents: ${agents || '-'}`,
      fix,
    }
  })
}

interface Device {
  userAgent: string
  address: string
  superseded: number
  aors: Set<string>
}

function staleDeviceFindings(aors: readonly AorReport[], on: string): Finding[] {
  const devices = new Map<string, Device>()
  for (const aor of aors) {
    for (const contact of aor.contacts) {
      if (contact.status !== 'superseded') continue
      const id = `${contact.userAgent.length}:${contact.userAgent}${contact.viaAddr}`
      let device = devices.get(id)
      if (!device)
        devices.set(
          id,
          (device = {
            userAgent: contact.userAgent,
            address: contact.viaAddr,
            superseded: 0,
            aors: new Set(),
          }),
        )
      device.superseded++
      device.aors.add(aor.aor)
    }
  }
  const all = [...devices.values()]
  if (all.length > MAX_PER_KIND) return staleModelFindings(all, on)
  return all.map((d) => {
    const list = [...d.aors].sort(compareCodepoints)
    const model = phoneModelOf(d.userAgent)
    return {
      severity: 'warning' as const,
      kind: 'stale-device' as const,
      subject: `${d.userAgent} at ${d.address}`,
      evidence: `${d.superseded} superseded contact(s) on ${list.length} AOR(s) (${names(list)}): it registers again from a new port without unregistering the old contact${model.id === 'other' ? '' : ` (${model.model})`}`,
      fix: `${model.advice}; then pjctl prune ${list.length <= 5 ? `${list.join(' ')} ` : ''}--superseded${on}`,
    }
  })
}

/** Many devices: one finding per phone model (the fix is per model anyway), every device in `subjects`. */
function staleModelFindings(devices: readonly Device[], on: string): Finding[] {
  const byModel = groupBy(devices, (d) => phoneModelOf(d.userAgent).id)
  return [...byModel.values()].map((group) => {
    const model = phoneModelOf(group[0].userAgent)
    const superseded = group.reduce((n, d) => n + d.superseded, 0)
    const aors = new Set(group.flatMap((d) => [...d.aors]))
    const subjects = group.map((d) => `${d.userAgent} at ${d.address}`).sort(compareCodepoints)
    return {
      severity: 'warning' as const,
      kind: 'stale-device' as const,
      subject: `${model.id === 'other' ? 'other phones' : model.model}: ${group.length} device(s)`,
      evidence: `${superseded} superseded contact(s) from ${group.length} device(s) (user agent + address) on ${aors.size} AOR(s): they register again from a new port without unregistering the old contact; e.g. ${subjects[0]}`,
      fix: `${model.advice}; then pjctl prune --superseded${on}`,
      subjects,
    }
  })
}

/** The AOR is not configured (state `orphaned`, or absent from an AOR list read whole) and still holds contacts. */
function isOrphaned(aor: AorReport, configured: ReadonlySet<string> | null): boolean {
  if (aor.state === 'orphaned') return true
  return (
    configured !== null &&
    aor.contacts.length > 0 &&
    aor.maxContactsSource === 'none' &&
    !configured.has(aor.aor)
  )
}

function orphanFindings(
  aors: readonly AorReport[],
  configured: ReadonlySet<string> | null,
  now: number,
  on: string,
): Finding[] {
  return aors
    .filter((aor) => isOrphaned(aor, configured))
    .map((aor) => {
      const last = Math.max(...aor.contacts.map((c) => c.expirationTime ?? now))
      return {
        severity: 'warning' as const,
        kind: 'orphaned-contacts' as const,
        subject: aor.aor,
        evidence: `${aor.contacts.length} contact(s) in astdb ${CONTACT_FAMILY} for an AOR that is not configured (deleted extension?); Asterisk keeps them until they expire, the last in ${Math.max(0, last - now)} s`,
        fix: `pjctl prune ${aor.aor} --orphaned${on}`,
      }
    })
}

// --- expiration settings ---------------------------------------------------------------------

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  const upper = sorted[mid] ?? 0
  return sorted.length % 2 ? upper : Math.round(((sorted[mid - 1] ?? upper) + upper) / 2)
}

function churnFindings(
  aors: readonly AorReport[],
  configs: ReadonlyMap<string, AorConfig>,
): Finding[] {
  const findings: Finding[] = []
  for (const aor of aors) {
    const devices = groupBy(
      aor.contacts.filter(
        (c) =>
          c.status !== 'expired' &&
          c.expiresIn !== null &&
          c.expirationTime !== null &&
          c.viaAddr !== '' &&
          c.userAgent !== '',
      ),
      (c) => `${c.viaAddr.length}:${c.viaAddr}${c.userAgent}`,
    )
    const measured: {
      contact: ClassifiedContact
      interval: number
      lifetime: number
      count: number
    }[] = []
    for (const contacts of devices.values()) {
      if (contacts.length < 2) continue
      const lifetime = Math.max(...contacts.map((c) => c.expiresIn ?? 0))
      if (lifetime > CHURN_SECONDS) continue
      const times = contacts.map((c) => c.expirationTime ?? 0).sort((a, b) => a - b)
      const interval = median(times.slice(1).map((t, i) => t - (times[i] ?? t)))
      measured.push({ contact: contacts[0], interval, lifetime, count: contacts.length })
    }
    if (!measured.length) continue
    const config = configs.get(aor.aor)
    const window = config
      ? ` (the AOR allows minimum_expiration=${config.minimumExpiration ?? '?'}, maximum_expiration=${config.maximumExpiration ?? '?'})`
      : ''
    const what = measured
      .map(
        (m) =>
          `${m.contact.userAgent} at ${m.contact.viaAddr} re-registered every ~${m.interval} s (${m.count} contacts, expiration_time gaps), each living at most ${m.lifetime} s`,
      )
      .join('; ')
    const model = phoneModelOf(measured[0]?.contact.userAgent ?? '')
    findings.push({
      severity: 'warning',
      kind: 'registration-churn',
      subject: aor.aor,
      evidence: `${what}${window}: a REGISTER and an astdb write every ${Math.min(...measured.map((m) => m.interval))} s from one device`,
      fix: `${genLine([aor.aor], ` --max-contacts ${aor.maxContacts ?? 1} --minimum-expiration 600`)} (Asterisk then grants at least 600 s whatever the phone asks); ${model.advice}`,
    })
  }
  return findings
}

function lifetimeFindings(
  aors: readonly AorReport[],
  configs: ReadonlyMap<string, AorConfig>,
  on: string,
): Finding[] {
  const findings: Finding[] = []
  for (const aor of aors) {
    const max = configs.get(aor.aor)?.maximumExpiration ?? null
    if (max === null) continue
    const beyond = aor.contacts.filter(
      (c) => c.status !== 'expired' && c.expiresIn !== null && c.expiresIn > max + SKEW_SECONDS,
    )
    if (!beyond.length) continue
    const longest = Math.max(...beyond.map((c) => c.expiresIn ?? 0))
    const crowded = aor.state === 'full' || aor.state === 'over'
    findings.push({
      severity: crowded ? 'warning' : 'info',
      kind: 'lifetime-beyond-maximum-expiration',
      subject: aor.aor,
      evidence: `${beyond.length} contact(s) expire in up to ${longest} s, beyond maximum_expiration=${max} (granted before it was lowered, or written into astdb by hand)${crowded ? '; the AOR is full' : ''}`,
      fix: `nothing to change on the AOR: the phone's next REGISTER is granted at most ${max} s; if the contact is stale: pjctl prune --key ${beyond.map((c) => c.key).join(',')}${on}`,
    })
  }
  return findings
}

// --- qualify ---------------------------------------------------------------------------------

/** qualify_frequency: the AOR's configuration, else what its contacts were stored with. */
function qualifyFrequencyOf(aor: AorReport, config: AorConfig | undefined): number | null {
  if (config?.qualifyFrequency !== null && config?.qualifyFrequency !== undefined)
    return config.qualifyFrequency
  const stored = aor.contacts
    .map((c) => Number(c.fields.qualify_frequency))
    .filter((n) => Number.isFinite(n))
  return stored.length ? Math.max(...stored) : null
}

function qualifyFindings(
  aors: readonly AorReport[],
  configs: ReadonlyMap<string, AorConfig>,
): Finding[] {
  const findings: Finding[] = []
  for (const aor of aors) {
    const config = configs.get(aor.aor)
    const frequency = qualifyFrequencyOf(aor, config)
    if (config?.removeUnavailable === true && (frequency ?? 0) === 0) {
      findings.push({
        severity: 'warning',
        kind: 'remove-unavailable-without-qualify',
        subject: aor.aor,
        evidence:
          'remove_unavailable=yes with qualify_frequency=0: it does nothing, no contact is ever Unavailable without qualify',
        fix: genLine(
          [aor.aor],
          ` --max-contacts ${aor.maxContacts ?? 1} --qualify-frequency 60 --remove-unavailable`,
        ),
      })
    }
    if ((aor.state === 'full' || aor.state === 'over') && frequency === 0) {
      findings.push({
        severity: 'info',
        kind: 'full-unqualified',
        subject: aor.aor,
        evidence: `${aor.count}/${aor.maxContacts} contacts and qualify_frequency=0: nothing tells a live phone from a stale one (prune can only judge by expiry and by device)`,
        fix: genLine([aor.aor], ` --max-contacts ${aor.maxContacts} --qualify-frequency 60`),
      })
    }
  }
  return findings
}

// --- the AMI side ----------------------------------------------------------------------------

/** Bytes of `database show registrar/contact` through AMI Command: `Output: ` + the CLI line + CRLF per contact. */
export function registrarAnswerBytes(aors: readonly AorReport[]): number {
  let bytes = 'Response: Success\r\nMessage: Command output follows\r\n'.length
  let count = 0
  for (const aor of aors) {
    for (const c of aor.contacts) {
      count++
      const path = `/${CONTACT_FAMILY}/${c.key}`
      bytes += 'Output: '.length + Math.max(utf8Length(path), 50) + 2 + utf8Length(c.value) + 2
    }
  }
  return bytes + `Output: ${count} results found.\r\n\r\n`.length
}

/** UTF-8 length without allocating (astdb values are mostly ASCII). */
function utf8Length(text: string): number {
  let n = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    n += c < 0x80 ? 1 : c < 0x800 ? 2 : c >= 0xd800 && c <= 0xdbff ? (i++, 4) : 3
  }
  return n
}

function answerSizeFindings(aors: readonly AorReport[], ami: AmiFacts | null): Finding[] {
  const bytes = registrarAnswerBytes(aors)
  if (bytes < MIB) return []
  const contacts = aors.reduce((n, a) => n + a.contacts.length, 0)
  const self = ami?.source === 'command'
  return [
    {
      severity: bytes >= 10 * MIB || self ? 'warning' : 'info',
      kind: 'registrar-answer-size',
      subject: `database show ${CONTACT_FAMILY}`,
      evidence:
        `your registrar answer is ${sizeText(bytes)} (${contacts} contacts) in one AMI Command message; Asterisk drops AMI output that a client leaves unread for writetimeout (100 ms by default): ` +
        (self
          ? 'pjctl itself read it with Command'
          : 'other AMI tools on this server may get partial answers'),
      fix:
        'in manager.conf set writetimeout = 5000 for every AMI user that reads the registrar, and read it with DBGetTree (write=reporting) instead of Command' +
        (self ? ` (give [${ami.user}] write=reporting)` : ''),
    },
  ]
}

/** Actions that only a class pjctl never needs allows (manager.c, res/*): the class they betray. */
const NEEDLESS_CLASSES: readonly [action: string, writeClass: string, what: string][] = [
  ['command', 'command', 'any CLI command, core stop now included'],
  ['originate', 'originate', 'place calls'],
  ['redirect', 'call', 'move live calls'],
  ['updateconfig', 'config', 'rewrite configuration files'],
]

function privilegeFindings(ami: AmiFacts | null): Finding[] {
  const actions = ami?.actions
  if (!actions) return []
  const dbGetTree = ami.source === 'dbgettree' || actions.has('dbgettree')
  const extra = NEEDLESS_CLASSES.filter(
    ([action, writeClass]) => actions.has(action) && (writeClass !== 'command' || dbGetTree),
  )
  if (!extra.length) return []
  // what pjctl uses: system (limits, prune), reporting (DBGetTree), user (prune's UserEvent for the exporter)
  const keep = (
    [
      ['system', 'dbdel'],
      ['reporting', null],
      ['user', 'userevent'],
    ] as const
  )
    .filter(([, action]) => action === null || actions.has(action))
    .map(([c]) => c)
  return [
    {
      severity: 'warning',
      kind: 'ami-privileges',
      subject: `AMI user ${ami.user}`,
      evidence: `[${ami.user}] may use ${extra.map(([action, writeClass, what]) => `${writeClass} (${action === 'command' ? 'Command' : action}: ${what})`).join(', ')}, which pjctl never needs${ami.source === 'dbgettree' ? ': it reads contacts with DBGetTree (reporting)' : ''}`,
      fix: `in manager.conf, [${ami.user}]: write = ${keep.join(',')} (drop ${extra.map(([, c]) => c).join(', ')}), then: manager reload`,
    },
  ]
}

function securityFindings(ami: AmiFacts | null): Finding[] {
  if (!ami?.security) return []
  const fix = /: (read = [^ ]+)/.exec(ami.security)?.[1]
  return [
    {
      severity: 'info',
      kind: 'ami-no-security-events',
      subject: `AMI user ${ami.user}`,
      evidence: ami.security,
      fix: fix
        ? `in manager.conf, [${ami.user}]: ${fix}, then: manager reload (pjctl watch and the exporter then see each refused REGISTER as it happens)`
        : `in manager.conf, add security to [${ami.user}]'s read=, then: manager reload`,
    },
  ]
}

/** ListCommands' answer (one `<Action>: <synopsis> (Priv: …)` header per allowed action) → lower-case action names. */
export function actionsFromListCommands(headerNames: readonly string[]): Set<string> {
  const skip = new Set(['response', 'actionid', 'message', 'eventlist'])
  return new Set(headerNames.map((n) => n.toLowerCase()).filter((n) => !skip.has(n)))
}

// --- summarising -----------------------------------------------------------------------------

/** More than MAX_PER_KIND findings of one kind and severity become one, naming the first few and listing all. */
function summarise(findings: Finding[]): Finding[] {
  const groups = groupBy(findings, (f) => `${f.kind}\u0000${f.severity}`)
  const out: Finding[] = []
  for (const group of groups.values()) {
    if (group.length <= MAX_PER_KIND) {
      out.push(...group)
      continue
    }
    const subjects = group.map((f) => f.subject).sort(compareCodepoints)
    const [first] = group
    const noun = first.kind === 'source-at-limit' ? 'addresses' : 'AORs'
    out.push({
      severity: first.severity,
      kind: first.kind,
      subject: `${group.length} ${noun}`,
      evidence: `${group.length} ${noun}: ${names(subjects)}; for example ${first.subject}: ${first.evidence}`,
      fix: `for each (subjects lists them all in --json), as for ${first.subject}: ${first.fix}`,
      subjects,
    })
  }
  return out
}
