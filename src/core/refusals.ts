// Refused registrations as Asterisk reports them: security events (AMI read class `security`).
//
// res_pjsip_registrar.c reports each refusal with ast_sip_report_failed_acl() (Event: FailedACL,
// ACLName = why) or ast_sip_report_req_no_support() (Event: RequestNotSupported); res_pjsip's
// authenticator reports bad credentials (ChallengeResponseFailed, InvalidPassword) and an unknown
// user (InvalidAccountID). AccountID is the endpoint (not the AOR), RemoteAddress the refused device
// (`IPV4/UDP/<ip>/<port>`), SessionID the REGISTER's Call-ID.
//
// Pure: one event's headers in, a Refusal out; which stored contacts a heal may remove; the AMI
// event filter that asks Asterisk for only these events.

import { compareCodepoints } from './classify.js'
import type { AorReport, ClassifiedContact, Contact } from './types.js'

export type RefusalReason = 'max_contacts' | 'invalid_contact' | 'no_aor' | 'auth' | 'other'

/**
 * Reasons whose series carry endpoint and AOR labels: Asterisk raises them only after it identified
 * (and authenticated) a configured endpoint, so their label values are bounded by the configuration.
 * The others (a wrong user name, a scanner) would let anyone on the network mint label values.
 */
export const PER_AOR_REASONS: ReadonlySet<RefusalReason> = new Set([
  'max_contacts',
  'invalid_contact',
])

/** FailedACL / RequestNotSupported ACLName values of res_pjsip_registrar.c → reason. */
const REGISTRAR_ACLS: Readonly<Record<string, RefusalReason>> = {
  registrar_attempt_exceeds_maximum_configured_contacts: 'max_contacts',
  registrar_invalid_contacts_provided: 'invalid_contact',
  registrar_attempt_without_configured_aors: 'no_aor',
  registrar_requested_aor_not_found: 'no_aor',
  registrar_invalid_uri_in_to_received: 'other',
  registrar_attempt_without_registration_permitted: 'other',
}

/** The security events that are refusals (every other security event is not asked for). */
export const REFUSAL_EVENTS = [
  'FailedACL',
  'RequestNotSupported',
  'ChallengeResponseFailed',
  'InvalidPassword',
  'InvalidAccountID',
] as const

const AUTH_EVENTS = new Set(['ChallengeResponseFailed', 'InvalidPassword', 'InvalidAccountID'])

export interface RemoteAddress {
  /** IPV4 / IPV6. */
  family: string
  /** UDP, TCP, TLS, WS, WSS. */
  transport: string
  ip: string
  port: number | null
}

export interface Refusal {
  /** The AMI event name (FailedACL, ChallengeResponseFailed, ...). */
  event: string
  reason: RefusalReason
  /** ACLName as sent (FailedACL, RequestNotSupported: RequestType); '' when the event has none. */
  detail: string
  /** AccountID: the endpoint (or, for an unknown user, the name it tried). */
  endpoint: string
  /** The refused device, parsed; null when RemoteAddress is missing or unreadable. */
  remote: RemoteAddress | null
  /** RemoteAddress as sent. */
  remoteText: string
  /** SessionID: the refused REGISTER's Call-ID. */
  callId: string
}

/** `IPV4/UDP/127.0.0.1/41303`, `IPV6/UDP/::1/5060` → its parts; null when it is not that shape. */
export function parseRemoteAddress(text: string): RemoteAddress | null {
  const parts = text.split('/')
  if (parts.length < 4) return null
  const [family = '', transport = ''] = parts
  const portText = parts[parts.length - 1] ?? ''
  const ip = parts.slice(2, -1).join('/')
  if (!/^IPV[46]$/i.test(family) || !ip) return null
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : null
  return { family: family.toUpperCase(), transport: transport.toUpperCase(), ip, port }
}

/** `ip:port` (IPv6 in brackets), as pjctl shows a source address. */
export function addressText(remote: RemoteAddress): string {
  const ip = remote.ip.includes(':') ? `[${remote.ip}]` : remote.ip
  return remote.port === null ? ip : `${ip}:${remote.port}`
}

/**
 * One AMI event → a Refusal, or null when it is not a refused registration: another event, a security
 * event of another service (AMI logins, IAX), or a security event that is not a refusal (SuccessfulAuth,
 * ChallengeSent). Auth failures of other requests (an INVITE with a wrong password) count as `auth` too:
 * the event does not say which request it was.
 */
export function refusalFromEvent(get: (header: string) => string | undefined): Refusal | null {
  const event = get('Event') ?? ''
  if (!(REFUSAL_EVENTS as readonly string[]).includes(event)) return null
  if ((get('Service') ?? '').toUpperCase() !== 'PJSIP') return null
  let reason: RefusalReason
  let detail = ''
  if (AUTH_EVENTS.has(event)) reason = 'auth'
  else {
    detail = get('ACLName') || get('RequestType') || ''
    reason = REGISTRAR_ACLS[detail] ?? 'other'
  }
  const remoteText = get('RemoteAddress') ?? ''
  return {
    event,
    reason,
    detail,
    endpoint: get('AccountID') ?? '',
    remote: parseRemoteAddress(remoteText),
    remoteText,
    callId: get('SessionID') ?? '',
  }
}

/**
 * The AOR a refusal is about. The event names the endpoint only; an endpoint may list several AORs
 * (`aors=a,b`). The choice, in order: the only AOR; else the first of them that is full (a max_contacts
 * refusal can only come from a full AOR); else the one named like the endpoint; else the first listed.
 * '' when the endpoint lists none.
 */
export function aorOfRefusal(
  endpoint: string,
  aors: readonly string[],
  isFull: (aor: string) => boolean = () => false,
): string {
  if (aors.length <= 1) return aors[0] ?? ''
  return aors.find(isFull) ?? aors.find((aor) => aor === endpoint) ?? aors[0] ?? ''
}

/** An endpoint's `aors=` as PJSIPShowEndpoint's EndpointDetail shows it (`Aors: a,b`). */
export function splitAors(text: string | undefined): string[] {
  return (text ?? '')
    .split(',')
    .map((aor) => aor.trim())
    .filter(Boolean)
}

/** Why the conservative heal policy takes a contact. */
export type HealWhy =
  /** Stored with the refused REGISTER's Call-ID: the same phone's registration, now from another address. */
  | 'same-call-id'
  /** From the refused device's IP, superseded by a newer registration of that device. */
  | 'superseded-same-address'
  /** Qualify reports it unreachable. */
  | 'unreachable'

export interface HealPick {
  key: string
  why: HealWhy
}

const UNREACHABLE = new Set(['unreachable', 'unavail', 'unavailable'])
const REACHABLE = new Set(['reachable', 'avail'])

/**
 * The contacts of the refused AOR that the conservative policy lets a heal remove, in key order:
 * - one stored with the refused REGISTER's Call-ID (a phone keeps its Call-ID while its NAT binding or
 *   port changes: the old contact is the same registration, superseded by the refused one);
 * - one from the refused device's IP that the judgement calls superseded (a newer registration of the
 *   same device, same via_addr and user agent, holds a slot too);
 * - one qualify reports unreachable.
 * Never a contact qualify reports reachable, and nothing else of another device.
 */
export function conservativeHeal(refusal: Refusal, aor: AorReport): HealPick[] {
  const picks: HealPick[] = []
  for (const contact of [...aor.contacts].sort((a, b) => compareCodepoints(a.key, b.key))) {
    const why = healWhy(refusal, contact)
    if (why) picks.push({ key: contact.key, why })
  }
  return picks
}

function healWhy(refusal: Refusal, contact: ClassifiedContact): HealWhy | null {
  const qualify = (contact.qualify ?? '').toLowerCase()
  if (REACHABLE.has(qualify)) return null
  if (refusal.callId && contact.fields.call_id === refusal.callId) return 'same-call-id'
  if (refusal.remote && contact.status === 'superseded' && contact.viaAddr === refusal.remote.ip)
    return 'superseded-same-address'
  if (UNREACHABLE.has(qualify)) return 'unreachable'
  return null
}

/** Words for a HealWhy, for logs and watch's lines. */
export function healWhyText(why: HealWhy): string {
  switch (why) {
    case 'same-call-id':
      return "the refused REGISTER's own Call-ID: the same phone, registered before from another address"
    case 'superseded-same-address':
      return "from the refused device's address, superseded by a newer registration of that device"
    case 'unreachable':
      return 'qualify reports it unreachable'
  }
}

/**
 * A contact as PJSIPShowEndpoint's ContactStatusDetail shows it (ID = the astdb key, URI, UserAgent,
 * RegExpire, ViaAddress `ip:port`, CallID, EndpointName, Status), for judging one AOR without reading
 * the whole contact store. `value` is '' (the stored text is not shown there: a prune reads it again).
 */
export function contactFromStatusDetail(
  get: (header: string) => string | undefined,
): (Contact & { qualify: string }) | null {
  const key = get('ID') ?? ''
  const separator = key.lastIndexOf(';@')
  if (separator <= 0) return null
  const via = splitHostPort(get('ViaAddress') ?? '')
  const expiration = Number(get('RegExpire'))
  const callId = get('CallID') ?? ''
  const userAgent = get('UserAgent') ?? ''
  const uri = get('URI') ?? ''
  const endpoint = get('EndpointName') ?? ''
  return {
    key,
    aor: get('AOR') || key.slice(0, separator),
    hash: key.slice(separator + 2),
    uri,
    viaAddr: via.host,
    viaPort: via.port,
    userAgent,
    endpoint,
    regServer: get('RegServer') ?? '',
    expirationTime: Number.isInteger(expiration) && expiration > 0 ? expiration : null,
    fields: { uri, via_addr: via.host, user_agent: userAgent, endpoint, call_id: callId },
    value: '',
    qualify: get('Status') ?? '',
  }
}

/** `1.2.3.4:5060`, `[::1]:5060`, `host` → host and port. */
function splitHostPort(text: string): { host: string; port: number | null } {
  const bracketed = /^\[([^\]]*)\](?::(\d+))?$/.exec(text)
  if (bracketed)
    return { host: bracketed[1] ?? '', port: bracketed[2] ? Number(bracketed[2]) : null }
  const colon = text.lastIndexOf(':')
  if (colon > 0 && text.indexOf(':') === colon && /^\d+$/.test(text.slice(colon + 1)))
    return { host: text.slice(0, colon), port: Number(text.slice(colon + 1)) }
  return { host: text, port: null }
}

/**
 * The AMI `Filter` (main/manager.c action_filter, legacy form: a POSIX extended regex over the whole
 * event, which starts `Event: <name>\r\n`) that lets through only the named events. Once a session
 * has an include filter Asterisk sends it nothing else, so the list must hold every event it uses.
 */
export function eventFilter(events: readonly string[]): string {
  return `^Event: (${events.join('|')})[^A-Za-z0-9]`
}

/** The manager.conf line that gives a user the security events (its read= plus security). */
export function securityReadHint(user: string, read: readonly string[] | null): string {
  const classes = read?.length ? [...read.filter((c) => c !== 'security'), 'security'] : []
  return classes.length
    ? `read = ${classes.join(',')}   (in [${user}] of manager.conf, then: manager reload)`
    : `add security to read= in [${user}] of manager.conf, then: manager reload`
}

/** `manager show user <name>` output → its read classes; null when the text does not show them. */
export function readClassesFromShowUser(lines: readonly string[]): string[] | null {
  for (const line of lines) {
    const match = /^\s*read perm:\s*(.*)$/.exec(line)
    if (match)
      return (match[1] ?? '')
        .split(',')
        .map((c) => c.trim())
        .filter(Boolean)
  }
  return null
}
